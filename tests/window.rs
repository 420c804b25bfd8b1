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

/// Not blank: a drawn window has many colours.
fn assert_drawn(shot: &Path, size: (u32, u32), what: &str) {
    let image = image::open(shot)
        .unwrap_or_else(|e| panic!("{what}: the window settled within 30 s ({e})"))
        .to_rgba8();
    assert_eq!((image.width(), image.height()), size, "{what}");
    let mut colours: Vec<u32> = image.pixels().map(|p| u32::from_be_bytes(p.0)).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 20,
        "{what} looks blank ({} colours)",
        colours.len()
    );
}

/// One settled screenshot per view, with a library holding a title and a paused queue holding
/// two jobs. Kept as target/tmp/screenshots/view-<name>.png (`make screenshot`).
#[test]
fn every_view_for_the_readme() {
    let _turn = xvfb_turn();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("Videos/Vodkit");
    std::fs::write(
        dir.path().join("settings.json"),
        format!(
            r#"{{ "preset": "web-ladder", "output_dir": {:?} }}"#,
            out.display().to_string()
        ),
    )
    .expect("settings");
    let outs = out.to_str().expect("utf-8");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            common::ladder_source().to_str().expect("utf-8"),
            "--preset",
            "web-ladder",
            "--out",
            outs,
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    for args in [
        vec!["queue", "pause"],
        vec![
            "queue",
            "add",
            common::basic().to_str().expect("utf-8"),
            "--preset",
            "phone-share",
            "--out",
            outs,
        ],
        vec![
            "queue",
            "add",
            common::rotated().to_str().expect("utf-8"),
            "--preset",
            "phone-share",
            "--out",
            outs,
        ],
    ] {
        let (code, _, stderr) = common::vodkit(&args, dir.path());
        assert_eq!(code, 0, "{stderr}");
    }
    for view in ["files", "queue", "library", "presets", "settings"] {
        let mut args: Vec<std::ffi::OsString> = vec!["--view".into(), view.into()];
        if view == "files" {
            args.push(common::ladder_source().into_os_string());
        }
        let shot = settled_window(dir.path(), (1200, 780), &args);
        assert_drawn(&shot, (1200, 780), view);
        keep(&shot, &format!("view-{view}.png"));
        let _ = std::fs::remove_file(&shot);
    }
}

/// The real app's worker killed with SIGKILL mid-batch: the library database stays intact, the
/// finished title is not redone, and the interrupted job is finished by `vodkit queue run`.
#[test]
fn the_app_killed_mid_batch_loses_nothing() {
    use vodkit::catalog::Catalog;
    use vodkit::catalog::queue::QueueState;
    let _turn = xvfb_turn();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let outs = out.to_str().expect("utf-8");
    let (code, _, stderr) = common::vodkit(
        &[
            "queue",
            "add",
            common::basic().to_str().expect("utf-8"),
            common::ladder_source().to_str().expect("utf-8"),
            "--preset",
            "web-ladder",
            "--out",
            outs,
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    // The app runs the queue it finds at start.
    let pid_file = dir.path().join("app.pid");
    let mut xvfb = Command::new("xvfb-run")
        .args([
            "-a",
            "-s",
            "-screen 0 1280x800x24",
            "sh",
            "-c",
            r#""$VODKIT" gui & echo $! > "$PIDFILE"; wait"#,
        ])
        .env("VODKIT", env!("CARGO_BIN_EXE_vodkit"))
        .env("PIDFILE", &pid_file)
        .env("VODKIT_CONFIG_DIR", dir.path())
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .spawn()
        .expect("xvfb-run");
    let db = dir.path().join("library.sqlite");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let states = || -> Vec<QueueState> {
        Catalog::open(&db)
            .and_then(|c| c.jobs())
            .map(|jobs| {
                let mut j: Vec<_> = jobs.into_iter().collect();
                j.sort_by_key(|j| j.id);
                j.into_iter().map(|j| j.state).collect()
            })
            .unwrap_or_default()
    };
    while states() != [QueueState::Done, QueueState::Running] {
        assert!(
            std::time::Instant::now() < deadline,
            "the app ran the queue: {:?}",
            states()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .parse()
        .expect("a pid");
    // SAFETY: SIGKILL to the app this test started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let _ = xvfb.wait();
    let c = Catalog::open(&db).expect("the database opens after SIGKILL");
    assert_eq!(c.integrity_check().expect("check"), "ok");
    drop(c);
    let before: Vec<_> = common::files_under(&out.join("basic"))
        .into_iter()
        .map(|p| {
            std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .expect("mtime")
        })
        .collect();
    let (code, stdout, stderr) = common::vodkit(&["queue", "run", "--json"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(
        stdout.matches("\"event\":\"started\"").count(),
        1,
        "only the interrupted job runs"
    );
    let after: Vec<_> = common::files_under(&out.join("basic"))
        .into_iter()
        .map(|p| {
            std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .expect("mtime")
        })
        .collect();
    assert_eq!(before, after, "the finished title is untouched");
    assert_eq!(states(), [QueueState::Done, QueueState::Done]);
    assert!(out.join("ladder_source/manifest.json").is_file());
}
