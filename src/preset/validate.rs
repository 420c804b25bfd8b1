//! Checks a parsed preset for impossible requests, naming the rung and field of each.

use std::fmt;

use serde::Serialize;

use super::{AudioCodec, Codec, Container, Preset, Profile, levels};

/// Largest picture side we accept, in pixels.
pub const MAX_SIDE_PX: u32 = 8192;
/// Bitrate bounds for a rung, in bits per second.
pub const RUNG_BITRATE_RANGE_BPS: (u64, u64) = (50_000, 250_000_000);
/// Bitrate bounds for AAC-LC, in bits per second.
pub const AUDIO_BITRATE_RANGE_BPS: (u64, u64) = (32_000, 512_000);
/// Frame rate assumed when checking a level for a rung that takes the source's rate.
pub const ASSUMED_FPS: f64 = 30.0;

/// One thing wrong with a preset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// The 1-based rung number, if the problem is in a rung.
    pub rung: Option<usize>,
    /// The field, as written in the TOML (`max_bitrate_bps`, `video.gop_secs`).
    pub field: String,
    /// What is wrong and what would be right.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.rung {
            write!(f, "rung {n}: ")?;
        }
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem in the preset; empty when it is usable.
pub fn validate(p: &Preset) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut top = |field: &str, message: String| {
        out.push(Problem {
            rung: None,
            field: field.to_owned(),
            message,
        });
    };

    if p.name.is_empty()
        || !p
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        top(
            "name",
            format!(
                "'{}' must be lowercase letters, digits, '-' or '_' (it becomes a file name)",
                p.name
            ),
        );
    }
    let s = &p.subtitles;
    let named = s
        .languages
        .iter()
        .map(|c| ("subtitles.languages", c))
        .chain(
            s.default_language
                .iter()
                .map(|c| ("subtitles.default_language", c)),
        )
        .chain(s.burn.iter().map(|c| ("subtitles.burn", c)))
        .chain(p.audio.languages.iter().map(|c| ("audio.languages", c)));
    for (field, code) in named {
        if crate::subtitles::languages::find(code).is_none() {
            top(
                field,
                format!("'{code}' is not a language code (ISO 639-1 like en, or 639-2 like eng)"),
            );
        }
    }
    let v = &p.video;
    if !(1..=10).contains(&v.quality_level) {
        top(
            "video.quality_level",
            format!("{} is outside 1-10 (8 is the reference)", v.quality_level),
        );
    }
    if !(v.gop_secs.is_finite() && (0.25..=20.0).contains(&v.gop_secs)) {
        top(
            "video.gop_secs",
            format!("{} is outside 0.25-20 seconds", v.gop_secs),
        );
    }
    if v.b_frames > 16 {
        top("video.b_frames", format!("{} is more than 16", v.b_frames));
    }
    if !(1..=16).contains(&v.reference_frames) {
        top(
            "video.reference_frames",
            format!("{} is outside 1-16", v.reference_frames),
        );
    }
    if !(v.hrd_buffer_factor.is_finite() && (0.5..=10.0).contains(&v.hrd_buffer_factor)) {
        top(
            "video.hrd_buffer_factor",
            format!("{} is outside 0.5-10", v.hrd_buffer_factor),
        );
    }
    if !(1..=100).contains(&v.hrd_initial_fill_percent) {
        top(
            "video.hrd_initial_fill_percent",
            format!("{} is outside 1-100", v.hrd_initial_fill_percent),
        );
    }
    const SPEEDS: [&str; 10] = [
        "ultrafast",
        "superfast",
        "veryfast",
        "faster",
        "fast",
        "medium",
        "slow",
        "slower",
        "veryslow",
        "placebo",
    ];
    if !SPEEDS.contains(&v.speed.as_str()) {
        top(
            "video.speed",
            format!("'{}' is not one of {}", v.speed, SPEEDS.join(", ")),
        );
    }

    let a = &p.audio;
    if a.codec != AudioCodec::None {
        let (lo, hi) = AUDIO_BITRATE_RANGE_BPS;
        if !(lo..=hi).contains(&a.bitrate_bps) {
            top(
                "audio.bitrate_bps",
                format!("{} is outside {lo}-{hi} b/s for AAC-LC", a.bitrate_bps),
            );
        }
        if ![8_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000].contains(&a.sample_rate_hz) {
            top(
                "audio.sample_rate_hz",
                format!(
                    "{} Hz is not a rate AAC players expect (use 48000 or 44100)",
                    a.sample_rate_hz
                ),
            );
        }
        if !(1..=2).contains(&a.channels) {
            top(
                "audio.channels",
                format!(
                    "{} must be 1 (mono) or 2 (stereo); for a 5.1 track beside the stereo one set surround = true",
                    a.channels
                ),
            );
        }
        if let Some(l) = a.loudness_lufs
            && !(l.is_finite() && (-40.0..=-5.0).contains(&l))
        {
            top(
                "audio.loudness_lufs",
                format!(
                    "{l} is outside -40 to -5 LUFS (-16 suits phones and podcasts, -23 broadcast)"
                ),
            );
        }
        if let Some(tp) = a.true_peak_dbtp
            && !(tp.is_finite() && (-8.0..=0.0).contains(&tp))
        {
            top(
                "audio.true_peak_dbtp",
                format!("{tp} is outside -8 to 0 dBTP (-1 is usual; MediaConvert's range)"),
            );
        }
        if a.true_peak_dbtp.is_some() && a.loudness_lufs.is_none() {
            top(
                "audio.true_peak_dbtp",
                "applies with audio.loudness_lufs: set both".to_owned(),
            );
        }
        if a.surround && !(128_000..=1_024_000).contains(&a.surround_bitrate_bps) {
            top(
                "audio.surround_bitrate_bps",
                format!(
                    "{} is outside 128000-1024000 b/s for 5.1 AAC-LC",
                    a.surround_bitrate_bps
                ),
            );
        }
    }

    let s = &p.stills;
    if s.count > 100 {
        top("stills.count", format!("{} is more than 100", s.count));
    }
    if s.count > 0 && !(16..=MAX_SIDE_PX).contains(&s.width) {
        top(
            "stills.width",
            format!("{} is outside 16-{MAX_SIDE_PX} pixels", s.width),
        );
    }

    let k = &p.packaging;
    for (field, secs) in [
        ("packaging.hls_segment_secs", k.hls_segment_secs),
        ("packaging.dash_segment_secs", k.dash_segment_secs),
    ] {
        let gops = secs / v.gop_secs;
        if !(secs.is_finite() && secs > 0.0) || (gops - gops.round()).abs() > 1e-6 || gops < 0.5 {
            top(
                field,
                format!(
                    "{secs} s is not a whole number of {} s GOPs, so segments could not start on IDR frames",
                    v.gop_secs
                ),
            );
        }
    }
    if !k.hls_audio_group {
        top(
            "packaging.hls_audio_group",
            "false is not supported: HLS and DASH share one CMAF audio track, which HLS lists as an audio rendition group; muxing it into every variant would copy the audio into each rung (set it to true)".to_owned(),
        );
    }
    let fragments = k.hls_segment_secs / k.dash_segment_secs;
    if fragments.is_finite() && ((fragments - fragments.round()).abs() > 1e-6 || fragments < 0.5) {
        top(
            "packaging.hls_segment_secs",
            format!(
                "{} s is not a whole number of {} s DASH segments: HLS segments are made by joining the CMAF fragments DASH uses",
                k.hls_segment_secs, k.dash_segment_secs
            ),
        );
    }
    if !(k.dash_min_buffer_secs.is_finite() && (1.0..=120.0).contains(&k.dash_min_buffer_secs)) {
        top(
            "packaging.dash_min_buffer_secs",
            format!("{} is outside 1-120 seconds", k.dash_min_buffer_secs),
        );
    }

    if let crate::preset::Crop::Manual(b) = p.video.crop
        && [b.top, b.bottom, b.left, b.right].iter().any(|n| *n > 8192)
    {
        top(
            "video.crop",
            format!(
                "top {}, bottom {}, left {}, right {}: no side can be over 8192 pixels",
                b.top, b.bottom, b.left, b.right
            ),
        );
    } else if let crate::preset::Crop::Manual(b) = p.video.crop
        && [b.top, b.bottom, b.left, b.right]
            .iter()
            .any(|n| n % 2 == 1)
    {
        top(
            "video.crop",
            format!(
                "top {}, bottom {}, left {}, right {}: every side must be even (4:2:0 pictures)",
                b.top, b.bottom, b.left, b.right
            ),
        );
    }

    let f = &p.fit;
    if !(f.target_vmaf.is_finite() && (1.0..=100.0).contains(&f.target_vmaf)) {
        top(
            "fit.target_vmaf",
            format!("{} is outside 1-100", f.target_vmaf),
        );
    }
    if !(f.min_vmaf_step.is_finite() && (0.5..=20.0).contains(&f.min_vmaf_step)) {
        top(
            "fit.min_vmaf_step",
            format!("{} is outside 0.5-20 VMAF points", f.min_vmaf_step),
        );
    }
    if !(50_000..=250_000_000).contains(&f.min_bitrate_bps) {
        top(
            "fit.min_bitrate_bps",
            format!("{} is outside 50 kb/s-250 Mb/s", f.min_bitrate_bps),
        );
    }
    if let Some(max) = f.max_bitrate_bps
        && max <= f.min_bitrate_bps
    {
        top(
            "fit.max_bitrate_bps",
            format!(
                "{max} is not above fit.min_bitrate_bps ({})",
                f.min_bitrate_bps
            ),
        );
    }

    if f.mode == crate::preset::FitMode::MediaconvertAuto {
        if !(3..=15).contains(&f.max_renditions) {
            top(
                "fit.max_renditions",
                format!(
                    "{} is outside 3-15 (MediaConvert's automated ABR limits)",
                    f.max_renditions
                ),
            );
        }
        if !(k.hls || k.dash) {
            top(
                "fit.mode",
                "mediaconvert-auto builds a streaming ladder: turn on packaging.hls or packaging.dash".to_owned(),
            );
        }
        if let Some(max) = f.max_bitrate_bps
            && max > 100_000_000
        {
            top(
                "fit.max_bitrate_bps",
                format!("{max} is above 100 Mb/s, MediaConvert's highest automated ABR bitrate"),
            );
        }
        if f.min_bitrate_bps < 100_000 {
            top(
                "fit.min_bitrate_bps",
                format!(
                    "{} is below 100 kb/s, MediaConvert's lowest automated ABR bitrate",
                    f.min_bitrate_bps
                ),
            );
        }
        let codecs: std::collections::BTreeSet<_> =
            p.rungs.iter().map(|r| format!("{:?}", r.codec)).collect();
        if p.rungs.iter().any(|r| r.codec == crate::preset::Codec::Av1) || codecs.len() > 1 {
            top(
                "fit.mode",
                "mediaconvert-auto encodes one H.264 or H.265 ladder (MediaConvert's automated ABR takes neither AV1 nor two codecs)".to_owned(),
            );
        }
    }

    if !(1..=1000).contains(&p.quality.every) {
        top(
            "quality.every",
            format!(
                "{} is outside 1-1000 (1 scores every frame, 5 every fifth)",
                p.quality.every
            ),
        );
    }

    match (p.rungs.is_empty(), p.container, a.codec) {
        (true, _, AudioCodec::None) => top(
            "rung",
            "the preset has no rungs and no audio: it would make nothing".to_owned(),
        ),
        (true, Container::Mp4, _) => top(
            "container",
            "an audio-only preset (no rungs) writes m4a; set container = \"m4a\"".to_owned(),
        ),
        (false, Container::M4a, _) => top(
            "container",
            "m4a holds audio only; use mp4 for a preset with rungs".to_owned(),
        ),
        _ => {}
    }
    if p.rungs.len() > 16 {
        top("rung", format!("{} rungs; at most 16", p.rungs.len()));
    }

    for (i, r) in p.rungs.iter().enumerate() {
        out.extend(
            rung_problems(p, r)
                .into_iter()
                .map(|(field, message)| Problem {
                    rung: Some(i + 1),
                    field: field.to_owned(),
                    message: format!("({}x{}) {message}", r.width, r.height),
                }),
        );
    }
    out
}

fn rung_problems(p: &Preset, r: &super::Rung) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (field, px) in [("width", r.width), ("height", r.height)] {
        if px == 0 || px > MAX_SIDE_PX {
            out.push((field, format!("{px} is outside 2-{MAX_SIDE_PX} pixels")));
        } else if px % 2 == 1 {
            out.push((
                field,
                format!("{px} is odd; 4:2:0 video needs even sizes (use {})", px + 1),
            ));
        }
    }
    let (lo, hi) = RUNG_BITRATE_RANGE_BPS;
    if !(lo..=hi).contains(&r.max_bitrate_bps) {
        out.push((
            "max_bitrate_bps",
            format!("{} is outside {lo}-{hi} b/s", r.max_bitrate_bps),
        ));
    }
    if let Some(fps) = r.frame_rate {
        if !(fps.is_finite() && (1.0..=240.0).contains(&fps)) {
            out.push(("frame_rate", format!("{fps} is outside 1-240 fps")));
        } else if !gop_is_whole_frames(p.video.gop_secs, fps) {
            out.push((
                "frame_rate",
                format!(
                    "a {} s GOP at {fps} fps is {:.2} frames, not a whole number",
                    p.video.gop_secs,
                    p.video.gop_secs * fps
                ),
            ));
        }
    }
    match (r.codec, r.profile()) {
        (Codec::H265 | Codec::Av1, Profile::Main)
        | (Codec::H264, Profile::Baseline | Profile::Main | Profile::High) => {}
        (Codec::H265, Profile::Main10) => out.push((
            "profile",
            "write \"main\": H.265 rungs become Main 10 by themselves when they keep an HDR source (video.hdr = \"keep\")".to_owned(),
        )),
        (Codec::H264, other) => out.push((
            "profile",
            format!("H.264 rungs use baseline, main or high, not \"{other}\" (HDR rungs are H.265 Main 10 or AV1)"),
        )),
        (codec @ (Codec::H265 | Codec::Av1), other) => out.push((
            "profile",
            format!("{codec} rungs use profile \"main\" (4:2:0), not \"{other}\""),
        )),
    }
    if out.is_empty() && r.level != "auto" {
        match levels::normalise(r.codec, &r.level) {
            None => out.push((
                "level",
                format!(
                    "'{}' is not an {} level (known: {}, or auto)",
                    r.level,
                    r.codec,
                    levels::names(r.codec).collect::<Vec<_>>().join(", ")
                ),
            )),
            Some(level) => {
                let fps = r.frame_rate.unwrap_or(ASSUMED_FPS);
                if let Some(why) = levels::why_not(
                    r.codec,
                    r.profile(),
                    level,
                    r.width,
                    r.height,
                    fps,
                    r.max_bitrate_bps,
                ) {
                    let fix = levels::lowest_fitting(
                        r.codec,
                        r.profile(),
                        r.width,
                        r.height,
                        fps,
                        r.max_bitrate_bps,
                    )
                    .map_or_else(String::new, |l| format!(" (use {l} or auto)"));
                    out.push(("level", format!("{why}{fix}")));
                }
            }
        }
    }
    out
}

/// True when a GOP of `gop_secs` holds a whole number of frames at `fps`, also allowing the
/// NTSC variant of the rate (15 fps from a 29.97 source runs at 15000/1001).
pub fn gop_is_whole_frames(gop_secs: f64, fps: f64) -> bool {
    let whole = |frames: f64| (frames - frames.round()).abs() < 0.01;
    let frames = gop_secs * fps;
    whole(frames) || whole(frames * 1001.0 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::super::Preset;

    fn problems(toml: &str) -> Vec<String> {
        match Preset::from_toml(toml, "t.toml") {
            Ok(_) => Vec::new(),
            Err(super::super::PresetError::Invalid { problems, .. }) => {
                problems.iter().map(ToString::to_string).collect()
            }
            Err(e) => vec![e.to_string()],
        }
    }

    fn rung(body: &str) -> String {
        format!("name = \"t\"\n[[rung]]\n{body}\n")
    }

    #[test]
    fn fit_goals_are_checked() {
        let got = problems(
            "name = \"t\"\n[fit]\nmode = \"per-title\"\ntarget_vmaf = 120.0\nmin_vmaf_step = 0.0\nmin_bitrate_bps = 1000\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 700000\n",
        );
        for field in [
            "fit.target_vmaf",
            "fit.min_vmaf_step",
            "fit.min_bitrate_bps",
        ] {
            assert!(got.iter().any(|m| m.starts_with(field)), "{field}: {got:?}");
        }
        let got = problems(
            "name = \"t\"\n[fit]\nmin_bitrate_bps = 500000\nmax_bitrate_bps = 400000\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 700000\n",
        );
        assert!(
            got.iter().any(|m| m.starts_with("fit.max_bitrate_bps")),
            "{got:?}"
        );
    }
    #[test]
    fn subtitle_languages_are_codes() {
        let got = problems(
            "name = \"t\"\n[subtitles]\nlanguages = [\"en\", \"fra\", \"klingon\"]\ndefault_language = \"xx\"\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 700000\n",
        );
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got.iter().any(|m| m.starts_with("subtitles.languages")
                && m.contains("'klingon' is not a language code")),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|m| m.starts_with("subtitles.default_language") && m.contains("'xx'")),
            "{got:?}"
        );
    }

    #[test]
    fn odd_zero_and_huge_sizes() {
        let p = problems(&rung("width = 641\nheight = 0\nmax_bitrate_bps = 700000"));
        assert!(
            p.iter()
                .any(|m| m.starts_with("rung 1: width: (641x0) 641 is odd")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|m| m.contains("height: (641x0) 0 is outside")),
            "{p:?}"
        );
        let p = problems(&rung(
            "width = 9000\nheight = 360\nmax_bitrate_bps = 700000",
        ));
        assert!(p.iter().any(|m| m.contains("9000 is outside")), "{p:?}");
    }

    #[test]
    fn bitrate_out_of_range() {
        let p = problems(&rung("width = 640\nheight = 360\nmax_bitrate_bps = 10"));
        assert!(p.iter().any(|m| m.contains("max_bitrate_bps")), "{p:?}");
    }

    #[test]
    fn level_too_small_for_4k() {
        let p = problems(&rung(
            "width = 3840\nheight = 2160\nprofile = \"high\"\nlevel = \"3.1\"\nmax_bitrate_bps = 20000000",
        ));
        assert!(
            p.iter()
                .any(|m| m.starts_with("rung 1: level:") && m.contains("use 5.1 or auto")),
            "{p:?}"
        );
    }

    #[test]
    fn gop_must_be_whole_frames_at_rung_rate() {
        let p = problems(
            "name = \"t\"\n[video]\ngop_secs = 2.5\n[packaging]\nhls_segment_secs = 5.0\ndash_segment_secs = 2.5\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 700000\nframe_rate = 15.0\n",
        );
        assert!(p.iter().any(|m| m.contains("37.50 frames")), "{p:?}");
        assert!(super::gop_is_whole_frames(2.0, 30000.0 / 1001.0 / 2.0));
    }

    #[test]
    fn segments_must_be_whole_gops() {
        let p = problems(
            "name = \"t\"\n[packaging]\nhls_segment_secs = 5.0\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 700000\n",
        );
        assert!(
            p.iter()
                .any(|m| m.starts_with("packaging.hls_segment_secs")),
            "{p:?}"
        );
    }

    #[test]
    fn muxed_hls_audio_is_refused_with_the_reason() {
        let p = problems(
            "name = \"t\"\n[packaging]\nhls_audio_group = false\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 700000\n",
        );
        assert!(
            p.iter()
                .any(|m| m.starts_with("packaging.hls_audio_group") && m.contains("copy the audio")),
            "{p:?}"
        );
    }

    #[test]
    fn hls_segments_must_be_whole_dash_segments() {
        // 4 s of 2 s GOPs is fine for HLS alone, but not a whole number of 6 s DASH segments.
        let p = problems(
            "name = \"t\"\n[packaging]\nhls_segment_secs = 4.0\ndash_segment_secs = 6.0\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 700000\n",
        );
        assert!(
            p.iter()
                .any(|m| m.contains("whole number of 6 s DASH segments")),
            "{p:?}"
        );
    }

    #[test]
    fn absurd_shared_settings() {
        let p = problems(
            "name = \"Bad Name\"\n[video]\nquality_level = 11\nspeed = \"warp\"\n[audio]\nchannels = 6\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 700000\n",
        );
        for field in [
            "name",
            "video.quality_level",
            "video.speed",
            "audio.channels",
        ] {
            assert!(
                p.iter().any(|m| m.starts_with(field)),
                "{field} missing in {p:?}"
            );
        }
    }

    #[test]
    fn audio_only_needs_m4a_and_audio() {
        let p = problems("name = \"a\"\n");
        assert!(p.iter().any(|m| m.starts_with("container")), "{p:?}");
        let p = problems("name = \"a\"\ncontainer = \"m4a\"\n[audio]\ncodec = \"none\"\n");
        assert!(p.iter().any(|m| m.contains("make nothing")), "{p:?}");
    }

    #[test]
    fn h265_main_only() {
        let p = problems(&rung(
            "width = 3840\nheight = 2160\ncodec = \"h265\"\nprofile = \"high\"\nmax_bitrate_bps = 20000000",
        ));
        assert!(p.iter().any(|m| m.contains("profile")), "{p:?}");
        // Main 10 comes from hdr = "keep", never from a rung (an SDR source would be 8-bit).
        let p = problems(&rung(
            "width = 3840\nheight = 2160\ncodec = \"h265\"\nprofile = \"main10\"\nmax_bitrate_bps = 20000000",
        ));
        assert!(p.iter().any(|m| m.contains("hdr = \"keep\"")), "{p:?}");
        // AV1 rungs are Main; H.264 has no Main 10 here.
        let p = problems(&rung(
            "width = 640\nheight = 360\ncodec = \"h264\"\nprofile = \"main10\"\nmax_bitrate_bps = 700000",
        ));
        assert!(p.iter().any(|m| m.contains("H.264 rungs use")), "{p:?}");
        assert!(problems(&rung(
            "width = 640\nheight = 360\ncodec = \"av1\"\nlevel = \"3.0\"\nmax_bitrate_bps = 700000",
        ))
        .is_empty());
    }
}
