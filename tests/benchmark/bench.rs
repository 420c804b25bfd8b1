//! `make bench`: Vodkit against the ffmpeg command-line tools doing the same work, in the same
//! run, alternating, on media this bench makes itself. Prints wall time, CPU time and peak
//! memory for both and the ratios vodkit/ffmpeg. Nothing here asserts a speed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

#[path = "../common/vmaf_tool.rs"]
mod vmaf_tool;

/// What one run of a command cost.
#[derive(Debug, Clone, Copy)]
struct Cost {
    wall_secs: f64,
    cpu_secs: f64,
    peak_rss_mib: f64,
}

/// Runs a command to completion and measures it through `wait4`, which reports the child's
/// own CPU time and peak memory.
#[expect(
    clippy::zombie_processes,
    reason = "wait4 reaps the child itself, to read its rusage"
)]
fn measure(cmd: &mut Command) -> Cost {
    let start = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("command starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it for our own child.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let rc = libc::wait4(pid, &mut status, 0, &mut usage);
        assert_eq!(rc, pid, "wait4 failed");
        usage
    };
    let wall_secs = start.elapsed().as_secs_f64();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed"
    );
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Cost {
        wall_secs,
        cpu_secs: tv(usage.ru_utime) + tv(usage.ru_stime),
        peak_rss_mib: usage.ru_maxrss as f64 / 1024.0,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs two commands `rounds` times each, alternating, and prints medians and ratios.
fn compare(
    title: &str,
    rounds: usize,
    ours: impl FnMut() -> Command,
    theirs: impl FnMut() -> Command,
) {
    compare_with(title, "ffmpeg", rounds, ours, theirs);
}

/// [`compare`] against a tool named `them`.
fn compare_with(
    title: &str,
    them: &str,
    rounds: usize,
    mut ours: impl FnMut() -> Command,
    mut theirs: impl FnMut() -> Command,
) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        a.push(measure(&mut ours()));
        b.push(measure(&mut theirs()));
    }
    let pick = |v: &[Cost], f: fn(&Cost) -> f64| median(v.iter().map(f).collect());
    type Row = (&'static str, fn(&Cost) -> f64, &'static str);
    let rows: [Row; 3] = [
        ("wall time", |c| c.wall_secs, "s"),
        ("cpu time", |c| c.cpu_secs, "s"),
        ("peak memory", |c| c.peak_rss_mib, "MiB"),
    ];
    println!("\n{title} (median of {rounds}, alternating)");
    println!(
        "  {:<12} {:>12} {:>12} {:>16}",
        "",
        "vodkit",
        them,
        format!("vodkit/{them}")
    );
    for (name, f, unit) in rows {
        let (x, y) = (pick(&a, f), pick(&b, f));
        println!(
            "  {name:<12} {:>9.3} {unit:<3}{:>9.3} {unit:<3}{:>14.2}x",
            x,
            y,
            x / y
        );
    }
}

fn ffmpeg(args: &[&str], out: &Path) {
    if out.exists() {
        return;
    }
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .arg(out)
        .status()
        .expect("ffmpeg CLI (make test-deps installs it)");
    assert!(status.success());
}

fn media_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-media");
    std::fs::create_dir_all(&dir).expect("bench dir");
    dir
}

fn vodkit() -> Command {
    // Benches build the binary in the same profile; use it directly.
    let exe = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/vodkit");
    Command::new(if exe.exists() {
        exe
    } else {
        PathBuf::from("vodkit")
    })
}

/// Probe: 40 files (a mix of 1080p MP4, MOV and MKV) through `vodkit probe --json` and
/// `ffprobe -show_format -show_streams`, each one process for the whole batch.
fn bench_probe() {
    let dir = media_dir();
    let mut files = Vec::new();
    for (i, ext) in ["mp4", "mov", "mkv"].iter().enumerate() {
        let f = dir.join(format!("probe-{i}.{ext}"));
        ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc2=s=1920x1080:r=30000/1001:d=20",
                "-f",
                "lavfi",
                "-i",
                "sine=f=440:sample_rate=48000:d=20",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-c:a",
                "aac",
            ],
            &f,
        );
        files.push(f);
    }
    let batch: Vec<PathBuf> = files.iter().cycle().take(40).cloned().collect();
    compare(
        "probe: 40 files of 20 s 1080p (vodkit probe --json vs ffprobe -show_format -show_streams)",
        7,
        || {
            let mut c = vodkit();
            c.arg("probe").arg("--json").args(&batch);
            c
        },
        || {
            // ffprobe takes one file per run; a shell loop keeps it to one command.
            let mut c = Command::new("sh");
            let list: Vec<String> = batch.iter().map(|p| format!("'{}'", p.display())).collect();
            c.arg("-c").arg(format!(
                "for f in {}; do ffprobe -v error -of json -show_format -show_streams \"$f\"; done",
                list.join(" ")
            ));
            c
        },
    );
    println!(
        "  note: ffprobe runs once per file (it takes one input); vodkit reads all 40 in one process."
    );
}

/// Encode: the web-ladder rungs that fit a 20 s 1080p source (270p at 15 fps, 360p, 480p, 720p,
/// 1080p), through `vodkit encode` and through one ffmpeg process doing the same work
/// (`-filter_complex split`, the same x264 settings, rate control and GOP), plus the
/// phone-share case (1080p -> 720p) against the equivalent single ffmpeg command.
/// The 20 s 1080p source the encode and quality benches use.
fn bench_encode_media(dir: &Path) -> PathBuf {
    let src = dir.join("movie-1080p.mp4");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=1920x1080:r=30000/1001:d=20",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:sample_rate=48000:d=20",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "16",
            "-c:a",
            "aac",
            "-b:a",
            "192k",
        ],
        &src,
    );
    src
}

fn bench_encode() {
    let dir = media_dir();
    let src = bench_encode_media(&dir);
    let out = dir.join("out");
    let ladder = [
        (480, 270, 400, "main", "3.1", 2),
        (640, 360, 700, "main", "3.1", 1),
        (854, 480, 1000, "main", "3.1", 1),
        (1280, 720, 3500, "high", "4.2", 1),
        (1920, 1080, 6000, "high", "4.2", 1),
    ];
    let mut split = format!("[0:v]fps=30000/1001,format=yuv420p,split={}", ladder.len());
    for i in 0..ladder.len() {
        split.push_str(&format!("[s{i}]"));
    }
    for (i, (w, h, _, _, _, step)) in ladder.iter().enumerate() {
        let decimate = if *step > 1 {
            format!(",fps=30000/{}", 1001 * step)
        } else {
            String::new()
        };
        split.push_str(&format!(
            ";[s{i}]scale={w}:{h}:flags=bicubic{decimate}[v{i}]"
        ));
    }
    let ffmpeg_ladder = || {
        let mut c = Command::new("ffmpeg");
        c.args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
            .arg(&src);
        c.args(["-filter_complex", &split]);
        for (i, (_, h, kbps, profile, level, step)) in ladder.iter().enumerate() {
            let gop = 60 / step;
            c.args(["-map", &format!("[v{i}]"), "-map", "0:a"]);
            c.args([
                "-c:v",
                "libx264",
                "-preset",
                "medium",
                "-profile:v",
                profile,
                "-level",
                level,
            ]);
            // Vodkit's keyint is the keyframe grid's longest GOP plus one frame (2 frames over
            // the 2 s GOP here); both force IDR frames every 2 s with closed GOPs.
            c.args(["-flags", "+cgop"]);
            c.args(["-x264-params", &format!("keyint={}:scenecut=40:bframes=1:ref=3:crf=23:vbv-maxrate={kbps}:vbv-bufsize={}:vbv-init=0.9:open-gop=0", gop + 2, kbps * 2)]);
            c.args(["-force_key_frames", "expr:gte(t,n_forced*2)"]);
            c.args([
                "-c:a",
                "aac",
                "-b:a",
                "160k",
                "-ar",
                "48000",
                "-ac",
                "2",
                "-movflags",
                "+faststart",
            ]);
            c.arg(out.join(format!("ffmpeg_{h}p.mp4")));
        }
        c
    };
    let rounds = std::env::var("VODKIT_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    compare(
        "encode: web-ladder rungs 270p-1080p from 20 s of 1080p (vodkit encode vs one ffmpeg with split)",
        rounds,
        || {
            let _ = std::fs::remove_dir_all(out.join("movie-1080p"));
            let mut c = vodkit();
            // Like for like: ffmpeg does not measure quality either.
            c.args(["encode", "--preset", "web-ladder", "--no-quality", "--out"])
                .arg(&out)
                .arg(&src);
            c
        },
        ffmpeg_ladder,
    );
    quality_table(&src, &out, &ladder.iter().map(|l| l.1).collect::<Vec<_>>());
    compare(
        "phone-share: 1080p -> 720p (vodkit encode vs ffmpeg -vf scale)",
        rounds,
        || {
            let _ = std::fs::remove_dir_all(out.join("movie-1080p"));
            let mut c = vodkit();
            c.args(["encode", "--preset", "phone-share", "--out"])
                .arg(&out)
                .arg(&src);
            c
        },
        || {
            let mut c = Command::new("ffmpeg");
            c.args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
                .arg(&src);
            c.args([
                "-vf",
                "scale=1280:720:flags=bicubic",
                "-c:v",
                "libx264",
                "-preset",
                "medium",
                "-profile:v",
                "high",
                "-level",
                "4",
            ]);
            c.args([
                "-x264-params",
                "keyint=60:bframes=2:ref=3:crf=25:vbv-maxrate=3500:vbv-bufsize=7000:vbv-init=0.9",
            ]);
            c.args([
                "-force_key_frames",
                "expr:gte(t,n_forced*2)",
                "-c:a",
                "aac",
                "-b:a",
                "128k",
                "-movflags",
                "+faststart",
            ]);
            c.arg(out.join("ffmpeg_phone.mp4"));
            c
        },
    );
}

/// PSNR of each rung against the source scaled to the rung's size, for both tools' files.
fn quality_table(src: &Path, out: &Path, heights: &[u32]) {
    println!(
        "  {:<8} {:>14} {:>14} {:>12} {:>12}",
        "rung", "vodkit PSNR", "ffmpeg PSNR", "vodkit kb/s", "ffmpeg kb/s"
    );
    let ours_dir = out.join("movie-1080p");
    let _ = std::fs::remove_dir_all(&ours_dir);
    let _ = Command::new(vodkit().get_program())
        .args(["encode", "--preset", "web-ladder", "--out"])
        .arg(out)
        .arg(src)
        .stderr(Stdio::null())
        .status();
    for h in heights {
        let ours = ours_dir.join(format!("movie-1080p_{h}p.mp4"));
        let theirs = out.join(format!("ffmpeg_{h}p.mp4"));
        println!(
            "  {:<8} {:>11.2} dB {:>11.2} dB {:>12.0} {:>12.0}",
            format!("{h}p"),
            psnr(&ours, src),
            psnr(&theirs, src),
            kbps(&ours),
            kbps(&theirs)
        );
    }
}

fn psnr(distorted: &Path, reference: &Path) -> f64 {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-i"])
        .arg(distorted)
        .arg("-i")
        .arg(reference)
        .args([
            "-lavfi",
            "[1:v][0:v]scale2ref=flags=bicubic[r][d];[d][r]psnr",
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("ffmpeg psnr");
    let text = String::from_utf8_lossy(&out.stderr);
    text.split("average:")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn kbps(path: &Path) -> f64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=bit_rate",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse::<f64>()
        .unwrap_or(f64::NAN)
        / 1000.0
}

/// Packaging: the web-ladder rungs of a 10-minute 1080p title (20 s of aligned rungs, repeated
/// with `-c copy`), through `vodkit package` (HLS + DASH sharing one set of CMAF media) and
/// through the ffmpeg CLI making HLS (fMP4, 6 s) and DASH (2 s) from the same rungs with
/// `-c copy`, and `cp` of the rungs as the I/O floor. Then `vodkit serve` latencies.
fn bench_package() {
    let dir = media_dir().join("package");
    let title = dir.join("movie10");
    std::fs::create_dir_all(&title).expect("dir");
    let short = media_dir().join("package-20s");
    std::fs::create_dir_all(&short).expect("dir");
    let ladder = [
        (480, 270, 2),
        (640, 360, 1),
        (854, 480, 1),
        (1280, 720, 1),
        (1920, 1080, 1),
    ];
    let mut rungs = Vec::new();
    for (w, h, step) in ladder {
        let piece = short.join(format!("{h}p.mp4"));
        let gop = 60 / step;
        ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc2=s=1920x1080:r=30000/1001:d=20",
                "-f",
                "lavfi",
                "-i",
                "sine=f=440:sample_rate=48000:d=20",
                "-vf",
                &format!("scale={w}:{h},fps=30000/{}", 1001 * step),
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-x264-params",
                &format!("keyint={gop}:min-keyint={gop}:scenecut=0"),
                "-c:a",
                "aac",
                "-b:a",
                "160k",
            ],
            &piece,
        );
        let rung = title.join(format!("movie10_{h}p.mp4"));
        ffmpeg(
            &[
                "-stream_loop",
                "29",
                "-i",
                piece.to_str().expect("utf-8"),
                "-c",
                "copy",
                "-movflags",
                "+faststart",
            ],
            &rung,
        );
        rungs.push(rung);
    }
    let rung_bytes: u64 = rungs
        .iter()
        .map(|r| std::fs::metadata(r).map(|m| m.len()).unwrap_or(0))
        .sum();
    let ff_out = dir.join("ffmpeg-out");
    let cp_out = dir.join("cp-out");
    let ffmpeg_both = || {
        let _ = std::fs::remove_dir_all(&ff_out);
        std::fs::create_dir_all(ff_out.join("hls")).expect("dir");
        std::fs::create_dir_all(ff_out.join("dash")).expect("dir");
        let inputs: Vec<String> = rungs
            .iter()
            .map(|r| format!("-i '{}'", r.display()))
            .collect();
        let maps: Vec<String> = (0..rungs.len())
            .map(|i| format!("-map {i}:v -map {i}:a"))
            .collect();
        let var_map: Vec<String> = (0..rungs.len()).map(|i| format!("v:{i},a:{i}")).collect();
        let mut c = Command::new("sh");
        c.arg("-c").arg(format!(
            "ffmpeg -v error -y {inputs} {maps} -c copy -f hls -hls_time 6 -hls_segment_type fmp4 \
             -hls_playlist_type vod -master_pl_name index.m3u8 -var_stream_map '{vars}' '{hls}/stream_%v.m3u8' && \
             ffmpeg -v error -y {inputs} {maps} -c copy -f dash -seg_duration 2 -use_template 1 -use_timeline 1 '{dash}/index.mpd'",
            inputs = inputs.join(" "),
            maps = maps.join(" "),
            vars = var_map.join(" "),
            hls = ff_out.join("hls").display(),
            dash = ff_out.join("dash").display(),
        ));
        c
    };
    compare3(
        "package: web-ladder rungs of a 10-minute 1080p title (vodkit package vs ffmpeg HLS + DASH -c copy vs cp)",
        3,
        || {
            let _ = std::fs::remove_dir_all(title.join("stream"));
            let mut c = vodkit();
            c.arg("package").arg(&title);
            c
        },
        ffmpeg_both,
        || {
            let _ = std::fs::remove_dir_all(&cp_out);
            std::fs::create_dir_all(&cp_out).expect("dir");
            let mut c = Command::new("cp");
            c.args(&rungs).arg(&cp_out);
            c
        },
    );
    let media: u64 = walk(&title.join("stream"));
    println!(
        "  bytes: MP4 rungs {:.1} MiB, vodkit media {:.1} MiB ({:.3}x, shared by HLS and DASH), ffmpeg HLS + DASH {:.1} MiB ({:.3}x)",
        rung_bytes as f64 / 1048576.0,
        media as f64 / 1048576.0,
        media as f64 / rung_bytes as f64,
        walk(&ff_out) as f64 / 1048576.0,
        walk(&ff_out) as f64 / rung_bytes as f64,
    );
    bench_serve(&dir);
}

/// Like [`compare`] with a third command as the floor.
fn compare3(
    title: &str,
    rounds: usize,
    mut a: impl FnMut() -> Command,
    mut b: impl FnMut() -> Command,
    mut c: impl FnMut() -> Command,
) {
    let (mut x, mut y, mut z) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        x.push(measure(&mut a()));
        y.push(measure(&mut b()));
        z.push(measure(&mut c()));
    }
    let wall = |v: &[Cost]| median(v.iter().map(|c| c.wall_secs).collect());
    let mem = |v: &[Cost]| median(v.iter().map(|c| c.peak_rss_mib).collect());
    println!("\n{title} (median of {rounds}, alternating)");
    println!(
        "  {:<12} {:>10} {:>10} {:>10} {:>16} {:>12}",
        "", "vodkit", "ffmpeg", "cp", "ffmpeg/vodkit", "vodkit/cp"
    );
    println!(
        "  {:<12} {:>8.3} s {:>8.3} s {:>8.3} s {:>15.1}x {:>11.1}x",
        "wall time",
        wall(&x),
        wall(&y),
        wall(&z),
        wall(&y) / wall(&x),
        wall(&x) / wall(&z)
    );
    println!(
        "  {:<12} {:>6.1} MiB {:>6.1} MiB {:>6.1} MiB",
        "peak memory",
        mem(&x),
        mem(&y),
        mem(&z)
    );
}

fn walk(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        let p = e.path();
        total += if p.is_dir() {
            walk(&p)
        } else {
            e.metadata().map(|m| m.len()).unwrap_or(0)
        };
    }
    total
}

/// `vodkit serve` over loopback: manifest latency (cold and warm) and segment throughput.
fn bench_serve(root: &Path) {
    use std::io::{BufRead, Read, Write};
    let mut child = vodkit()
        .args(["serve", "--port", "0"])
        .arg(root)
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("address");
    let port: u16 = line
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .expect("port");
    let fetch = |path: &str| -> (f64, usize) {
        let start = Instant::now();
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).expect("read");
        (start.elapsed().as_secs_f64() * 1000.0, buf.len())
    };
    let (cold, _) = fetch("/movie10/index.m3u8");
    let warm_m3u8 = median((0..50).map(|_| fetch("/movie10/index.m3u8").0).collect());
    let warm_mpd = median((0..50).map(|_| fetch("/movie10/index.mpd").0).collect());
    let media = median(
        (0..30)
            .map(|_| fetch("/movie10/stream/1080p.m3u8").0)
            .collect(),
    );
    let mut seg_ms = Vec::new();
    let mut seg_bytes = 0;
    for n in 1..=40 {
        let (ms, len) = fetch(&format!("/movie10/stream/1080p/{n}.m4s"));
        seg_ms.push(ms);
        seg_bytes += len;
    }
    let total_secs: f64 = seg_ms.iter().sum::<f64>() / 1000.0;
    println!("\nserve: /movie10 over loopback (5 rungs, 300 segments each)");
    println!("  first manifest (reads the rungs' indexes): {cold:.1} ms");
    println!(
        "  master playlist {warm_m3u8:.2} ms, MPD {warm_mpd:.2} ms, media playlist {media:.2} ms (median of 50/50/30)"
    );
    println!(
        "  1080p segments: median {:.2} ms each, {:.0} MiB/s over 40 segments",
        median(seg_ms.clone()),
        seg_bytes as f64 / 1048576.0 / total_secs
    );
    let _ = child.kill();
    let _ = child.wait();
}

fn main() {
    // `cargo test --benches` runs this with --bench absent; only measure under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--locked", "--bin", "vodkit"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo build");
    assert!(status.success());
    // VODKIT_BENCH=probe, encode, package, upload, gui, quality, fit, library, av1 or cleanup
    // runs one part only.
    let only = std::env::var("VODKIT_BENCH").unwrap_or_default();
    if only.is_empty() || only == "probe" {
        bench_probe();
    }
    if only.is_empty() || only == "encode" {
        bench_encode();
    }
    if only.is_empty() || only == "package" {
        bench_package();
    }
    if only.is_empty() || only == "upload" {
        bench_upload();
    }
    if only.is_empty() || only == "gui" {
        bench_gui();
    }
    if only.is_empty() || only == "quality" {
        bench_quality();
    }
    if only.is_empty() || only == "fit" {
        bench_fit();
    }
    if only.is_empty() || only == "library" {
        bench_library();
    }
    if only.is_empty() || only == "av1" {
        bench_av1();
    }
    if only.is_empty() || only == "cleanup" {
        bench_cleanup();
    }
}

/// VMAF (mean, every 2nd picture) of `rung` against `reference`, with `vodkit quality`.
fn vmaf_of(reference: &Path, rung: &Path) -> (f64, f64) {
    let scored = vodkit()
        .args(["quality", "--json", "--every", "2"])
        .arg(reference)
        .arg(rung)
        .output()
        .expect("vodkit quality");
    assert!(scored.status.success(), "vodkit quality failed");
    let report: serde_json::Value = serde_json::from_slice(
        String::from_utf8_lossy(&scored.stdout)
            .lines()
            .last()
            .unwrap_or("")
            .as_bytes(),
    )
    .expect("quality json");
    (
        report["vmaf"]["mean"].as_f64().unwrap_or(f64::NAN),
        report["bitrate_bps"].as_f64().unwrap_or(f64::NAN) / 1000.0,
    )
}

/// The clean-up filters (issue 18): on a grainy 1080p source (10 s, the moving test pattern
/// under film-like grain, and the same pattern clean), each denoise level and deblock: the
/// filter's own cost per 1080p picture (FFmpeg decoding through it against decoding alone),
/// Vodkit's encode time of one 1080p rung, and at (about) equal bitrate (a 3 Mb/s cap that
/// every variant fills) the rung's VMAF against the grainy source and against the clean
/// picture under the grain.
fn bench_cleanup() {
    let dir = media_dir().join("cleanup");
    std::fs::create_dir_all(&dir).expect("dir");
    let picture = "testsrc2=s=1920x1080:r=30000/1001:d=10";
    let clean = dir.join("clean.mp4");
    let grainy = dir.join("grainy.mp4");
    #[rustfmt::skip]
    ffmpeg(&["-f", "lavfi", "-i", picture, "-c:v", "libx264", "-preset", "veryfast", "-crf", "10", "-pix_fmt", "yuv420p", "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"], &clean);
    #[rustfmt::skip]
    ffmpeg(&["-f", "lavfi", "-i", &format!("{picture},noise=alls=10:allf=t"), "-c:v", "libx264", "-preset", "veryfast", "-crf", "10", "-pix_fmt", "yuv420p", "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"], &grainy);
    let frames = 300.0;
    let filter_secs = |vf: &str| {
        measure(
            Command::new("ffmpeg")
                .args(["-hide_banner", "-loglevel", "error", "-i"])
                .arg(&grainy)
                .args(["-an", "-vf", vf, "-f", "null", "-"]),
        )
        .wall_secs
    };
    let decode_only = filter_secs("null");
    println!(
        "\nClean-up filters on a grainy 1080p source (10 s, 300 pictures), one 1080p H.264 rung capped at 3 Mb/s"
    );
    println!(
        "  {:<14} {:>12} {:>10} {:>9} {:>12} {:>12}",
        "filter", "ms/picture", "encode s", "kb/s", "VMAF grainy", "VMAF clean"
    );
    let variants = [
        ("off", "off", false, "null"),
        ("light", "light", false, "hqdn3d=3:2.25:4.5:3.4"),
        ("medium", "medium", false, "hqdn3d=6:4.5:9:6.75"),
        ("strong", "strong", false, "nlmeans=s=4:p=7:r=15"),
        ("deblock", "off", true, "deblock=filter=weak:block=8"),
    ];
    for (name, denoise, deblock, vf) in variants {
        let per_picture_ms = (filter_secs(vf) - decode_only).max(0.0) * 1000.0 / frames;
        let preset = dir.join(format!("{name}.toml"));
        std::fs::write(
            &preset,
            format!(
                "name = \"cleanup-{name}\"\n[video]\nquality_level = 10\nspeed = \"medium\"\ncrop = \"none\"\ndenoise = \"{denoise}\"\ndeblock = {deblock}\n[stills]\ncount = 0\n[[rung]]\nwidth = 1920\nheight = 1080\nprofile = \"high\"\nmax_bitrate_bps = 3000000\n"
            ),
        )
        .expect("preset");
        let out = dir.join(format!("out-{name}"));
        let _ = std::fs::remove_dir_all(&out);
        let cost = measure(
            vodkit()
                .args(["encode", "--no-quality", "--preset"])
                .arg(&preset)
                .arg("--out")
                .arg(&out)
                .arg(&grainy)
                .env("VODKIT_CONFIG_DIR", &dir),
        );
        let rung = out.join("grainy").join("grainy_1080p.mp4");
        let (vmaf_grainy, kbps) = vmaf_of(&grainy, &rung);
        // Against the clean picture: a copy away from its manifest (which names the grainy
        // source, and `vodkit quality` refuses another reference for a title's rung).
        let loose = dir.join(format!("{name}-vs-clean.mp4"));
        std::fs::copy(&rung, &loose).expect("copy the rung");
        let (vmaf_clean, _) = vmaf_of(&clean, &loose);
        println!(
            "  {name:<14} {per_picture_ms:>12.1} {:>10.1} {kbps:>9.0} {vmaf_grainy:>12.1} {vmaf_clean:>12.1}",
            cost.wall_secs
        );
    }
}

/// AV1 against H.264 at the same VMAF (issue 16): one 720p rung of two contents (moderate
/// motion, high-motion grain; 20 s, 8 Mb/s camera-like sources), H.264 at quality level 8 and
/// AV1 at levels 6-9, each encode timed alone (`--no-quality`) and then scored with `vodkit
/// quality`. The AV1 bitrate at the H.264 rung's VMAF is interpolated between the two AV1
/// points around it (log bitrate, linear in VMAF), its encode time likewise.
fn bench_av1() {
    let dir = media_dir().join("av1");
    std::fs::create_dir_all(&dir).expect("dir");
    let contents = [
        ("motion", "testsrc2=s=1280x720:r=30000/1001:d=20"),
        (
            "grain",
            "mandelbrot=s=1280x720:r=30000/1001,trim=duration=20,noise=alls=18:allf=t",
        ),
    ];
    println!(
        "\nAV1 (SVT-AV1, speed medium = preset 8) vs H.264 (x264 medium), one 720p rung, 20 s, same VMAF"
    );
    println!(
        "  {:<8} {:>10} {:>8} {:>8}   {:>10} {:>8}   {:>9} {:>9}",
        "content", "H.264 kb/s", "VMAF", "time s", "AV1 kb/s", "time s", "bitrate", "time"
    );
    for (name, filter) in contents {
        let src = dir.join(format!("{name}.mp4"));
        #[rustfmt::skip]
        ffmpeg(
            &[
                "-f", "lavfi", "-i", filter, "-f", "lavfi", "-i", "sine=f=440:d=20",
                "-c:v", "libx264", "-preset", "veryfast", "-b:v", "8M", "-maxrate", "8M",
                "-bufsize", "8M", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
            ],
            &src,
        );
        // (quality level, kb/s, VMAF, encode seconds)
        let point = |codec: &str, level: u8| -> (u8, f64, f64, f64) {
            let preset = dir.join(format!("{codec}-{level}.toml"));
            let profile = if codec == "h264" {
                "profile = \"high\"\n"
            } else {
                ""
            };
            std::fs::write(
                &preset,
                format!(
                    "name = \"av1-bench-{codec}-{level}\"\n[video]\nquality_level = {level}\nspeed = \"medium\"\n[stills]\ncount = 0\n[[rung]]\nwidth = 1280\nheight = 720\ncodec = \"{codec}\"\n{profile}max_bitrate_bps = 6000000\n"
                ),
            )
            .expect("preset");
            let out = dir.join(format!("out-{codec}-{level}"));
            let _ = std::fs::remove_dir_all(&out);
            let cost = measure(
                vodkit()
                    .args(["encode", "--no-quality", "--preset"])
                    .arg(&preset)
                    .arg("--out")
                    .arg(&out)
                    .arg(&src)
                    .env("VODKIT_CONFIG_DIR", &dir),
            );
            let rung = out.join(name).join(format!("{name}_720p.mp4"));
            let (vmaf, kbps) = vmaf_of(&src, &rung);
            (level, kbps, vmaf, cost.wall_secs)
        };
        let h264 = point("h264", 8);
        let av1: Vec<_> = [6, 7, 8, 9].into_iter().map(|l| point("av1", l)).collect();
        for p in &av1 {
            println!(
                "  {:<8}   AV1 level {}: {:>8.0} kb/s, VMAF {:>5.1}, {:>5.1} s",
                name, p.0, p.1, p.2, p.3
            );
        }
        let target = h264.2;
        let around = av1
            .windows(2)
            .find(|w| (w[0].2 <= target) == (target <= w[1].2));
        match around {
            Some(w) => {
                let t = ((target - w[0].2) / (w[1].2 - w[0].2)).clamp(0.0, 1.0);
                let kbps = (w[0].1.ln() + t * (w[1].1.ln() - w[0].1.ln())).exp();
                let secs = w[0].3 + t * (w[1].3 - w[0].3);
                println!(
                    "  {name:<8} {:>10.0} {:>8.1} {:>8.1}   {kbps:>10.0} {secs:>8.1}   {:>8.2}x {:>8.2}x",
                    h264.1,
                    h264.2,
                    h264.3,
                    kbps / h264.1,
                    secs / h264.3
                );
            }
            None => println!(
                "  {name:<8} {:>10.0} {:>8.1} {:>8.1}   AV1 levels 6-9 do not bracket VMAF {target:.1}",
                h264.1, h264.2, h264.3
            ),
        }
    }
}

/// Percentiles of frame times (ms): median, 99th, max.
fn frame_stats(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        v.get(((v.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    (at(0.5), at(0.99), v.last().copied().unwrap_or(0.0))
}

/// The library: the catalog's insert and search speed with 10,000 renditions, then the app
/// with 5,000 titles (startup to first frame, frame times in the Library view, and while three
/// encodes run). Goals: 16 ms per frame (median and 99th percentile), first frame in 500 ms.
fn bench_library() {
    use egui_kittest::Harness;
    use vodkit::catalog::Catalog;
    use vodkit::catalog::titles::TitleFilter;
    use vodkit::gui::{FileStatus, JobState, Settings, View, VodkitApp};
    let dir = media_dir().join("library");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("folder");
    // One real title (phone-share on a 2 s clip) as the template of every record.
    let clip = media_dir().join("clip-2s.mp4");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=640x360:r=30:d=2",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:sample_rate=48000:d=2",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-c:a",
            "aac",
        ],
        &clip,
    );
    let status = vodkit()
        .args(["encode", "--preset", "web-ladder", "--no-quality", "--out"])
        .arg(dir.join("template"))
        .arg(&clip)
        .env("VODKIT_CONFIG_DIR", &dir)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("vodkit");
    assert!(status.success());
    let mut manifest: vodkit::local::Manifest = serde_json::from_slice(
        &std::fs::read(dir.join("template/clip-2s/manifest.json")).expect("manifest"),
    )
    .expect("a manifest");
    while manifest.rungs.len() < 5 {
        let mut r = manifest.rungs[0].clone();
        r.file = format!("extra_{}.mp4", manifest.rungs.len());
        manifest.rungs.push(r);
    }
    manifest.rungs.truncate(5);

    println!("\nlibrary: SQLite catalog (rusqlite, bundled, WAL) and the app over it");
    let catalog = Catalog::open(&dir.join("catalog-bench.sqlite")).expect("catalog");
    let started = Instant::now();
    for i in 0..2_000 {
        manifest.title = format!("clip_{i:05}");
        let title_dir = dir.join(format!("titles/clip_{i:05}"));
        catalog
            .record_manifest(&title_dir, &manifest, None, 1_796_000_000 + i)
            .expect("record");
    }
    let insert = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let found = catalog
        .titles(&TitleFilter {
            text: "clip_01234".to_owned(),
            ..TitleFilter::default()
        })
        .expect("search");
    let search_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    let all = catalog.titles(&TitleFilter::default()).expect("list");
    let list_ms = started.elapsed().as_secs_f64() * 1000.0;
    println!(
        "  insert 2,000 titles with 10,000 renditions: {insert:.2} s ({:.2} ms per title, one transaction each)",
        insert * 1000.0 / 2000.0
    );
    println!(
        "  search one word over them: {search_ms:.1} ms ({} found); list all {} titles with their renditions: {list_ms:.0} ms",
        found.len(),
        all.len()
    );
    drop(catalog);

    // The app's library: 5,000 titles.
    let db = dir.join("app-library.sqlite");
    let catalog = Catalog::open(&db).expect("catalog");
    for i in 0..5_000 {
        manifest.title = format!("title_{i:05}");
        catalog
            .record_manifest(
                &dir.join(format!("titles/title_{i:05}")),
                &manifest,
                None,
                1_796_000_000 + i,
            )
            .expect("record");
    }
    drop(catalog);
    let config = dir.join("config");
    // SAFETY: set before the app is created, on the bench's only thread.
    unsafe { std::env::set_var("VODKIT_CONFIG_DIR", &config) };
    let started = Instant::now();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(
            |ui, app: &mut VodkitApp| app.show(ui),
            VodkitApp::with_library(
                Settings {
                    output_dir: dir.join("out"),
                    preset: "web-ladder".to_owned(),
                    jobs_at_once: 3,
                    ..Settings::default()
                },
                Some(db),
                || {},
            ),
        );
    harness.run_steps(1);
    let first_frame_ms = started.elapsed().as_secs_f64() * 1000.0;
    harness.state_mut().switch_to(View::Library);
    let started = Instant::now();
    while harness.state().library.titles.len() < 5_000 && started.elapsed().as_secs() < 60 {
        harness.run_steps(1);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let loaded_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut idle = Vec::new();
    for _ in 0..120 {
        let t = Instant::now();
        harness.run_steps(1);
        idle.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    // Three encodes (20 s sources, web-ladder) while the Library and Files views are drawn.
    let sources: Vec<PathBuf> = (0..3)
        .map(|i| {
            let p = media_dir().join(format!("library-source-{i}.mp4"));
            ffmpeg(
                &[
                    "-f",
                    "lavfi",
                    "-i",
                    &format!("testsrc2=s=1280x720:r=30:d=20,hue=h={}", i * 40),
                    "-f",
                    "lavfi",
                    "-i",
                    "sine=f=440:sample_rate=48000:d=20",
                    "-c:v",
                    "libx264",
                    "-preset",
                    "veryfast",
                    "-c:a",
                    "aac",
                ],
                &p,
            );
            p
        })
        .collect();
    harness.state_mut().view = View::Files;
    harness.state_mut().add_paths(sources);
    let started = Instant::now();
    while !(harness.state().files.len() == 3
        && harness
            .state()
            .files
            .iter()
            .all(|f| matches!(f.status, FileStatus::Ready(_))))
        && started.elapsed().as_secs() < 60
    {
        harness.run_steps(1);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    harness.state_mut().selected = None;
    harness.state_mut().start();
    let started = Instant::now();
    while harness
        .state()
        .jobs
        .iter()
        .filter(|j| j.state == JobState::Running)
        .count()
        < 3
        && started.elapsed().as_secs() < 60
    {
        harness.run_steps(1);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let (mut busy_library, mut busy_files) = (Vec::new(), Vec::new());
    for k in 0..240 {
        let library = k % 2 == 0;
        harness.state_mut().view = if library { View::Library } else { View::Files };
        let t = Instant::now();
        harness.run_steps(1);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if library {
            busy_library.push(ms);
        } else {
            busy_files.push(ms);
        }
        std::thread::sleep(std::time::Duration::from_millis(16));
    }
    let running = harness
        .state()
        .jobs
        .iter()
        .filter(|j| j.state == JobState::Running)
        .count();
    let (i50, i99, imax) = frame_stats(&mut idle);
    let (l50, l99, lmax) = frame_stats(&mut busy_library);
    let (f50, f99, fmax) = frame_stats(&mut busy_files);
    println!(
        "  app with 5,000 titles (egui_kittest, no GPU): first frame {first_frame_ms:.0} ms, titles listed {loaded_ms:.0} ms later"
    );
    println!(
        "  frame time, Library view (120 frames): median {i50:.2} ms, p99 {i99:.2} ms, max {imax:.2} ms"
    );
    println!(
        "  with 3 encodes running ({running} still running at the end): Library view median {l50:.2} ms, p99 {l99:.2} ms, max {lmax:.2} ms; Files view median {f50:.2} ms, p99 {f99:.2} ms, max {fmax:.2} ms"
    );
    let ids: Vec<u64> = harness.state().jobs.iter().map(|j| j.id).collect();
    for id in ids {
        harness.state_mut().cancel(id);
    }
    for _ in 0..50 {
        harness.run_steps(1);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A title's manifest.
fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
        .expect("json")
}

/// Total bitrate (kb/s), top rung's and mean VMAF of a title's made rungs.
fn ladder_figures(m: &serde_json::Value) -> (f64, f64, f64) {
    let rungs = m["rungs"].as_array().expect("rungs");
    let total: f64 = rungs
        .iter()
        .filter_map(|r| r["bitrate_bps"].as_f64())
        .sum::<f64>()
        / 1000.0;
    let vmafs: Vec<(f64, f64)> = rungs
        .iter()
        .filter_map(|r| {
            Some((
                r["width"].as_f64()? * r["height"].as_f64()?,
                r["quality"]["vmaf"]["mean"].as_f64()?,
            ))
        })
        .collect();
    let top = vmafs
        .iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(f64::NAN, |v| v.1);
    let mean = vmafs.iter().map(|v| v.1).sum::<f64>() / vmafs.len().max(1) as f64;
    (total, top, mean)
}

/// Per-title, estimates and target sizes (issue 14):
/// 1. per-title against the fixed web-ladder on three contents (near-static slides, moderate
///    motion, high-motion grain), 720p, 20 s: total bitrate and VMAF of each ladder;
/// 2. the fitted encodes' predictions (size and VMAF per rung from `--estimate`'s timed
///    sample, encode time) against what they made;
/// 3. the analysis time as a share of the ladder encode, on a 10-minute source;
/// 4. target sizes: ten contents, three targets each, the file's size over the target.
fn bench_fit() {
    let dir = media_dir().join("fit");
    std::fs::create_dir_all(&dir).expect("dir");
    let contents = [
        ("slides", "testsrc=s=1280x720:r=0.2:d=20,fps=30000/1001"),
        ("motion", "testsrc2=s=1280x720:r=30000/1001:d=20"),
        (
            "grain",
            "mandelbrot=s=1280x720:r=30000/1001,trim=duration=20,noise=alls=18:allf=t",
        ),
    ];
    println!("\nper-title vs the fixed web-ladder (720p sources, 20 s, VMAF of every 2nd picture)");
    println!(
        "  {:<8} {:>12} {:>9} {:>9}   {:>12} {:>9} {:>9}   {:>8}",
        "content", "fixed kb/s", "top VMAF", "mean", "fitted kb/s", "top VMAF", "mean", "bits"
    );
    let mut predictions = Vec::new();
    for (name, filter) in contents {
        // As a camera or screen recorder writes it: a constant 8 Mb/s whatever the content (a
        // small efficient source would cap the fixed ladder at its own bitrate).
        let src = dir.join(format!("{name}-cbr.mp4"));
        #[rustfmt::skip]
        ffmpeg(
            &[
                "-f", "lavfi", "-i", filter, "-f", "lavfi", "-i", "sine=f=440:d=20",
                "-c:v", "libx264", "-preset", "veryfast", "-b:v", "8M", "-minrate", "8M",
                "-maxrate", "8M", "-bufsize", "8M", "-x264-params", "nal-hrd=cbr",
                "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
            ],
            &src,
        );
        let run = |out: &Path, extra: &[&str]| {
            let _ = std::fs::remove_dir_all(out);
            let status = vodkit()
                .args([
                    "encode",
                    "--preset",
                    "web-ladder",
                    "--quality",
                    "--every",
                    "2",
                    "--out",
                ])
                .arg(out)
                .args(extra)
                .arg(&src)
                .stdout(Stdio::null())
                .status()
                .expect("vodkit");
            assert!(status.success());
            manifest(&out.join(format!("{name}-cbr")))
        };
        let fixed = run(&dir.join("fixed"), &[]);
        let fitted = run(&dir.join("fitted"), &["--per-title", "--estimate"]);
        let (fb, ft, fm) = ladder_figures(&fixed);
        let (pb, pt, pm) = ladder_figures(&fitted);
        println!(
            "  {name:<8} {fb:>12.0} {ft:>9.1} {fm:>9.1}   {pb:>12.0} {pt:>9.1} {pm:>9.1}   {:>+7.0}%",
            (pb / fb - 1.0) * 100.0
        );
        predictions.push((name, fitted));
    }
    println!("\nprediction errors of the fitted encodes (--estimate: a timed 4 s sample)");
    for (name, m) in &predictions {
        for r in m["plan"]["rungs"].as_array().expect("rungs") {
            if r["status"] == "dropped" {
                continue;
            }
            let Some(made) = m["rungs"]
                .as_array()
                .and_then(|rs| rs.iter().find(|x| x["name"] == r["name"]))
            else {
                continue;
            };
            let (ps, s) = (
                r["estimated_bytes"].as_f64().unwrap_or(f64::NAN),
                made["size_bytes"].as_f64().unwrap_or(f64::NAN),
            );
            let (pv, v) = (
                r["predicted_vmaf"].as_f64().unwrap_or(f64::NAN),
                made["quality"]["vmaf"]["mean"].as_f64().unwrap_or(f64::NAN),
            );
            println!(
                "  {name:<8} {:<6} size {:>+6.1} %   VMAF {:>+5.2}",
                r["name"].as_str().unwrap_or("?"),
                (s / ps - 1.0) * 100.0,
                v - pv
            );
        }
        let (pt, t) = (
            m["plan"]["predicted_encode_secs"]
                .as_f64()
                .unwrap_or(f64::NAN),
            m["encode_wall_secs"].as_f64().unwrap_or(f64::NAN),
        );
        println!(
            "  {name:<8} time: predicted {pt:.1} s, took {t:.1} s ({:+.0} %)",
            (t / pt - 1.0) * 100.0
        );
    }

    // 3. Sampling cost on a 10-minute source (360p keeps the bench's own time sane; the share
    // is what is measured).
    let long = dir.join("long-10min.mp4");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=640x360:r=30000/1001:d=600,noise=alls=6:allf=t",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:d=600",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "16",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ],
        &long,
    );
    let started = Instant::now();
    let out = vodkit()
        .args(["plan", "--preset", "web-ladder", "--per-title", "--json"])
        .arg(&long)
        .output()
        .expect("vodkit plan");
    assert!(out.status.success());
    let analysis_secs = started.elapsed().as_secs_f64();
    let ladder_out = dir.join("long-out");
    let _ = std::fs::remove_dir_all(&ladder_out);
    let started = Instant::now();
    let status = vodkit()
        .args(["encode", "--preset", "web-ladder", "--no-quality", "--out"])
        .arg(&ladder_out)
        .arg(&long)
        .stdout(Stdio::null())
        .status()
        .expect("vodkit encode");
    assert!(status.success());
    let ladder_secs = started.elapsed().as_secs_f64();
    println!(
        "\nper-title analysis of a 10-minute 360p source: {analysis_secs:.1} s, the web-ladder encode {ladder_secs:.1} s: {:.1} % of it",
        analysis_secs / ladder_secs * 100.0
    );

    // 4. Target sizes.
    let sources = [
        "testsrc2=s=640x360:r=30",
        "mandelbrot=s=640x360:r=25",
        "smptehdbars=s=1280x720:r=30",
        "life=s=640x360:r=30:mold=10:ratio=0.3",
        "cellauto=s=640x360:r=30:rule=110",
        "testsrc2=s=1280x720:r=30000/1001,noise=alls=20:allf=t",
        "gradients=s=960x540:r=30:speed=0.05",
        "rgbtestsrc=s=640x480:r=24",
        "mandelbrot=s=1280x720:r=60",
        "testsrc=s=854x480:r=30,hue=H=t",
    ];
    let targets: [u64; 3] = [400_000, 1_200_000, 3_000_000];
    println!("\ntarget size: file / target (goal: every one in [0.95, 1.00])");
    let mut shares = Vec::new();
    for (k, filter) in sources.iter().enumerate() {
        let src = dir.join(format!("target-{k}.mkv"));
        ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                &format!("{filter},trim=duration=12"),
                "-f",
                "lavfi",
                "-i",
                "anoisesrc=d=12:a=0.05",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                "12",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-shortest",
            ],
            &src,
        );
        let mut row = format!("  {filter:<52}");
        for &t in &targets {
            let out = dir.join("target-out");
            let _ = std::fs::remove_dir_all(&out);
            let status = vodkit()
                .args(["encode", "--preset", "phone-share", "--target-size"])
                .arg(format!("{t}B"))
                .arg("--out")
                .arg(&out)
                .arg(&src)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("vodkit");
            let size = walk_mp4(&out);
            let share = size as f64 / t as f64;
            if status.success() {
                shares.push(share);
                row.push_str(&format!(" {share:>6.3}"));
            } else {
                // Refused before encoding (below the floors) or failed: no file either way.
                row.push_str(if size == 0 { " refused" } else { "  fail " });
            }
        }
        println!("{row}");
    }
    let inside = shares.iter().filter(|s| (0.95..=1.0).contains(*s)).count();
    println!(
        "  {inside} of {} inside [0.95, 1.00]; min {:.3}, max {:.3}",
        shares.len(),
        shares.iter().copied().fold(f64::MAX, f64::min),
        shares.iter().copied().fold(0.0, f64::max)
    );
}

/// Bytes of the MP4 files under a folder (and its folders).
fn walk_mp4(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .map(|p| {
            if p.is_dir() {
                walk_mp4(&p)
            } else if p.extension().is_some_and(|x| x == "mp4") {
                std::fs::metadata(&p).map_or(0, |m| m.len())
            } else {
                0
            }
        })
        .sum()
}

/// Quality: VMAF (with PSNR and SSIM) of a 20 s 1080p source against a 720p rung, by
/// `vodkit quality` (decoding both files, preparing the source, upscaling the rung) and by
/// libvmaf's `vmaf` tool on the very same pictures as Y4M (written once beforehand, not
/// timed), and the scores' difference; then what scoring adds to a web-ladder encode.
fn bench_quality() {
    let dir = media_dir();
    let src = bench_encode_media(&dir);
    let rung = dir.join("movie-720p-crf23.mp4");
    ffmpeg(
        &[
            "-i",
            src.to_str().expect("utf-8"),
            "-vf",
            "scale=1280:720:flags=bicubic",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-an",
        ],
        &rung,
    );
    let y4m = dir.join("quality-y4m");
    let _ = std::fs::remove_dir_all(&y4m);
    std::fs::create_dir_all(&y4m).expect("y4m dir");
    let ours = vodkit()
        .arg("quality")
        .arg(&src)
        .arg(&rung)
        .args(["--json", "--dump-y4m"])
        .arg(&y4m)
        .output()
        .expect("vodkit quality");
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let ours: serde_json::Value = serde_json::from_slice(&ours.stdout).expect("json");
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let tool_json = y4m.join("vmaf.json");
    let vmaf_tool_cmd = || {
        vmaf_tool::command(
            &y4m.join("movie-720p-crf23.reference.y4m"),
            &y4m.join("movie-720p-crf23.distorted.y4m"),
            threads,
            &tool_json,
        )
    };
    let rounds = std::env::var("VODKIT_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    compare_with(
        "quality: VMAF+PSNR+SSIM of 20 s 1080p vs a 720p rung (vodkit quality on the MP4s vs the vmaf tool on Y4M)",
        "vmaf tool",
        rounds,
        || {
            let mut c = vodkit();
            c.arg("quality").arg(&src).arg(&rung);
            c
        },
        vmaf_tool_cmd,
    );
    let theirs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&tool_json).expect("vmaf tool output"))
            .expect("json");
    let mean = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    let (a, b) = (
        mean(&ours["vmaf"]["mean"]),
        mean(&theirs["pooled_metrics"]["vmaf"]["mean"]),
    );
    println!(
        "  VMAF mean: vodkit {a:.4}, vmaf tool {b:.4}, |difference| {:.4}",
        (a - b).abs()
    );
    let frames = theirs["frames"].as_array().map_or(0, Vec::len);
    println!("  {frames} frames scored by each");

    let out = dir.join("out");
    // Every picture (the issue's --every 1), then the preset's own choice (web-ladder: every 5th).
    for (what, every) in [
        ("every picture", Some("1")),
        ("web-ladder's every 5th", None),
    ] {
        compare_with(
            &format!(
                "quality during a web-ladder encode of 20 s 1080p, {what} (vodkit encode, measured vs --no-quality)"
            ),
            "no quality",
            rounds.min(2),
            || {
                let _ = std::fs::remove_dir_all(out.join("movie-1080p"));
                let mut c = vodkit();
                c.args(["encode", "--preset", "web-ladder", "--quality"]);
                if let Some(n) = every {
                    c.args(["--every", n]);
                }
                c.arg("--out").arg(&out).arg(&src);
                c
            },
            || {
                let _ = std::fs::remove_dir_all(out.join("movie-1080p"));
                let mut c = vodkit();
                c.args(["encode", "--preset", "web-ladder", "--no-quality", "--out"])
                    .arg(&out)
                    .arg(&src);
                c
            },
        );
    }
}

#[derive(Debug)]
struct DroppedFolder(PathBuf);

impl egui::DroppedFile for DroppedFolder {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        Err("a folder".to_owned())
    }
}

/// The app with 500 clips: a folder of 500 two-second clips dropped on the window (egui_kittest
/// driving the real app), frame times while they are probed and their stills decoded, the time
/// until all are in, and frame times with the full list. Goal: under 16 ms per frame.
fn bench_gui() {
    use egui_kittest::Harness;
    use vodkit::gui::{FileStatus, Settings, VodkitApp};
    let folder = media_dir().join("500-clips");
    let clip = media_dir().join("clip-2s.mp4");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=640x360:r=30:d=2",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:sample_rate=48000:d=2",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-c:a",
            "aac",
        ],
        &clip,
    );
    std::fs::create_dir_all(&folder).expect("folder");
    for i in 0..500 {
        let link = folder.join(format!("clip_{i:03}.mp4"));
        if !link.exists() {
            std::fs::hard_link(&clip, &link)
                .or_else(|_| std::fs::copy(&clip, &link).map(|_| ()))
                .expect("a clip");
        }
    }
    let config = media_dir().join("gui-config");
    // SAFETY: set before the app is created, on the bench's only thread.
    unsafe { std::env::set_var("VODKIT_CONFIG_DIR", &config) };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(
            |ui, app: &mut VodkitApp| app.show(ui),
            VodkitApp::new(
                Settings {
                    output_dir: media_dir().join("gui-out"),
                    ..Settings::default()
                },
                || {},
            ),
        );
    harness.run_steps(2);
    harness.input_mut().dropped_files = vec![std::sync::Arc::new(DroppedFolder(folder)) as _];
    let started = Instant::now();
    let mut during = Vec::new();
    let done = |app: &VodkitApp| {
        app.files.len() == 500
            && app
                .files
                .iter()
                .all(|f| !matches!(f.status, FileStatus::Probing))
    };
    while !done(harness.state()) && started.elapsed().as_secs() < 600 {
        let t = Instant::now();
        harness.run_steps(1);
        during.push(t.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(std::time::Duration::from_millis(16));
    }
    let probed_secs = started.elapsed().as_secs_f64();
    let mut after = Vec::new();
    for _ in 0..120 {
        let t = Instant::now();
        harness.run_steps(1);
        after.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        let at = |q: f64| {
            v.get(((v.len() as f64 - 1.0) * q) as usize)
                .copied()
                .unwrap_or(0.0)
        };
        (at(0.5), at(0.95), v.last().copied().unwrap_or(0.0))
    };
    let (d50, d95, dmax) = stats(&mut during);
    let (a50, a95, amax) = stats(&mut after);
    println!("\napp: 500 clips dropped as a folder (egui_kittest, no GPU)");
    println!(
        "  all probed with stills in {probed_secs:.1} s ({} files)",
        harness.state().files.len()
    );
    println!(
        "  frame time while probing ({} frames): median {d50:.2} ms, p95 {d95:.2} ms, max {dmax:.2} ms",
        during.len()
    );
    println!(
        "  frame time with 500 files (120 frames): median {a50:.2} ms, p95 {a95:.2} ms, max {amax:.2} ms"
    );
}

/// Upload: a 380 MiB video to moto's S3 server on this machine, `vodkit cloud upload` against
/// boto3's s3transfer (the engine of `aws s3 cp`), both with 16 MiB parts, four in flight. Each
/// round writes a new key, so nothing is skipped.
fn bench_upload() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("target/pyenv/bin/python");
    let moto = root.join("target/pyenv/bin/moto_server");
    if !moto.exists() {
        println!("\nupload: skipped (run `make test-deps` for moto)");
        return;
    }
    let dir = media_dir();
    let noise = dir.join("noise-8s.mp4");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=320x240:r=30:d=8,noise=alls=100:allf=t",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "0",
        ],
        &noise,
    );
    let big = dir.join("upload-380mib.mp4");
    if !big.exists() {
        let status = Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-stream_loop",
                "9",
                "-i",
            ])
            .arg(&noise)
            .args(["-c", "copy"])
            .arg(&big)
            .status()
            .expect("ffmpeg");
        assert!(status.success());
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let mut server = Command::new(&moto)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto starts");
    let endpoint = format!("http://127.0.0.1:{port}");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let boto = |code: &str| {
        let mut c = Command::new(&python);
        c.args(["-c", code]);
        c
    };
    let client = format!(
        "import boto3; from boto3.s3.transfer import TransferConfig; \
         s3 = boto3.client('s3', endpoint_url='{endpoint}', aws_access_key_id='t', \
         aws_secret_access_key='t', region_name='us-east-1')"
    );
    assert!(
        boto(&format!("{client}; s3.create_bucket(Bucket='bench')"))
            .status()
            .expect("python")
            .success()
    );
    let config = dir.join("upload-config");
    let rounds = std::env::var("VODKIT_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let mut ours_round = 0;
    let mut theirs_round = 0;
    compare_with(
        "upload: 380 MiB to S3 (moto on this machine), 16 MiB parts, 4 in flight",
        "boto3",
        rounds,
        || {
            ours_round += 1;
            let mut c = vodkit();
            c.args(["cloud", "upload"])
                .arg(&big)
                .args(["--bucket", "bench", "--prefix", &format!("v{ours_round}")])
                .args(["--endpoint-url", &endpoint, "--part-size-mib", "16"])
                .args(["--parts-in-flight", "4"])
                // A fresh config folder: no checksum remembered from an earlier round.
                .env("VODKIT_CONFIG_DIR", config.join(ours_round.to_string()))
                .env("AWS_ACCESS_KEY_ID", "t")
                .env("AWS_SECRET_ACCESS_KEY", "t")
                .env("AWS_REGION", "us-east-1")
                .env("AWS_EC2_METADATA_DISABLED", "true");
            c
        },
        || {
            theirs_round += 1;
            boto(&format!(
                "{client}; s3.upload_file('{}', 'bench', 'b{theirs_round}/big.mp4', \
                 Config=TransferConfig(multipart_threshold=16*1024*1024, \
                 multipart_chunksize=16*1024*1024, max_concurrency=4))",
                big.display()
            ))
        },
    );
    let _ = server.kill();
    let _ = server.wait();
}
