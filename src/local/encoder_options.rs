//! The x264/x265 settings for one rung: QVBR-style quality mapped to CRF, capped by the rung's
//! max bitrate with a VBV buffer, GOP, B-frames, references, AQ, profile and level.
//!
//! Quality mapping (MediaConvert QVBR level -> constant rate factor):
//! H.264 CRF = 39 - 2 x level (level 8 -> 23, x264's own default; 10 -> 19; 1 -> 37);
//! H.265 CRF = H.264 CRF + 4 (x265 spends about that many CRF steps less for the same look);
//! AV1 CRF (SVT-AV1's 0-63 scale) = H.264 CRF + 12 (level 8 -> 35), checked with VMAF by
//! `VODKIT_BENCH=av1 make bench`.
//! The VBV cap (`vbv-maxrate` = max bitrate, `vbv-bufsize` = buffer) bounds every rung's peaks,
//! as QVBR's max bitrate does.
//!
//! GOPs: IDR frames are forced on the ladder's keyframe grid ([`crate::timing`]); `keyint` is
//! the grid's longest distance plus one frame, so the encoder never adds an IDR of its own
//! between two boundaries. `closed_gop` is said explicitly to both encoders (`open-gop=0`):
//! FFmpeg's libx264 wrapper otherwise turns open GOPs on.
//!
//! SVT-AV1 (1.4, through FFmpeg 5.1's libsvtav1) ignores a frame's picture type unless
//! `enable-force-key-frames=1` is set, and then only in its random-access CRF mode: AV1 rungs
//! are capped CRF (`crf` with `mbr`, SVT-AV1's counterpart of QVBR with a
//! max bitrate), key frames on the grid, `keyint` past the grid's longest GOP and scene-change
//! detection off so it adds none of its own. SVT-AV1's hierarchical mini-GOPs replace B-frame
//! and reference counts, which it does not take.

use crate::plan::PlannedRung;
use crate::preset::{AdaptiveQuantization, Codec, Profile, VideoSettings};
use crate::timing::KeyframeGrid;

/// The constant rate factor for a quality level (1-10) and codec.
pub fn crf(codec: Codec, quality_level: u8) -> u8 {
    let h264 = 39 - 2 * quality_level.clamp(1, 10);
    match codec {
        Codec::H264 => h264,
        Codec::H265 => h264 + 4,
        Codec::Av1 => h264 + 12,
    }
}

/// SVT-AV1's preset (0 slowest - 13 fastest) for an x264-style speed name.
pub fn svt_av1_preset(speed: &str) -> u8 {
    match speed {
        "placebo" => 2,
        "veryslow" => 4,
        "slower" => 5,
        "slow" => 6,
        "fast" => 9,
        "faster" => 10,
        "veryfast" => 11,
        "superfast" => 12,
        "ultrafast" => 13,
        _ => 8,
    }
}

/// An encoder and the options to open it with.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderSetup {
    /// FFmpeg encoder name (`libx264`, `libx265`).
    pub encoder: &'static str,
    /// Options for `avcodec_open2`, in order.
    pub options: Vec<(String, String)>,
}

/// Builds the encoder options for a rung of a ladder whose keyframes follow `grid`.
pub fn setup(rung: &PlannedRung, video: &VideoSettings, grid: &KeyframeGrid) -> EncoderSetup {
    if rung.codec == Codec::Av1 {
        return av1(rung, video, grid);
    }
    let kbps = rung.max_bitrate_bps.div_ceil(1000);
    let buffer_kbits = rung.buffer_bits.div_ceil(1000);
    let (aq_mode, aq_strength) = match video.adaptive_quantization {
        AdaptiveQuantization::Off => (0, 0.0),
        AdaptiveQuantization::Low => (1, 0.6),
        AdaptiveQuantization::Medium => (1, 0.8),
        AdaptiveQuantization::High => (1, 1.0),
        AdaptiveQuantization::Higher => (1, 1.2),
        AdaptiveQuantization::Max => (1, 1.5),
    };
    let baseline = rung.codec == Codec::H264 && rung.profile == Profile::Baseline;
    let b_frames = if baseline { 0 } else { video.b_frames };
    let scenecut = if video.scene_change_detection { 40 } else { 0 };
    let crf = crf(
        rung.codec,
        rung.quality_level.unwrap_or(video.quality_level),
    );
    let init = f64::from(video.hrd_initial_fill_percent) / 100.0;
    let mut params = vec![
        format!("keyint={}", keyint_frames(rung, grid)),
        format!("scenecut={scenecut}"),
        format!("bframes={b_frames}"),
        format!("ref={}", video.reference_frames),
        match &rung.two_pass {
            // Two passes to an average bitrate (a target size): no constant rate factor.
            Some(t) => format!("bitrate={}", t.bitrate_bps.div_ceil(1000)),
            None => format!("crf={crf}"),
        },
        format!("vbv-maxrate={kbps}"),
        format!("vbv-bufsize={buffer_kbits}"),
        format!("vbv-init={init}"),
        format!("aq-mode={aq_mode}"),
        format!("aq-strength={aq_strength}"),
    ];
    match rung.codec {
        Codec::H264 => {
            params.push(format!("open-gop={}", u8::from(!video.closed_gop)));
            params.push("force-cfr=1".to_owned());
            // The pass itself is the codec context's flag; the statistics file an option of
            // its own (a path may hold the `:` that separates x264-params).
            let stats = rung
                .two_pass
                .as_ref()
                .map(|t| ("stats".to_owned(), t.stats.display().to_string()));
            EncoderSetup {
                encoder: "libx264",
                options: stats
                    .into_iter()
                    .chain(vec![
                        ("preset".to_owned(), video.speed.clone()),
                        (
                            "profile".to_owned(),
                            match rung.profile {
                                Profile::Baseline => "baseline",
                                Profile::Main | Profile::Main10 => "main",
                                Profile::High => "high",
                            }
                            .to_owned(),
                        ),
                        ("level".to_owned(), rung.level.clone()),
                        ("forced-idr".to_owned(), "1".to_owned()),
                        ("x264-params".to_owned(), params.join(":")),
                    ])
                    .collect(),
            }
        }
        Codec::H265 | Codec::Av1 => {
            params.push(format!("open-gop={}", u8::from(!video.closed_gop)));
            params.push(format!("level-idc={}", rung.level));
            if let Some(hdr) = &rung.hdr {
                params.extend(x265_hdr(hdr));
            }
            params.push("log-level=error".to_owned());
            if let Some(t) = &rung.two_pass {
                params.push(format!("pass={}", t.pass));
                // x265-params splits on `:` and reads `\` as an escape.
                let path = t.stats.display().to_string();
                params.push(format!(
                    "stats={}",
                    path.replace('\\', "\\\\").replace(':', "\\:")
                ));
            }
            EncoderSetup {
                encoder: "libx265",
                options: vec![
                    ("preset".to_owned(), video.speed.clone()),
                    (
                        "profile".to_owned(),
                        if rung.hdr.is_some() { "main10" } else { "main" }.to_owned(),
                    ),
                    ("forced-idr".to_owned(), "1".to_owned()),
                    ("x265-params".to_owned(), params.join(":")),
                ],
            }
        }
    }
}

/// x265's HDR options: BT.2020 colour with the source's transfer in the VUI, and for PQ the
/// HDR10 SEI (mastering display, content light) with x265's HDR10 rate-control tuning.
fn x265_hdr(hdr: &crate::plan::KeptHdr) -> Vec<String> {
    let mut out = vec![
        "colorprim=bt2020".to_owned(),
        format!(
            "transfer={}",
            if hdr.is_hlg() {
                "arib-std-b67"
            } else {
                "smpte2084"
            }
        ),
        "colormatrix=bt2020nc".to_owned(),
        "range=limited".to_owned(),
    ];
    if !hdr.is_hlg() {
        out.push("hdr10=1".to_owned());
        out.push("hdr10-opt=1".to_owned());
    }
    if let Some(m) = hdr.metadata.mastering_display {
        out.push(format!("master-display={}", m.x265()));
    }
    if let Some(c) = hdr.metadata.content_light {
        out.push(format!("max-cll={},{}", c.max_cll, c.max_fall));
    }
    out
}

/// The rung's keyframe interval in its own frames: one past the grid's longest GOP, so the
/// encoder adds no key frame of its own between two boundaries.
fn keyint_frames(rung: &PlannedRung, grid: &KeyframeGrid) -> u64 {
    grid.max_gop_frames()
        .div_ceil(u64::from(rung.frame_step.max(1)))
        .max(u64::from(rung.gop_frames))
        + 1
}

/// SVT-AV1: capped CRF, key frames only where the grid forces them, closed GOPs (every forced
/// frame a KEY_FRAME, which resets all references).
fn av1(rung: &PlannedRung, video: &VideoSettings, grid: &KeyframeGrid) -> EncoderSetup {
    let crf = crf(
        Codec::Av1,
        rung.quality_level.unwrap_or(video.quality_level),
    );
    let aq_mode = match video.adaptive_quantization {
        AdaptiveQuantization::Off => 0,
        _ => 2,
    };
    let mut params = vec![
        format!("keyint={}", keyint_frames(rung, grid)),
        "scd=0".to_owned(),
        "enable-force-key-frames=1".to_owned(),
        "irefresh-type=2".to_owned(),
        // SVT-AV1 has no VBV: `mbr` caps a window's average and lets hard passages overshoot
        // it by half (its default). Any tighter limit starves the 2 s key frames on hard
        // content: on grain at level 8, 10 % gave VMAF 87.7 and none 86.1 against 90.3 with
        // the default, so the default stays (the 540p test clip runs 19 % over on average; the
        // manifests announce the measured peaks).
        format!("mbr={}", rung.max_bitrate_bps.div_ceil(1000)),
        format!("aq-mode={aq_mode}"),
        format!("level={}", rung.level),
    ];
    if let Some(hdr) = &rung.hdr {
        // The 10-bit depth follows the pictures' pixel format; the colour description and the
        // HDR10 metadata are said here (sequence header and metadata OBUs).
        params.push("enable-hdr=1".to_owned());
        params.push("color-primaries=9".to_owned());
        params.push(format!(
            "transfer-characteristics={}",
            if hdr.is_hlg() { 18 } else { 16 }
        ));
        params.push("matrix-coefficients=9".to_owned());
        params.push("color-range=0".to_owned());
        if let Some(m) = hdr.metadata.mastering_display {
            params.push(format!("mastering-display={}", m.svt_av1()));
        }
        if let Some(c) = hdr.metadata.content_light {
            params.push(format!("content-light={},{}", c.max_cll, c.max_fall));
        }
    }
    EncoderSetup {
        encoder: "libsvtav1",
        options: vec![
            (
                "preset".to_owned(),
                svt_av1_preset(&video.speed).to_string(),
            ),
            ("crf".to_owned(), crf.to_string()),
            ("svtav1-params".to_owned(), params.join(":")),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{FrameRate, RungStatus};

    /// The encoder's `key` parameter list, checked to hold every one of `wants`.
    fn params_with<'a>(s: &'a EncoderSetup, key: &str, wants: &[&str]) -> &'a str {
        let params = &s
            .options
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("no {key}"))
            .1;
        for want in wants {
            assert!(
                params.split(':').any(|p| p == *want),
                "{want} missing from {params}"
            );
        }
        params
    }

    fn grid() -> KeyframeGrid {
        KeyframeGrid::new(30000, 1001, 2.0, &[1])
    }

    fn rung(codec: Codec, profile: Profile) -> PlannedRung {
        PlannedRung {
            name: "1080p".into(),
            preset_index: 4,
            status: RungStatus::Kept,
            resized: false,
            capped: false,
            reasons: vec![],
            width: 1920,
            height: 1080,
            codec,
            profile,
            level: "4.2".into(),
            max_bitrate_bps: 6_000_000,
            buffer_bits: 12_000_000,
            frame_rate: FrameRate {
                num: 30000,
                den: 1001,
            },
            frame_step: 1,
            gop_frames: 60,
            estimated_bytes: 0,
            quality_level: None,
            two_pass: None,
            predicted_vmaf: None,
            hdr: None,
        }
    }

    #[test]
    fn quality_levels_map_to_crf() {
        assert_eq!(crf(Codec::H264, 8), 23);
        assert_eq!(crf(Codec::H264, 10), 19);
        assert_eq!(crf(Codec::H264, 1), 37);
        assert_eq!(crf(Codec::H265, 8), 27);
        assert_eq!(crf(Codec::H264, 0), 37, "clamped");
        assert_eq!(crf(Codec::Av1, 8), 35);
    }

    #[test]
    fn hdr_rungs_say_their_colour_and_metadata() {
        let meta = crate::probe::hdr::HdrMetadata {
            mastering_display: Some(crate::probe::hdr::MasteringDisplay {
                gbr_50000: [[13_250, 34_500], [7_500, 3_000], [34_000, 16_000]],
                white_point_50000: [15_635, 16_450],
                max_luminance_10000: 10_000_000,
                min_luminance_10000: 1,
            }),
            content_light: Some(crate::probe::hdr::ContentLight {
                max_cll: 1000,
                max_fall: 400,
            }),
        };
        let mut h = rung(Codec::H265, Profile::Main10);
        h.hdr = Some(crate::plan::KeptHdr {
            transfer: "PQ".into(),
            metadata: meta,
        });
        let s = setup(&h, &VideoSettings::default(), &grid());
        assert!(s.options.contains(&("profile".into(), "main10".into())));
        params_with(
            &s,
            "x265-params",
            &[
                "colorprim=bt2020",
                "transfer=smpte2084",
                "colormatrix=bt2020nc",
                "hdr10=1",
                "master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)",
                "max-cll=1000,400",
            ],
        );
        let mut a = rung(Codec::Av1, Profile::Main);
        a.level = "4.0".into();
        a.hdr = Some(crate::plan::KeptHdr {
            transfer: "HLG".into(),
            metadata: crate::probe::hdr::HdrMetadata::default(),
        });
        let s = setup(&a, &VideoSettings::default(), &grid());
        let params = params_with(
            &s,
            "svtav1-params",
            &[
                "enable-hdr=1",
                "color-primaries=9",
                "transfer-characteristics=18",
                "matrix-coefficients=9",
            ],
        );
        assert!(
            !params.contains("mastering-display"),
            "HLG states none: {params}"
        );
    }

    #[test]
    fn av1_keys_only_on_the_grid_under_a_cap() {
        let mut r = rung(Codec::Av1, Profile::Main);
        r.level = "4.0".into();
        let s = setup(&r, &VideoSettings::default(), &grid());
        assert_eq!(s.encoder, "libsvtav1");
        assert!(s.options.contains(&("crf".into(), "35".into())));
        assert!(s.options.contains(&("preset".into(), "8".into())));
        params_with(
            &s,
            "svtav1-params",
            &[
                "keyint=62",
                "scd=0",
                "enable-force-key-frames=1",
                "mbr=6000",
                "level=4.0",
            ],
        );
    }

    #[test]
    fn the_reference_1080p_rung() {
        let s = setup(
            &rung(Codec::H264, Profile::High),
            &VideoSettings::default(),
            &grid(),
        );
        assert_eq!(s.encoder, "libx264");
        params_with(
            &s,
            "x264-params",
            &[
                "keyint=62",
                "open-gop=0",
                "bframes=1",
                "ref=3",
                "crf=23",
                "vbv-maxrate=6000",
                "vbv-bufsize=12000",
                "vbv-init=0.9",
                "scenecut=40",
            ],
        );
        assert!(s.options.contains(&("level".into(), "4.2".into())));
        assert!(s.options.contains(&("forced-idr".into(), "1".into())));
    }

    #[test]
    fn baseline_has_no_b_frames_and_hevc_closes_gops() {
        let s = setup(
            &rung(Codec::H264, Profile::Baseline),
            &VideoSettings::default(),
            &grid(),
        );
        assert!(s.options.iter().any(|(_, v)| v.contains("bframes=0")));
        let h = setup(
            &rung(Codec::H265, Profile::Main),
            &VideoSettings::default(),
            &grid(),
        );
        assert_eq!(h.encoder, "libx265");
        let params = params_with(&h, "x265-params", &[]);
        assert!(
            params.contains("open-gop=0") && params.contains("crf=27"),
            "{params}"
        );
    }
}
