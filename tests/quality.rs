//! Quality measurement, judged two ways: against libvmaf's own `vmaf` tool (built here from
//! the very source Vodkit links, scoring the very pictures Vodkit compared), and against what
//! must hold for any honest metric (identical files at the top, a better encode scoring higher
//! on every metric, a rotated phone clip scoring like the same clip stored upright, mismatched
//! files refused with the file and the reason). The HTML report is rendered in Chromium.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .status()
        .expect("ffmpeg");
    assert!(status.success(), "ffmpeg {args:?}");
}

/// A rung made by the ffmpeg CLI from `source`: `size` (WxH) at CRF `crf`.
fn rung(source: &Path, dir: &Path, name: &str, size: &str, crf: u32) -> PathBuf {
    let out = dir.join(format!("clip_{name}.mp4"));
    let crf = crf.to_string();
    let scale = format!("scale={}:flags=bicubic", size.replace('x', ":"));
    ffmpeg(&[
        "-i",
        source.to_str().expect("utf-8"),
        "-vf",
        &scale,
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        &crf,
        "-an",
        out.to_str().expect("utf-8"),
    ]);
    out
}

/// `vodkit quality ... --json`: one object per rung, or the error text.
fn quality(args: &[&str], config: &Path) -> Result<Vec<Value>, String> {
    let mut all = vec!["quality"];
    all.extend_from_slice(args);
    all.push("--json");
    let (code, stdout, stderr) = common::vodkit(&all, config);
    if code != 0 {
        return Err(stderr);
    }
    Ok(stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect())
}

fn f(v: &Value, path: &str) -> f64 {
    path.split('.')
        .fold(v, |v, k| &v[k])
        .as_f64()
        .unwrap_or_else(|| panic!("{path} in {v}"))
}

/// 640x360, 29.97 fps, 4 s of moving detail with mild grain: enough texture for the metrics to
/// tell encodes apart.
fn textured() -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("clips/quality-textured.mp4");
    if !path.exists() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("dir");
        let tmp = path.with_extension(format!("{}.part.mp4", std::process::id()));
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=640x360:r=30000/1001:d=4,noise=alls=12:allf=t",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "12",
            tmp.to_str().expect("utf-8"),
        ]);
        std::fs::rename(&tmp, &path).expect("rename");
    }
    path
}

#[test]
fn scores_equal_the_vmaf_tools_on_the_same_pictures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = textured();
    let small = rung(&source, dir.path(), "180p", "320x180", 28);
    let dump = dir.path().join("y4m");
    std::fs::create_dir_all(&dump).expect("dump dir");
    let got = quality(
        &[
            source.to_str().expect("utf-8"),
            small.to_str().expect("utf-8"),
            "--dump-y4m",
            dump.to_str().expect("utf-8"),
        ],
        dir.path(),
    )
    .expect("scored");
    let ours = &got[0];
    assert_eq!(ours["model"], "vmaf_v0.6.1");
    assert_eq!(
        (
            ours["reference_width"].as_u64(),
            ours["reference_height"].as_u64()
        ),
        (Some(640), Some(360)),
        "scored at the source's size"
    );

    let json = dir.path().join("vmaf.json");
    let out = common::vmaf_tool::command(
        &dump.join("clip_180p.reference.y4m"),
        &dump.join("clip_180p.distorted.y4m"),
        1,
        &json,
    )
    .output()
    .expect("vmaf tool");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Value =
        serde_json::from_slice(&std::fs::read(&json).expect("vmaf output")).expect("json");
    let pooled = &theirs["pooled_metrics"];
    let frames = theirs["frames"].as_array().expect("frames").len() as u64;
    assert_eq!(ours["frames"].as_u64(), Some(frames));
    assert_eq!(frames, 120, "4 s at 29.97 fps, every picture compared");
    for (mine, tool) in [
        ("vmaf.mean", "vmaf.mean"),
        ("vmaf.harmonic_mean", "vmaf.harmonic_mean"),
        ("vmaf.min", "vmaf.min"),
        ("psnr_y_mean", "psnr_y.mean"),
        ("ssim_mean", "float_ssim.mean"),
    ] {
        let (a, b) = (f(ours, mine), f(pooled, tool));
        println!("{mine}: vodkit {a:.6}, vmaf tool {b:.6}");
        assert!((a - b).abs() < 0.1, "{mine}: vodkit {a}, vmaf tool {b}");
    }
    assert!(
        f(ours, "vmaf.mean") < 99.0,
        "a real loss is measured: {ours}"
    );
}

#[test]
fn pictures_pair_by_time_so_a_dropped_picture_shifts_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = textured();
    let src = source.to_str().expect("utf-8");
    let whole = rung(&source, dir.path(), "whole", "640x360", 20);
    // The same encode with picture 30 left out (its neighbours keep their timestamps).
    let gap = dir.path().join("clip_gap.mp4");
    ffmpeg(&[
        "-i",
        src,
        "-vf",
        "select='not(eq(n,30))'",
        "-fps_mode",
        "passthrough",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "20",
        "-an",
        gap.to_str().expect("utf-8"),
    ]);
    let scored = quality(
        &[
            src,
            whole.to_str().expect("utf-8"),
            gap.to_str().expect("utf-8"),
        ],
        dir.path(),
    )
    .expect("scored");
    let (w, g) = (&scored[0], &scored[1]);
    assert_eq!(g["frames"].as_u64(), Some(119), "one picture missing: {g}");
    // Counted by position, every picture after the gap would be compared with its
    // neighbour's source picture and the score would fall; paired by time it does not.
    assert!(
        (f(w, "vmaf.mean") - f(g, "vmaf.mean")).abs() < 1.0,
        "whole {} vs gap {}",
        w["vmaf"],
        g["vmaf"]
    );
    assert!((f(w, "psnr_y_mean") - f(g, "psnr_y_mean")).abs() < 0.5);
}

#[test]
fn identical_files_score_at_the_top_and_a_better_encode_higher_on_every_metric() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = textured();
    let same = quality(
        &[
            source.to_str().expect("utf-8"),
            source.to_str().expect("utf-8"),
        ],
        dir.path(),
    )
    .expect("scored");
    assert!(f(&same[0], "vmaf.mean") >= 99.0, "{}", same[0]);
    assert!(f(&same[0], "psnr_y_mean") >= 60.0, "{}", same[0]);
    assert!(f(&same[0], "ssim_mean") > 0.999, "{}", same[0]);

    let good = rung(&source, dir.path(), "crf18", "640x360", 18);
    let bad = rung(&source, dir.path(), "crf40", "640x360", 40);
    let scored = quality(
        &[
            source.to_str().expect("utf-8"),
            good.to_str().expect("utf-8"),
            bad.to_str().expect("utf-8"),
            "--every",
            "2",
        ],
        dir.path(),
    )
    .expect("scored");
    let (g, b) = (&scored[0], &scored[1]);
    assert_eq!(g["every"], 2);
    assert_eq!(g["frames_scored"].as_u64(), Some(60), "every second of 120");
    for metric in [
        "vmaf.mean",
        "vmaf.harmonic_mean",
        "vmaf.low_1pct",
        "vmaf.min",
        "ssim_mean",
        "psnr_y_mean",
        "psnr_yuv_mean",
    ] {
        assert!(
            f(g, metric) > f(b, metric),
            "{metric}: CRF 18 {g} vs CRF 40 {b}"
        );
    }
    assert!(f(g, "bits_per_pixel") > f(b, "bits_per_pixel"));
    assert_eq!(
        g["segment_vmaf"].as_array().map(Vec::len),
        Some(2),
        "4 s in 2 s segments"
    );
}

/// A preset that measures quality: the small test ladder's 320x240 rung alone.
const MEASURED: &str = r#"
name = "measured"
[video]
speed = "veryfast"
[stills]
count = 0
[quality]
measure = true
[[rung]]
width = 320
height = 320
max_bitrate_bps = 300000
"#;

#[test]
fn a_rotated_phone_clip_scores_like_the_same_clip_stored_upright() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rotated = common::rotated();
    // The same pictures stored upright (FFmpeg applies the display matrix), losslessly.
    let upright = dir.path().join("upright.mp4");
    ffmpeg(&[
        "-i",
        rotated.to_str().expect("utf-8"),
        "-c:v",
        "libx264",
        "-qp",
        "0",
        "-c:a",
        "copy",
        upright.to_str().expect("utf-8"),
    ]);
    let preset = dir.path().join("measured.toml");
    std::fs::write(&preset, MEASURED).expect("preset");
    let mut means = Vec::new();
    for (file, title) in [(&rotated, "rotated"), (&upright, "upright")] {
        let out = dir.path().join("out");
        let (code, stdout, stderr) = common::vodkit(
            &[
                "encode",
                file.to_str().expect("utf-8"),
                "--preset",
                preset.to_str().expect("utf-8"),
                "--out",
                out.to_str().expect("utf-8"),
                "--json",
            ],
            dir.path(),
        );
        assert_eq!(code, 0, "{stderr}");
        let event = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|e| e["event"] == "quality")
            .unwrap_or_else(|| panic!("{title}: no quality event in {stdout}"));
        let q = &event["quality"];
        assert_eq!(
            (
                q["reference_width"].as_u64(),
                q["reference_height"].as_u64()
            ),
            (Some(180), Some(320)),
            "{title}: the reference is upright"
        );
        means.push(f(q, "vmaf.mean"));

        // The manifest keeps it, quality.html shows it, and scoring the file afterwards gives
        // the same numbers as scoring it while it was encoded.
        let stem = file
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let title_dir = out.join(&stem);
        let manifest: Value = serde_json::from_slice(
            &std::fs::read(title_dir.join("manifest.json")).expect("manifest"),
        )
        .expect("json");
        assert_eq!(manifest["rungs"][0]["quality"]["vmaf"], q["vmaf"]);
        assert!(title_dir.join("quality.html").exists());
        let rung_file = title_dir.join(manifest["rungs"][0]["file"].as_str().expect("file"));
        let after = quality(
            &[
                file.to_str().expect("utf-8"),
                rung_file.to_str().expect("utf-8"),
            ],
            dir.path(),
        )
        .expect("scored afterwards");
        assert!(
            (f(&after[0], "vmaf.mean") - f(q, "vmaf.mean")).abs() < 1e-6,
            "{title}: afterwards {} vs during {}",
            after[0]["vmaf"],
            q["vmaf"]
        );
    }
    println!(
        "mean VMAF: rotated {:.3}, upright {:.3}",
        means[0], means[1]
    );
    assert!((means[0] - means[1]).abs() <= 0.5, "{means:?}");
    assert!(means[0] > 70.0, "a sane score: {means:?}");
}

#[test]
fn mismatched_files_are_refused_with_the_file_and_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = common::basic();
    let src = source.to_str().expect("utf-8");

    // A rung cut shorter than its source.
    let cut = dir.path().join("cut.mp4");
    ffmpeg(&[
        "-i",
        src,
        "-t",
        "2",
        "-c:v",
        "libx264",
        "-an",
        cut.to_str().expect("utf-8"),
    ]);
    let err = quality(&[src, cut.to_str().expect("utf-8")], dir.path()).expect_err("refused");
    assert!(err.contains("cut.mp4") && err.contains("lasts"), "{err}");

    // Audio only.
    let m4a = dir.path().join("sound.m4a");
    ffmpeg(&[
        "-i",
        src,
        "-vn",
        "-c:a",
        "copy",
        m4a.to_str().expect("utf-8"),
    ]);
    let err = quality(&[src, m4a.to_str().expect("utf-8")], dir.path()).expect_err("refused");
    assert!(
        err.contains("sound.m4a") && err.contains("no video"),
        "{err}"
    );

    // A rung of a title made from another source (its manifest says which).
    let out = dir.path().join("out");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            common::portrait().to_str().expect("utf-8"),
            "--preset",
            "phone-share",
            "--out",
            out.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let other = common::files_under(&out.join("portrait"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "mp4"))
        .expect("a rung");
    let err = quality(&[src, other.to_str().expect("utf-8")], dir.path()).expect_err("refused");
    assert!(
        err.contains(&*other.to_string_lossy()) && err.contains("portrait.mp4"),
        "{err}"
    );

    // Not a video at all.
    let err = quality(
        &[src, common::text_file().to_str().expect("utf-8")],
        dir.path(),
    )
    .expect_err("refused");
    assert!(err.contains("notes"), "{err}");
}

#[test]
fn the_report_renders_both_plots_in_chromium() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = textured();
    let rungs = [
        rung(&source, dir.path(), "180p", "320x180", 30),
        rung(&source, dir.path(), "360p", "640x360", 24),
    ];
    let html = dir.path().join("report.html");
    let (code, stdout, stderr) = common::vodkit(
        &[
            "quality",
            source.to_str().expect("utf-8"),
            rungs[0].to_str().expect("utf-8"),
            rungs[1].to_str().expect("utf-8"),
            "--every",
            "4",
            "--html",
            html.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("VMAF model vmaf_v0.6.1"), "{stdout}");
    let page = std::fs::read_to_string(&html).expect("report");
    assert_eq!(page.matches("<svg").count(), 2, "two plots");
    let rate = &page[page.find("id=\"rate-quality\"").expect("rate plot")..];
    let rate = &rate[..rate.find("</figure>").expect("end")];
    assert_eq!(rate.matches("<circle").count(), 2, "one point per rung");

    let shot = dir.path().join("report.png");
    let status = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1600,1000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium (make test-deps installs it)");
    assert!(shot.exists(), "{}", String::from_utf8_lossy(&status.stderr));
    let img = image::open(&shot).expect("png").to_rgb8();
    // The first rung's colour (the plots' blue) is drawn, and the page is far from blank.
    let blue = img.pixels().filter(|p| p.0 == [31, 119, 180]).count();
    let inked = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    println!("blue pixels {blue}, non-white {inked} of {}", img.len() / 3);
    assert!(blue > 100, "the plots' lines and points are drawn");
    assert!(inked > 10_000, "the page is not blank");
}

/// Two rungs, one at half rate, measured while encoding.
const MEASURED_LADDER: &str = r#"
name = "measured-ladder"
[video]
speed = "veryfast"
[stills]
count = 0
[quality]
measure = true
[[rung]]
width = 320
height = 180
max_bitrate_bps = 400000
frame_rate = 15.0
[[rung]]
width = 640
height = 360
max_bitrate_bps = 1500000
"#;

/// A camera's file: MPEG-TS whose clock starts at 1.4 s, BT.601 tags, 29.97 fps, grain that
/// changes every picture (a one-picture misalignment would show), and sound starting 0.5 s
/// after the picture. Scored while encoding and afterwards, both rungs line up picture for
/// picture and agree. (Afterwards FFmpeg's MP4 reader shows one picture fewer: the rung's edit
/// list ends with the source's video, 6.006 s, while the constant-rate sequence holds the last
/// picture one more slot; the scores differ by that one picture only.)
#[test]
fn a_camera_file_that_starts_late_in_bt601_scores_the_same_during_and_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ts = dir.path().join("camera.ts");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=640x360:r=30000/1001:d=6,noise=alls=12:allf=t",
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:sample_rate=48000:d=6",
        "-af",
        "adelay=500:all=1",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "12",
        "-colorspace",
        "smpte170m",
        "-color_primaries",
        "smpte170m",
        "-color_trc",
        "smpte170m",
        "-c:a",
        "aac",
        "-output_ts_offset",
        "1.4",
        "-f",
        "mpegts",
        ts.to_str().expect("utf-8"),
    ]);
    let preset = dir.path().join("measured-ladder.toml");
    std::fs::write(&preset, MEASURED_LADDER).expect("preset");
    let out = dir.path().join("out");
    let (code, stdout, stderr) = common::vodkit(
        &[
            "encode",
            ts.to_str().expect("utf-8"),
            "--preset",
            preset.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let during: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "quality")
        .map(|e| e["quality"].clone())
        .collect();
    assert_eq!(during.len(), 2, "{stdout}");
    let mut rungs = Vec::new();
    for q in &during {
        println!(
            "{}: VMAF {} PSNR-Y {}",
            q["rung"], q["vmaf"]["mean"], q["psnr_y_mean"]
        );
        assert!(f(q, "vmaf.mean") > 60.0, "{q}");
        assert!(f(q, "psnr_y_mean") > 28.0, "aligned pictures: {q}");
        rungs.push(out.join("camera").join(q["file"].as_str().expect("file")));
    }
    let mut args: Vec<&str> = vec![ts.to_str().expect("utf-8")];
    args.extend(rungs.iter().map(|r| r.to_str().expect("utf-8")));
    let after = quality(&args, dir.path()).expect("scored afterwards");
    for q in &during {
        let a = after
            .iter()
            .find(|a| a["file"] == q["file"])
            .expect("the same rung");
        let (fa, fq) = (f(a, "frames"), f(q, "frames"));
        assert!(fq - fa <= 1.0 && fa <= fq, "{a} {q}");
        // Every whole 2 s segment both scored agrees; a one-picture tail is the only difference.
        let seg = |v: &Value| -> Vec<f64> {
            v["segment_vmaf"]
                .as_array()
                .expect("segments")
                .iter()
                .filter_map(Value::as_f64)
                .collect()
        };
        let (sa, sq) = (seg(a), seg(q));
        for (x, y) in sa
            .iter()
            .zip(&sq)
            .take(sa.len().min(sq.len()).saturating_sub(1))
        {
            assert!((x - y).abs() < 0.05, "afterwards {sa:?} vs during {sq:?}");
        }
    }
}
