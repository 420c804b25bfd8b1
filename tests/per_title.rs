//! Per-title ladders from measured samples: a near-static source gets a cheaper top rung than a
//! noisy one from the same preset, both with their reasons, and bad arguments are refused.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// A two-size ladder for 640x360 sources.
const LADDER: &str = r#"
name = "fit-test"
[video]
speed = "veryfast"
[audio]
codec = "none"
[stills]
count = 0
[fit]
mode = "per-title"              # plan fits it without --per-title
target_vmaf = 95.0
min_vmaf_step = 3.0
min_bitrate_bps = 150000
[[rung]]
width = 320
height = 180
max_bitrate_bps = 600000
[[rung]]
width = 640
height = 360
max_bitrate_bps = 2000000
"#;

fn clip(name: &str, filter: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("clips/per-title-{name}-2.mp4"));
    if !path.exists() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("dir");
        let tmp = path.with_extension(format!("{}.part.mp4", std::process::id()));
        let status = Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                filter,
            ])
            .args([
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "10", "-pix_fmt", "yuv420p",
            ])
            .arg(&tmp)
            .status()
            .expect("ffmpeg");
        assert!(status.success());
        std::fs::rename(&tmp, &path).expect("rename");
    }
    path
}

fn fit(file: &Path, dir: &Path) -> Value {
    let preset = dir.join("fit-test.toml");
    std::fs::write(&preset, LADDER).expect("preset");
    let (code, stdout, stderr) = common::vodkit(
        &[
            "plan",
            file.to_str().expect("utf-8"),
            "--preset",
            preset.to_str().expect("utf-8"),
            "--json",
        ],
        dir,
    );
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(stdout.trim()).expect("one JSON object")
}

#[test]
fn a_near_static_source_gets_a_cheaper_top_rung_than_a_noisy_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Slides: a still picture for 4 s. Sport-like: moving detail under heavy grain.
    let slides = clip("slides", "smptehdbars=s=640x360:r=30:d=4");
    let noisy = clip("noisy", "testsrc2=s=640x360:r=30:d=4,noise=alls=12:allf=t");
    let (s, n) = (fit(&slides, dir.path()), fit(&noisy, dir.path()));
    let top = |v: &Value| {
        v["fitted"][0]["bitrate_bps"]
            .as_f64()
            .unwrap_or_else(|| panic!("{v}"))
    };
    println!("slides: {s}\nnoisy: {n}");
    assert!(top(&s) < top(&n), "slides {} vs noisy {}", top(&s), top(&n));
    // Every size has a measured curve of three points, rising with the bits.
    for v in [&s, &n] {
        for c in v["curves"].as_array().expect("curves") {
            let pts = c["points"].as_array().expect("points");
            assert!(!pts.is_empty(), "{c}");
            for w in pts.windows(2) {
                assert!(
                    w[1]["bitrate_bps"].as_f64() > w[0]["bitrate_bps"].as_f64(),
                    "{c}"
                );
            }
        }
        let reasons: Vec<&str> = v["fitted"]
            .as_array()
            .expect("fitted")
            .iter()
            .filter_map(|f| f["reason"].as_str())
            .collect();
        assert!(reasons.iter().all(|r| !r.is_empty()), "{v}");
    }
}

#[test]
fn bad_targets_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, stderr) = common::vodkit(
        &[
            "plan",
            common::basic().to_str().expect("utf-8"),
            "--preset",
            "web-ladder",
            "--per-title",
            "--target-vmaf",
            "140",
        ],
        dir.path(),
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("--target-vmaf must be 0-100"), "{stderr}");
}
