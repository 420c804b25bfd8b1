//! `vodkit probe` on every kind of test clip, checked against ffprobe's view of the same file,
//! and on broken files, which must fail cleanly, name the file and not stop the batch.

mod common;

use std::path::Path;

use serde_json::Value;

fn probe_json(path: &Path) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = common::vodkit(
        &["probe", "--json", path.to_str().expect("utf-8")],
        dir.path(),
    );
    assert_eq!(code, 0, "probe failed: {stderr}");
    serde_json::from_str(stdout.trim()).expect("one JSON object")
}

fn stream<'a>(v: &'a Value, kind: &str) -> &'a Value {
    v["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .find(|s| s["kind"] == kind || s["codec_type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} stream in {v}"))
}

/// Fields every clip must agree on with ffprobe.
fn assert_agrees_with_ffprobe(path: &Path) -> (Value, Value) {
    let ours = probe_json(path);
    let theirs = common::ffprobe(path);
    let duration: f64 = theirs["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("ffprobe duration");
    assert!((ours["duration_secs"].as_f64().expect("duration") - duration).abs() < 0.01);
    assert_eq!(
        ours["size_bytes"].as_u64(),
        theirs["format"]["size"]
            .as_str()
            .and_then(|s| s.parse().ok())
    );
    assert_eq!(
        ours["streams"].as_array().map(Vec::len),
        theirs["streams"].as_array().map(Vec::len)
    );

    let (v, fv) = (stream(&ours, "video"), stream(&theirs, "video"));
    assert_eq!(v["codec"], fv["codec_name"]);
    assert_eq!(v["profile"], fv["profile"]);
    assert_eq!(v["video"]["width"], fv["width"]);
    assert_eq!(v["video"]["height"], fv["height"]);
    assert_eq!(v["video"]["pixel_format"], fv["pix_fmt"]);
    assert_eq!(v["video"]["avg_frame_rate_ratio"], fv["avg_frame_rate"]);
    if let Some(sar) = fv["sample_aspect_ratio"].as_str() {
        assert_eq!(v["video"]["sample_aspect_ratio"], sar);
        assert_eq!(
            v["video"]["display_aspect_ratio"],
            fv["display_aspect_ratio"]
        );
    }
    // ffprobe reports the matrix's counter-clockwise angle; we report the clockwise turn.
    let ffprobe_ccw = fv["side_data_list"]
        .as_array()
        .and_then(|l| l.iter().find_map(|sd| sd["rotation"].as_i64()))
        .unwrap_or(0);
    assert_eq!(
        v["video"]["rotation_deg"].as_i64(),
        Some((360 - ffprobe_ccw).rem_euclid(360))
    );
    if let Some(level) = fv["level"].as_i64().filter(|&l| l > 0) {
        let expected = if fv["codec_name"] == "hevc" {
            level as f64 / 30.0
        } else {
            level as f64 / 10.0
        };
        let ours: f64 = v["video"]["level"]
            .as_str()
            .expect("level")
            .parse()
            .expect("number");
        assert!((ours - expected).abs() < 1e-9, "level {ours} vs {expected}");
    }
    if let Some(fa) = theirs["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == "audio"))
    {
        let a = stream(&ours, "audio");
        assert_eq!(a["codec"], fa["codec_name"]);
        assert_eq!(a["audio"]["channels"], fa["channels"]);
        assert_eq!(a["audio"]["channel_layout"], fa["channel_layout"]);
        assert_eq!(
            a["audio"]["sample_rate_hz"].as_u64(),
            fa["sample_rate"].as_str().and_then(|s| s.parse().ok())
        );
    }
    (ours, theirs)
}

#[test]
fn basic_clip_matches_ffprobe() {
    let (ours, _) = assert_agrees_with_ffprobe(&common::basic());
    let v = stream(&ours, "video");
    assert_eq!(v["video"]["variable_frame_rate"], false);
    assert_eq!(v["video"]["interlaced"], false);
    assert_eq!(v["video"]["bit_depth"], 8);
    assert_eq!(stream(&ours, "audio")["language"], "eng");
    assert_eq!(ours["title"], "basic");
    assert!(
        ours["warnings"].as_array().expect("warnings").is_empty(),
        "{}",
        ours["warnings"]
    );
}

#[test]
fn rotated_phone_clip_shows_upright_with_its_tags() {
    let (ours, _) = assert_agrees_with_ffprobe(&common::rotated());
    let v = &stream(&ours, "video")["video"];
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(320), Some(180))
    );
    assert_eq!(
        (v["display_width"].as_u64(), v["display_height"].as_u64()),
        (Some(180), Some(320))
    );
    assert_eq!(ours["location"], "+48.8584+002.2945/");
    assert!(
        ours["creation_time"]
            .as_str()
            .expect("time")
            .starts_with("2024-05-01T10:00:00")
    );
    assert!(ours["warnings"].to_string().contains("rotated"));
}

#[test]
fn portrait_interlaced_anamorphic_surround() {
    let (p, _) = assert_agrees_with_ffprobe(&common::portrait());
    assert_eq!(stream(&p, "video")["video"]["display_height"], 320);

    let (i, theirs) = assert_agrees_with_ffprobe(&common::interlaced());
    let v = &stream(&i, "video")["video"];
    assert_eq!(v["interlaced"], true);
    assert_eq!(stream(&theirs, "video")["field_order"], "tt");
    assert_eq!(v["field_order"], "tff");

    let (a, _) = assert_agrees_with_ffprobe(&common::anamorphic());
    let v = &stream(&a, "video")["video"];
    assert_eq!(v["sample_aspect_ratio"], "4:3");
    assert_eq!(
        (v["display_width"].as_u64(), v["display_height"].as_u64()),
        (Some(320), Some(180))
    );
    assert!(a["warnings"].to_string().contains("square pixels"));

    let (s, _) = assert_agrees_with_ffprobe(&common::surround());
    assert_eq!(stream(&s, "audio")["audio"]["channels"], 6);
}

#[test]
fn hdr_hevc_is_flagged() {
    let (ours, theirs) = assert_agrees_with_ffprobe(&common::hdr_hevc());
    let v = &stream(&ours, "video")["video"];
    assert_eq!(v["bit_depth"], 10);
    assert_eq!(v["hdr"], "PQ");
    assert_eq!(
        v["color_transfer"],
        stream(&theirs, "video")["color_transfer"]
    );
    assert_eq!(v["color_primaries"], "bt2020");
    assert_eq!(stream(&ours, "video")["profile"], "Main 10");
}

#[test]
fn variable_frame_rate_and_missing_audio_are_noticed() {
    let (ours, _) = assert_agrees_with_ffprobe(&common::vfr());
    assert_eq!(stream(&ours, "video")["video"]["variable_frame_rate"], true);
    let (silent, _) = assert_agrees_with_ffprobe(&common::no_audio());
    assert!(silent["warnings"].to_string().contains("no audio"));
}

#[test]
fn broken_files_fail_cleanly_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.mov");
    let broken = [
        (common::zero_bytes(), "empty"),
        (common::text_file(), "not a media file"),
        (common::truncated(), "truncated"),
        (common::truncated_faststart(), "truncated"),
        (missing, "cannot open"),
    ];
    let good = common::basic();
    let mut args = vec!["probe".to_owned()];
    args.extend(broken.iter().map(|(p, _)| p.display().to_string()));
    args.push(good.display().to_string());
    let before: Vec<Vec<u8>> = broken
        .iter()
        .filter_map(|(p, _)| std::fs::read(p).ok())
        .collect();

    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = common::vodkit(&argv, dir.path());
    assert_eq!(code, 1, "{stderr}");
    for (path, reason) in &broken {
        let line = stderr
            .lines()
            .find(|l| l.contains(&path.display().to_string()))
            .unwrap_or_else(|| panic!("no error naming {} in:\n{stderr}", path.display()));
        assert!(line.contains(reason), "{line}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stdout.contains("basic.mp4"),
        "the good file after the broken ones is probed"
    );
    let after: Vec<Vec<u8>> = broken
        .iter()
        .filter_map(|(p, _)| std::fs::read(p).ok())
        .collect();
    assert_eq!(before, after, "probing never modifies a source");

    // JSON mode reports each failure as a line too, so scripts see every file.
    let mut json_args = vec!["probe", "--json"];
    json_args.extend(argv[1..].iter().copied());
    let (code, stdout, _) = common::vodkit(&json_args, dir.path());
    assert_eq!(code, 1);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), broken.len() + 1);
    assert_eq!(
        lines.iter().filter(|l| l.get("error").is_some()).count(),
        broken.len()
    );
}
