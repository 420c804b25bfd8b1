//! Packaging judged by FFmpeg: HLS and DASH from the MP4 rungs decode without error on every
//! rendition (HEVC included), every segment starts with a keyframe, durations add up, the
//! media costs no more than the MP4 rungs, and misaligned rungs are refused by name and time.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use vodkit::job::CancelToken;

/// Encodes (and so packages) the 4 s basic clip with the small test ladder, packaging on;
/// returns the title folder.
fn packaged(out: &Path) -> PathBuf {
    let mut preset = common::small_ladder();
    preset.packaging.hls = true;
    preset.packaging.dash = true;
    preset.stills.count = 1;
    let summary = common::encode_with(&common::basic(), &preset, out, &CancelToken::new(), |_| {})
        .expect("encode");
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    out.join("basic")
}

fn decodes_cleanly(manifest: &Path) -> String {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-v", "error", "-i"])
        .arg(manifest)
        .args(["-map", "0", "-f", "null", "-"])
        .output()
        .expect("ffmpeg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Frames of each video stream (FFmpeg lists a manifest's streams once per program too).
fn video_frames(manifest: &Path) -> Vec<u64> {
    let all = frame_count(manifest);
    let video: Vec<u64> = all
        .iter()
        .filter(|(c, _)| c != "aac")
        .map(|(_, n)| *n)
        .collect();
    video[..video.len() / 2].to_vec()
}

fn frame_count(manifest: &Path) -> Vec<(String, u64)> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-show_entries",
            "stream=codec_name,nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(manifest)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (c, n) = l.split_once(',')?;
            Some((c.to_owned(), n.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn hls_and_dash_decode_on_every_rendition() {
    let dir = tempfile::tempdir().expect("tempdir");
    let title = packaged(dir.path());
    for manifest in ["index.m3u8", "index.mpd"] {
        let errors = decodes_cleanly(&title.join(manifest));
        assert!(errors.trim().is_empty(), "{manifest}: {errors}");
    }
    // 4 s at 29.97 fps on two rungs, half of that on the 15 fps rung: every frame is there.
    let mut hls = video_frames(&title.join("index.m3u8"));
    hls.sort_unstable();
    assert_eq!(hls, vec![60, 120, 120], "HLS");
    // FFmpeg's DASH reader stops before the last frames of a track that its edit list shifts
    // (as many as the encoder's reorder delay: 1 frame for x264 here, 2 for x265's pyramid);
    // its HLS reader and the browsers' players (tests/players.rs) get every frame.
    let mut dash = video_frames(&title.join("index.mpd"));
    dash.sort_unstable();
    assert_eq!(dash.len(), 3, "DASH: {dash:?}");
    for (d, h) in dash.iter().zip(&hls) {
        assert!(d.abs_diff(*h) <= 2, "DASH {dash:?} vs HLS {hls:?}");
    }
    let codecs: Vec<String> = frame_count(&title.join("index.mpd"))
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert!(
        codecs.iter().any(|c| c == "hevc"),
        "the HEVC rung is packaged: {codecs:?}"
    );
}

#[test]
fn every_segment_starts_with_a_keyframe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let title = packaged(dir.path());
    for rung in ["120p", "240p", "180p"] {
        let folder = title.join("stream").join(rung);
        let init = std::fs::read(folder.join("init.mp4")).expect("init");
        let mut n = 1;
        while folder.join(format!("{n}.m4s")).exists() {
            let mut bytes = init.clone();
            bytes.extend(std::fs::read(folder.join(format!("{n}.m4s"))).expect("segment"));
            let joined = dir.path().join("joined.mp4");
            std::fs::write(&joined, bytes).expect("write");
            let out = Command::new("ffprobe")
                .args([
                    "-v",
                    "error",
                    "-select_streams",
                    "v",
                    "-read_intervals",
                    "%+#1",
                    "-show_entries",
                    "frame=key_frame",
                    "-of",
                    "csv=p=0",
                ])
                .arg(&joined)
                .output()
                .expect("ffprobe");
            let first = String::from_utf8_lossy(&out.stdout);
            assert!(
                first.lines().next().is_some_and(|l| l.starts_with('1')),
                "{rung} segment {n} does not start with a keyframe: {first}"
            );
            n += 1;
        }
        assert_eq!(n - 1, 2, "{rung}: a 4 s title makes two 2 s segments");
    }
}

#[test]
fn durations_add_up_and_media_costs_no_more_than_the_rungs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let title = packaged(dir.path());
    let probe = common::ffprobe(&title.join("basic_240p.mp4"));
    let video = probe["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == "video"))
        .expect("video");
    let duration: f64 = video["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("duration");
    let frame = 1001.0 / 30000.0;

    let media = std::fs::read_to_string(title.join("stream/240p.m3u8")).expect("playlist");
    let target: f64 = media
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-TARGETDURATION:"))
        .and_then(|t| t.parse().ok())
        .expect("target");
    let extinf: Vec<f64> = media
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .filter_map(|l| l.trim_end_matches(',').parse().ok())
        .collect();
    let sum: f64 = extinf.iter().sum();
    assert!(
        (sum - duration).abs() <= frame,
        "EXTINF sum {sum} vs {duration}"
    );
    assert!(
        extinf.iter().all(|d| d.round() <= target),
        "{extinf:?} vs target {target}"
    );

    let mpd = std::fs::read_to_string(title.join("index.mpd")).expect("mpd");
    assert!(mpd.contains("type=\"static\"") && mpd.contains("minBufferTime=\"PT30.000S\""));
    assert!(mpd.contains("media=\"stream/240p/$Number$.m4s\""));
    // The 240p timeline: timescale 30000, S elements with d and r.
    let block = mpd
        .split("id=\"240p\"")
        .nth(1)
        .and_then(|b| b.split("</SegmentTimeline>").next())
        .expect("240p block");
    let mut ticks = 0u64;
    for s in block.split("<S ").skip(1) {
        let attr = |name: &str| {
            s.split(&format!("{name}=\""))
                .nth(1)
                .and_then(|v| v.split('"').next())
                .and_then(|v| v.parse::<u64>().ok())
        };
        ticks += attr("d").expect("d") * (attr("r").unwrap_or(0) + 1);
    }
    let timeline = ticks as f64 / 30000.0;
    assert!(
        (timeline - duration).abs() <= frame,
        "timeline {timeline} vs {duration}"
    );

    let master = std::fs::read_to_string(title.join("index.m3u8")).expect("master");
    assert!(
        master.contains("CODECS=\"avc1.64"),
        "High profile codec string: {master}"
    );
    assert!(master.contains("hvc1.1.6.L"), "HEVC codec string: {master}");
    assert!(master.contains("mp4a.40.2"));
    assert!(master.contains("#EXT-X-I-FRAME-STREAM-INF"));
    assert!(
        std::fs::read_to_string(title.join("index.smil"))
            .expect("smil")
            .contains("basic_240p.mp4")
    );

    let mp4: u64 = ["120p", "240p", "180p"]
        .iter()
        .map(|r| {
            std::fs::metadata(title.join(format!("basic_{r}.mp4")))
                .map(|m| m.len())
                .unwrap_or(0)
        })
        .sum();
    let media_bytes = walk_bytes(&title.join("stream"), &|p| {
        p.extension().is_some_and(|e| e == "m4s" || e == "mp4")
    });
    assert!(
        media_bytes as f64 <= 1.05 * mp4 as f64,
        "media {media_bytes} vs mp4 {mp4}"
    );
}

#[test]
fn misaligned_rungs_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let title = dir.path().join("mixed");
    std::fs::create_dir_all(&title).expect("dir");
    let src = common::basic();
    for (name, gop) in [("a", "60"), ("b", "45")] {
        let status = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
            .arg(&src)
            .args([
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-x264-params",
                &format!("keyint={gop}:min-keyint={gop}:scenecut=0"),
                "-c:a",
                "copy",
            ])
            .arg(title.join(format!("mixed_{name}.mp4")))
            .status()
            .expect("ffmpeg");
        assert!(status.success());
    }
    let (code, _, stderr) =
        common::vodkit(&["package", title.to_str().expect("utf-8")], dir.path());
    assert_eq!(code, 1);
    assert!(
        stderr.contains("not aligned") && (stderr.contains("rung b") || stderr.contains("rung a")),
        "{stderr}"
    );
    assert!(
        !title.join("index.m3u8").exists(),
        "nothing is written for a refused title"
    );
}

fn walk_bytes(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> u64 {
    common::files_under(dir)
        .iter()
        .filter(|p| keep(p))
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum()
}

#[test]
fn repackaging_removes_what_an_earlier_run_left() {
    let dir = tempfile::tempdir().expect("tempdir");
    let title = packaged(dir.path());
    let stray = title.join("stream/240p/99.m4s");
    std::fs::write(&stray, b"old").expect("write");
    // The parent folder of titles works too: every title in it is packaged.
    let (code, stdout, stderr) = common::vodkit(
        &["package", dir.path().to_str().expect("utf-8")],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("3 rungs, 2 segments each"), "{stdout}");
    assert!(!stray.exists(), "a segment no manifest lists is removed");
    assert!(title.join("stream/240p/2.m4s").exists());
}
