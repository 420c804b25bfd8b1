//! The preset parser on arbitrary text: an error naming the origin, or a valid preset that
//! survives a round trip through TOML, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vodkit::preset::Preset;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Preset::from_toml(&text, "fuzz.toml") {
        Ok(preset) => {
            let again = Preset::from_toml(&preset.to_toml(), "again.toml")
                .expect("a valid preset written out parses again");
            assert_eq!(again, preset, "the round trip keeps every field");
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.toml"), "{e}"),
    }
});
