//! A real window: the app starts under Xvfb (a virtual X display), draws its first frames and
//! eframe saves a screenshot; the image must be the window's size and not blank. A settled
//! window grabbed from the display is kept under target/ (`make screenshot` puts it in the README). Also: without a display, the app
//! says so instead of crashing.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// `xvfb-run -a` picks the first free display number without a lock, so two started at once can
/// pick the same one and one app then waits forever: the Xvfb tests take turns.
static XVFB: Mutex<()> = Mutex::new(());

#[test]
fn the_window_opens_and_draws() {
    let _turn = XVFB
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
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
}

/// The README's screenshot: the app under Xvfb with three files and the web-ladder preset,
/// grabbed from the X display with ffmpeg's x11grab once it has settled (two grabs half a second
/// apart are the same: probes, stills and plans are in). Kept as target/tmp/screenshots/main.png;
/// `make screenshot` copies it into assets/ for the README.
#[test]
fn a_settled_window_for_the_readme() {
    let _turn = XVFB
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("settings.json"),
        r#"{ "preset": "web-ladder", "output_dir": "/home/me/Videos/Vodkit" }"#,
    )
    .expect("settings");
    let shot = dir.path().join("settled.png");
    let script = r#"
"$VODKIT" gui "$@" &
app=$!
prev=""
for i in $(seq 1 60); do
  sleep 0.5
  ffmpeg -hide_banner -loglevel error -y -f x11grab -draw_mouse 0 -video_size 1200x780 \
    -i "$DISPLAY+0,0" -frames:v 1 "$OUT.tmp.png" || continue
  sum=$(md5sum < "$OUT.tmp.png")
  if [ "$sum" = "$prev" ]; then mv "$OUT.tmp.png" "$OUT"; break; fi
  prev=$sum
done
kill $app
wait $app 2>/dev/null
true
"#;
    let clips = [
        common::ladder_source(),
        common::rotated(),
        common::zero_bytes(),
    ];
    let status = Command::new("xvfb-run")
        .args([
            "-a",
            "-s",
            "-screen 0 1280x800x24",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .args(&clips)
        .env("VODKIT", env!("CARGO_BIN_EXE_vodkit"))
        .env("OUT", &shot)
        .env("VODKIT_CONFIG_DIR", dir.path())
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .status()
        .expect("xvfb-run is installed by make test-deps");
    assert!(status.success());
    let image = image::open(&shot)
        .expect("the window settled within 30 s")
        .to_rgba8();
    assert_eq!((image.width(), image.height()), (1200, 780));
    // Kept under target/ (a test never changes the repository); `make screenshot` copies it
    // to assets/screenshots/main.png for the README.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&keep).expect("screenshot folder under target/");
    std::fs::copy(&shot, keep.join("main.png")).expect("keep the screenshot");
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
