//! Loudness: a quiet phone clip (about -35 LUFS, with two loud bursts) through phone-share
//! comes out at -16 LUFS with true peaks under the ceiling, judged by FFmpeg's own ebur128
//! meter on the output; web-ladder leaves the level alone; the manifest says what was
//! measured and done; the cloud job asks MediaConvert for the same normalisation.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// 320x240, 20 s: pink noise far below a normal level, with two 50 ms bursts 14 dB louder.
#[rustfmt::skip]
fn quiet_clip() -> PathBuf {
    common::clip_from("quiet-phone.mp4", &[
        "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=20",
        "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.1:sample_rate=48000:duration=20:seed=7",
        "-filter_complex", "[1:a]volume=14dB:enable='between(t,5,5.05)+between(t,12,12.05)',aformat=channel_layouts=stereo[a]",
        "-map", "0:v", "-map", "[a]",
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k",
    ])
}

/// 320x240, 10 s: the same quiet noise with bursts in five channels of a 5.1 track, so the
/// stereo downmix adds them up (its peaks are well above any one channel's).
#[rustfmt::skip]
fn quiet_surround_clip() -> PathBuf {
    common::clip_from("quiet-surround.mp4", &[
        "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=10",
        "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.05:sample_rate=48000:duration=10:seed=3",
        "-filter_complex", "[1:a]volume=14dB:enable='between(t,3,3.05)+between(t,7,7.05)',pan=5.1|FL=c0|FR=c0|FC=c0|LFE=0*c0|BL=c0|BR=c0[a]",
        "-map", "0:v", "-map", "[a]",
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "384k",
    ])
}

/// FFmpeg's ebur128 summary of `file`'s audio: (integrated LUFS, true peak dBTP).
fn meter(file: &Path) -> (f64, f64) {
    let out = std::process::Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-nostats",
            "-i",
            s(file),
            "-vn",
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    let text = String::from_utf8_lossy(&out.stderr);
    let summary = text.rsplit("Summary:").next().expect("summary");
    let value = |label: &str| -> f64 {
        summary
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "no {label} in the summary of {}:\n{summary}",
                    file.display()
                )
            })
    };
    (value("I:"), value("Peak:"))
}

fn encode(source: &Path, preset: &str, out: &Path, config: &Path) -> PathBuf {
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            s(source),
            "--preset",
            preset,
            "--no-quality",
            "--out",
            s(out),
        ],
        config,
    );
    assert_eq!(code, 0, "{stderr}");
    out.join("quiet-phone")
}

#[test]
fn a_quiet_clip_is_brought_to_minus_16_lufs_with_peaks_held() {
    let source = quiet_clip();
    let (source_lufs, _) = meter(&source);
    assert!(
        (-38.0..=-32.0).contains(&source_lufs),
        "the test clip is quiet: {source_lufs} LUFS"
    );
    let dir = tempfile::tempdir().expect("tempdir");

    // phone-share: -16 LUFS, true peak at most -1.5 dBTP, as the preset promises.
    let title = encode(
        &source,
        "phone-share",
        &dir.path().join("phone"),
        dir.path(),
    );
    let rungs = common::mp4s_in(&title);
    assert_eq!(rungs.len(), 1, "{rungs:?}");
    let (lufs, peak) = meter(&rungs[0]);
    assert!((lufs - -16.0).abs() <= 1.0, "integrated {lufs} LUFS");
    assert!(peak <= -1.5, "true peak {peak} dBTP");

    // The manifest says what was measured and done.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(title.join("manifest.json")).expect("manifest"))
            .expect("json");
    let l = &manifest["plan"]["audio"]["loudness"];
    assert_eq!(l["target_lufs"], -16.0);
    assert_eq!(l["true_peak_dbtp"], -1.5);
    let measured = l["measured_lufs"].as_f64().expect("measured");
    assert!(
        (measured - source_lufs).abs() <= 0.5,
        "{measured} vs {source_lufs}"
    );
    let gain = l["gain_db"].as_f64().expect("gain");
    assert!((gain - (-16.0 - measured)).abs() < 0.01, "{gain}");
    assert!(l["measured_true_peak_dbtp"].is_number());

    // The plan says the target before encoding.
    let (code, stdout, _) =
        common::vodkit(&["plan", s(&source), "--preset", "phone-share"], dir.path());
    assert_eq!(code, 0);
    assert!(
        stdout.contains("loudness to -16.0 LUFS, true peak at most -1.5 dBTP"),
        "{stdout}"
    );

    // web-ladder sets no loudness: the level stays within 0.5 LU.
    let title = encode(&source, "web-ladder", &dir.path().join("web"), dir.path());
    for rung in common::mp4s_in(&title) {
        let (lufs, _) = meter(&rung);
        assert!(
            (lufs - source_lufs).abs() <= 0.5,
            "{}: {lufs} LUFS against the source's {source_lufs}",
            rung.display()
        );
    }
}

#[test]
fn a_5_1_source_is_measured_and_limited_after_its_downmix() {
    let source = quiet_surround_clip();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            s(&source),
            "--preset",
            "phone-share",
            "--no-quality",
            "--out",
            s(&out),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let rung = &common::mp4s_in(&out.join("quiet-surround"))[0];
    let (lufs, peak) = meter(rung);
    assert!((lufs - -16.0).abs() <= 1.0, "integrated {lufs} LUFS");
    assert!(peak <= -1.5, "true peak {peak} dBTP of the stereo downmix");
}

#[test]
fn the_cloud_job_normalises_the_same_way() {
    let dir = tempfile::tempdir().expect("tempdir");
    let preset = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/phone-share.toml");
    let (request, text) = common::cloud_job_json(&quiet_clip(), &preset, dir.path());
    common::assert_valid_mediaconvert(&text, dir.path());
    let outputs = request["Settings"]["OutputGroups"][0]["Outputs"]
        .as_array()
        .expect("outputs");
    for o in outputs {
        let n = &o["AudioDescriptions"][0]["AudioNormalizationSettings"];
        assert_eq!(n["TargetLkfs"], -16.0, "{o}");
        assert_eq!(n["TruePeakLimiterThreshold"], -1.5);
        assert_eq!(n["PeakCalculation"], "TRUE_PEAK");
        assert_eq!(n["AlgorithmControl"], "CORRECT_AUDIO");
    }
}
