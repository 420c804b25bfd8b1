//! A real window: the app starts under Xvfb (a virtual X display), draws its first frames and
//! eframe saves a screenshot; the image must be the window's size and not blank. The latest
//! screenshot is kept in assets/screenshots/ for the README. Also: without a display, the app
//! says so instead of crashing.

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn the_window_opens_and_draws() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shot = dir.path().join("main.png");
    let clips = [common::basic(), common::rotated(), common::zero_bytes()];
    let status = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24"])
        .arg(env!("CARGO_BIN_EXE_vodkit"))
        .arg("gui")
        .args(&clips)
        .env("VODKIT_CONFIG_DIR", dir.path())
        .env("EFRAME_SCREENSHOT_TO", &shot)
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .status()
        .expect("xvfb-run is installed by make test-deps");
    assert!(status.success(), "the app did not run under Xvfb");
    let image = image::open(&shot).expect("a PNG screenshot").to_rgba8();
    // The default window is 1200x780 points at 1 pixel per point.
    assert_eq!((image.width(), image.height()), (1200, 780));
    let mut colours: Vec<u32> = image.pixels().map(|p| u32::from_be_bytes(p.0)).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 20,
        "the window looks blank ({} colours)",
        colours.len()
    );
    let keep = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/screenshots");
    if std::fs::create_dir_all(&keep).is_ok() {
        let _ = std::fs::copy(&shot, keep.join("main.png"));
    }
}

#[test]
fn without_a_display_it_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_vodkit"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("VODKIT_CONFIG_DIR", dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no display") && stderr.contains("xvfb-run"),
        "{stderr}"
    );
}
