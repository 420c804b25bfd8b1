//! The MP4 box index on arbitrary bytes: an error or tracks whose samples lie inside the
//! input, never a panic, a hang or an allocation beyond what the input can describe.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use vodkit::package::mp4_index::read_from;

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    if let Ok(tracks) = read_from(&mut Cursor::new(data), len, Path::new("fuzz.mp4")) {
        for track in &tracks {
            for s in &track.samples {
                assert!(s.offset + u64::from(s.size) <= len, "a sample outside the input");
            }
            let _ = track.duration_secs();
            let _ = track.language();
        }
    }
});
