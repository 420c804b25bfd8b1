//! Black borders: a 2.40:1 film letterboxed in a 16:9 frame (with a fade to black and a dark
//! scene) loses its bars in every rung, judged by FFmpeg's cropdetect on the outputs; with
//! `crop = "none"` the bars stay; a dark but full-frame picture is not cropped; the cloud job
//! crops the same rectangle.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// 640x360, 6 s: a dim picture filling the frame (a night scene), nothing to crop.
#[rustfmt::skip]
fn dark_full_frame() -> PathBuf {
    common::clip_from("dark-full-frame.mp4", &[
        "-f", "lavfi", "-i", "testsrc2=s=640x360:r=30000/1001:d=6",
        "-vf", "lutyuv=y=16+(val-16)/5",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
    ])
}

/// What FFmpeg's cropdetect would still crop from `file`: (width, height) it keeps.
fn cropdetect(file: &Path) -> (u32, u32) {
    let out = std::process::Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-i",
            s(file),
            "-vf",
            "cropdetect=limit=24:round=2:reset=0",
            "-an",
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    let text = String::from_utf8_lossy(&out.stderr);
    let last = text
        .lines()
        .filter_map(|l| l.split("crop=").nth(1))
        .next_back()
        .unwrap_or_else(|| panic!("no cropdetect line for {}:\n{text}", file.display()));
    let mut n = last
        .split(':')
        .map(|v| v.trim().parse::<u32>().expect("number"));
    (n.next().expect("w"), n.next().expect("h"))
}

fn size_of(file: &Path) -> (u32, u32) {
    let v = common::ffprobe(file);
    let stream = v["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == "video"))
        .expect("video");
    (
        stream["width"].as_u64().expect("w") as u32,
        stream["height"].as_u64().expect("h") as u32,
    )
}

#[test]
fn letterbox_bars_are_cropped_from_every_rung_and_kept_when_asked() {
    let source = common::letterboxed();
    let dir = tempfile::tempdir().expect("tempdir");

    // Probe finds the bars, despite the dark second and the fade.
    let (code, stdout, stderr) = common::vodkit(&["probe", s(&source), "--json"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    let info: Value = serde_json::from_str(&stdout).expect("json");
    let video = info["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["video"].is_object()))
        .expect("video")["video"]
        .clone();
    assert_eq!(
        video["black_borders"],
        serde_json::json!({ "top": 48, "bottom": 48, "left": 0, "right": 0 }),
        "48-row bars"
    );

    // web-ladder: every rung has the picture's aspect, and nothing is left to crop.
    let out = dir.path().join("out");
    let (code, stdout, stderr) = common::vodkit(
        &[
            "encode",
            s(&source),
            "--preset",
            "web-ladder",
            "--no-quality",
            "--out",
            s(&out),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}{stdout}");
    let title = out.join("letterboxed-240");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(title.join("manifest.json")).expect("manifest.json"))
            .expect("json");
    let warnings = manifest["plan"]["warnings"].to_string();
    assert!(
        warnings.contains("black borders cropped (top 48, bottom 48: content 640x264)"),
        "the plan says so: {warnings}"
    );
    let mut rungs: Vec<PathBuf> = std::fs::read_dir(&title)
        .expect("title folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "mp4"))
        .collect();
    rungs.sort();
    assert!(rungs.len() >= 2, "{rungs:?}");
    for rung in &rungs {
        let (w, h) = size_of(rung);
        assert_eq!((w % 2, h % 2), (0, 0), "{}: {w}x{h}", rung.display());
        let expected = f64::from(w) * 264.0 / 640.0;
        assert!(
            (f64::from(h) - expected).abs() <= 2.0,
            "{}: {w}x{h}, content aspect wants a height of {expected:.1}",
            rung.display()
        );
        let (cw, ch) = cropdetect(rung);
        assert!(
            cw + 2 >= w && ch + 2 >= h,
            "{}: cropdetect would still crop {w}x{h} to {cw}x{ch}",
            rung.display()
        );
    }

    // crop = "none": the bars stay.
    let preset = dir.path().join("bars.toml");
    std::fs::write(
        &preset,
        "name = \"bars\"\n[video]\ncrop = \"none\"\nspeed = \"veryfast\"\n[stills]\ncount = 0\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 900000\n",
    )
    .expect("preset");
    let kept = dir.path().join("kept");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            s(&source),
            "--preset",
            s(&preset),
            "--no-quality",
            "--out",
            s(&kept),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let rung = kept.join("letterboxed-240/letterboxed-240_360p.mp4");
    assert_eq!(size_of(&rung), (640, 360));
    let (_, ch) = cropdetect(&rung);
    assert!(
        ch <= 270,
        "the bars are still there: cropdetect keeps {ch} rows"
    );

    // A manual crop is taken as given, and an odd one is refused with the reason.
    std::fs::write(
        &preset,
        "name = \"bars\"\n[video]\ncrop = { top = 47, bottom = 47 }\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 900000\n",
    )
    .expect("preset");
    let (code, _, stderr) =
        common::vodkit(&["plan", s(&source), "--preset", s(&preset)], dir.path());
    assert_ne!(code, 0);
    assert!(
        stderr.contains("video.crop") && stderr.contains("even"),
        "{stderr}"
    );
}

#[test]
fn a_dark_full_frame_picture_is_not_cropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let info = vodkit::probe::probe(&dark_full_frame()).expect("probe");
    let (_, video) = info.video().expect("video");
    assert_eq!(video.black_borders, None);
    let (code, stdout, stderr) = common::vodkit(
        &[
            "plan",
            s(&dark_full_frame()),
            "--preset",
            "web-ladder",
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&stdout).expect("json");
    assert!(plan["transform"]["crop"].is_null(), "{}", plan["transform"]);
    assert_eq!(plan["source_display"], serde_json::json!([640, 360]));
}

#[test]
fn the_cloud_job_crops_the_same_rectangle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let preset = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/web-ladder.toml");
    let (request, text) = common::cloud_job_json(&common::letterboxed(), &preset, dir.path());
    common::assert_valid_mediaconvert(&text, dir.path());
    assert_eq!(
        request["Settings"]["Inputs"][0]["Crop"],
        serde_json::json!({ "X": 0, "Y": 48, "Width": 640, "Height": 264 })
    );
    // The rungs are sized for the cropped picture.
    let groups = request["Settings"]["OutputGroups"]
        .as_array()
        .expect("groups");
    let file_group = groups
        .iter()
        .find(|g| g["Name"] == "File Group")
        .expect("MP4s");
    for o in file_group["Outputs"].as_array().expect("outputs") {
        let (w, h) = (
            o["VideoDescription"]["Width"].as_f64().expect("w"),
            o["VideoDescription"]["Height"].as_f64().expect("h"),
        );
        assert!((h - w * 264.0 / 640.0).abs() <= 2.0, "{w}x{h}");
    }
}

#[test]
fn a_rotated_phone_clip_is_cropped_on_its_stored_rows() {
    // The letterboxed picture stored sideways with a 90° display matrix: the bars are rows of
    // the stored picture and columns of the picture as shown.
    let rotated = common::clip_from(
        "letterboxed-rotated.mp4",
        &[
            "-i",
            s(&common::letterboxed()),
            "-c",
            "copy",
            "-metadata:s:v",
            "rotate=90",
        ],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = common::vodkit(
        &["plan", s(&rotated), "--preset", "web-ladder", "--json"],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(
        plan["source_display"],
        serde_json::json!([264, 640]),
        "{}",
        plan["transform"]
    );
    let out = dir.path().join("out");
    let preset = dir.path().join("one.toml");
    std::fs::write(
        &preset,
        "name = \"one\"\n[video]\nspeed = \"veryfast\"\n[stills]\ncount = 0\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 900000\n",
    )
    .expect("preset");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            s(&rotated),
            "--preset",
            s(&preset),
            "--no-quality",
            "--out",
            s(&out),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let rung = std::fs::read_dir(out.join("letterboxed-rotated"))
        .expect("title")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "mp4"))
        .expect("a rung");
    let (w, h) = size_of(&rung);
    assert!(h > w, "portrait: {w}x{h}");
    assert!(
        (f64::from(w) - f64::from(h) * 264.0 / 640.0).abs() <= 2.0,
        "{w}x{h}"
    );
    let (cw, ch) = cropdetect(&rung);
    assert!(
        cw + 2 >= w && ch + 2 >= h,
        "cropdetect keeps {cw}x{ch} of {w}x{h}"
    );
}

#[test]
fn a_camera_transport_stream_whose_clock_starts_late_is_searched_on_its_own_clock() {
    // The letterboxed picture as a camera's MPEG-TS whose clock starts at 1.4 s: the pictures
    // sampled for borders are found by that clock (no index to seek by).
    let ts = common::clip_from(
        "letterboxed-camera.ts",
        &[
            "-i",
            s(&common::letterboxed()),
            "-c",
            "copy",
            "-output_ts_offset",
            "1.4",
            "-f",
            "mpegts",
        ],
    );
    let info = vodkit::probe::probe(&ts).expect("probe");
    let (stream, video) = info.video().expect("video");
    assert!(
        stream.start_secs.is_some_and(|t| t > 1.0),
        "{:?}",
        stream.start_secs
    );
    assert_eq!(
        video.black_borders,
        Some(vodkit::probe::borders::Borders {
            top: 48,
            bottom: 48,
            left: 0,
            right: 0
        })
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = common::vodkit(
        &["plan", s(&ts), "--preset", "web-ladder", "--json"],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(plan["source_display"], serde_json::json!([640, 264]));
}
