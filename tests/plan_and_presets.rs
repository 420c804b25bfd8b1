//! `vodkit plan` on real clips and `vodkit presets` end to end through the binary.

mod common;

use serde_json::Value;

fn plan_json(file: &std::path::Path, preset: &str) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = common::vodkit(
        &[
            "plan",
            file.to_str().expect("utf-8"),
            "--preset",
            preset,
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(stdout.trim()).expect("json plan")
}

fn made(plan: &Value) -> Vec<(u64, u64)> {
    plan["rungs"]
        .as_array()
        .expect("rungs")
        .iter()
        .filter(|r| r["status"] != "dropped")
        .map(|r| {
            (
                r["width"].as_u64().expect("w"),
                r["height"].as_u64().expect("h"),
            )
        })
        .collect()
}

#[test]
fn every_clip_plans_with_every_builtin_preset() {
    let clips = [
        common::basic(),
        common::rotated(),
        common::portrait(),
        common::interlaced(),
        common::hdr_hevc(),
        common::no_audio(),
        common::surround(),
        common::anamorphic(),
        common::vfr(),
    ];
    for clip in &clips {
        for preset in ["web-ladder", "phone-share", "share-1080p", "hevc-archive"] {
            let plan = plan_json(clip, preset);
            let rungs = made(&plan);
            assert!(
                !rungs.is_empty(),
                "{} {preset}: no rung survives",
                clip.display()
            );
            let (sw, sh) = (
                plan["source_display"][0].as_u64().expect("w"),
                plan["source_display"][1].as_u64().expect("h"),
            );
            for (w, h) in rungs {
                assert!(
                    w <= sw && h <= sh,
                    "{} {preset}: {w}x{h} > {sw}x{sh}",
                    clip.display()
                );
                assert_eq!((w % 2, h % 2), (0, 0));
            }
        }
    }
}

#[test]
fn the_rotated_phone_clip_plans_portrait_and_upright() {
    let plan = plan_json(&common::rotated(), "phone-share");
    assert_eq!(made(&plan), vec![(180, 320)]);
    assert_eq!(
        plan["transform"]["rotate_deg"].as_u64().map(|d| d % 180),
        Some(90)
    );
    assert_eq!(plan["audio"]["remix"], "upmix mono to stereo");
}

#[test]
fn source_specific_transforms_are_planned() {
    assert_eq!(
        plan_json(&common::interlaced(), "web-ladder")["transform"]["deinterlace"],
        true
    );
    assert_eq!(
        plan_json(&common::hdr_hevc(), "web-ladder")["transform"]["hdr_to_sdr"],
        "PQ"
    );
    assert_eq!(
        plan_json(&common::anamorphic(), "web-ladder")["transform"]["square_pixels"],
        true
    );
    assert_eq!(
        plan_json(&common::vfr(), "web-ladder")["transform"]["constant_rate"],
        true
    );
    let surround = plan_json(&common::surround(), "web-ladder");
    assert_eq!(surround["audio"]["remix"], "downmix 5.1 to stereo");
    assert!(plan_json(&common::no_audio(), "web-ladder")["audio"].is_null());
}

#[test]
fn plan_text_names_every_rung_and_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clip = common::basic();
    let (code, stdout, _) = common::vodkit(
        &["plan", clip.to_str().expect("utf-8"), "-p", "web-ladder"],
        dir.path(),
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("larger than the source"), "{stdout}");
    assert!(stdout.contains("estimated total"), "{stdout}");
}

#[test]
fn planning_a_broken_file_or_with_an_unknown_preset_fails_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = common::truncated();
    let (code, _, stderr) = common::vodkit(
        &[
            "plan",
            broken.to_str().expect("utf-8"),
            "--preset",
            "web-ladder",
        ],
        dir.path(),
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("truncated.mp4 is truncated"), "{stderr}");
    let clip = common::basic();
    let (code, _, stderr) = common::vodkit(
        &["plan", clip.to_str().expect("utf-8"), "--preset", "nope"],
        dir.path(),
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no preset named 'nope'") && stderr.contains("web-ladder"),
        "{stderr}"
    );
    let (code, _, stderr) = common::vodkit(
        &[
            "plan",
            clip.to_str().expect("utf-8"),
            "--preset",
            "podcast-audio",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn presets_list_show_import_export_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config");
    let (code, stdout, _) = common::vodkit(&["presets", "--json"], &config);
    assert_eq!(code, 0);
    let names: Vec<String> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json")["preset"]["name"]
                .as_str()
                .expect("name")
                .to_owned()
        })
        .collect();
    for n in [
        "web-ladder",
        "phone-share",
        "share-1080p",
        "hevc-archive",
        "podcast-audio",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }

    let exported = dir.path().join("mine.toml");
    let (code, _, stderr) = common::vodkit(
        &[
            "presets",
            "export",
            "phone-share",
            "--out",
            exported.to_str().expect("utf-8"),
        ],
        &config,
    );
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&exported)
        .expect("exported")
        .replace("phone-share", "my-share");
    std::fs::write(&exported, text).expect("write");
    let (code, stdout, stderr) = common::vodkit(
        &["presets", "import", exported.to_str().expect("utf-8")],
        &config,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("imported 'my-share'"));
    assert!(config.join("presets/my-share.toml").exists());
    let (code, stdout, _) = common::vodkit(&["presets", "show", "my-share"], &config);
    assert_eq!(code, 0);
    assert!(stdout.contains("name = \"my-share\""));
    let (code, _, _) = common::vodkit(&["presets", "delete", "my-share"], &config);
    assert_eq!(code, 0);
    let (code, _, stderr) = common::vodkit(&["presets", "delete", "web-ladder"], &config);
    assert_eq!(code, 1);
    assert!(stderr.contains("built in"), "{stderr}");
}

#[test]
fn an_invalid_preset_names_file_rung_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"bad\"\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 700000\n\
         [[rung]]\nwidth = 3840\nheight = 2160\nprofile = \"high\"\nlevel = \"3.1\"\nmax_bitrate_bps = 20000000\n",
    )
    .expect("write");
    let (code, _, stderr) = common::vodkit(
        &["presets", "check", bad.to_str().expect("utf-8")],
        dir.path(),
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("bad.toml"), "{stderr}");
    assert!(stderr.contains("rung 2: level: (3840x2160)"), "{stderr}");

    std::fs::write(
        &bad,
        "name = \"bad\"\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate = 1\n",
    )
    .expect("write");
    let (code, _, stderr) = common::vodkit(
        &["presets", "check", bad.to_str().expect("utf-8")],
        dir.path(),
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("unknown field `max_bitrate`") && stderr.contains("line 5"),
        "{stderr}"
    );
}
