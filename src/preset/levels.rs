//! Codec level limits (H.264 Table A-1, H.265 Table A.8, AV1 Annex A.3; Main tier): which
//! level can hold a picture size, frame rate and bitrate, and the lowest level that does.

use super::{Codec, Profile};

/// One row of a level table.
#[derive(Debug, Clone, Copy)]
struct Limits {
    name: &'static str,
    /// H.264: macroblocks per frame; H.265 and AV1: luma samples per frame.
    max_frame: u64,
    /// H.264: macroblocks per second; H.265: luma samples per second; AV1: displayed luma
    /// samples per second (MaxDisplayRate).
    max_rate: u64,
    /// Maximum video bitrate in kb/s (H.264 Baseline/Main; High allows 1.25x).
    max_kbps: u64,
    /// AV1's MaxHSize and MaxVSize; H.264 and H.265 bound each side by sqrt(8 x max frame).
    max_sides: Option<(u64, u64)>,
}

const fn row(name: &'static str, max_frame: u64, max_rate: u64, max_kbps: u64) -> Limits {
    Limits {
        name,
        max_frame,
        max_rate,
        max_kbps,
        max_sides: None,
    }
}

const fn av1(
    name: &'static str,
    max_frame: u64,
    (max_w, max_h): (u64, u64),
    max_rate: u64,
    max_kbps: u64,
) -> Limits {
    Limits {
        name,
        max_frame,
        max_rate,
        max_kbps,
        max_sides: Some((max_w, max_h)),
    }
}

const H264: [Limits; 20] = [
    row("1", 99, 1_485, 64),
    row("1b", 99, 1_485, 128),
    row("1.1", 396, 3_000, 192),
    row("1.2", 396, 6_000, 384),
    row("1.3", 396, 11_880, 768),
    row("2", 396, 11_880, 2_000),
    row("2.1", 792, 19_800, 4_000),
    row("2.2", 1_620, 20_250, 4_000),
    row("3", 1_620, 40_500, 10_000),
    row("3.1", 3_600, 108_000, 14_000),
    row("3.2", 5_120, 216_000, 20_000),
    row("4", 8_192, 245_760, 20_000),
    row("4.1", 8_192, 245_760, 50_000),
    row("4.2", 8_704, 522_240, 50_000),
    row("5", 22_080, 589_824, 135_000),
    row("5.1", 36_864, 983_040, 240_000),
    row("5.2", 36_864, 2_073_600, 240_000),
    row("6", 139_264, 4_177_920, 240_000),
    row("6.1", 139_264, 8_355_840, 480_000),
    row("6.2", 139_264, 16_711_680, 800_000),
];

const H265: [Limits; 13] = [
    row("1", 36_864, 552_960, 128),
    row("2", 122_880, 3_686_400, 1_500),
    row("2.1", 245_760, 7_372_800, 3_000),
    row("3", 552_960, 16_588_800, 6_000),
    row("3.1", 983_040, 33_177_600, 10_000),
    row("4", 2_228_224, 66_846_720, 12_000),
    row("4.1", 2_228_224, 133_693_440, 20_000),
    row("5", 8_912_896, 267_386_880, 25_000),
    row("5.1", 8_912_896, 534_773_760, 40_000),
    row("5.2", 8_912_896, 1_069_547_520, 60_000),
    row("6", 35_651_584, 1_069_547_520, 60_000),
    row("6.1", 35_651_584, 2_139_095_040, 120_000),
    row("6.2", 35_651_584, 4_278_190_080, 240_000),
];

/// AV1 Annex A.3, Main tier (MaxPicSize, MaxHSize x MaxVSize, MaxDisplayRate, MainMbps).
/// Levels 2.2, 2.3, 3.2, 3.3, 4.2 and 4.3 are not defined.
const AV1: [Limits; 14] = [
    av1("2.0", 147_456, (2_048, 1_152), 4_423_680, 1_500),
    av1("2.1", 278_784, (2_816, 1_584), 8_363_520, 3_000),
    av1("3.0", 665_856, (4_352, 2_448), 19_975_680, 6_000),
    av1("3.1", 1_065_024, (5_504, 3_096), 31_950_720, 10_000),
    av1("4.0", 2_359_296, (6_144, 3_456), 70_778_880, 12_000),
    av1("4.1", 2_359_296, (6_144, 3_456), 141_557_760, 20_000),
    av1("5.0", 8_912_896, (8_192, 4_352), 267_386_880, 30_000),
    av1("5.1", 8_912_896, (8_192, 4_352), 534_773_760, 40_000),
    av1("5.2", 8_912_896, (8_192, 4_352), 1_069_547_520, 60_000),
    av1("5.3", 8_912_896, (8_192, 4_352), 1_069_547_520, 60_000),
    av1("6.0", 35_651_584, (16_384, 8_704), 1_069_547_520, 60_000),
    av1("6.1", 35_651_584, (16_384, 8_704), 2_139_095_040, 100_000),
    av1("6.2", 35_651_584, (16_384, 8_704), 4_278_190_080, 160_000),
    av1("6.3", 35_651_584, (16_384, 8_704), 4_278_190_080, 160_000),
];

fn table(codec: Codec) -> &'static [Limits] {
    match codec {
        Codec::H264 => &H264,
        Codec::H265 => &H265,
        Codec::Av1 => &AV1,
    }
}

/// AV1's `seq_level_idx` for a level name (`4.1` -> 9), as SVT-AV1's `level` and the `av01`
/// codec string count: (major - 2) x 4 + minor.
pub fn av1_level_idx(level: &str) -> Option<u8> {
    let (major, minor) = level.split_once('.')?;
    let (major, minor): (u8, u8) = (major.parse().ok()?, minor.parse().ok()?);
    (2..=7).contains(&major).then_some(())?;
    (minor <= 3).then_some((major - 2) * 4 + minor)
}

/// The level names a codec knows, lowest first.
pub fn names(codec: Codec) -> impl Iterator<Item = &'static str> {
    table(codec).iter().map(|l| l.name)
}

/// Normalises a level as users write it (`4.0`, `40`, `L4`) to the table's name (`4`; AV1
/// names keep their minor digit: `4.0`).
pub fn normalise(codec: Codec, level: &str) -> Option<&'static str> {
    let trimmed = level.trim().trim_start_matches(['L', 'l']);
    if codec == Codec::Av1 {
        let candidate = match trimmed.split_once('.') {
            Some(_) => trimmed.to_owned(),
            None if trimmed.len() == 1 => format!("{trimmed}.0"),
            None if trimmed.len() == 2 => format!("{}.{}", &trimmed[..1], &trimmed[1..]),
            None => return None,
        };
        return names(codec).find(|n| *n == candidate);
    }
    let candidate = match trimmed.split_once('.') {
        Some((major, "0")) => major.to_owned(),
        _ if trimmed.len() == 2 && trimmed.chars().all(|c| c.is_ascii_digit()) => {
            // `31` as in level_idc
            format!("{}.{}", &trimmed[..1], &trimmed[1..]).replace(".0", "")
        }
        _ => trimmed.to_owned(),
    };
    names(codec).find(|n| *n == candidate)
}

/// Why a level cannot hold a rung, or `None` when it can.
pub fn why_not(
    codec: Codec,
    profile: Profile,
    level: &str,
    width: u32,
    height: u32,
    fps: f64,
    max_bitrate_bps: u64,
) -> Option<String> {
    let Some(limits) = table(codec).iter().find(|l| l.name == level) else {
        return Some(format!("unknown {codec} level {level}"));
    };
    let (frame, unit) = frame_size(codec, width, height);
    if frame > limits.max_frame {
        return Some(format!(
            "level {level} holds at most {} {unit} per frame; {width}x{height} needs {frame}",
            limits.max_frame
        ));
    }
    // Frame dimensions are bounded too: at most sqrt(8 * max frame size) on each side, or
    // AV1's own maximum width and height.
    let (w_units, h_units) = match codec {
        Codec::H264 => (
            u64::from(width).div_ceil(16),
            u64::from(height).div_ceil(16),
        ),
        Codec::H265 | Codec::Av1 => (u64::from(width), u64::from(height)),
    };
    if let Some((max_w, max_h)) = limits.max_sides
        && (w_units > max_w || h_units > max_h)
    {
        return Some(format!(
            "level {level} allows at most {max_w}x{max_h} {unit}; {width}x{height} is too large"
        ));
    }
    let max_side = ((8 * limits.max_frame) as f64).sqrt() as u64;
    if limits.max_sides.is_none() && (w_units > max_side || h_units > max_side) {
        return Some(format!(
            "level {level} allows at most {max_side} {unit} on a side; {width}x{height} is too long"
        ));
    }
    let rate = (frame as f64 * fps).ceil() as u64;
    if rate > limits.max_rate {
        return Some(format!(
            "level {level} holds at most {} {unit} per second; {width}x{height} at {fps:.3} fps needs {rate}",
            limits.max_rate
        ));
    }
    let factor = if codec == Codec::H264 && profile == Profile::High {
        1.25
    } else {
        1.0
    };
    let max_bps = (limits.max_kbps as f64 * 1000.0 * factor) as u64;
    if max_bitrate_bps > max_bps {
        return Some(format!(
            "level {level} allows at most {} kb/s for {profile}; the rung asks {} kb/s",
            max_bps / 1000,
            max_bitrate_bps / 1000
        ));
    }
    None
}

/// The lowest level that holds the rung.
pub fn lowest_fitting(
    codec: Codec,
    profile: Profile,
    width: u32,
    height: u32,
    fps: f64,
    max_bitrate_bps: u64,
) -> Option<&'static str> {
    names(codec).find(|level| {
        *level != "1b"
            && why_not(codec, profile, level, width, height, fps, max_bitrate_bps).is_none()
    })
}

fn frame_size(codec: Codec, width: u32, height: u32) -> (u64, &'static str) {
    match codec {
        Codec::H264 => (
            u64::from(width).div_ceil(16) * u64::from(height).div_ceil(16),
            "macroblocks",
        ),
        Codec::H265 | Codec::Av1 => (u64::from(width) * u64::from(height), "luma samples"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_ladder_levels_hold_their_rungs() {
        let h = |p, l, w, hh, fps, bps| why_not(Codec::H264, p, l, w, hh, fps, bps);
        assert_eq!(h(Profile::Main, "3.1", 480, 270, 15.0, 400_000), None);
        assert_eq!(h(Profile::Main, "3.1", 854, 480, 30.0, 1_000_000), None);
        assert_eq!(h(Profile::High, "4.2", 1920, 1080, 60.0, 6_000_000), None);
        assert_eq!(
            lowest_fitting(Codec::H265, Profile::Main, 3840, 2160, 30.0, 20_000_000),
            Some("5")
        );
        assert_eq!(
            lowest_fitting(Codec::H265, Profile::Main, 3840, 2160, 60.0, 20_000_000),
            Some("5.1")
        );
    }

    #[test]
    fn a_4k_frame_does_not_fit_h264_level_3_1() {
        let why = why_not(
            Codec::H264,
            Profile::High,
            "3.1",
            3840,
            2160,
            30.0,
            20_000_000,
        );
        assert!(why.is_some_and(|w| w.contains("macroblocks per frame")));
    }

    #[test]
    fn frame_rate_and_bitrate_limits_apply() {
        let fast = why_not(
            Codec::H264,
            Profile::Main,
            "3.1",
            1280,
            720,
            60.0,
            3_000_000,
        );
        assert!(fast.is_some_and(|w| w.contains("per second")));
        let rich = why_not(
            Codec::H264,
            Profile::Main,
            "3.1",
            640,
            360,
            30.0,
            15_000_000,
        );
        assert!(rich.is_some_and(|w| w.contains("kb/s")));
        // High profile gets 1.25x the bitrate of Main at the same level.
        assert_eq!(
            why_not(
                Codec::H264,
                Profile::High,
                "3.1",
                640,
                360,
                30.0,
                17_000_000
            ),
            None
        );
    }

    #[test]
    fn levels_written_several_ways() {
        assert_eq!(normalise(Codec::H264, "4.0"), Some("4"));
        assert_eq!(normalise(Codec::H264, "31"), Some("3.1"));
        assert_eq!(normalise(Codec::H264, "L4.2"), Some("4.2"));
        assert_eq!(normalise(Codec::H265, "5.1"), Some("5.1"));
        assert_eq!(normalise(Codec::H264, "7"), None);
        assert_eq!(normalise(Codec::Av1, "4"), Some("4.0"));
        assert_eq!(normalise(Codec::Av1, "51"), Some("5.1"));
        assert_eq!(normalise(Codec::Av1, "4.2"), None);
    }

    #[test]
    fn av1_levels_follow_annex_a() {
        let lowest = |w, h, fps, bps| lowest_fitting(Codec::Av1, Profile::Main, w, h, fps, bps);
        // 640x360 (230,400 samples) at 30 fps fits 2.1 (MaxPicSize 278,784), as SVT-AV1 says.
        assert_eq!(lowest(640, 360, 29.97, 1_000_000), Some("2.1"));
        assert_eq!(lowest(1280, 720, 30.0, 3_000_000), Some("3.1"));
        assert_eq!(lowest(1920, 1080, 30.0, 6_000_000), Some("4.0"));
        assert_eq!(lowest(1920, 1080, 60.0, 6_000_000), Some("4.1"));
        assert_eq!(lowest(3840, 2160, 30.0, 12_000_000), Some("5.0"));
        assert_eq!(lowest(3840, 2160, 60.0, 12_000_000), Some("5.1"));
        // Bitrate: 4.0 holds 12 Mb/s in the Main tier.
        assert_eq!(lowest(1920, 1080, 30.0, 15_000_000), Some("4.1"));
        assert_eq!(av1_level_idx("2.0"), Some(0));
        assert_eq!(av1_level_idx("4.1"), Some(9));
        assert_eq!(av1_level_idx("5.1"), Some(13));
        assert_eq!(av1_level_idx("6.3"), Some(19));
    }
}
