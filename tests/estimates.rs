//! Estimates before running: `--estimate` times a sample of the source with the plan's own
//! rungs, predicts the encode's time, each rung's size and (when the preset measures) its VMAF,
//! shows them in the plan, and the manifest keeps the prediction beside the truth.

mod common;

use std::path::Path;

use serde_json::Value;

/// Two rungs, scored while encoding (so the sample is scored too).
const LADDER: &str = r#"
name = "estimate-test"
[video]
speed = "veryfast"
[audio]
codec = "aac-lc"
bitrate_bps = 96000
[stills]
count = 0
[quality]
measure = true
every = 2
[[rung]]
width = 320
height = 180
max_bitrate_bps = 400000
[[rung]]
width = 640
height = 360
max_bitrate_bps = 1200000
"#;

#[test]
fn the_plan_predicts_and_the_manifest_keeps_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    let preset = dir.path().join("estimate-test.toml");
    std::fs::write(&preset, LADDER).expect("preset");
    // 8 s of grain that changes every picture: the sample (4 s from the middle) is like the rest.
    let source = common::noisy();
    let (code, stdout, stderr) = common::vodkit(
        &[
            "plan",
            source.to_str().expect("utf-8"),
            "--preset",
            preset.to_str().expect("utf-8"),
            "--estimate",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("local encode about"), "{stdout}");
    assert!(stdout.contains("est. VMAF"), "{stdout}");

    let out = dir.path().join("out");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            source.to_str().expect("utf-8"),
            "--preset",
            preset.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
            "--estimate",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("noisy/manifest.json")).expect("manifest"))
            .expect("json");
    let predicted_secs = manifest["plan"]["predicted_encode_secs"]
        .as_f64()
        .expect("a predicted time");
    let took = manifest["encode_wall_secs"]
        .as_f64()
        .expect("the time it took");
    println!(
        "time: predicted {predicted_secs:.1} s, took {took:.1} s (not asserted: shared machine)"
    );
    assert!(predicted_secs > 0.0 && took > 0.0);
    for rung in manifest["rungs"].as_array().expect("rungs") {
        let planned = manifest["plan"]["rungs"]
            .as_array()
            .expect("planned")
            .iter()
            .find(|r| r["name"] == rung["name"])
            .expect("planned rung");
        let (size, predicted) = (
            rung["size_bytes"].as_f64().expect("size"),
            planned["estimated_bytes"].as_f64().expect("estimate"),
        );
        let (vmaf, predicted_vmaf) = (
            rung["quality"]["vmaf"]["mean"].as_f64().expect("measured"),
            planned["predicted_vmaf"]
                .as_f64()
                .expect("predicted from the sample"),
        );
        println!(
            "{}: size {size} predicted {predicted}, VMAF {vmaf:.2} predicted {predicted_vmaf:.2}",
            rung["name"]
        );
        // The same content all through: the sample's rate and score are the file's.
        assert!(
            (size / predicted - 1.0).abs() < 0.10,
            "{size} vs {predicted}"
        );
        assert!(
            (vmaf - predicted_vmaf).abs() < 2.0,
            "{vmaf} vs {predicted_vmaf}"
        );
    }
    // A two-pass (target size) encode has no one-pass time to predict: the command line
    // refuses the pair before doing anything.
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            source.to_str().expect("utf-8"),
            "--preset",
            "phone-share",
            "--out",
            out.to_str().expect("utf-8"),
            "--estimate",
            "--target-size",
            "1MB",
        ],
        dir.path(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    assert!(
        !Path::new(&out.join("noisy-1.0MB")).exists(),
        "nothing written"
    );
}
