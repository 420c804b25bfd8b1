//! MediaConvert jobs from presets: the CreateJob request `vodkit cloud job-json` prints is
//! validated against the official service model (botocore's, installed by `make test-deps`) with
//! zero violations for every built-in preset on several sources, and the reference pipeline's
//! settings are checked member by member.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const ROLE: &str = "arn:aws:iam::123456789012:role/MediaConvertRole";

fn job_json(file: &Path, preset: &str, config: &Path) -> Value {
    let (code, stdout, stderr) = common::vodkit(
        &[
            "cloud",
            "job-json",
            file.to_str().expect("utf-8"),
            "--preset",
            preset,
            "--bucket",
            "my-vod",
            "--prefix",
            "vod",
            "--role",
            ROLE,
        ],
        config,
    );
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).expect("JSON")
}

#[test]
fn every_builtin_preset_makes_a_valid_job_on_several_sources() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    let sources = [
        common::uhd(),
        common::basic(),
        common::rotated(),
        common::interlaced(),
        common::hdr_hevc(),
        common::no_audio(),
        common::vfr(),
    ];
    for source in &sources {
        for preset in ["web-ladder", "phone-share", "share-1080p", "hevc-archive"] {
            let job = job_json(source, preset, dir.path());
            let stem = source.file_stem().expect("stem").to_string_lossy();
            let path = dir.path().join(format!("{stem}-{preset}.json"));
            std::fs::write(&path, serde_json::to_vec_pretty(&job).expect("json")).expect("write");
            files.push(path);
        }
    }
    let out = Command::new(common::pyenv_python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cloud/validate_mediaconvert.py"))
        .args(&files)
        .output()
        .expect("python runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "violations of the MediaConvert model:\n{report}"
    );
    assert_eq!(
        report.lines().filter(|l| l.ends_with(": valid")).count(),
        files.len(),
        "{report}"
    );
}

#[test]
fn the_reference_settings_member_by_member() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_json(&common::uhd(), "web-ladder", dir.path());
    assert_eq!(job["Role"], ROLE);
    assert_eq!(
        job["Settings"]["Inputs"][0]["FileInput"],
        "s3://my-vod/vod/inputs/uhd.mp4"
    );
    assert_eq!(job["UserMetadata"]["title"], "uhd");
    assert_eq!(job["UserMetadata"]["preset"], "web-ladder");
    let group = &job["Settings"]["OutputGroups"][0];
    assert_eq!(
        group["OutputGroupSettings"]["FileGroupSettings"]["Destination"],
        "s3://my-vod/vod/outputs/uhd/uhd"
    );
    let outputs = group["Outputs"].as_array().expect("outputs");
    let names: Vec<&str> = outputs
        .iter()
        .filter_map(|o| o["NameModifier"].as_str())
        .collect();
    assert_eq!(
        names,
        vec!["_270p", "_360p", "_480p", "_720p", "_1080p", "_2160p"]
    );

    let fhd = &outputs[4];
    let v = &fhd["VideoDescription"];
    assert_eq!(
        (v["Width"].as_u64(), v["Height"].as_u64()),
        (Some(1920), Some(1080))
    );
    assert_eq!(v["AntiAlias"], "ENABLED");
    assert_eq!(v["Sharpness"], 50);
    assert_eq!(v["ColorMetadata"], "INSERT");
    let h = &v["CodecSettings"]["H264Settings"];
    assert_eq!(v["CodecSettings"]["Codec"], "H_264");
    for (member, expected) in [
        ("RateControlMode", serde_json::json!("QVBR")),
        ("MaxBitrate", serde_json::json!(6_000_000)),
        ("HrdBufferSize", serde_json::json!(12_000_000)),
        ("HrdBufferInitialFillPercentage", serde_json::json!(90)),
        ("GopSize", serde_json::json!(2.0)),
        ("GopSizeUnits", serde_json::json!("SECONDS")),
        ("GopClosedCadence", serde_json::json!(1)),
        ("NumberBFramesBetweenReferenceFrames", serde_json::json!(1)),
        ("NumberReferenceFrames", serde_json::json!(3)),
        ("CodecProfile", serde_json::json!("HIGH")),
        ("CodecLevel", serde_json::json!("LEVEL_4_2")),
        ("EntropyEncoding", serde_json::json!("CABAC")),
        ("Slices", serde_json::json!(1)),
        ("AdaptiveQuantization", serde_json::json!("HIGH")),
        ("SpatialAdaptiveQuantization", serde_json::json!("ENABLED")),
        ("TemporalAdaptiveQuantization", serde_json::json!("ENABLED")),
        ("FlickerAdaptiveQuantization", serde_json::json!("ENABLED")),
        ("SceneChangeDetect", serde_json::json!("ENABLED")),
        ("InterlaceMode", serde_json::json!("PROGRESSIVE")),
        ("ParControl", serde_json::json!("SPECIFIED")),
        ("ParNumerator", serde_json::json!(1)),
        ("ParDenominator", serde_json::json!(1)),
    ] {
        assert_eq!(h[member], expected, "H264Settings.{member}");
    }
    assert_eq!(h["QvbrSettings"]["QvbrQualityLevel"], 8);
    let a = &fhd["AudioDescriptions"][0]["CodecSettings"];
    assert_eq!(a["Codec"], "AAC");
    let aac = &a["AacSettings"];
    for (member, expected) in [
        ("Bitrate", serde_json::json!(160_000)),
        ("SampleRate", serde_json::json!(48_000)),
        ("CodingMode", serde_json::json!("CODING_MODE_2_0")),
        ("CodecProfile", serde_json::json!("LC")),
        ("RateControlMode", serde_json::json!("CBR")),
        ("Specification", serde_json::json!("MPEG4")),
    ] {
        assert_eq!(aac[member], expected, "AacSettings.{member}");
    }
    let mp4 = &fhd["ContainerSettings"]["Mp4Settings"];
    assert_eq!(mp4["MoovPlacement"], "PROGRESSIVE_DOWNLOAD");
    assert_eq!(mp4["FreeSpaceBox"], "EXCLUDE");
    assert_eq!(mp4["CslgAtom"], "INCLUDE");

    // The 270p rung is 15 fps, the SD rungs Main 3.1, the 4K rung H.265 Main, hvc1.
    let sd = &outputs[0]["VideoDescription"]["CodecSettings"]["H264Settings"];
    assert_eq!(sd["FramerateControl"], "SPECIFIED");
    assert_eq!(
        (
            sd["FramerateNumerator"].as_u64(),
            sd["FramerateDenominator"].as_u64()
        ),
        (Some(15000), Some(1001))
    );
    assert_eq!(sd["CodecProfile"], "MAIN");
    assert_eq!(sd["CodecLevel"], "LEVEL_3_1");
    assert_eq!(sd["MaxBitrate"], 400_000);
    let uhd = &outputs[5]["VideoDescription"]["CodecSettings"];
    assert_eq!(uhd["Codec"], "H_265");
    assert_eq!(uhd["H265Settings"]["CodecProfile"], "MAIN_MAIN");
    assert_eq!(uhd["H265Settings"]["WriteMp4PackagingType"], "HVC1");
    assert_eq!(uhd["H265Settings"]["MaxBitrate"], 20_000_000);

    // Stills as a frame-capture group.
    let stills = &job["Settings"]["OutputGroups"][1];
    assert_eq!(
        stills["Outputs"][0]["VideoDescription"]["CodecSettings"]["Codec"],
        "FRAME_CAPTURE"
    );
    assert_eq!(
        stills["Outputs"][0]["VideoDescription"]["CodecSettings"]["FrameCaptureSettings"]["MaxCaptures"],
        5
    );
}
