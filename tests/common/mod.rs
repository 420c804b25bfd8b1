//! Test media made by the tests themselves with the ffmpeg CLI (an independent tool), once per
//! build: each clip is written under `target/tmp/clips` by name and reused while it exists.
//! Writing goes to a temporary name and a rename, so parallel test processes never see a
//! half-written clip.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Every clip the tests use: name -> ffmpeg arguments (output file appended).
const QUIET: [&str; 4] = ["-hide_banner", "-loglevel", "error", "-y"];

pub fn clips_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("clips");
    std::fs::create_dir_all(&dir).expect("create clips dir");
    dir
}

pub fn ffmpeg(args: &[&str], out: &Path) {
    let status = Command::new("ffmpeg")
        .args(QUIET)
        .args(args)
        .arg(out)
        .status()
        .expect("the ffmpeg CLI is needed by the tests: run packaging/install-deps.sh --test");
    assert!(status.success(), "ffmpeg failed making {}", out.display());
}

fn unique_suffix() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Makes (or reuses) a clip by name from ffmpeg arguments (the output file is appended).
pub fn clip_from(name: &str, args: &[&str]) -> PathBuf {
    make(name, |out| ffmpeg(args, out))
}

/// Makes (or reuses) a clip by name.
fn make(name: &str, build: impl FnOnce(&Path)) -> PathBuf {
    let path = clips_dir().join(name);
    if path.exists() {
        return path;
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = clips_dir().join(format!("{name}.{}.part.{ext}", unique_suffix()));
    build(&tmp);
    std::fs::rename(&tmp, &path).expect("rename clip");
    path
}

const TONE: &str = "sine=f=440:sample_rate=48000";

/// 320x240 H.264 High + AAC stereo, 29.97 fps, 4 s: the everyday clip.
#[rustfmt::skip]
pub fn basic() -> PathBuf {
    make("basic.mp4", |out| {
        ffmpeg(
            &[
                "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30000/1001:d=4",
                "-f", "lavfi", "-i", &format!("{TONE}:d=4"),
                "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-ac", "2", "-b:a", "96k",
                "-metadata:s:a", "language=eng",
            ],
            out,
        );
    })
}

/// A phone clip recorded sideways: 320x180 stored, a display matrix turning it to portrait,
/// with the creation time and GPS location a phone writes.
#[rustfmt::skip]
pub fn rotated() -> PathBuf {
    make("rotated.mov", |out| {
        let plain = clips_dir().join(format!("rotated-src.{}.mov", unique_suffix()));
        ffmpeg(
            &[
                "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=3",
                "-f", "lavfi", "-i", &format!("{TONE}:d=3"),
                "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", "-ac", "1",
            ],
            &plain,
        );
        ffmpeg(
            &[
                "-i", plain.to_str().expect("utf-8"), "-c", "copy",
                "-metadata:s:v", "rotate=90",
                "-metadata", "creation_time=2024-05-01T10:00:00Z",
                "-metadata", "location=+48.8584+002.2945/",
            ],
            out,
        );
        let _ = std::fs::remove_file(plain);
    })
}

/// Stored portrait: 180x320.
#[rustfmt::skip]
pub fn portrait() -> PathBuf {
    make("portrait.mp4", |out| {
        ffmpeg(
            &[
                "-f", "lavfi", "-i", "testsrc2=s=180x320:r=30:d=2",
                "-f", "lavfi", "-i", &format!("{TONE}:d=2"),
                "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac",
            ],
            out,
        );
    })
}

/// Interlaced, top field first, 25 fps.
#[rustfmt::skip]
pub fn interlaced() -> PathBuf {
    make("interlaced.mp4", |out| {
        ffmpeg(
            &[
                "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2",
                "-f", "lavfi", "-i", &format!("{TONE}:d=2"),
                "-vf", "setfield=tff", "-c:v", "libx264", "-preset", "veryfast",
                "-flags", "+ildct+ilme", "-x264opts", "tff=1", "-c:a", "aac",
            ],
            out,
        );
    })
}

/// 10-bit HEVC with HDR10 (PQ, BT.2020) signalling, hvc1-tagged.
#[rustfmt::skip]
pub fn hdr_hevc() -> PathBuf {
    make("hdr10.mp4", |out| {
        ffmpeg(
            &[
                "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=2",
                "-f", "lavfi", "-i", &format!("{TONE}:d=2"),
                "-pix_fmt", "yuv420p10le", "-c:v", "libx265", "-preset", "ultrafast",
                "-x265-params", "log-level=error",
                "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc",
                "-tag:v", "hvc1", "-c:a", "aac",
            ],
            out,
        );
    })
}

/// The PQ mastering display the HDR10 clips state (P3-D65, 1000 nits) and their light levels.
pub const HDR10_MASTER_DISPLAY: &str =
    "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)";

/// A phone's HDR clip, 10-bit H.265 with a flat light-grey patch (top left, 160x90) on a
/// moving picture, 640x360 at 25 fps, 4 s: `pq` is HDR10 (SMPTE ST 2084, mastering display
/// and MaxCLL 1000 / MaxFALL 400 in SEI) in MP4, else HLG (ARIB STD-B67, no static metadata)
/// as a camera's MPEG-TS whose clock starts at 1.4 s.
#[rustfmt::skip]
pub fn hdr_clip(pq: bool) -> PathBuf {
    let (name, transfer) = if pq { ("pq-hdr10.mp4", "smpte2084") } else { ("hlg.ts", "arib-std-b67") };
    let container: &[&str] = if pq {
        &["-tag:v", "hvc1", "-f", "mp4"]
    } else {
        &["-output_ts_offset", "1.4", "-f", "mpegts"]
    };
    let mut params = format!("log-level=error:colorprim=bt2020:transfer={transfer}:colormatrix=bt2020nc");
    if pq {
        params.push_str(&format!(":hdr10=1:master-display={HDR10_MASTER_DISPLAY}:max-cll=1000,400"));
    }
    make(name, |out| {
        ffmpeg(
            &[
                "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=4",
                "-f", "lavfi", "-i", &format!("{TONE}:d=4"),
                "-vf", "drawbox=x=0:y=0:w=160:h=90:color=0xB4B4B4:t=fill,format=yuv420p10le",
                "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", &params,
                "-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc",
                "-c:a", "aac",
            ]
            .iter()
            .chain(container)
            .copied()
            .collect::<Vec<&str>>(),
            out,
        );
    })
}

/// Video only.
#[rustfmt::skip]
pub fn no_audio() -> PathBuf {
    make("no_audio.mp4", |out| {
        ffmpeg(
            &[
                "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2",
                "-c:v", "libx264", "-preset", "veryfast",
            ],
            out,
        );
    })
}

/// 5.1 audio.
#[rustfmt::skip]
pub fn surround() -> PathBuf {
    make("surround.mp4", |out| {
        ffmpeg(
            &[
                "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=2",
                "-f", "lavfi", "-i",
                "aevalsrc=sin(440*2*PI*t)|sin(550*2*PI*t)|sin(660*2*PI*t)|0.1*sin(50*2*PI*t)|sin(770*2*PI*t)|sin(880*2*PI*t):c=5.1:s=48000:d=2",
                "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac",
            ],
            out,
        );
    })
}

/// Anamorphic: 240x180 stored with 4:3 pixels, shown as 320x180.
#[rustfmt::skip]
pub fn anamorphic() -> PathBuf {
    make("anamorphic.mp4", |out| {
        ffmpeg(
            &[
                "-f", "lavfi", "-i", "testsrc2=s=240x180:r=25:d=2",
                "-f", "lavfi", "-i", &format!("{TONE}:d=2"),
                "-vf", "setsar=4/3", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac",
            ],
            out,
        );
    })
}

/// Variable frame rate: 30 fps for a second, then every third frame.
#[rustfmt::skip]
pub fn vfr() -> PathBuf {
    make("vfr.mp4", |out| {
        ffmpeg(
            &[
                "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=4",
                "-f", "lavfi", "-i", &format!("{TONE}:d=4"),
                "-vf", "select='lt(n\\,30)+not(mod(n\\,3))'", "-fps_mode", "vfr",
                "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac",
            ],
            out,
        );
    })
}

/// An empty file.
pub fn zero_bytes() -> PathBuf {
    make("zero.mp4", |out| std::fs::write(out, b"").expect("write"))
}

/// Plain text with a video extension.
pub fn text_file() -> PathBuf {
    make("notes.mp4", |out| {
        std::fs::write(out, "These are meeting notes, not a video.\n".repeat(50)).expect("write");
    })
}

/// The first 40 % of an MP4 whose index is at the end: the index is gone.
pub fn truncated() -> PathBuf {
    make("truncated.mp4", |out| {
        let bytes = std::fs::read(basic()).expect("read basic");
        std::fs::write(out, &bytes[..bytes.len() * 2 / 5]).expect("write");
    })
}

/// The first 60 % of an MP4 with its index first: the header promises data that is gone.
#[rustfmt::skip]
pub fn truncated_faststart() -> PathBuf {
    make("truncated_faststart.mp4", |out| {
        let full = clips_dir().join(format!("faststart.{}.mp4", unique_suffix()));
        ffmpeg(
            &["-i", basic().to_str().expect("utf-8"), "-c", "copy", "-movflags", "+faststart"],
            &full,
        );
        let bytes = std::fs::read(&full).expect("read");
        std::fs::write(out, &bytes[..bytes.len() * 3 / 5]).expect("write");
        let _ = std::fs::remove_file(full);
    })
}

/// ffprobe's JSON view of a file (streams and format), the independent judge.
pub fn ffprobe(path: &Path) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe failed on {}", path.display());
    serde_json::from_slice(&out.stdout).expect("ffprobe json")
}

/// Runs the ffmpeg CLI with `args` (inputs, options and the output, or `-` for stdout);
/// returns what it wrote to stdout. Fails the test with FFmpeg's message.
pub fn ffmpeg_run(args: &[&str]) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// An MP4 of `source` scaled to `width` x `height` (H.264 + AAC), as a cloud job's rung would
/// be: the stand-in's outputs are real files.
pub fn scaled_copy(source: &Path, width: u32, height: u32, out: &Path) {
    ffmpeg(
        &[
            "-i",
            source.to_str().expect("utf-8"),
            "-vf",
            &format!("scale={width}:{height}"),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
        ],
        out,
    );
}

/// Runs the vodkit binary; returns (exit code, stdout, stderr).
pub fn vodkit(args: &[&str], config_dir: &Path) -> (i32, String, String) {
    vodkit_env(args, config_dir, &[])
}

pub mod aws;
pub mod http;
pub mod judge;
pub mod players;
pub mod vmaf_tool;

/// A `vodkit serve` running on a free port, stopped when dropped.
pub struct Server {
    child: std::process::Child,
    pub port: u16,
}

impl Server {
    pub fn start(root: &Path) -> Self {
        Self::start_with(root, &[])
    }

    /// With extra `vodkit serve` arguments.
    pub fn start_with(root: &Path, extra: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_vodkit"))
            .args(["serve", "--port", "0"])
            .args(extra)
            .arg(root)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("vodkit serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server prints its address");
        let port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Self { child, port }
    }
}

impl Server {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// 640x360 H.264 + AAC at 29.97 fps, 12 s: long enough to play past two segments, switch, and keep playing on a busy machine.
#[rustfmt::skip]
pub fn ladder_source() -> PathBuf {
    make("ladder_source.mp4", |out| {
        ffmpeg(
            &[
                "-f", "lavfi", "-i", "testsrc2=s=640x360:r=30000/1001:d=12",
                "-f", "lavfi", "-i", &format!("{TONE}:d=12"),
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-c:a", "aac", "-b:a", "128k",
            ],
            out,
        );
    })
}

/// A packaging ladder for [`ladder_source`]: 180p at 15 fps (Main), 360p (High), 270p H.265.
pub const STREAM_LADDER: &str = r#"
name = "stream-test"
[video]
speed = "veryfast"
[stills]
count = 1
[packaging]
hls = true
dash = true
[[rung]]
width = 320
height = 180
profile = "main"
max_bitrate_bps = 300000
frame_rate = 15.0
[[rung]]
width = 640
height = 360
max_bitrate_bps = 900000
[[rung]]
width = 480
height = 270
codec = "h265"
max_bitrate_bps = 500000
"#;

/// Encodes and packages [`ladder_source`] with [`STREAM_LADDER`] into `out/ladder_source`.
pub fn streamed_title(out: &Path) -> PathBuf {
    let preset = std::env::temp_dir().join(format!("stream-ladder-{}.toml", unique_suffix()));
    std::fs::write(&preset, STREAM_LADDER).expect("preset");
    let (code, _, stderr) = vodkit(
        &[
            "encode",
            ladder_source().to_str().expect("utf-8"),
            "--preset",
            preset.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ],
        out,
    );
    let _ = std::fs::remove_file(preset);
    assert_eq!(code, 0, "{stderr}");
    out.join("ladder_source")
}

/// Every file below `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// 3840x2160 at 29.97 fps, 1 s, rich enough (CRF 12) that no web-ladder rung is capped.
#[rustfmt::skip]
pub fn uhd() -> PathBuf {
    make("uhd.mp4", |out| {
        ffmpeg(
            &[
                "-f", "lavfi", "-i", "testsrc2=s=3840x2160:r=30000/1001:d=1",
                "-f", "lavfi", "-i", &format!("{TONE}:d=1"),
                "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-c:a", "aac",
            ],
            out,
        );
    })
}

/// The Python with botocore made by `make test-deps` (target/pyenv).
pub fn pyenv_python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python");
    assert!(
        python.exists(),
        "target/pyenv is missing: run `make test-deps` (a venv with botocore for the MediaConvert model)"
    );
    python
}

/// `vodkit cloud job-json` of a file with a preset (a name or a .toml path), as JSON and as
/// the text it printed.
pub fn cloud_job_json(file: &Path, preset: &Path, config: &Path) -> (serde_json::Value, String) {
    let (code, stdout, stderr) = vodkit(
        &[
            "cloud",
            "job-json",
            file.to_str().expect("utf-8"),
            "--preset",
            preset.to_str().expect("utf-8"),
            "--bucket",
            "my-vod",
            "--role",
            "arn:aws:iam::123456789012:role/MediaConvert",
        ],
        config,
    );
    assert_eq!(code, 0, "{stderr}");
    (serde_json::from_str(&stdout).expect("JSON"), stdout)
}

/// Checks a CreateJob request against the MediaConvert model in botocore (0 violations).
pub fn assert_valid_mediaconvert(request: &str, dir: &Path) {
    let file = dir.join(format!("job-{}.json", unique_suffix()));
    std::fs::write(&file, request).expect("write the request");
    let report = Command::new(pyenv_python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cloud/validate_mediaconvert.py"))
        .arg(&file)
        .output()
        .expect("python runs");
    assert!(
        report.status.success(),
        "violations of the MediaConvert model:\n{}",
        String::from_utf8_lossy(&report.stdout)
    );
}

/// A small ladder for the 320x240 clips, whose video runs at about 300 kb/s (every rung stays
/// below it, so none is capped away): 160x120 at 15 fps (Main 3.1), 320x240 (High, level
/// auto) and 240x180 in H.265. No packaging; tests that package turn it on.
pub const SMALL_LADDER: &str = r#"
name = "test-ladder"
[video]
speed = "veryfast"
[stills]
count = 2
width = 160
[[rung]]
width = 160
height = 120
profile = "main"
level = "3.1"
max_bitrate_bps = 80000
frame_rate = 15.0
[[rung]]
width = 320
height = 240
profile = "high"
level = "auto"
max_bitrate_bps = 250000
[[rung]]
width = 240
height = 180
codec = "h265"
max_bitrate_bps = 150000
"#;

/// [`SMALL_LADDER`] as a preset.
pub fn small_ladder() -> vodkit::preset::Preset {
    vodkit::preset::Preset::from_toml(SMALL_LADDER, "test ladder").expect("test preset")
}

/// Probes, plans and encodes a file through the library, handing every event to `on_event`.
pub fn encode_with(
    file: &Path,
    preset: &vodkit::preset::Preset,
    out: &Path,
    cancel: &vodkit::job::CancelToken,
    on_event: impl Fn(&vodkit::job::JobEvent) + Send + Sync + 'static,
) -> Result<vodkit::job::Summary, String> {
    let info = vodkit::probe::probe(file).map_err(|e| e.to_string())?;
    let plan = vodkit::plan::plan(&info, preset).map_err(|e| e.to_string())?;
    let sink: vodkit::job::EventSink = std::sync::Arc::new(move |e| on_event(&e));
    vodkit::local::encode(&info, preset, &plan, out, &sink, cancel).map_err(|e| e.to_string())
}

/// 320x240 of noise, lossless H.264 + AAC, 8 s: about 19 MB that do not compress, so uploads
/// need several 5 MiB parts.
#[rustfmt::skip]
pub fn noisy() -> PathBuf {
    make("noisy.mp4", |out| {
        ffmpeg(
            &[
                "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=8,noise=alls=100:allf=t",
                "-f", "lavfi", "-i", &format!("{TONE}:d=8"),
                "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-c:a", "aac",
            ],
            out,
        );
    })
}

/// `vodkit` with extra environment variables.
pub fn vodkit_env(args: &[&str], config_dir: &Path, env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vodkit"))
        .args(args)
        .env("VODKIT_CONFIG_DIR", config_dir)
        .envs(env.iter().copied())
        .output()
        .expect("vodkit runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// 640x360 at 29.97 fps, 10 s, a keyframe every second: a 640x264 picture (2.42:1) between
/// black bars of 48 rows, a dark second at 4 s, and a fade to black over the last 2 s.
#[rustfmt::skip]
pub fn letterboxed() -> PathBuf {
    clip_from("letterboxed-240.mp4", &[
        "-f", "lavfi", "-i", "testsrc2=s=640x264:r=30000/1001:d=10",
        "-f", "lavfi", "-i", "sine=f=440:sample_rate=48000:d=10",
        "-vf", "eq=brightness=-0.3:contrast=0.4:enable='between(t,4,5)',pad=640:360:0:48:black,fade=t=out:st=8:d=2",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-g", "30", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k",
    ])
}

/// The MP4 files in `dir` (a title folder's rungs), sorted by name.
pub fn mp4s_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("title folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "mp4"))
        .collect();
    v.sort();
    v
}
