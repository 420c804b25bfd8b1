//! The local backend on tiny generated clips, judged by ffprobe: rung sizes, codecs, profiles,
//! frame rates, IDR frames on every 2 s boundary of every rung, audio format, moov before mdat,
//! upright output, cancel leaving nothing finished, resume skipping finished rungs, and broken
//! sources failing cleanly.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use vodkit::job::{CancelToken, EventSink, JobEvent};
use vodkit::preset::Preset;

fn ladder() -> Preset {
    common::small_ladder()
}

use common::encode_with as encode;

fn frames(path: &Path) -> Vec<(f64, bool)> {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "frame=pts_time,key_frame",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split(',');
            let key = it.next()? == "1";
            let t: f64 = it.next()?.parse().ok()?;
            Some((t, key))
        })
        .collect()
}

fn video(v: &Value) -> &Value {
    v["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == "video"))
        .expect("video stream")
}

fn audio(v: &Value) -> Option<&Value> {
    v["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == "audio"))
}

#[test]
fn a_ladder_from_one_decode_is_aligned_and_correct() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = encode(
        &common::basic(),
        &ladder(),
        dir.path(),
        &CancelToken::new(),
        |_| {},
    )
    .expect("encode");
    assert_eq!(summary.made, vec!["120p", "240p", "180p"]);
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    let title = dir.path().join("basic");
    let expect = [
        ("basic_120p.mp4", 160, 120, "h264", "Main", "15000/1001"),
        ("basic_240p.mp4", 320, 240, "h264", "High", "30000/1001"),
        ("basic_180p.mp4", 240, 180, "hevc", "Main", "30000/1001"),
    ];
    for (file, w, h, codec, profile, rate) in expect {
        let path = title.join(file);
        let p = common::ffprobe(&path);
        let v = video(&p);
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(w), Some(h)),
            "{file}"
        );
        assert_eq!(v["codec_name"], codec, "{file}");
        assert_eq!(v["profile"], profile, "{file}");
        assert_eq!(v["pix_fmt"], "yuv420p", "{file}");
        assert_eq!(v["r_frame_rate"], rate, "{file}");
        if codec == "hevc" {
            assert_eq!(v["codec_tag_string"], "hvc1", "Apple players need hvc1");
        }
        let a = audio(&p).expect("audio");
        assert_eq!(a["codec_name"], "aac");
        assert_eq!(a["profile"], "LC");
        assert_eq!(a["sample_rate"], "48000");
        assert_eq!(a["channels"], 2);
        let bytes = std::fs::read(&path).expect("read");
        let find = |tag: &[u8]| bytes.windows(4).position(|w| w == tag).expect("box");
        assert!(
            find(b"moov") < find(b"mdat"),
            "{file}: moov must come first"
        );

        // IDR on the first frame at or after every 2 s boundary, on every rung.
        let f = frames(&path);
        let duration = f.last().map_or(0.0, |l| l.0);
        let mut boundary = 0.0;
        while boundary <= duration {
            let first_after = f
                .iter()
                .find(|(t, _)| *t >= boundary - 1e-6)
                .expect("frame");
            assert!(
                first_after.1,
                "{file}: no keyframe at {boundary} s ({first_after:?})"
            );
            boundary += 2.0;
        }
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(title.join("manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["rungs"].as_array().map(Vec::len), Some(3));
    assert_eq!(manifest["stills"].as_array().map(Vec::len), Some(2));
    assert!(title.join("stills/basic_1.jpg").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&title)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn rotated_interlaced_hdr_surround_and_silent_sources() {
    let dir = tempfile::tempdir().expect("tempdir");
    let share = vodkit::preset::store::builtin("phone-share").expect("phone-share");
    let mut share = share;
    share.video.speed = "ultrafast".into();
    for (clip, check) in [
        (common::rotated(), "upright"),
        (common::interlaced(), "progressive"),
        (common::hdr_hevc(), "sdr"),
        (common::surround(), "stereo"),
        (common::no_audio(), "silent"),
        (common::anamorphic(), "square"),
        (common::vfr(), "cfr"),
    ] {
        let summary =
            encode(&clip, &share, dir.path(), &CancelToken::new(), |_| {}).expect("encode");
        assert_eq!(summary.made.len(), 1, "{}", clip.display());
        let title = clip
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let out = std::fs::read_dir(dir.path().join(&title))
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "mp4"))
            .expect("an mp4");
        let p = common::ffprobe(&out);
        let v = video(&p);
        match check {
            "upright" => {
                assert_eq!(
                    (v["width"].as_u64(), v["height"].as_u64()),
                    (Some(180), Some(320))
                );
                assert!(v["side_data_list"].is_null(), "no rotation flag: {v}");
                // phone-share keeps when and where the clip was shot.
                let tags = &p["format"]["tags"];
                assert!(
                    tags["creation_time"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("2024-05-01")),
                    "{tags}"
                );
                assert_eq!(tags["location"], "+48.8584+002.2945/");
            }
            "progressive" => assert_ne!(v["field_order"], "tt"),
            "sdr" => {
                assert_eq!(v["pix_fmt"], "yuv420p");
                assert_eq!(v["color_transfer"], "bt709");
                let m: Value = serde_json::from_slice(
                    &std::fs::read(dir.path().join(&title).join("manifest.json")).expect("m"),
                )
                .expect("json");
                assert!(
                    m["color_conversion"]
                        .as_str()
                        .expect("said")
                        .contains("tone-mapped")
                );
            }
            "stereo" => assert_eq!(audio(&p).expect("audio")["channels"], 2),
            "silent" => assert!(audio(&p).is_none()),
            "square" => {
                assert_eq!(
                    (v["width"].as_u64(), v["height"].as_u64()),
                    (Some(320), Some(180))
                );
                assert_eq!(v["sample_aspect_ratio"], "1:1");
            }
            "cfr" => {
                let durations = packet_durations(&out);
                assert!(durations.len() > 10);
                assert!(
                    durations.iter().all(|d| *d == durations[0]),
                    "not constant: {durations:?}"
                );
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn cancel_leaves_nothing_that_looks_finished() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cancel = CancelToken::new();
    let c = cancel.clone();
    let summary = encode(&common::basic(), &ladder(), dir.path(), &cancel, move |e| {
        if matches!(e, JobEvent::Progress { .. }) {
            c.cancel();
        }
    })
    .expect("a cancelled job still returns its summary");
    assert!(summary.cancelled);
    assert!(summary.made.is_empty());
    let files: Vec<String> = walk(dir.path());
    assert!(
        files.iter().all(|f| !f.ends_with(".mp4")
            && !f.ends_with(".part")
            && !f.ends_with("manifest.json")),
        "{files:?}"
    );
}

#[test]
fn a_second_run_skips_finished_rungs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = encode(
        &common::basic(),
        &ladder(),
        dir.path(),
        &CancelToken::new(),
        |_| {},
    )
    .expect("first");
    assert_eq!(first.made.len(), 3);
    let file = dir.path().join("basic/basic_240p.mp4");
    let modified = std::fs::metadata(&file)
        .and_then(|m| m.modified())
        .expect("mtime");
    // One rung lost: only it is made again.
    std::fs::remove_file(dir.path().join("basic/basic_120p.mp4")).expect("rm");
    let skipped = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&skipped);
    let second = encode(
        &common::basic(),
        &ladder(),
        dir.path(),
        &CancelToken::new(),
        move |e| {
            if let JobEvent::Skipped { rung, .. } = e {
                s.lock().expect("lock").push(rung.clone());
            }
        },
    )
    .expect("second");
    assert_eq!(second.made, vec!["120p"]);
    assert_eq!(second.skipped, vec!["240p", "180p"]);
    assert_eq!(skipped.lock().expect("lock").len(), 2);
    assert_eq!(
        std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .expect("mtime"),
        modified
    );
    // Other settings: nothing is reused.
    let mut other = ladder();
    other.video.quality_level = 5;
    let third = encode(
        &common::basic(),
        &other,
        dir.path(),
        &CancelToken::new(),
        |_| {},
    )
    .expect("third");
    assert_eq!(third.made.len(), 3);
}

#[test]
fn broken_sources_fail_cleanly_through_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let good = common::basic();
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            common::truncated().to_str().expect("utf-8"),
            common::zero_bytes().to_str().expect("utf-8"),
            good.to_str().expect("utf-8"),
            "--preset",
            "phone-share",
            "--out",
            out.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("truncated.mp4 is truncated"), "{stderr}");
    assert!(stderr.contains("zero.mp4 is empty"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    assert!(
        out.join("basic/basic_240p.mp4").exists(),
        "the good file is still encoded"
    );
    assert!(!out.join("truncated").exists());
}

fn packet_durations(path: &Path) -> Vec<i64> {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "packet=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

fn walk(dir: &Path) -> Vec<String> {
    common::files_under(dir)
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

#[test]
fn a_failing_rung_does_not_stop_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let preset = ladder();
    let info = vodkit::probe::probe(&common::basic()).expect("probe");
    let mut plan = vodkit::plan::plan(&info, &preset).expect("plan");
    // An odd width no 4:2:0 encoder accepts: that rung's encoder refuses to open.
    let broken = plan
        .rungs
        .iter_mut()
        .find(|r| r.name == "180p")
        .expect("180p rung");
    broken.width = 241;
    let failures = Arc::new(Mutex::new(Vec::new()));
    let f = Arc::clone(&failures);
    let sink: EventSink = Arc::new(move |e| {
        if let JobEvent::RungFailed { rung, error } = e {
            f.lock().expect("lock").push((rung, error));
        }
    });
    let summary = vodkit::local::encode(
        &info,
        &preset,
        &plan,
        dir.path(),
        &sink,
        &CancelToken::new(),
    )
    .expect("the job itself runs");
    assert_eq!(summary.made, vec!["120p", "240p"]);
    assert_eq!(summary.failed.len(), 1);
    assert_eq!(summary.failed[0].0, "180p");
    assert!(!summary.failed[0].1.is_empty());
    assert_eq!(failures.lock().expect("lock").len(), 1);
    let files = walk(dir.path());
    assert!(!files.iter().any(|f| f.contains("180p")), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with("basic_240p.mp4")));
}

#[test]
fn two_files_at_once_report_json_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let (code, stdout, stderr) = common::vodkit(
        &[
            "encode",
            common::basic().to_str().expect("utf-8"),
            common::portrait().to_str().expect("utf-8"),
            "--preset",
            "phone-share",
            "--out",
            out.to_str().expect("utf-8"),
            "--jobs",
            "2",
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let events: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let kinds = |k: &str| events.iter().filter(|e| e["event"] == k).count();
    assert_eq!(kinds("started"), 2);
    assert_eq!(kinds("finished"), 2);
    assert!(kinds("progress") >= 2, "progress is reported: {stdout}");
    let last_progress = events
        .iter()
        .rfind(|e| e["event"] == "progress")
        .expect("progress");
    assert!(last_progress["rungs"][0]["frames_total"].as_u64() > Some(0));
    assert!(out.join("basic/basic_240p.mp4").exists());
    assert!(out.join("portrait/portrait_180p.mp4").exists());
}

#[test]
fn ctrl_c_in_the_cli_cancels_cleanly() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vodkit"))
        .args([
            "encode",
            common::ladder_source().to_str().expect("utf-8"),
            "--preset",
            "web-ladder",
            "--json",
            "--out",
        ])
        .arg(&out)
        .env("VODKIT_CONFIG_DIR", dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("vodkit starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    // Wait until the encode is under way, then press Ctrl-C.
    for line in lines.by_ref() {
        if line.expect("line").contains("\"event\":\"progress\"") {
            break;
        }
    }
    // SAFETY: sending SIGINT to our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let status = child.wait().expect("exits");
    assert!(
        !status.success(),
        "a cancelled encode does not report success"
    );
    let files = walk(&out);
    assert!(
        files.iter().all(|f| !f.ends_with(".mp4")
            && !f.ends_with(".part")
            && !f.ends_with("manifest.json")),
        "{files:?}"
    );
}

#[test]
fn podcast_audio_extracts_the_sound_and_refuses_silent_sources() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            common::surround().to_str().expect("utf-8"),
            "--preset",
            "podcast-audio",
            "--out",
            out.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let p = common::ffprobe(&out.join("surround/surround.m4a"));
    let streams = p["streams"].as_array().expect("streams");
    assert_eq!(streams.len(), 1, "audio only: {p}");
    assert_eq!(streams[0]["codec_name"], "aac");
    assert_eq!(streams[0]["channels"], 2, "5.1 is downmixed");
    assert_eq!(streams[0]["sample_rate"], "48000");

    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            common::no_audio().to_str().expect("utf-8"),
            "--preset",
            "podcast-audio",
            "--out",
            out.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no_audio.mp4 has no audio stream"),
        "{stderr}"
    );
}
