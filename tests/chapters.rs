//! Chapters and descriptive tags: a source with three titled chapters keeps them in every MP4
//! rung (same titles, start times within one frame), listed by probe and in manifest.json; a
//! trimmed encode keeps the chapters inside the part, moved to its start; title, artist and
//! comment follow the preset's metadata switch.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const CHAPTERS: [(&str, f64); 3] = [("Opening", 0.0), ("The middle part", 3.5), ("Credits", 7.0)];

/// 640x360 at 29.97 fps, 10 s, with three chapters and title/artist/comment tags.
fn chaptered() -> PathBuf {
    let dir = common::clips_dir();
    let meta = dir.join("chaptered.ffmetadata");
    let mut text = String::from(
        ";FFMETADATA1\ntitle=A Night Out\nartist=Ana Example\ncomment=Shot on a phone\n",
    );
    for (k, (title, start)) in CHAPTERS.iter().enumerate() {
        let end = CHAPTERS.get(k + 1).map_or(10.0, |c| c.1);
        text.push_str(&format!(
            "[CHAPTER]\nTIMEBASE=1/1000\nSTART={}\nEND={}\ntitle={title}\n",
            (start * 1000.0) as i64,
            (end * 1000.0) as i64
        ));
    }
    std::fs::write(&meta, text).expect("metadata file");
    common::clip_from(
        "chaptered.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=640x360:r=30000/1001:d=10",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:sample_rate=48000:d=10",
            "-i",
            s(&meta),
            "-map_metadata",
            "2",
            "-map_chapters",
            "2",
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ],
    )
}

/// (start seconds, title) of each chapter of `file`, as ffprobe reads them.
fn chapters_of(file: &Path) -> Vec<(f64, String)> {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_chapters", "-of", "json", s(file)])
        .output()
        .expect("ffprobe runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    v["chapters"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        c["start_time"]
                            .as_str()
                            .and_then(|t| t.parse().ok())
                            .expect("start"),
                        c["tags"]["title"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn tags_of(file: &Path) -> Value {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_format", "-of", "json", s(file)])
        .output()
        .expect("ffprobe runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    v["format"]["tags"].clone()
}

#[test]
fn every_rung_keeps_the_chapters_and_the_tags_follow_the_preset() {
    let source = chaptered();
    let dir = tempfile::tempdir().expect("tempdir");
    let frame = 1001.0 / 30000.0;

    // Probe lists them.
    let info = vodkit::probe::probe(&source).expect("probe");
    let titles: Vec<&str> = info
        .chapters
        .iter()
        .map(|c| c.title.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(titles, CHAPTERS.map(|c| c.0));

    // web-ladder (keeps no phone metadata): chapters in every rung, no tags.
    let out = dir.path().join("web");
    let (code, _, stderr) = common::vodkit(
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
    assert_eq!(code, 0, "{stderr}");
    let title = out.join("chaptered");
    let rungs = common::mp4s_in(&title);
    assert!(rungs.len() >= 2, "{rungs:?}");
    for rung in &rungs {
        let got = chapters_of(rung);
        assert_eq!(got.len(), 3, "{}: {got:?}", rung.display());
        for ((start, name), (want_name, want_start)) in got.iter().zip(CHAPTERS) {
            assert_eq!(name, want_name, "{}", rung.display());
            assert!(
                (start - want_start).abs() <= frame,
                "{}: {name} at {start}, the source's at {want_start}",
                rung.display()
            );
        }
        assert!(tags_of(rung)["title"].is_null(), "web-ladder keeps no tags");
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(title.join("manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["plan"]["chapters"][1]["title"], "The middle part");

    // phone-share keeps the title, artist and comment; a trim from 3 s keeps the chapters in
    // the part, moved to its start (the first one cut to start at zero).
    let out = dir.path().join("phone");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            s(&source),
            "--preset",
            "phone-share",
            "--start",
            "3",
            "--out",
            s(&out),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let rung = &common::mp4s_in(&out.join("chaptered"))[0];
    let tags = tags_of(rung);
    assert_eq!(tags["title"], "A Night Out");
    assert_eq!(tags["artist"], "Ana Example");
    assert_eq!(tags["comment"], "Shot on a phone");
    let got = chapters_of(rung);
    let names: Vec<&str> = got.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["Opening", "The middle part", "Credits"]);
    // The trim starts on a whole source frame near 3 s.
    let trim_start = (3.0 / frame).round() * frame;
    for ((start, _), want) in got.iter().zip([0.0, 3.5 - trim_start, 7.0 - trim_start]) {
        assert!((start - want).abs() <= frame, "{got:?}");
    }

    // An audio-only preset keeps them too (a podcast's chapters).
    let out = dir.path().join("podcast");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            s(&source),
            "--preset",
            "podcast-audio",
            "--out",
            s(&out),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let m4a = out.join("chaptered/chaptered.m4a");
    let names: Vec<String> = chapters_of(&m4a).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, CHAPTERS.map(|c| c.0.to_owned()), "{}", m4a.display());
}
