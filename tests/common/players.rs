//! Runs tests/players/play.mjs: a real player (hls.js, dash.js, Shaka) in headless Chromium
//! against a manifest, and returns the one JSON line it prints (what the video element decoded
//! before and after a forced rung switch, the player's tracks, errors).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// tests/players, where play.mjs and its node_modules are.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/players")
}

/// Plays `manifest` (a URL, or a path under /static/ when `static_dir` is given) with
/// `player` for `seconds`, with play.mjs's further options (`--text`, `--audio fr`).
pub fn play(
    player: &str,
    manifest: &str,
    seconds: u32,
    static_dir: Option<&Path>,
    options: &[&str],
) -> Value {
    assert!(
        dir().join("node_modules/playwright-core").exists(),
        "tests/players/node_modules is missing: run `make test-deps` (npm ci in tests/players)"
    );
    let mut cmd = Command::new("node");
    cmd.arg(dir().join("play.mjs"))
        .args([player, manifest, "--seconds", &seconds.to_string()])
        .args(options);
    if let Some(d) = static_dir {
        cmd.arg("--static").arg(d);
    }
    let out = cmd
        .output()
        .expect("node runs (make test-deps installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{player} {manifest}: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim().lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{player} {manifest}: {e}: {stdout}"))
}
