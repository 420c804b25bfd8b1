//! Clean-up filters: a grainy clip encoded with `denoise` comes out closer to the clean
//! picture under the grain (PSNR against it, FFmpeg's psnr filter as the judge) and smaller
//! at the same quality level than without; deblock runs in the same graph; the cloud job asks
//! MediaConvert's noise reducer for the same.

mod common;

use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const PICTURE: &str = "testsrc2=s=320x240:r=30:d=4";

/// The clean picture, lossless.
fn clean() -> PathBuf {
    common::clip_from(
        "grain-clean.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            PICTURE,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "0",
            "-colorspace",
            "bt709",
            "-color_primaries",
            "bt709",
            "-color_trc",
            "bt709",
        ],
    )
}

/// The same picture under film-like grain, lossless (the grain is the source's, not the
/// encoder's).
fn grainy() -> PathBuf {
    common::clip_from(
        "grain-noisy.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("{PICTURE},noise=alls=8:allf=t"),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "0",
            // Tagged BT.709, so the encode converts no colour and the pixels compare as they are.
            "-colorspace",
            "bt709",
            "-color_primaries",
            "bt709",
            "-color_trc",
            "bt709",
        ],
    )
}

fn preset(dir: &Path, denoise: &str, deblock: bool) -> PathBuf {
    let path = dir.join(format!("clean-{denoise}-{deblock}.toml"));
    std::fs::write(
        &path,
        format!(
            "name = \"clean-{denoise}\"\n[video]\nquality_level = 9\nspeed = \"veryfast\"\ndenoise = \"{denoise}\"\ndeblock = {deblock}\n[stills]\ncount = 0\n[[rung]]\nwidth = 320\nheight = 240\nmax_bitrate_bps = 4000000\n"
        ),
    )
    .expect("preset");
    path
}

/// PSNR (average, dB) of `file` against the clean picture, picture by picture (frame
/// numbers, not timestamps: Matroska's millisecond clock would pair neighbours).
fn psnr_to_clean(file: &Path) -> f64 {
    let pair = "[0:v]setpts=N/30/TB[a];[1:v]setpts=N/30/TB[b];[a][b]psnr";
    let out = std::process::Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-i",
            s(file),
            "-i",
            s(&clean()),
            "-lavfi",
            pair,
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .find_map(|l| l.split("average:").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no PSNR for {}:\n{text}", file.display()))
}

#[test]
fn denoising_brings_the_picture_back_from_under_the_grain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut results = Vec::new();
    for (denoise, deblock) in [
        ("off", false),
        ("light", false),
        ("medium", false),
        ("strong", true),
    ] {
        let out = dir.path().join(denoise);
        let (code, _, stderr) = common::vodkit(
            &[
                "encode",
                s(&grainy()),
                "--preset",
                s(&preset(dir.path(), denoise, deblock)),
                "--no-quality",
                "--out",
                s(&out),
            ],
            dir.path(),
        );
        assert_eq!(code, 0, "{denoise}: {stderr}");
        let rung = out.join("grain-noisy/grain-noisy_240p.mp4");
        let size = std::fs::metadata(&rung).expect("rung").len();
        results.push((denoise, psnr_to_clean(&rung), size));
    }
    // Each level closer to the clean picture than the one before, and smaller.
    let gains = [1.0, 2.0, 2.5];
    let (_, off_psnr, _) = results[0];
    for (k, pair) in results.windows(2).enumerate() {
        let ((was, was_psnr, was_size), (level, psnr, size)) = (pair[0], pair[1]);
        assert!(
            psnr > was_psnr && psnr >= off_psnr + gains[k],
            "{level}: {psnr:.2} dB to the clean picture, {was}: {was_psnr:.2}, off: {off_psnr:.2}"
        );
        assert!(
            size < was_size,
            "{level}: {size} bytes, {was}: {was_size} (grain costs bits)"
        );
    }
}

#[test]
fn the_cloud_job_reduces_noise_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (request, text) = common::cloud_job_json(
        &common::basic(),
        &preset(dir.path(), "medium", false),
        dir.path(),
    );
    common::assert_valid_mediaconvert(&text, dir.path());
    let video = &request["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"];
    assert_eq!(
        video["VideoPreprocessors"]["NoiseReducer"]["Filter"], "SPATIAL",
        "{video}"
    );
}
