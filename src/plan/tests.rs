//! Planning rules, one test each, on synthetic probe results.

use super::*;
use crate::preset::store::builtins;
use crate::probe::{AudioInfo, StreamInfo, StreamKind, VideoInfo};

fn preset(name: &str) -> Preset {
    builtins()
        .into_iter()
        .find(|p| p.name == name)
        .expect("built-in preset")
}

struct Source {
    width: u32,
    height: u32,
    rotation_deg: u32,
    sar: &'static str,
    fps: &'static str,
    video_bps: Option<u64>,
    audio_channels: Option<u32>,
    vfr: bool,
    codec: &'static str,
    video_start: Option<f64>,
    audio_start: Option<f64>,
    hdr: Option<&'static str>,
}

impl Default for Source {
    fn default() -> Self {
        Self {
            width: 1920,
            height: 1080,
            rotation_deg: 0,
            sar: "1:1",
            fps: "30000/1001",
            video_bps: Some(20_000_000),
            audio_channels: Some(2),
            vfr: false,
            codec: "h264",
            video_start: Some(0.0),
            audio_start: Some(0.0),
            hdr: None,
        }
    }
}

impl Source {
    fn info(&self) -> MediaInfo {
        let (n, d) = self.sar.split_once(':').expect("sar");
        let (n, d): (u32, u32) = (n.parse().expect("n"), d.parse().expect("d"));
        let square_w = self.width * n / d;
        let (dw, dh) = if self.rotation_deg % 180 == 90 {
            (self.height, square_w)
        } else {
            (square_w, self.height)
        };
        let mut streams = vec![StreamInfo {
            index: 0,
            kind: StreamKind::Video,
            codec: self.codec.into(),
            profile: Some("High".into()),
            bitrate_bps: self.video_bps,
            duration_secs: Some(60.0),
            start_secs: self.video_start,
            language: None,
            title: None,
            flags: Vec::new(),
            video: Some(VideoInfo {
                level: Some("4".into()),
                width: self.width,
                height: self.height,
                sample_aspect_ratio: self.sar.into(),
                display_aspect_ratio: "16:9".into(),
                rotation_deg: self.rotation_deg,
                display_width: dw,
                display_height: dh,
                avg_frame_rate: FrameRate::parse(self.fps).map(FrameRate::fps),
                avg_frame_rate_ratio: Some(self.fps.into()),
                real_frame_rate: None,
                variable_frame_rate: self.vfr,
                frame_count: None,
                pixel_format: Some("yuv420p".into()),
                bit_depth: Some(8),
                color_primaries: None,
                color_transfer: None,
                color_matrix: None,
                color_range: None,
                hdr: self.hdr.map(str::to_owned),
                hdr_metadata: Default::default(),
                field_order: "progressive".into(),
                interlaced: false,
                black_borders: None,
            }),
            audio: None,
        }];
        if let Some(channels) = self.audio_channels {
            streams.push(StreamInfo {
                index: 1,
                kind: StreamKind::Audio,
                codec: "aac".into(),
                profile: Some("LC".into()),
                bitrate_bps: Some(128_000),
                duration_secs: Some(60.0),
                start_secs: self.audio_start,
                language: Some("eng".into()),
                title: None,
                flags: Vec::new(),
                video: None,
                audio: Some(AudioInfo {
                    channels,
                    channel_layout: Some(if channels == 6 { "5.1" } else { "stereo" }.into()),
                    sample_rate_hz: 48_000,
                }),
            });
        }
        MediaInfo {
            path: "clip.mov".into(),
            title: "clip".into(),
            container: "mov,mp4,m4a,3gp,3g2,mj2".into(),
            container_long: None,
            duration_secs: Some(60.0),
            size_bytes: 150_000_000,
            bitrate_bps: self.video_bps.map(|b| b + 128_000),
            creation_time: None,
            location: None,
            streams,
            warnings: vec![],
            sidecars: Default::default(),
            chapters: Vec::new(),
            tags: Vec::new(),
        }
    }
}

fn made(plan: &Plan) -> Vec<(u32, u32)> {
    plan.made_rungs().map(|r| (r.width, r.height)).collect()
}

#[test]
fn a_1080p_source_keeps_every_rung_up_to_1080p() {
    let plan = plan(&Source::default().info(), &preset("web-ladder")).expect("plan");
    assert_eq!(
        made(&plan),
        vec![
            (480, 270),
            (640, 360),
            (854, 480),
            (1280, 720),
            (1920, 1080)
        ]
    );
    let four_k = &plan.rungs[5];
    assert_eq!(four_k.status, RungStatus::Dropped);
    assert!(
        four_k.reasons[0].contains("larger than the source"),
        "{:?}",
        four_k.reasons
    );
    assert!(plan.made_rungs().all(|r| r.status == RungStatus::Kept));
}

#[test]
fn no_rung_exceeds_the_source_bitrate_and_duplicates_go() {
    let src = Source {
        video_bps: Some(800_000),
        ..Source::default()
    };
    let plan = plan(&src.info(), &preset("web-ladder")).expect("plan");
    for r in plan.made_rungs() {
        assert!(r.max_bitrate_bps <= 800_000, "{r:?}");
    }
    // 480p (1 Mb/s) is capped to 800 kb/s; 720p and 1080p would be capped to the same
    // 800 kb/s and so repeat 480p's bitrate at a larger size: only the largest capped one stays.
    let capped: Vec<_> = plan.made_rungs().filter(|r| r.capped).collect();
    assert_eq!(capped.len(), 1, "{capped:?}");
    assert_eq!((capped[0].width, capped[0].height), (1920, 1080));
    assert_eq!(capped[0].status, RungStatus::Capped);
    assert_eq!(made(&plan), vec![(480, 270), (640, 360), (1920, 1080)]);
    let dropped_480 = &plan.rungs[2];
    assert_eq!(dropped_480.status, RungStatus::Dropped);
    assert!(
        dropped_480.reasons[0].contains("after capping"),
        "{:?}",
        dropped_480.reasons
    );
}

#[test]
fn a_tiny_source_still_gets_one_rung_at_its_own_size() {
    let src = Source {
        width: 320,
        height: 240,
        ..Source::default()
    };
    let plan = plan(&src.info(), &preset("web-ladder")).expect("plan");
    assert_eq!(made(&plan), vec![(320, 240)]);
    let r = plan.made_rungs().next().expect("one");
    assert_eq!(r.status, RungStatus::Resized);
    assert!(
        r.reasons[0].contains("smaller than every rung"),
        "{:?}",
        r.reasons
    );
    assert_eq!(r.name, "240p");
}

#[test]
fn web_ladder_av1_keeps_both_sets_and_names_the_av1_rungs() {
    let plan = plan(&Source::default().info(), &preset("web-ladder-av1")).expect("plan");
    let rungs: Vec<(String, Codec, String)> = plan
        .made_rungs()
        .map(|r| (r.name.clone(), r.codec, r.level.clone()))
        .collect();
    let want = |n: &str, c, l: &str| (n.to_owned(), c, l.to_owned());
    assert_eq!(
        rungs,
        vec![
            want("360p_av1", Codec::Av1, "2.1"),
            want("540p_av1", Codec::Av1, "3.0"),
            want("720p_av1", Codec::Av1, "3.1"),
            want("1080p_av1", Codec::Av1, "4.0"),
            want("360p", Codec::H264, "3.1"),
            want("720p", Codec::H264, "4.2"),
            want("1080p", Codec::H264, "4.2"),
        ],
        "an AV1 rung is not a repeat of the H.264 rung of its size"
    );
    // A source smaller than every rung still gets one rung of each set.
    let tiny = Source {
        width: 320,
        height: 240,
        ..Source::default()
    };
    let small = super::plan(&tiny.info(), &preset("web-ladder-av1")).expect("plan");
    let rungs: Vec<(String, Codec)> = small
        .made_rungs()
        .map(|r| (r.name.clone(), r.codec))
        .collect();
    assert_eq!(
        rungs,
        vec![
            ("240p_av1".to_owned(), Codec::Av1),
            ("240p".to_owned(), Codec::H264)
        ]
    );
}

#[test]
fn hdr_is_kept_only_where_asked_and_only_on_codecs_that_carry_it() {
    let pq = Source {
        hdr: Some("PQ"),
        codec: "hevc",
        width: 3840,
        height: 2160,
        ..Source::default()
    };
    // hevc-archive keeps it: Main 10, PQ.
    let archive = plan(&pq.info(), &preset("hevc-archive")).expect("plan");
    let r = archive.made_rungs().next().expect("a rung");
    assert_eq!(r.profile, Profile::Main10);
    assert_eq!(r.hdr.as_ref().map(|h| h.transfer.as_str()), Some("PQ"));
    assert!(
        archive
            .warnings
            .iter()
            .any(|w| w.starts_with("HDR (PQ) kept on")),
        "{:?}",
        archive.warnings
    );
    // web-ladder tone-maps by default: no HDR rung, H.265 stays Main.
    let web = plan(&pq.info(), &preset("web-ladder")).expect("plan");
    assert!(web.made_rungs().all(|r| r.hdr.is_none()));
    assert!(web.made_rungs().all(|r| r.profile != Profile::Main10));
    // web-ladder with hdr = "keep": the H.265 4K rung is HDR, the H.264 rungs SDR beside it.
    let mut keep = preset("web-ladder");
    keep.video.hdr = crate::preset::HdrMode::Keep;
    let kept = plan(&pq.info(), &keep).expect("plan");
    let hdr: Vec<(Codec, bool)> = kept
        .made_rungs()
        .map(|r| (r.codec, r.hdr.is_some()))
        .collect();
    assert!(
        hdr.iter().all(|(c, h)| (*c == Codec::H265) == *h),
        "{hdr:?}"
    );
    assert!(hdr.iter().any(|(_, h)| *h) && hdr.iter().any(|(_, h)| !*h));
    // An H.264-only ladder cannot keep it, and says so.
    let mut phone = preset("phone-share");
    phone.video.hdr = crate::preset::HdrMode::Keep;
    let sdr = plan(&pq.info(), &phone).expect("plan");
    assert!(sdr.made_rungs().all(|r| r.hdr.is_none()));
    assert!(
        sdr.warnings
            .iter()
            .any(|w| w.contains("only H.265 and AV1 rungs can carry it")),
        "{:?}",
        sdr.warnings
    );
    // Burned-in subtitles are SDR: the ladder is then tone-mapped, and says why.
    let mut burning = preset("hevc-archive");
    burning.subtitles.burn = Some("en".into());
    let mut subbed = pq.info();
    subbed.streams.push(StreamInfo {
        index: 2,
        kind: StreamKind::Subtitle,
        codec: "mov_text".into(),
        profile: None,
        bitrate_bps: None,
        duration_secs: Some(60.0),
        start_secs: Some(0.0),
        language: Some("eng".into()),
        title: None,
        flags: Vec::new(),
        video: None,
        audio: None,
    });
    let burned = plan(&subbed, &burning).expect("plan");
    assert!(burned.made_rungs().all(|r| r.hdr.is_none()));
    assert!(
        burned
            .warnings
            .iter()
            .any(|w| w.contains("subtitles are burned in")),
        "{:?}",
        burned.warnings
    );
    // An SDR source with hdr = "keep" is unchanged.
    let plain = plan(&Source::default().info(), &preset("hevc-archive")).expect("plan");
    assert!(
        plain
            .made_rungs()
            .all(|r| r.hdr.is_none() && r.profile == Profile::Main)
    );
}

#[test]
fn the_aspect_ratio_is_kept_inside_each_box_with_even_sizes() {
    let src = Source {
        width: 1920,
        height: 800,
        ..Source::default()
    };
    let plan = plan(&src.info(), &preset("web-ladder")).expect("plan");
    for r in plan.made_rungs() {
        assert_eq!(r.width % 2, 0);
        assert_eq!(r.height % 2, 0);
        let aspect = f64::from(r.width) / f64::from(r.height);
        assert!((aspect - 2.4).abs() < 0.03, "{r:?}");
    }
    let r720 = plan
        .rungs
        .iter()
        .find(|r| r.preset_index == 3)
        .expect("720 box");
    assert_eq!((r720.width, r720.height), (1280, 534));
    assert_eq!(r720.status, RungStatus::Resized);
}

#[test]
fn a_rotated_phone_clip_gets_portrait_rungs() {
    let src = Source {
        rotation_deg: 90,
        ..Source::default()
    };
    let plan = plan(&src.info(), &preset("phone-share")).expect("plan");
    assert_eq!(made(&plan), vec![(720, 1280)]);
    assert_eq!(plan.transform.rotate_deg, 90);
    let r = &plan.rungs[0];
    assert!(
        r.reasons.iter().any(|w| w.contains("portrait")),
        "{:?}",
        r.reasons
    );
    assert_eq!(r.name, "720p");
}

#[test]
fn a_stored_portrait_clip_gets_portrait_rungs_without_rotation() {
    let src = Source {
        width: 1080,
        height: 1920,
        ..Source::default()
    };
    let plan = plan(&src.info(), &preset("phone-share")).expect("plan");
    assert_eq!(made(&plan), vec![(720, 1280)]);
    assert_eq!(plan.transform.rotate_deg, 0);
}

#[test]
fn anamorphic_sources_come_out_square() {
    // DV widescreen: 720x480 stored, 32:27 pixels, shows as 853x480.
    let src = Source {
        width: 720,
        height: 480,
        sar: "32:27",
        ..Source::default()
    };
    let plan = plan(&src.info(), &preset("web-ladder")).expect("plan");
    assert!(plan.transform.square_pixels);
    let top = plan.made_rungs().last().expect("some rung");
    assert_eq!((top.width, top.height), (852, 480));
}

#[test]
fn frame_rates_are_never_raised_and_divide_evenly() {
    let plan_ntsc = plan(&Source::default().info(), &preset("web-ladder")).expect("plan");
    let r270 = &plan_ntsc.rungs[0];
    assert_eq!(
        r270.frame_rate,
        FrameRate {
            num: 15000,
            den: 1001
        }
    );
    assert_eq!(r270.frame_step, 2);
    assert_eq!(r270.gop_frames, 30);
    assert_eq!(
        plan_ntsc.rungs[1].frame_rate,
        FrameRate {
            num: 30000,
            den: 1001
        }
    );
    assert_eq!(plan_ntsc.rungs[1].gop_frames, 60);

    let src = Source {
        fps: "60/1",
        ..Source::default()
    };
    let plan60 = plan(&src.info(), &preset("web-ladder")).expect("plan");
    assert_eq!(plan60.rungs[0].frame_rate, FrameRate { num: 15, den: 1 });
    assert_eq!(plan60.rungs[0].frame_step, 4);

    let src = Source {
        fps: "12/1",
        ..Source::default()
    };
    let plan12 = plan(&src.info(), &preset("web-ladder")).expect("plan");
    assert_eq!(plan12.rungs[0].frame_rate, FrameRate { num: 12, den: 1 });
}

#[test]
fn variable_rate_sources_get_a_constant_common_rate() {
    let src = Source {
        fps: "2912/100",
        vfr: true,
        ..Source::default()
    };
    let plan = plan(&src.info(), &preset("phone-share")).expect("plan");
    assert_eq!(
        plan.source_frame_rate,
        Some(FrameRate {
            num: 30000,
            den: 1001
        })
    );
    assert!(plan.transform.constant_rate);
    assert!(plan.warnings.iter().any(|w| w.contains("constant")));
}

#[test]
fn levels_resolve_and_rise_for_fast_sources() {
    let src = Source {
        width: 3840,
        height: 2160,
        fps: "60/1",
        video_bps: Some(50_000_000),
        ..Source::default()
    };
    let plan = plan(&src.info(), &preset("web-ladder")).expect("plan");
    let uhd = &plan.rungs[5];
    assert_eq!(uhd.codec, Codec::H265);
    assert_eq!(uhd.level, "5.1");
    let hd = &plan.rungs[3];
    assert_eq!(hd.level, "4.2");
    assert_eq!(hd.buffer_bits, 7_000_000);
    assert_eq!(plan.rungs[4].buffer_bits, 12_000_000);
}

#[test]
fn audio_is_remixed_to_stereo_and_missing_audio_is_said() {
    let src = Source {
        audio_channels: Some(6),
        ..Source::default()
    };
    let p = plan(&src.info(), &preset("web-ladder")).expect("plan");
    let audio = p.audio.expect("audio");
    assert_eq!(audio.channels, 2);
    assert_eq!(audio.remix.as_deref(), Some("downmix 5.1 to stereo"));
    assert_eq!(audio.language.as_deref(), Some("eng"));

    let silent = Source {
        audio_channels: None,
        ..Source::default()
    };
    let p = plan(&silent.info(), &preset("web-ladder")).expect("plan");
    assert!(p.audio.is_none());
    assert!(p.warnings.iter().any(|w| w.contains("no audio")));
    assert!(matches!(
        plan(&silent.info(), &preset("podcast-audio")),
        Err(PlanError::NoAudio { .. })
    ));
}

#[test]
fn estimates_and_stills() {
    let p = plan(&Source::default().info(), &preset("phone-share")).expect("plan");
    let r = &p.rungs[0];
    // 60 s at 3.5 Mb/s * fill(7) + 128 kb/s audio.
    let expected = ((3_500_000.0 * typical_fill(7) + 128_000.0) * 60.0 / 8.0) as u64;
    assert_eq!(r.estimated_bytes, expected);
    assert_eq!(p.estimated_bytes, expected);
    // The bound: 60 s at the 3.5 Mb/s cap plus its 7 Mb buffer, the audio, 2% of MP4 boxes.
    let most = ((3_500_000.0 * 60.0 + 7_000_000.0 + 128_000.0 * 60.0) / 8.0 * 1.02) as u64;
    assert_eq!(p.most_bytes_of(r), most);
    assert_eq!(p.most_bytes(), most);
    assert!(p.most_bytes() > p.estimated_bytes);
    let stills = p.stills.expect("stills");
    assert_eq!((stills.width, stills.height), (640, 360));
    assert_eq!(stills.times_secs, vec![30.0]);
}

#[test]
fn audio_only_preset_plans_no_rungs() {
    let p = plan(&Source::default().info(), &preset("podcast-audio")).expect("plan");
    assert!(p.rungs.is_empty());
    assert_eq!(p.estimated_bytes, 128_000 * 60 / 8);
}

#[test]
fn an_hevc_source_caps_h264_rungs_at_what_its_bits_are_worth() {
    // 3 Mb/s of HEVC is not 3 Mb/s of H.264: the 1080p H.264 rung keeps 4.5 Mb/s.
    let src = Source {
        codec: "hevc",
        video_bps: Some(3_000_000),
        ..Source::default()
    };
    let plan = plan(&src.info(), &preset("web-ladder")).expect("plan");
    let fhd = plan
        .made_rungs()
        .find(|r| r.height == 1080)
        .expect("1080p made");
    assert_eq!(fhd.max_bitrate_bps, 4_500_000);
    assert!(
        fhd.reasons.iter().any(|r| r.contains("worth about 1.50x")),
        "{:?}",
        fhd.reasons
    );
    // The same bitrate of H.264 caps at itself.
    let h264 = plan_for(&Source {
        video_bps: Some(3_000_000),
        ..Source::default()
    });
    let fhd = h264
        .made_rungs()
        .find(|r| r.height == 1080)
        .expect("1080p made");
    assert_eq!(fhd.max_bitrate_bps, 3_000_000);
}

fn plan_for(src: &Source) -> Plan {
    plan(&src.info(), &preset("web-ladder")).expect("plan")
}

#[test]
fn time_zero_and_the_keyframe_grid_are_planned_once() {
    let p = plan_for(&Source {
        video_start: Some(1.4),
        audio_start: Some(1.4),
        ..Source::default()
    });
    assert_eq!(p.timeline.zero_secs, 1.4);
    assert!(
        p.warnings.iter().any(|w| w.contains("starts at 1.400 s")),
        "{:?}",
        p.warnings
    );
    // web-ladder has a 15 fps rung: boundaries on even frames of the 29.97 fps source.
    let grid = p.keyframes.expect("grid");
    assert_eq!(grid.frame_step, 2);
    assert_eq!((grid.rate_num, grid.rate_den), (30000, 1001));
    let late_audio = plan_for(&Source {
        audio_start: Some(0.5),
        ..Source::default()
    });
    assert_eq!(late_audio.timeline.audio_delay_secs, Some(0.5));
}

#[test]
fn an_untagged_sd_source_is_read_as_bt601_and_the_plan_says_so() {
    let p = plan_for(&Source {
        width: 720,
        height: 480,
        ..Source::default()
    });
    assert_eq!(p.transform.colour.matrix, "bt601");
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("assumed matrix BT.601")),
        "{:?}",
        p.warnings
    );
}

/// A 1080p 29.97 fps source with stereo sound lasting `duration_secs` (for other modules'
/// tests).
pub(crate) fn info_1080p(duration_secs: f64) -> MediaInfo {
    let mut info = Source::default().info();
    info.duration_secs = Some(duration_secs);
    info
}
