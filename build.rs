//! Build script: the player page of `vodkit serve` (and the app's Play) ships hls.js and
//! dash.js inside the binary, from their npm packages pinned in `packaging/player` (installed
//! with `npm ci` into the build's own folder, never into the source tree).

use std::path::{Path, PathBuf};
use std::process::Command;

const SCRIPTS: [(&str, &str); 2] = [
    ("hls.js/dist/hls.min.js", "hls.min.js"),
    ("dashjs/dist/dash.all.min.js", "dash.all.min.js"),
];

fn main() {
    println!("cargo:rerun-if-changed=packaging/player/package.json");
    println!("cargo:rerun-if-changed=packaging/player/package-lock.json");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let player = out.join("player");
    std::fs::create_dir_all(&player).expect("create the build's player folder");
    let lock = std::fs::read("packaging/player/package-lock.json")
        .expect("packaging/player/package-lock.json is part of the source");
    let installed_lock = player.join("package-lock.json");
    let fresh = std::fs::read(&installed_lock).ok().as_deref() == Some(&lock[..])
        && SCRIPTS
            .iter()
            .all(|(from, _)| player.join("node_modules").join(from).is_file());
    if !fresh {
        for f in ["package.json", "package-lock.json"] {
            std::fs::copy(Path::new("packaging/player").join(f), player.join(f))
                .expect("copy the player's package files");
        }
        let status = Command::new("npm")
            .args([
                "ci",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
            ])
            .arg(&player)
            .status();
        match status {
            Ok(s) if s.success() => {}
            other => panic!(
                "the player scripts (hls.js, dash.js) come from npm at build time and npm ci failed ({other:?}): install npm (packaging/install-deps.sh) and reach the npm registry, then build again"
            ),
        }
    }
    for (from, to) in SCRIPTS {
        std::fs::copy(player.join("node_modules").join(from), out.join(to))
            .expect("copy a player script");
    }
}
