//! Subtitles end to end: a source with an English mov_text track and French and German sidecar
//! files (SubRip, WebVTT) becomes a title whose every output carries all three: WebVTT files
//! whose cue times FFmpeg reads back equal to the source's within a frame, mov_text tracks in
//! every MP4 rung, HLS subtitle
//! renditions with their languages, DASH text sets, and hls.js, dash.js and Shaka Player in
//! Chromium list the languages and load the cues. A Matroska source whose timestamps start at
//! 5 s keeps its cues on the pictures they belong to. A sidecar that does not read is refused
//! before anything is encoded, naming the file and line.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// One frame at 29.97 fps, the test sources' rate.
const FRAME_SECS: f64 = 1001.0 / 30000.0;

const ENGLISH: &str = "1\n00:00:01,000 --> 00:00:02,500\nHello from the source\n\n\
                       2\n00:00:05,000 --> 00:00:06,000\n<i>Second</i> line\n";
const FRENCH: &str = "1\r\n00:00:01,500 --> 00:00:03,000\r\nBonjour\r\n\r\n\
                      2\r\n00:00:07,000 --> 00:00:08,250\r\nÀ bientôt\r\n";
const GERMAN: &str = "WEBVTT\n\n00:02.000 --> 00:04.000 align:start\nHallo\n";

const PRESET: &str = r#"
name = "subtitle-test"
[video]
speed = "veryfast"
[stills]
count = 1
[packaging]
hls = true
dash = true
[subtitles]
default_language = "en"
[[rung]]
width = 320
height = 180
profile = "main"
max_bitrate_bps = 300000
[[rung]]
width = 480
height = 270
max_bitrate_bps = 600000
"#;

fn ffmpeg(args: &[&str]) {
    common::ffmpeg_run(args);
}

/// (start, end) of the packets of the subtitle stream `select` picks in `path`, as FFmpeg
/// reads them (`-strict experimental` lets its HLS reader open subtitle renditions); packets
/// of 2 bytes or less are mov_text's empty samples (the gaps between cues), not cues.
fn subtitle_packets(path: &Path, select: &str) -> Vec<(f64, f64)> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-strict",
            "experimental",
            "-select_streams",
            select,
        ])
        .args([
            "-show_entries",
            "packet=pts_time,duration_time,size",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut parts = l.split(',');
            let start: f64 = parts.next()?.parse().ok()?;
            let duration: f64 = parts.next()?.parse().ok()?;
            let size: u64 = parts.next()?.parse().ok()?;
            (size > 2).then_some((start, start + duration))
        })
        .collect()
}

/// The cues of a file's first subtitle stream.
fn cue_times(path: &Path) -> Vec<(f64, f64)> {
    subtitle_packets(path, "s:0")
}

/// The cues of the HLS subtitle rendition in `lang`.
fn hls_cue_times(master: &Path, lang: &str) -> Vec<(f64, f64)> {
    subtitle_packets(master, &format!("s:m:language:{lang}"))
}

fn assert_same_times(got: &[(f64, f64)], want: &[(f64, f64)], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g.0 - w.0).abs() <= FRAME_SECS && (g.1 - w.1).abs() <= FRAME_SECS,
            "{what}: {got:?} vs {want:?}"
        );
    }
}

/// A test source: testsrc2 of `size` for `secs` at 29.97 fps with a tone, H.264 + AAC, and
/// (with `subtitles`) an English subtitle stream from an SRT in `codec`; `extra` before the
/// output name (`-output_ts_offset 5`).
fn make_clip(out: &Path, size: &str, secs: u32, subtitles: Option<(&Path, &str)>, extra: &[&str]) {
    let video = format!("testsrc2=s={size}:r=30000/1001:d={secs}");
    let tone = format!("sine=f=440:sample_rate=48000:d={secs}");
    let mut args: Vec<&str> = vec!["-f", "lavfi", "-i", &video, "-f", "lavfi", "-i", &tone];
    if let Some((srt, _)) = subtitles {
        args.extend(["-i", srt.to_str().expect("utf-8")]);
        args.extend(["-map", "0", "-map", "1", "-map", "2"]);
    }
    args.extend(["-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac"]);
    if let Some((_, codec)) = subtitles {
        args.extend(["-c:s", codec, "-metadata:s:s:0", "language=eng"]);
    }
    args.extend(extra);
    args.push(out.to_str().expect("utf-8"));
    ffmpeg(&args);
}

/// `movie.mp4` (12 s, 480x270 at 29.97 fps, English mov_text) with French and German sidecars.
fn source(dir: &Path) -> PathBuf {
    let srt = dir.join("english.srt");
    std::fs::write(&srt, ENGLISH).expect("srt");
    let movie = dir.join("movie.mp4");
    make_clip(&movie, "480x270", 12, Some((&srt, "mov_text")), &[]);
    std::fs::write(dir.join("movie.fr.srt"), FRENCH).expect("fr");
    std::fs::write(dir.join("movie.de.sdh.vtt"), GERMAN).expect("de");
    movie
}

fn encode(source: &Path, out: &Path, config: &Path) -> (i32, String, String) {
    let preset = config.join("subtitle-test.toml");
    std::fs::write(&preset, PRESET).expect("preset");
    common::vodkit(
        &[
            "encode",
            source.to_str().expect("utf-8"),
            "--preset",
            preset.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ],
        config,
    )
}

#[test]
fn source_and_sidecar_subtitles_reach_every_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let movie = source(dir.path());
    let out = dir.path().join("out");
    let (code, _, stderr) = encode(&movie, &out, dir.path());
    assert_eq!(code, 0, "{stderr}");
    let title = out.join("movie");

    // The WebVTT files: FFmpeg reads each, with the source's times.
    let english = cue_times(&title.join("subtitles/en.vtt"));
    assert_same_times(
        &english,
        &cue_times(&movie),
        "English against the source's stream",
    );
    assert_same_times(&english, &[(1.0, 2.5), (5.0, 6.0)], "English");
    assert_same_times(
        &cue_times(&title.join("subtitles/fr.vtt")),
        &[(1.5, 3.0), (7.0, 8.25)],
        "French",
    );
    assert_same_times(
        &cue_times(&title.join("subtitles/de.vtt")),
        &[(2.0, 4.0)],
        "German",
    );
    let french = std::fs::read_to_string(title.join("subtitles/fr.vtt")).expect("fr.vtt");
    assert!(french.contains("À bientôt"), "{french}");
    let english_text = std::fs::read_to_string(title.join("subtitles/en.vtt")).expect("en.vtt");
    assert!(
        english_text.contains("<i>Second</i> line"),
        "{english_text}"
    );

    // Every MP4 rung carries the three tracks as mov_text, with languages, names and the
    // default marked, and FFmpeg reads the English cues at their times.
    for rung in ["movie_180p.mp4", "movie_270p.mp4"] {
        let probed = common::ffprobe(&title.join(rung));
        let subs: Vec<&serde_json::Value> = probed["streams"]
            .as_array()
            .expect("streams")
            .iter()
            .filter(|s| s["codec_type"] == "subtitle")
            .collect();
        let tags: Vec<(&str, &str, i64)> = subs
            .iter()
            .map(|s| {
                (
                    s["codec_name"].as_str().unwrap_or(""),
                    s["tags"]["language"].as_str().unwrap_or(""),
                    s["disposition"]["default"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        assert_eq!(
            tags,
            [
                ("mov_text", "eng", 1),
                ("mov_text", "deu", 0),
                ("mov_text", "fra", 0)
            ],
            "{rung}"
        );
        assert_eq!(subs[2]["tags"]["handler_name"], "French", "{rung}");
        assert_eq!(subs[1]["tags"]["handler_name"], "German (SDH)", "{rung}");
        assert_same_times(
            &cue_times(&title.join(rung)),
            &[(1.0, 2.5), (5.0, 6.0)],
            rung,
        );
    }

    // HLS: a subtitle rendition per language, the English one the default, every variant
    // pointing at the group; each media playlist's segments cover the title.
    let master = std::fs::read_to_string(title.join("index.m3u8")).expect("master");
    for (lang, name) in [("en", "English"), ("fr", "French"), ("de", "German (SDH)")] {
        let line = master
            .lines()
            .find(|l| l.contains("TYPE=SUBTITLES") && l.contains(&format!("LANGUAGE=\"{lang}\"")))
            .unwrap_or_else(|| panic!("no {lang} subtitles in\n{master}"));
        assert!(line.contains(&format!("NAME=\"{name}\"")), "{line}");
        assert_eq!(line.contains("DEFAULT=YES"), lang == "en", "{line}");
        // For the deaf and hard of hearing: said so, as Apple's players look for it.
        assert_eq!(
            line.contains("CHARACTERISTICS=\"public.accessibility.transcribes-spoken-dialog"),
            lang == "de",
            "{line}"
        );
        let playlist = std::fs::read_to_string(title.join(format!("stream/sub_{lang}.m3u8")))
            .expect("subtitle playlist");
        let total: f64 = playlist
            .lines()
            .filter_map(|l| l.strip_prefix("#EXTINF:"))
            .filter_map(|l| {
                l.trim_end_matches(',')
                    .split(',')
                    .next()?
                    .parse::<f64>()
                    .ok()
            })
            .sum();
        assert!((total - 12.0).abs() < 0.5, "{lang}: {total} s\n{playlist}");
        let first = std::fs::read_to_string(title.join(format!("stream/sub_{lang}/1.vtt")))
            .expect("first segment");
        assert!(
            first.starts_with("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n"),
            "{first}"
        );
    }
    assert!(
        master
            .lines()
            .filter(|l| l.starts_with("#EXT-X-STREAM-INF"))
            .all(|l| l.contains("SUBTITLES=\"subs\"")),
        "{master}"
    );
    // FFmpeg's own HLS reader (subtitles are "experimental" there) reads each rendition's
    // segments with their X-TIMESTAMP-MAP and gets the same times.
    for (lang, want) in [
        ("en", vec![(1.0, 2.5), (5.0, 6.0)]),
        ("fr", vec![(1.5, 3.0), (7.0, 8.25)]),
        ("de", vec![(2.0, 4.0)]),
    ] {
        let mut got = hls_cue_times(&title.join("index.m3u8"), lang);
        // A cue crossing a segment boundary is in both segments: once is enough.
        got.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-3 && (a.1 - b.1).abs() < 1e-3);
        assert_same_times(&got, &want, &format!("{lang} through HLS"));
    }

    // DASH: a text set per language, with its role, as WebVTT-in-MP4 segments on the video's
    // boundaries (one per video segment).
    let mpd = std::fs::read_to_string(title.join("index.mpd")).expect("mpd");
    let m4s = |dir: &Path| {
        std::fs::read_dir(dir)
            .expect("segments")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".m4s"))
            })
            .count()
    };
    let video_segments = m4s(&title.join("stream/270p"));
    for lang in ["en", "fr", "de"] {
        assert!(
            mpd.contains(&format!(
                "contentType=\"text\" mimeType=\"application/mp4\" codecs=\"wvtt\" segmentAlignment=\"true\" lang=\"{lang}\""
            )),
            "{mpd}"
        );
        assert!(title.join(format!("stream/sub_{lang}/init.mp4")).exists());
        assert_eq!(
            m4s(&title.join(format!("stream/sub_{lang}"))),
            video_segments,
            "{lang}"
        );
    }

    // The manifest keeps the plan's tracks.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(title.join("manifest.json")).expect("manifest"))
            .expect("json");
    let ids: Vec<&str> = manifest["plan"]["subtitles"]
        .as_array()
        .expect("subtitles")
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert_eq!(ids, ["en", "de", "fr"]);
    // Privacy: the manifest names sidecars by file name, never the folders they were in.
    let text = std::fs::read_to_string(title.join("manifest.json")).expect("manifest");
    assert!(!text.contains(&dir.path().display().to_string()), "{text}");
    assert!(text.contains("\"movie.fr.srt\""), "{text}");

    // Real players see the languages and load the cues of the track they turn on.
    for (player, manifest) in [
        ("hls.js", "/static/movie/index.m3u8"),
        ("dash.js", "/static/movie/index.mpd"),
        ("shaka", "/static/movie/index.mpd"),
    ] {
        let r = common::players::play(player, manifest, 8, Some(&out), &["--text"]);
        let after = &r["after"];
        assert_eq!(after["errors"], serde_json::json!([]), "{player}: {r}");
        let mut texts: Vec<String> = after["texts"]
            .as_array()
            .expect("texts")
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        texts.sort();
        assert_eq!(texts, ["de", "en", "fr"], "{player}: {r}");
        // The cues of the track turned on, at their times (a cue crossing a segment boundary
        // arrives as two pieces with the same text, shown as one): all of one language's.
        let mut shown: Vec<(f64, f64, String)> = Vec::new();
        for c in after["cues"].as_array().expect("cues") {
            let (s, e) = (
                c["start"].as_f64().unwrap_or(-1.0),
                c["end"].as_f64().unwrap_or(-1.0),
            );
            let text = c["text"].as_str().unwrap_or("").to_owned();
            match shown.last_mut() {
                Some(last) if last.2 == text && (last.1 - s).abs() < 0.01 => last.1 = e,
                _ => shown.push((s, e, text)),
            }
        }
        let times: Vec<(f64, f64)> = shown.iter().map(|c| (c.0, c.1)).collect();
        let matches = |want: &[(f64, f64)]| {
            times.len() == want.len()
                && times
                    .iter()
                    .zip(want)
                    .all(|(g, w)| (g.0 - w.0).abs() < 0.05 && (g.1 - w.1).abs() < 0.05)
        };
        assert!(
            matches(&[(1.0, 2.5), (5.0, 6.0)])
                || matches(&[(1.5, 3.0), (7.0, 8.25)])
                || matches(&[(2.0, 4.0)]),
            "{player}: one track's cues, all at their times: {shown:?}\n{r}"
        );
    }
}

#[test]
fn cues_of_a_source_starting_at_5_s_stay_on_their_pictures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srt = dir.path().join("cues.srt");
    std::fs::write(&srt, ENGLISH).expect("srt");
    // Every stream of the file starts at 5 s, as camera files start wherever their clock was.
    let movie = dir.path().join("camera.mkv");
    make_clip(
        &movie,
        "320x180",
        8,
        Some((&srt, "srt")),
        &["-output_ts_offset", "5"],
    );
    // A sidecar counts from where playback starts (5 s on the file's clock).
    std::fs::write(
        dir.path().join("camera.fr.srt"),
        "1\n00:00:03,000 --> 00:00:04,000\nTrois\n",
    )
    .expect("fr");
    let source_times = cue_times(&movie);
    assert!(
        source_times.first().is_some_and(|t| t.0 > 5.5),
        "the source's cues carry its clock: {source_times:?}"
    );
    let out = dir.path().join("out");
    let (code, _, stderr) = encode(&movie, &out, dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert_same_times(
        &cue_times(&out.join("camera/subtitles/en.vtt")),
        &[(1.0, 2.5), (5.0, 6.0)],
        "placed on the outputs' timeline",
    );
    assert_same_times(
        &cue_times(&out.join("camera/subtitles/fr.vtt")),
        &[(3.0, 4.0)],
        "the sidecar from playback's start",
    );
    // Trimmed from 2 s: every cue moves with the pictures, one straddling the start is cut.
    let preset = dir.path().join("subtitle-test.toml");
    let trimmed = dir.path().join("trimmed");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            movie.to_str().expect("utf-8"),
            "--preset",
            preset.to_str().expect("utf-8"),
            "--out",
            trimmed.to_str().expect("utf-8"),
            "--start",
            "2",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let title = std::fs::read_dir(&trimmed)
        .expect("out")
        .filter_map(Result::ok)
        .find(|e| e.path().join("subtitles").exists())
        .expect("the trimmed title")
        .path();
    assert_same_times(
        &cue_times(&title.join("subtitles/en.vtt")),
        &[(0.0, 0.5), (3.0, 4.0)],
        "English, trimmed",
    );
    assert_same_times(
        &cue_times(&title.join("subtitles/fr.vtt")),
        &[(1.0, 2.0)],
        "French sidecar, trimmed",
    );
}

#[test]
fn a_sidecar_that_does_not_read_is_refused_before_encoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let movie = dir.path().join("clip.mp4");
    std::fs::copy(common::basic(), &movie).expect("copy");
    std::fs::write(
        dir.path().join("clip.en.srt"),
        "1\n00:00:01,000 --> 00:00:02,000\nFine\n\n2\n00:00:03 -> 00:00:04\nBroken\n",
    )
    .expect("srt");
    let out = dir.path().join("out");
    let (code, _, stderr) = encode(&movie, &out, dir.path());
    assert_ne!(code, 0);
    assert!(
        stderr.contains("clip.en.srt line 6: expected a time line"),
        "{stderr}"
    );
    assert!(
        !out.join("clip").join("manifest.json").exists(),
        "nothing presented as made"
    );
}

/// The bottom third of the picture at `secs`, as 8-bit grey values (FFmpeg decodes).
fn bottom_third(path: &Path, secs: f64) -> Vec<u8> {
    let at = format!("{secs}");
    common::ffmpeg_run(&[
        "-ss",
        &at,
        "-i",
        path.to_str().expect("utf-8"),
        "-frames:v",
        "1",
        "-vf",
        "crop=iw:ih/3:0:ih*2/3,format=gray",
        "-f",
        "rawvideo",
        "-",
    ])
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(x.abs_diff(*y)))
        .sum::<f64>()
        / a.len().max(1) as f64
}

#[test]
fn burned_subtitles_are_in_the_pictures_while_their_cue_lasts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let movie = dir.path().join("share.mp4");
    make_clip(&movie, "480x270", 6, None, &[]);
    std::fs::write(
        dir.path().join("share.en.srt"),
        "1\n00:00:01,000 --> 00:00:03,000\nBURNED INTO THE PICTURE\n",
    )
    .expect("srt");
    let preset = |burn: bool| {
        format!(
            "name = \"share-test\"\n[video]\nspeed = \"veryfast\"\n[stills]\ncount = 0\n[subtitles]\nburn = {}\n[[rung]]\nwidth = 480\nheight = 270\nmax_bitrate_bps = 2000000\n",
            if burn { "\"en\"" } else { "\"fr\"" }
        )
    };
    let mut made = Vec::new();
    for burn in [true, false] {
        let p = dir.path().join(format!("p{burn}.toml"));
        std::fs::write(&p, preset(burn)).expect("preset");
        let out = dir.path().join(format!("out-{burn}"));
        let (code, _, stderr) = common::vodkit(
            &[
                "encode",
                movie.to_str().expect("utf-8"),
                "--preset",
                p.to_str().expect("utf-8"),
                "--out",
                out.to_str().expect("utf-8"),
            ],
            dir.path(),
        );
        assert_eq!(code, 0, "{stderr}");
        made.push(out.join("share"));
    }
    let (burned, plain) = (
        made[0].join("share_270p.mp4"),
        made[1].join("share_270p.mp4"),
    );
    // While the cue lasts the bottom of the picture differs by the text; before and after,
    // only by encoding noise.
    let during = mean_abs_diff(&bottom_third(&burned, 2.0), &bottom_third(&plain, 2.0));
    let after = mean_abs_diff(&bottom_third(&burned, 4.5), &bottom_third(&plain, 4.5));
    let before = mean_abs_diff(&bottom_third(&burned, 0.5), &bottom_third(&plain, 0.5));
    println!(
        "bottom third, mean |burned - plain|: before {before:.2}, during {during:.2}, after {after:.2}"
    );
    assert!(
        during > 3.0 * after.max(before).max(0.5),
        "during {during}, before {before}, after {after}"
    );
    // The burned track is not also a text track; the other file keeps it as text.
    let tracks = |f: &Path| {
        common::ffprobe(f)["streams"]
            .as_array()
            .expect("streams")
            .iter()
            .filter(|s| s["codec_type"] == "subtitle")
            .count()
    };
    assert_eq!(tracks(&burned), 0);
    assert!(!made[0].join("subtitles/en.vtt").exists());
    assert_eq!(tracks(&plain), 1);
    assert!(made[1].join("subtitles/en.vtt").exists());
}
