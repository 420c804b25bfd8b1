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
    common::clip_from(
        &format!("per-title-{name}-2.mp4"),
        &[
            "-f", "lavfi", "-i", filter, "-c:v", "libx264", "-preset", "veryfast", "-crf", "10",
            "-pix_fmt", "yuv420p",
        ],
    )
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

/// The per-title preset, with its scores measured while encoding (to compare with the plan's
/// predictions).
fn measured_ladder(dir: &Path) -> PathBuf {
    let preset = dir.join("fit-measured.toml");
    let text = LADDER.replace("name = \"fit-test\"", "name = \"fit-measured\"")
        + "[quality]\nmeasure = true\nevery = 1\n";
    std::fs::write(&preset, text).expect("preset");
    preset
}

#[test]
fn the_encode_follows_the_fitted_ladder_and_keeps_the_prediction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let noisy = clip("noisy", "testsrc2=s=640x360:r=30:d=4,noise=alls=12:allf=t");
    let preset = measured_ladder(dir.path());
    let out = dir.path().join("out");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            noisy.to_str().expect("utf-8"),
            "--preset",
            preset.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let title = out.join(noisy.file_stem().expect("stem"));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(title.join("manifest.json")).expect("manifest"))
            .expect("json");
    let fitted = manifest["plan"]["per_title"]["fitted"]
        .as_array()
        .expect("the plan keeps the fit");
    let made: Vec<&Value> = manifest["plan"]["rungs"]
        .as_array()
        .expect("rungs")
        .iter()
        .filter(|r| r["status"] != "dropped")
        .collect();
    assert_eq!(made.len(), fitted.len(), "{manifest}");
    assert_eq!(
        manifest["rungs"].as_array().expect("files").len(),
        fitted.len()
    );
    for f in fitted {
        let (w, h) = (f["width"].as_u64(), f["height"].as_u64());
        let rung = made
            .iter()
            .find(|r| r["width"].as_u64() == w && r["height"].as_u64() == h)
            .unwrap_or_else(|| panic!("no rung for {f}"));
        let cap_kbps = (f["bitrate_bps"].as_f64().expect("rate") / 1000.0).ceil() as u64;
        let level = rung["quality_level"].as_u64().expect("a level of its own");
        let crf = 39 - 2 * level;
        // What the encoder ran with, read back from the file.
        let file = manifest["rungs"]
            .as_array()
            .expect("files")
            .iter()
            .find(|m| m["width"].as_u64() == w && m["height"].as_u64() == h)
            .expect("its file");
        let options = file["encoder_options"].as_str().expect("x264 options");
        assert!(
            options.contains(&format!("vbv_maxrate={cap_kbps} ")),
            "{options}"
        );
        assert!(options.contains(&format!("crf={crf}.0")), "{options}");
        // The prediction against what the file measured.
        let size = file["size_bytes"].as_f64().expect("size");
        let predicted_size = rung["estimated_bytes"].as_f64().expect("estimate");
        let vmaf = file["quality"]["vmaf"]["mean"].as_f64().expect("scored");
        let predicted_vmaf = rung["predicted_vmaf"].as_f64().expect("predicted");
        println!(
            "{w:?}x{h:?}: size {size} predicted {predicted_size}, VMAF {vmaf:.1} predicted {predicted_vmaf:.1}"
        );
        assert!(
            (vmaf - predicted_vmaf).abs() <= 3.0,
            "VMAF {vmaf} vs predicted {predicted_vmaf}"
        );
        assert!(
            (size / predicted_size - 1.0).abs() <= 0.25,
            "size {size} vs predicted {predicted_size}"
        );
    }
}

#[test]
fn the_cloud_job_of_a_fitted_ladder_is_valid_and_has_its_rungs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let slides = clip("slides", "smptehdbars=s=640x360:r=30:d=4");
    let preset = dir.path().join("fit-test.toml");
    std::fs::write(&preset, LADDER).expect("preset");
    let (code, stdout, stderr) = common::vodkit(
        &[
            "cloud",
            "job-json",
            slides.to_str().expect("utf-8"),
            "--preset",
            preset.to_str().expect("utf-8"),
            "--bucket",
            "my-vod",
            "--role",
            "arn:aws:iam::123456789012:role/MediaConvertRole",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let job: Value = serde_json::from_str(&stdout).expect("json");
    let plan = fit(&slides, dir.path());
    let fitted = plan["fitted"].as_array().expect("fitted");
    let outputs = job["Settings"]["OutputGroups"][0]["Outputs"]
        .as_array()
        .expect("outputs");
    let videos: Vec<&Value> = outputs
        .iter()
        .filter(|o| o.get("VideoDescription").is_some())
        .collect();
    assert_eq!(videos.len(), fitted.len(), "{job}");
    for f in fitted {
        let want = f["bitrate_bps"].as_f64().expect("rate").round() as u64;
        assert!(
            videos.iter().any(|o| {
                let v = &o["VideoDescription"];
                v["Width"].as_u64() == f["width"].as_u64()
                    && v["CodecSettings"]["H264Settings"]["MaxBitrate"].as_u64() == Some(want)
            }),
            "no output at {want} b/s for {f}: {job}"
        );
    }
    let destination = job["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["FileGroupSettings"]
        ["Destination"]
        .as_str()
        .expect("destination");
    assert!(
        destination.starts_with("s3://my-vod/outputs/per-title-slides-2-"),
        "{destination}"
    );
    let path = dir.path().join("job.json");
    std::fs::write(&path, stdout).expect("write");
    let out = Command::new(common::pyenv_python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cloud/validate_mediaconvert.py"))
        .arg(&path)
        .output()
        .expect("python runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    assert!(report.trim_end().ends_with(": valid"), "{report}");
}
