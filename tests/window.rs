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

/// This test's turn at Xvfb, held until the guard drops.
fn xvfb_turn() -> std::sync::MutexGuard<'static, ()> {
    XVFB.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn the_window_opens_and_draws() {
    let _turn = xvfb_turn();
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

/// Runs `vodkit gui ARGS` under Xvfb and grabs the X display with ffmpeg's x11grab once the
/// window has settled (two grabs half a second apart are the same). Returns the PNG.
fn settled_window(dir: &Path, size: (u32, u32), args: &[std::ffi::OsString]) -> std::path::PathBuf {
    let shot = dir.join("settled.png");
    let script = r#"
"$VODKIT" gui "$@" &
app=$!
prev=""
for i in $(seq 1 60); do
  sleep 0.5
  ffmpeg -hide_banner -loglevel error -y -f x11grab -draw_mouse 0 -video_size "$SIZE" \
    -i "$DISPLAY+0,0" -frames:v 1 "$OUT.tmp.png" || continue
  sum=$(md5sum < "$OUT.tmp.png")
  if [ "$sum" = "$prev" ]; then mv "$OUT.tmp.png" "$OUT"; break; fi
  prev=$sum
done
kill $app
wait $app 2>/dev/null
true
"#;
    let status = Command::new("xvfb-run")
        .args([
            "-a",
            "-s",
            "-screen 0 1600x1200x24",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .args(args)
        .env("VODKIT", env!("CARGO_BIN_EXE_vodkit"))
        .env("OUT", &shot)
        .env("SIZE", format!("{}x{}", size.0, size.1))
        .env("VODKIT_CONFIG_DIR", dir)
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .status()
        .expect("xvfb-run is installed by make test-deps");
    assert!(status.success());
    shot
}

/// Keeps a screenshot under target/ (a test never changes the repository); `make screenshot`
/// copies it to assets/screenshots/ for the README.
fn keep(shot: &Path, name: &str) {
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&keep).expect("screenshot folder under target/");
    std::fs::copy(shot, keep.join(name)).expect("keep the screenshot");
}

/// The README's screenshot: the app under Xvfb with three files and the web-ladder preset,
/// settled (probes, stills and plans are in). Kept as target/tmp/screenshots/main.png.
#[test]
fn a_settled_window_for_the_readme() {
    let _turn = xvfb_turn();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("settings.json"),
        r#"{ "preset": "web-ladder", "output_dir": "/home/me/Videos/Vodkit" }"#,
    )
    .expect("settings");
    let clips = [
        common::ladder_source(),
        common::rotated(),
        common::zero_bytes(),
    ];
    let args: Vec<std::ffi::OsString> = clips.iter().map(|c| c.clone().into_os_string()).collect();
    let shot = settled_window(dir.path(), (1200, 780), &args);
    let image = image::open(&shot)
        .expect("the window settled within 30 s")
        .to_rgba8();
    assert_eq!((image.width(), image.height()), (1200, 780));
    keep(&shot, "main.png");
}

/// The Quality tab of a title encoded with web-ladder (which measures), opened from disk with
/// `vodkit gui --quality DIR SOURCE`: the table, both plots and the before/after pictures of the
/// first still. Kept as target/tmp/screenshots/quality.png.
#[test]
fn the_quality_tab_for_the_readme() {
    let _turn = xvfb_turn();
    let dir = tempfile::tempdir().expect("tempdir");
    // A taller window, so the before/after pictures fit below the plots.
    std::fs::write(
        dir.path().join("settings.json"),
        r#"{ "preset": "web-ladder", "window_size": [1400.0, 1080.0] }"#,
    )
    .expect("settings");
    let source = common::ladder_source();
    let out = dir.path().join("out");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            source.to_str().expect("utf-8"),
            "--preset",
            "web-ladder",
            "--out",
            out.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let args: Vec<std::ffi::OsString> = vec![
        "--quality".into(),
        out.join("ladder_source").into_os_string(),
        source.into_os_string(),
    ];
    let shot = settled_window(dir.path(), (1400, 1080), &args);
    let image = image::open(&shot)
        .expect("the window settled within 30 s")
        .to_rgb8();
    assert_eq!((image.width(), image.height()), (1400, 1080));
    // The plots' first colour (the 270p rung's blue) is drawn.
    let blue = image.pixels().filter(|p| p.0 == [31, 119, 180]).count();
    assert!(blue > 50, "the plots are drawn ({blue} blue pixels)");
    keep(&shot, "quality.png");
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
