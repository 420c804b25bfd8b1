//! The ffmpeg CLI as an independent judge of what a viewer sees and hears: when a white flash
//! appears, when a beep starts, which colour a picture shows when decoded per its own tags,
//! where the keyframes are. Works on files and on URLs (HLS, DASH, `vodkit serve`).

use std::process::Command;

/// Runs ffmpeg quietly with `args` and returns (stdout, stderr); panics with stderr on failure.
fn ffmpeg_out(args: &[&str]) -> (String, String) {
    let out = Command::new("ffmpeg")
        // -copyts: the input's own clock, the same for every stream (without it the CLI
        // shifts video and audio differently for MPEG-TS inputs).
        .args(["-hide_banner", "-nostats", "-y", "-copyts"])
        .args(args)
        .output()
        .expect("ffmpeg runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ffmpeg {args:?} failed: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// Time (seconds, ffmpeg's timeline for this input) of the first picture of video stream
/// `video_index` whose average luma is above mid-grey: the flash.
pub fn flash_secs(input: &str, video_index: usize) -> f64 {
    let (stdout, _) = ffmpeg_out(&[
        "-i",
        input,
        "-map",
        &format!("0:v:{video_index}"),
        "-vf",
        "signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-",
        "-f",
        "null",
        "-",
    ]);
    let mut time = None;
    for line in stdout.lines() {
        if let Some(t) = line.split("pts_time:").nth(1) {
            time = t
                .split_whitespace()
                .next()
                .and_then(|t| t.parse::<f64>().ok());
        } else if let Some(y) = line.strip_prefix("lavfi.signalstats.YAVG=")
            && y.trim().parse::<f64>().is_ok_and(|y| y > 128.0)
        {
            return time.expect("a frame time before its statistics");
        }
    }
    panic!("no flash in video stream {video_index} of {input}");
}

/// Time (seconds, ffmpeg's timeline for this input) where the first sound louder than -30 dBFS
/// starts in the first audio stream: the beep.
pub fn beep_secs(input: &str) -> f64 {
    let (_, stderr) = ffmpeg_out(&[
        "-i",
        input,
        "-map",
        "0:a:0",
        "-af",
        "silencedetect=n=-30dB:d=0.05",
        "-f",
        "null",
        "-",
    ]);
    stderr
        .lines()
        .find_map(|l| l.split("silence_end: ").nth(1))
        .and_then(|t| t.split_whitespace().next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no beep in {input}: {stderr}"))
}

/// How long after the flash the beep starts, in seconds (negative when it comes first).
pub fn av_offset_secs(input: &str, video_index: usize) -> f64 {
    beep_secs(input) - flash_secs(input, video_index)
}

/// The RGB of the centre pixel of the first picture, decoded with the matrix and range the
/// stream's own tags claim (the way a player that honours tags shows it). Panics when the
/// stream has no colour tags: an untagged output leaves every player guessing.
pub fn centre_rgb_per_tags(path: &std::path::Path) -> [u8; 3] {
    let probe = super::ffprobe(path);
    let video = probe["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == "video"))
        .expect("a video stream");
    let matrix = match video["color_space"].as_str() {
        Some("bt709") => "bt709",
        Some("smpte170m" | "bt470bg") => "bt601",
        other => panic!("{}: no usable matrix tag ({other:?})", path.display()),
    };
    let range = match video["color_range"].as_str() {
        Some("tv") => "tv",
        Some("pc") => "pc",
        other => panic!("{}: no range tag ({other:?})", path.display()),
    };
    let (w, h) = (
        video["width"].as_u64().expect("width"),
        video["height"].as_u64().expect("height"),
    );
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(path)
        .args([
            "-vf",
            &format!("scale=in_color_matrix={matrix}:in_range={range}:flags=neighbor,format=rgb24"),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success(), "decoding {}", path.display());
    let at = ((h / 2 * w + w / 2) * 3) as usize;
    [out.stdout[at], out.stdout[at + 1], out.stdout[at + 2]]
}

/// The RGB of the centre pixel of an image file (JPEG, PNG), decoded as FFmpeg does.
pub fn centre_rgb_of_image(path: &std::path::Path) -> [u8; 3] {
    let probe = super::ffprobe(path);
    let stream = &probe["streams"][0];
    let (w, h) = (
        stream["width"].as_u64().expect("width"),
        stream["height"].as_u64().expect("height"),
    );
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-vf", "format=rgb24", "-f", "rawvideo", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success(), "decoding {}", path.display());
    let at = ((h / 2 * w + w / 2) * 3) as usize;
    [out.stdout[at], out.stdout[at + 1], out.stdout[at + 2]]
}

/// The largest difference of one channel between two colours, in code values.
pub fn rgb_distance(got: [u8; 3], want: [i32; 3]) -> i32 {
    got.iter()
        .zip(want)
        .map(|(&g, w)| (i32::from(g) - w).abs())
        .max()
        .unwrap_or(0)
}

/// Presentation times (microseconds) of the keyframes of the first video stream.
pub fn keyframe_times_us(path: &std::path::Path) -> Vec<i64> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pts_time,flags",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    let mut times: Vec<i64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains('K'))
        .filter_map(|l| l.split(',').next()?.parse::<f64>().ok())
        .map(|t| (t * 1e6).round() as i64)
        .collect();
    times.sort_unstable();
    times
}
