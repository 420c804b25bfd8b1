//! What Vodkit writes under real use: same-named sources from two folders make two titles with
//! the right content each, a title another job is writing is refused with a sentence, and
//! `vodkit serve` never hands out Vodkit's own dotfiles.

mod common;

use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn duration_secs(path: &Path) -> f64 {
    common::ffprobe(path)["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("duration")
}

/// Two phones' `IMG_0001`: different clips with one name.
fn same_named(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let a = dir.join("a/IMG_0001.mp4");
    let b = dir.join("b/IMG_0001.mp4");
    for (path, clip) in [(&a, common::basic()), (&b, common::portrait())] {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::copy(clip, path).expect("copy");
    }
    (a, b)
}

#[test]
fn same_named_sources_in_one_batch_make_two_titles_with_their_own_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = same_named(dir.path());
    let out = dir.path().join("out");
    let args = [
        "encode",
        s(&a),
        s(&b),
        "--preset",
        "phone-share",
        "--jobs",
        "2",
        "--out",
        s(&out),
    ];
    let (code, _, stderr) = common::vodkit(&args, dir.path());
    assert_eq!(code, 0, "{stderr}");
    let mut titles: Vec<String> = std::fs::read_dir(&out)
        .expect("out")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    titles.sort();
    assert_eq!(titles, ["IMG_0001", "IMG_0001-2"]);
    // Each title holds its own source's picture: the 4 s landscape clip and the 2 s portrait.
    let mut seen = Vec::new();
    for t in &titles {
        let mp4 = std::fs::read_dir(out.join(t))
            .expect("title")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "mp4"))
            .expect("an MP4 rung");
        let probe = common::ffprobe(&mp4);
        let video = probe["streams"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["codec_type"] == "video"))
            .expect("video");
        let portrait = video["height"].as_u64() > video["width"].as_u64();
        seen.push((portrait, (duration_secs(&mp4) * 2.0).round() / 2.0));
    }
    seen.sort_by(|x, y| x.partial_cmp(y).expect("numbers"));
    assert_eq!(seen, [(false, 4.0), (true, 2.0)], "{titles:?}");
    // A second run finds each source's own folder again and skips what is done.
    let (code, _, stderr) = common::vodkit(&args, dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_dir(&out).expect("out").count(), 2);
}

#[test]
fn a_title_another_job_is_writing_is_refused_with_a_sentence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, _) = same_named(dir.path());
    let out = dir.path().join("out");
    let title = out.join("IMG_0001");
    std::fs::create_dir_all(&title).expect("title");
    // Another live process holds the title (this test process stands in for it).
    std::fs::write(
        title.join(".vodkit-lock"),
        format!("{}\n", std::process::id()),
    )
    .expect("lock");
    let (code, _, stderr) = common::vodkit(
        &["encode", s(&a), "--preset", "phone-share", "--out", s(&out)],
        dir.path(),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("another Vodkit job") && stderr.contains("IMG_0001"),
        "{stderr}"
    );
    // Its lock is left alone, and nothing was written.
    assert!(title.join(".vodkit-lock").exists());
    assert!(!title.join("manifest.json").exists());
}

#[test]
fn serve_never_hands_out_dotfiles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let title = common::streamed_title(dir.path());
    let dotfiles: Vec<String> = std::fs::read_dir(&title)
        .expect("title")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        dotfiles.iter().any(|n| n == ".vodkit-done.json"),
        "{dotfiles:?}"
    );
    let server = common::Server::start(dir.path());
    for name in &dotfiles {
        let reply = common::http::get(server.port, &format!("/ladder_source/{name}"));
        assert_eq!(reply.status, 404, "{name}");
    }
    let manifest = common::http::get(server.port, "/ladder_source/manifest.json");
    assert_eq!(manifest.status, 200);
}

#[test]
fn re_encoding_from_a_smaller_source_leaves_no_stale_rung_anywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("clip.mp4");
    std::fs::copy(common::ladder_source(), &source).expect("copy");
    let preset = dir.path().join("ladder.toml");
    std::fs::write(&preset, common::STREAM_LADDER).expect("preset");
    let out = dir.path().join("out");
    let encode = || {
        let (code, _, stderr) = common::vodkit(
            &[
                "encode",
                s(&source),
                "--preset",
                s(&preset),
                "--out",
                s(&out),
            ],
            dir.path(),
        );
        assert_eq!(code, 0, "{stderr}");
        stderr
    };
    encode();
    let title = out.join("clip");
    assert!(title.join("clip_360p.mp4").exists());
    // The same file, now a 320x240 clip: the 360p and 270p rungs are no longer made.
    std::fs::copy(common::basic(), &source).expect("replace");
    let stderr = encode();
    assert!(stderr.contains("removed clip_360p.mp4"), "{stderr}");
    assert!(!title.join("clip_360p.mp4").exists());
    let server = common::Server::start(&out);
    for manifest in ["index.m3u8", "index.mpd", "index.smil"] {
        let on_disk = std::fs::read_to_string(title.join(manifest)).expect("manifest");
        let served = common::http::get(server.port, &format!("/clip/{manifest}")).text();
        for text in [&on_disk, &served] {
            assert!(
                !text.contains("360p"),
                "{manifest} lists a stale rung:\n{text}"
            );
            assert!(text.contains("180p"), "{manifest}:\n{text}");
        }
    }
}

#[test]
fn no_location_time_or_local_path_in_anything_written_or_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let preset = dir.path().join("ladder.toml");
    std::fs::write(&preset, common::STREAM_LADDER).expect("preset");
    let out = dir.path().join("out");
    let source = common::rotated(); // a phone clip with a recording time and a GPS location
    let (code, _, stderr) = common::vodkit(
        &["encode", s(&source), "--preset", s(&preset), "--out", s(&out)],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let private = [
        "+48.8584",
        "2024-05-01",
        source.parent().expect("folder").to_str().expect("utf-8"),
        dir.path().to_str().expect("utf-8"),
    ];
    let server = common::Server::start(&out);
    let title = out.join("rotated");
    let mut checked = 0;
    for file in common::files_under(&title) {
        let rel = file
            .strip_prefix(&title)
            .expect("inside")
            .to_string_lossy()
            .into_owned();
        let text_file = [".json", ".m3u8", ".mpd", ".smil"]
            .iter()
            .any(|e| rel.ends_with(e));
        if !text_file || rel.starts_with('.') {
            continue;
        }
        let written = std::fs::read_to_string(&file).expect("text");
        let served = common::http::get(server.port, &format!("/rotated/{rel}")).text();
        for (what, text) in [("written", &written), ("served", &served)] {
            for p in private {
                assert!(!text.contains(p), "{rel} ({what}) contains {p}");
            }
        }
        checked += 1;
    }
    assert!(checked >= 5, "checked {checked} files");
}
