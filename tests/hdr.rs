//! HDR kept: a phone's HDR10 (PQ) clip and an HLG clip through a preset with `hdr = "keep"`
//! give H.265 Main 10 and 10-bit AV1 rungs that stay HDR (BT.2020 tags, the source's transfer,
//! the mastering display and light levels in the bitstream and the MP4, the picture's code
//! values unchanged, not tone-mapped), an H.264 rung beside them that is SDR BT.709 as before,
//! HLS VIDEO-RANGE and DASH colour properties per set, and a MediaConvert job that keeps the
//! same rungs HDR and validates against the model.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const PRESET: &str = r#"
name = "hdr-keep-test"
[video]
speed = "ultrafast"
hdr = "keep"
[stills]
count = 1
[quality]
measure = true
every = 5
[packaging]
hls = true
dash = true
[[rung]]
width = 640
height = 360
codec = "h265"
max_bitrate_bps = 2000000
[[rung]]
width = 480
height = 270
codec = "av1"
max_bitrate_bps = 1200000
[[rung]]
width = 320
height = 180
max_bitrate_bps = 600000
"#;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

fn stream(path: &Path) -> Value {
    let probe = common::ffprobe(path);
    probe["streams"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["codec_type"] == "video"))
        .cloned()
        .unwrap_or(Value::Null)
}

/// ffprobe's JSON for `path` with `args` (what to show).
fn probe_json(path: &Path, args: &[&str]) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .arg(path)
        .output()
        .expect("ffprobe");
    serde_json::from_slice(&out.stdout).expect("json")
}

/// The side data of the first decoded picture, by type.
fn frame_side_data(path: &Path) -> Vec<Value> {
    let v = probe_json(
        path,
        &[
            "-select_streams",
            "v:0",
            "-read_intervals",
            "%+#1",
            "-show_frames",
        ],
    );
    v["frames"][0]["side_data_list"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Mean luma of the top-left patch (inside the source's flat box, scaled to the rung) of the
/// first picture, on a 0-1 scale of the stream's own code values.
fn patch_luma(path: &Path, width: u32) -> f64 {
    // The box is the source's top-left quarter in each direction; sample well inside it.
    let (w, h) = (width / 8, width * 9 / 16 / 8);
    let crop = format!(
        "crop={w}:{h}:{}:{},signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-",
        width / 32,
        width * 9 / 16 / 32
    );
    let out = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            s(path),
            "-frames:v",
            "1",
            "-vf",
            &crop,
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("ffmpeg");
    let text = String::from_utf8_lossy(&out.stdout);
    let yavg: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("lavfi.signalstats.YAVG="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no YAVG for {}: {text}", path.display()));
    let depth: f64 = stream(path)["bits_per_raw_sample"]
        .as_str()
        .and_then(|b| b.parse().ok())
        .unwrap_or(
            if stream(path)["pix_fmt"]
                .as_str()
                .is_some_and(|p| p.contains("10"))
            {
                10.0
            } else {
                8.0
            },
        );
    yavg / (2f64.powf(depth) - 1.0)
}

/// `"13250/50000"` as a number.
fn fraction(v: &Value) -> f64 {
    let text = v.as_str().unwrap_or("");
    let (n, d) = text.split_once('/').unwrap_or((text, "1"));
    n.parse::<f64>().unwrap_or(f64::NAN) / d.parse::<f64>().unwrap_or(f64::NAN)
}

fn encode(source: &Path, out: &Path) -> PathBuf {
    let preset = out.with_extension("toml");
    std::fs::create_dir_all(out).expect("out");
    std::fs::write(&preset, PRESET).expect("preset");
    let (code, _, stderr) = common::vodkit(
        &["encode", s(source), "--preset", s(&preset), "--out", s(out)],
        out,
    );
    assert_eq!(code, 0, "{stderr}");
    out.join(source.file_stem().expect("stem"))
}

fn check(pq: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = common::hdr_clip(pq);
    let title = encode(&source, &dir.path().join("out"));
    let stem = source
        .file_stem()
        .expect("stem")
        .to_string_lossy()
        .into_owned();
    let rung = |n: &str| title.join(format!("{stem}_{n}.mp4"));
    let transfer = if pq { "smpte2084" } else { "arib-std-b67" };
    let label = if pq { "PQ" } else { "HLG" };

    // The HDR rungs: 10-bit, BT.2020, the source's transfer.
    for (name, codec, profile) in [("360p", "hevc", "Main 10"), ("270p_av1", "av1", "Main")] {
        let v = stream(&rung(name));
        assert_eq!(v["codec_name"], codec, "{name}: {v}");
        assert_eq!(v["profile"], profile, "{name}: {v}");
        assert_eq!(v["pix_fmt"], "yuv420p10le", "{name}: {v}");
        assert_eq!(v["color_primaries"], "bt2020", "{name}: {v}");
        assert_eq!(v["color_transfer"], transfer, "{name}: {v}");
        assert_eq!(v["color_space"], "bt2020nc", "{name}: {v}");
        assert_eq!(v["color_range"], "tv", "{name}: {v}");
        // The picture is the source's, not tone-mapped: the grey patch keeps its code value.
        let (got, want) = (
            patch_luma(&rung(name), v["width"].as_u64().unwrap_or(0) as u32),
            patch_luma(&source, 640),
        );
        assert!(
            (got - want).abs() < 0.01,
            "{name}: patch luma {got:.4} vs the source's {want:.4}"
        );
    }
    // Each rung measured against the source as it is meant to look: the HDR rungs against
    // the untouched HDR pictures (against tone-mapped ones they would score far lower).
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(title.join("manifest.json")).expect("manifest"))
            .expect("json");
    for r in manifest["rungs"].as_array().expect("rungs") {
        let vmaf = r["quality"]["vmaf"]["mean"].as_f64().unwrap_or(0.0);
        assert!(vmaf > 80.0, "{}: VMAF {vmaf}", r["name"]);
    }
    // The SDR rung beside them: 8-bit BT.709, tone-mapped (the patch's code value changes).
    let sdr = stream(&rung("180p"));
    assert_eq!(sdr["codec_name"], "h264");
    assert_eq!(sdr["pix_fmt"], "yuv420p");
    assert_eq!(sdr["color_transfer"], "bt709");
    assert_eq!(sdr["color_primaries"], "bt709");
    let (sdr_patch, src_patch) = (patch_luma(&rung("180p"), 320), patch_luma(&source, 640));
    if pq {
        assert!(
            (sdr_patch - src_patch).abs() > 0.03,
            "the SDR rung's patch ({sdr_patch:.3}) is the PQ code value ({src_patch:.3}): not tone-mapped"
        );
    }
    // ... and the same picture a tone-mapping preset makes of the source on its own.
    let alone = dir.path().join("sdr-only");
    std::fs::create_dir_all(&alone).expect("dir");
    let sdr_preset = alone.join("sdr.toml");
    std::fs::write(
        &sdr_preset,
        "name = \"sdr-only\"\n[video]\nspeed = \"ultrafast\"\n[stills]\ncount = 0\n[[rung]]\nwidth = 320\nheight = 180\nmax_bitrate_bps = 600000\n",
    )
    .expect("preset");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            s(&source),
            "--preset",
            s(&sdr_preset),
            "--out",
            s(&alone),
        ],
        &alone,
    );
    assert_eq!(code, 0, "{stderr}");
    let today = patch_luma(&alone.join(&stem).join(format!("{stem}_180p.mp4")), 320);
    assert!(
        (sdr_patch - today).abs() < 0.01,
        "the SDR rung beside HDR rungs ({sdr_patch:.3}) differs from a tone-mapped encode ({today:.3})"
    );

    // HDR10 metadata: in each HDR rung's bitstream (first picture) and MP4 (stream side
    // data), as the source states it; HLG sources state none, and none is invented.
    for name in ["360p", "270p_av1"] {
        let frame = frame_side_data(&rung(name));
        let mastering = frame
            .iter()
            .find(|d| d["side_data_type"] == "Mastering display metadata");
        let light = frame
            .iter()
            .find(|d| d["side_data_type"] == "Content light level metadata");
        if pq {
            let m = mastering.unwrap_or_else(|| panic!("{name}: no mastering display: {frame:?}"));
            // HEVC states chromaticities in 1/50000, AV1 in 1/65536: compare the values.
            for (key, want) in [
                ("green_x", 0.265),
                ("green_y", 0.69),
                ("red_y", 0.32),
                ("blue_x", 0.15),
                ("white_point_x", 0.3127),
                ("max_luminance", 1000.0),
            ] {
                let got = fraction(&m[key]);
                assert!(
                    (got - want).abs() <= want * 1e-3,
                    "{name}: {key} {got} instead of {want}: {m}"
                );
            }
            let l = light.unwrap_or_else(|| panic!("{name}: no light levels: {frame:?}"));
            assert_eq!(l["max_content"], 1000, "{name}: {l}");
            assert_eq!(l["max_average"], 400, "{name}: {l}");
            let side = stream(&rung(name))["side_data_list"].to_string();
            assert!(
                side.contains("Mastering display metadata") && side.contains("Content light level"),
                "{name}: the MP4 does not state the metadata: {side}"
            );
        } else {
            assert!(mastering.is_none() && light.is_none(), "{name}: {frame:?}");
        }
    }

    // HLS: VIDEO-RANGE per variant; DASH: the HDR sets' colour properties.
    let master = std::fs::read_to_string(title.join("index.m3u8")).expect("m3u8");
    for (uri, range) in [("360p", label), ("270p_av1", label), ("180p", "SDR")] {
        let line = master
            .lines()
            .zip(master.lines().skip(1))
            .find(|(_, u)| *u == format!("stream/{uri}.m3u8"))
            .map(|(l, _)| l)
            .unwrap_or_else(|| panic!("{uri} not in {master}"));
        assert!(
            line.contains(&format!("VIDEO-RANGE={range}")),
            "{uri}: {line}"
        );
    }
    let mpd = std::fs::read_to_string(title.join("index.mpd")).expect("mpd");
    let code = if pq { "16" } else { "18" };
    let sets: Vec<&str> = mpd
        .split("<AdaptationSet")
        .skip(1)
        .filter(|a| a.contains("contentType=\"video\""))
        .collect();
    assert_eq!(sets.len(), 3, "one set per codec and range: {mpd}");
    for set in &sets {
        let hdr = set.contains("codecs=\"hvc1") || set.contains("codecs=\"av01");
        assert_eq!(
            set.contains(&format!(
                "<EssentialProperty schemeIdUri=\"urn:mpeg:mpegB:cicp:TransferCharacteristics\" value=\"{code}\""
            )),
            hdr,
            "{set}"
        );
    }
    // Packaged, every segment carries the metadata too: the encoders repeat it on each key
    // frame (HEVC SEI, AV1 metadata OBUs), so a player joining at any segment has it.
    if pq {
        for name in ["360p", "270p_av1"] {
            let v = probe_json(
                &title.join(format!("stream/{name}.m3u8")),
                &[
                    "-select_streams",
                    "v:0",
                    "-show_frames",
                    "-show_entries",
                    "frame=key_frame:frame_side_data=side_data_type",
                ],
            );
            let keys: Vec<&Value> = v["frames"]
                .as_array()
                .expect("frames")
                .iter()
                .filter(|f| f["key_frame"] == 1)
                .collect();
            assert!(keys.len() >= 2, "{name}: {} key frames", keys.len());
            for k in &keys {
                assert!(
                    k["side_data_list"]
                        .to_string()
                        .contains("Mastering display metadata"),
                    "{name}: a key frame without HDR10 metadata: {k}"
                );
            }
        }
    }
    // FFmpeg plays the HDR rung's HLS with its tags.
    let v = probe_json(&title.join("stream/360p.m3u8"), &["-show_streams"]);
    assert_eq!(v["streams"][0]["color_transfer"], transfer, "{v}");

    // The cloud job keeps the same rungs HDR, and validates.
    let preset = dir.path().join("out.toml");
    let (job, text) = common::cloud_job_json(&source, &preset, dir.path());
    let outputs = job["Settings"]["OutputGroups"][0]["Outputs"]
        .as_array()
        .expect("outputs");
    let conversion = |o: &Value| {
        o["VideoDescription"]["VideoPreprocessors"]["ColorCorrector"]["ColorSpaceConversion"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let want = if pq { "FORCE_HDR10" } else { "FORCE_HLG_2020" };
    assert_eq!(conversion(&outputs[0]), want, "{job}");
    assert_eq!(conversion(&outputs[1]), want, "{job}");
    assert_eq!(conversion(&outputs[2]), "FORCE_709", "{job}");
    assert_eq!(
        outputs[0]["VideoDescription"]["CodecSettings"]["H265Settings"]["CodecProfile"],
        "MAIN10_MAIN"
    );
    assert_eq!(
        outputs[1]["VideoDescription"]["CodecSettings"]["Av1Settings"]["BitDepth"],
        "BIT_10"
    );
    if pq {
        let m = &outputs[0]["VideoDescription"]["VideoPreprocessors"]["ColorCorrector"]["Hdr10Metadata"];
        assert_eq!(m["GreenPrimaryX"], 13250, "{m}");
        assert_eq!(m["MaxLuminance"], 10_000_000, "{m}");
        assert_eq!(m["MaxContentLightLevel"], 1000, "{m}");
    }
    common::assert_valid_mediaconvert(&text, dir.path());
}

#[test]
fn an_hdr10_source_keeps_pq_and_its_metadata_beside_an_sdr_rung() {
    check(true);
}

#[test]
fn an_hlg_source_keeps_hlg_beside_an_sdr_rung() {
    check(false);
}
