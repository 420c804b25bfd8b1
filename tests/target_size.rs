//! One MP4 that fits a size: three different clips land between 95 % and 100 % of their
//! targets (a real assertion: the size is what the encoder made, not a timing), impossible
//! targets and ranges are refused before anything is written, and a trimmed file starts where
//! it was asked to (its flash and its beep, seen and heard, move by the start).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// phone-share with a faster x264 speed (the tests judge sizes, not looks).
const QUICK_SHARE: &str = r#"
name = "quick-share"
container = "mp4"
[video]
quality_level = 7
speed = "veryfast"
[audio]
codec = "aac-lc"
bitrate_bps = 128000
sample_rate_hz = 48000
channels = 2
[stills]
count = 0
[[rung]]
width = 1280
height = 720
max_bitrate_bps = 3500000
"#;

fn clip(name: &str, inputs: &[&str], ext: &str) -> PathBuf {
    let mut args = inputs.to_vec();
    args.extend_from_slice(&[
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "12",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "192k",
        "-shortest",
    ]);
    common::clip_from(&format!("target-size-{name}.{ext}"), &args)
}

fn encode(file: &Path, dir: &Path, extra: &[&str]) -> (i32, String, PathBuf) {
    let preset = dir.join("quick-share.toml");
    std::fs::write(&preset, QUICK_SHARE).expect("preset");
    let out = dir.join("out");
    let mut args = vec![
        "encode",
        file.to_str().expect("utf-8"),
        "--preset",
        preset.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let (code, _, stderr) = common::vodkit(&args, dir);
    (code, stderr, out)
}

/// The one title folder an encode made in `out`.
fn only_title(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("the output folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

fn mp4s(dir: &Path) -> Vec<PathBuf> {
    common::files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "mp4"))
        .collect()
}

#[test]
fn three_clips_land_between_95_and_100_percent_of_their_targets() {
    let noisy = clip(
        "noisy",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=640x360:r=30:d=10,noise=alls=10:allf=t",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:d=10",
        ],
        "mp4",
    );
    let still = clip(
        "still",
        &[
            "-f",
            "lavfi",
            "-i",
            "smptehdbars=s=960x540:r=25:d=12",
            "-f",
            "lavfi",
            "-i",
            "anoisesrc=d=12:a=0.1",
        ],
        "mp4",
    );
    let moving = clip(
        "moving",
        &[
            "-f",
            "lavfi",
            "-i",
            "mandelbrot=s=1280x720:r=30000/1001,trim=duration=8",
            "-f",
            "lavfi",
            "-i",
            "sine=f=880:d=8",
        ],
        "mkv",
    );
    for (file, target) in [
        (&noisy, 900_000u64),
        (&still, 600_000),
        (&moving, 2_500_000),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let size_arg = format!("{target}B");
        let (code, stderr, out) = encode(file, dir.path(), &["--target-size", &size_arg]);
        assert_eq!(code, 0, "{}: {stderr}", file.display());
        // Its own folder, named by the size: a ladder of the same source is never replaced.
        let title = only_title(&out);
        let stem = file.file_stem().expect("stem").to_string_lossy();
        assert_eq!(
            title.file_name().expect("name").to_string_lossy(),
            format!(
                "{stem}-{}",
                vodkit::units::decimal_bytes(target).replace(' ', "")
            )
        );
        let files = mp4s(&title);
        assert_eq!(files.len(), 1, "one MP4: {files:?}");
        let size = std::fs::metadata(&files[0]).expect("size").len();
        let share = size as f64 / target as f64;
        println!(
            "{}: {size} B of {target} B = {:.2} %",
            file.display(),
            share * 100.0
        );
        assert!((0.95..=1.0).contains(&share), "{}: {share}", file.display());
        // The picture and the sound are whole.
        let probe = common::ffprobe(&files[0]);
        let streams = probe["streams"].as_array().expect("streams");
        assert!(
            streams.iter().any(|s| s["codec_type"] == "audio"),
            "{probe}"
        );
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(title.join("manifest.json")).expect("manifest"))
                .expect("json");
        let rung = &manifest["plan"]["rungs"]
            .as_array()
            .expect("rungs")
            .iter()
            .find(|r| r["status"] != "dropped")
            .expect("a rung")
            .clone();
        assert!(rung["two_pass"]["bitrate_bps"].as_u64().is_some(), "{rung}");
        assert!(
            manifest["rungs"][0]["encoder_options"]
                .as_str()
                .is_some_and(|o| o.contains("rc=2pass")),
            "{}",
            manifest["rungs"][0]
        );
    }
}

#[test]
fn an_impossible_target_says_the_smallest_that_works_before_encoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stderr, title) = encode(&common::basic(), dir.path(), &["--target-size", "20kB"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot hold"), "{stderr}");
    assert!(
        stderr.contains("The smallest size that works is"),
        "{stderr}"
    );
    assert!(stderr.contains("basic"), "names the file: {stderr}");
    assert!(common::files_under(&title).is_empty(), "nothing written");
    let (code, stderr, _) = encode(&common::basic(), dir.path(), &["--target-size", "lots"]);
    assert_eq!(code, 2, "a usage error");
    assert!(stderr.contains("not a size"), "{stderr}");
}

#[test]
fn a_start_past_the_end_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stderr, title) = encode(&common::basic(), dir.path(), &["--start", "10:00"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("past the end of the source"), "{stderr}");
    assert!(common::files_under(&title).is_empty(), "nothing written");
    let (code, stderr, _) = encode(
        &common::basic(),
        dir.path(),
        &["--target-size", "1MB", "--start", "600"],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("past the end of the source"), "{stderr}");
}

/// Where a file starts (its first stream's first time), seconds.
fn first_start(file: &Path) -> f64 {
    common::ffprobe(file)["format"]["start_time"]
        .as_str()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// Frame times (seconds) whose picture is bright, and when the sound is not silent.
fn flash_and_beep(file: &Path) -> (Vec<f64>, Vec<f64>) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg(format!("movie={},signalstats", file.display()))
        .args([
            "-show_entries",
            "frame=pts_time:frame_tags=lavfi.signalstats.YAVG",
            "-of",
            "csv=p=0",
        ])
        .output()
        .expect("ffprobe");
    let bright = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (t, y) = l.split_once(',')?;
            (y.parse::<f64>().ok()? > 128.0).then(|| t.parse().ok())?
        })
        .collect();
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(file)
        .args(["-af", "silencedetect=n=-30dB:d=0.05", "-f", "null", "-"])
        .output()
        .expect("ffmpeg");
    let loud = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.split("silence_end: ").nth(1))
        .filter_map(|t| t.split_whitespace().next()?.parse().ok())
        .collect();
    (bright, loud)
}

#[test]
fn a_trimmed_file_starts_where_asked_by_picture_and_sound() {
    // A camera's file: MPEG-TS (starts at 1.4 s), 29.97 fps, a white flash and a beep at 3 s,
    // one keyframe only (a seek would land between keyframes); and the same as an MP4 with a
    // keyframe every second (read from a seek).
    let flash = "color=c=black:s=320x240:r=30000/1001:d=8,drawbox=enable='between(t,3,3.1)':x=0:y=0:w=iw:h=ih:color=white:t=fill";
    let beep = "sine=f=1000:d=8,volume=enable='not(between(t,3,3.2))':volume=0";
    let ts = clip(
        "flash",
        &["-f", "lavfi", "-i", flash, "-f", "lavfi", "-i", beep],
        "ts",
    );
    let mp4 = clip(
        "flash-gop30",
        &[
            "-f", "lavfi", "-i", flash, "-f", "lavfi", "-i", beep, "-g", "30",
        ],
        "mp4",
    );
    for source in [ts, mp4] {
        let (src_bright, src_loud) = flash_and_beep(&source);
        let start = first_start(&source);
        println!(
            "{}: starts {start}, flash {src_bright:?}, beep {src_loud:?}",
            source.display()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let (code, stderr, out) = encode(&source, dir.path(), &["--start", "2", "--end", "5.5"]);
        assert_eq!(code, 0, "{stderr}");
        let title = only_title(&out);
        let files = mp4s(&title);
        assert_eq!(files.len(), 1, "{files:?}");
        let probe = common::ffprobe(&files[0]);
        let duration: f64 = probe["format"]["duration"]
            .as_str()
            .and_then(|d| d.parse().ok())
            .expect("duration");
        assert!((duration - 3.5).abs() < 0.1, "duration {duration}");
        let (bright, loud) = flash_and_beep(&files[0]);
        println!("trimmed: flash {bright:?}, beep {loud:?}");
        // 2 s were cut (snapped to a frame: 60 frames); the flash and the beep move by that.
        let cut = 60.0 * 1001.0 / 30000.0;
        let frame = 1001.0 / 30000.0;
        let src_flash = src_bright.first().copied().expect("a flash") - start;
        assert_eq!(
            bright.len(),
            src_bright.len(),
            "the flash's pictures, no others"
        );
        let first_flash = bright
            .first()
            .copied()
            .expect("the flash is in the trimmed part");
        assert!(
            (first_flash - (src_flash - cut)).abs() < frame / 2.0,
            "flash at {first_flash}"
        );
        // The sound keeps its place against the picture (silencedetect counts from the file's
        // first time, the flash is at the picture's own times: compare beep minus flash).
        let src_gap =
            src_loud.first().copied().expect("a beep") - (src_flash + start - first_start(&source));
        let gap = loud.first().copied().expect("the beep is heard")
            - (first_flash - first_start(&files[0]));
        assert!(
            (gap - src_gap).abs() < 0.01,
            "beep {gap} s after the flash, was {src_gap} s"
        );
    }
}
