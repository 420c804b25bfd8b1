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

/// `vodkit encode SOURCE` with a preset given as TOML text, into `out`; returns stderr.
fn encode_with_toml(dir: &Path, source: &Path, toml: &str, out: &Path) -> String {
    let preset = dir.join("ladder.toml");
    std::fs::write(&preset, toml).expect("preset");
    let (code, _, stderr) = common::vodkit(
        &["encode", s(source), "--preset", s(&preset), "--out", s(out)],
        dir,
    );
    assert_eq!(code, 0, "{stderr}");
    stderr
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
    // A second run finds each source's own folder again and skips what is done, saying why;
    // --force redoes it.
    let (code, _, stderr) = common::vodkit(&args, dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_dir(&out).expect("out").count(), 2);
    assert_eq!(
        stderr
            .matches("skipped: already made from the same source")
            .count(),
        2,
        "{stderr}"
    );
    let mut forced = args.to_vec();
    forced.push("--force");
    let (code, _, stderr) = common::vodkit(&forced, dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("skipped: already made"), "{stderr}");
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
    let out = dir.path().join("out");
    let encode = || encode_with_toml(dir.path(), &source, common::STREAM_LADDER, &out);
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
    let out = dir.path().join("out");
    let source = common::rotated(); // a phone clip with a recording time and a GPS location
    encode_with_toml(dir.path(), &source, common::STREAM_LADDER, &out);
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

#[test]
fn probe_json_is_valid_utf8_whatever_bytes_a_file_names_its_tracks_with() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("latin1.mp4");
    // A handler name with a raw 0x8b byte, as old cameras write in their own code pages.
    let mut name = b"handler_name=Cam\x8bra".to_vec();
    name.extend_from_slice(b" Video");
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(common::basic())
        .args(["-c", "copy", "-metadata:s:v"])
        .arg(std::ffi::OsStr::from_bytes(&name))
        .arg(&file)
        .status()
        .expect("ffmpeg");
    assert!(status.success());
    assert!(
        std::fs::read(&file)
            .expect("file")
            .windows(4)
            .any(|w| w == b"Cam\x8b"),
        "the raw byte is in the file"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vodkit"))
        .args(["probe", "--json"])
        .arg(&file)
        .env("VODKIT_CONFIG_DIR", dir.path())
        .output()
        .expect("vodkit");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("valid UTF-8");
    let json: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("a line")).expect("valid JSON");
    assert!(json.to_string().contains("Cam\u{fffd}ra"), "{json}");
}

/// Every file the HLS playlists of a packaged title point to exists.
fn hls_references_exist(title: &Path) -> Result<usize, String> {
    let mut checked = 0;
    let master = std::fs::read_to_string(title.join("index.m3u8")).map_err(|e| e.to_string())?;
    for playlist in master
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let text = std::fs::read_to_string(title.join(playlist)).map_err(|e| e.to_string())?;
        let base = title.join(playlist);
        let base = base.parent().expect("folder");
        for line in text.lines() {
            let uri = line
                .split("URI=\"")
                .nth(1)
                .and_then(|u| u.split('"').next())
                .or((!line.starts_with('#') && !line.is_empty()).then_some(line));
            if let Some(uri) = uri {
                if !base.join(uri).is_file() {
                    return Err(format!("{playlist} points at {uri}, which is missing"));
                }
                checked += 1;
            }
        }
    }
    Ok(checked)
}

#[test]
fn a_rung_whose_sample_table_claims_gigabytes_is_refused_and_nothing_dangles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let title = common::streamed_title(dir.path());
    assert!(hls_references_exist(&title).expect("packaged") > 10);
    // Corrupt the 360p rung: its sample size table now claims 2^32-1 samples (16 GiB of sizes).
    let rung = title.join("ladder_source_360p.mp4");
    let mut bytes = std::fs::read(&rung).expect("rung");
    let at = bytes
        .windows(4)
        .position(|w| w == b"stsz")
        .expect("a stsz box");
    bytes[at + 12..at + 16].copy_from_slice(&u32::MAX.to_be_bytes()); // sample_count
    std::fs::write(&rung, &bytes).expect("write");
    let (code, _, stderr) = common::vodkit(&["package", s(&title)], dir.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("ladder_source_360p.mp4") && stderr.contains("is damaged"),
        "{stderr}"
    );
    // What is left still plays: every playlist entry exists (or no manifest is left at all).
    if title.join("index.m3u8").exists() {
        hls_references_exist(&title).expect("no dangling references");
    }
}

#[test]
fn a_preset_that_turns_hls_off_gets_dash_only_on_disk_and_from_serve() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let dash_only = common::STREAM_LADDER.replace("hls = true", "hls = false");
    encode_with_toml(dir.path(), &common::basic(), &dash_only, &out);
    let title = out.join("basic");
    assert!(title.join("index.mpd").is_file());
    assert!(!title.join("index.m3u8").exists());
    let playlists: Vec<_> = common::files_under(&title)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "m3u8"))
        .collect();
    assert!(playlists.is_empty(), "{playlists:?}");
    let server = common::Server::start(&out);
    assert_eq!(
        common::http::get(server.port, "/basic/index.mpd").status,
        200
    );
    assert_eq!(
        common::http::get(server.port, "/basic/index.m3u8").status,
        404
    );
}
