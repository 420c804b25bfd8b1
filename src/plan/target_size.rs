//! Target size: the video bitrate that makes one MP4 land just under a size the user names
//! (a messenger's 8 MB, an e-mail's 25 MB), counting the sound and the MP4's own tables, the
//! picture size that looks best at that bitrate, and the floors below which a target is
//! refused before anything is encoded. Pure; the two passes are the local backend's.
//!
//! - The file aims at [`AIM`] of the target (the middle of the 95-100 % it must land in): a
//!   two-pass x264 encode lands within about 1 % of its average bitrate, and a miss is
//!   corrected by one more second pass ([`corrected_bitrate`]).
//! - The MP4's tables cost about [`TABLE_BYTES_PER_VIDEO_FRAME`] per picture and
//!   [`TABLE_BYTES_PER_AUDIO_FRAME`] per AAC frame (sizes, times, sync samples, chunk offsets),
//!   plus a fixed [`TABLE_BYTES_FIXED`].
//! - Of the candidate sizes, the one the samples predict best at the bitrate is found; the
//!   largest size within [`ACCEPTABLE_VMAF_LOSS`] of it is chosen (a sharper picture when it
//!   costs nothing visible).
//! - A target is impossible when the video would get less than the preset's minimum bitrate
//!   (`fit.min_bitrate_bps`) or when no size is predicted to reach [`MIN_VMAF`].

use super::per_title::{RdPoint, bitrate_for, vmaf_at};

/// The share of the target a file aims at.
pub const AIM: f64 = 0.975;
/// MP4 table bytes per video frame (stsz 4, ctts 8, stts and stss amortised).
pub const TABLE_BYTES_PER_VIDEO_FRAME: f64 = 14.0;
/// MP4 table bytes per AAC frame (stsz 4, chunk offsets amortised).
pub const TABLE_BYTES_PER_AUDIO_FRAME: f64 = 6.0;
/// Header boxes, sample descriptions, metadata.
pub const TABLE_BYTES_FIXED: f64 = 4096.0;
/// Below this predicted VMAF a picture is not worth sending.
pub const MIN_VMAF: f64 = 30.0;
/// A larger size is preferred while it scores at most this much below the best.
pub const ACCEPTABLE_VMAF_LOSS: f64 = 1.0;
/// Samples in one AAC frame.
const AAC_FRAME_SAMPLES: f64 = 1024.0;

/// What the file must hold besides its video.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// The size to land under, bytes.
    pub target_bytes: u64,
    /// The output's duration, seconds.
    pub duration_secs: f64,
    /// Output frames per second.
    pub fps: f64,
    /// The AAC bitrate (0 without sound).
    pub audio_bps: f64,
    /// The AAC sample rate (0 without sound).
    pub audio_rate_hz: f64,
}

impl Budget {
    /// Bytes of everything but the video: sound and the MP4's tables.
    pub fn other_bytes(&self) -> f64 {
        let frames = self.duration_secs * self.fps;
        let audio_frames = if self.audio_rate_hz > 0.0 {
            self.duration_secs * self.audio_rate_hz / AAC_FRAME_SAMPLES
        } else {
            0.0
        };
        TABLE_BYTES_FIXED
            + frames * TABLE_BYTES_PER_VIDEO_FRAME
            + audio_frames * TABLE_BYTES_PER_AUDIO_FRAME
            + self.audio_bps * self.duration_secs / 8.0
    }

    /// The average video bitrate that fills [`AIM`] of the target (may be 0 or less when the
    /// sound alone does not fit).
    pub fn video_bps(&self) -> f64 {
        if self.duration_secs <= 0.0 {
            return 0.0;
        }
        (self.target_bytes as f64 * AIM - self.other_bytes()) * 8.0 / self.duration_secs
    }

    /// The target a video bitrate needs (the inverse of [`Budget::video_bps`]), bytes.
    pub fn bytes_for(&self, video_bps: f64) -> u64 {
        ((video_bps * self.duration_secs / 8.0 + self.other_bytes()) / AIM).ceil() as u64
    }
}

/// One picture size that may be chosen, with its measured curve when there was one.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Its rate-quality points (empty when not measured).
    pub points: Vec<RdPoint>,
}

/// The size chosen for a bitrate, and its predicted VMAF.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// Index into the candidates.
    pub index: usize,
    /// Predicted VMAF at the bitrate, when measured.
    pub predicted_vmaf: Option<f64>,
}

fn curve(c: &Candidate) -> Vec<RdPoint> {
    super::per_title::monotone_points(&c.points)
}

/// Chooses a size for `video_bps`: the largest within [`ACCEPTABLE_VMAF_LOSS`] of the best
/// predicted and at least [`MIN_VMAF`]; the largest when nothing was measured. `None` without
/// candidates.
pub fn choose(candidates: &[Candidate], video_bps: f64) -> Option<Choice> {
    let pixels = |c: &Candidate| u64::from(c.width) * u64::from(c.height);
    let predicted: Vec<Option<f64>> = candidates
        .iter()
        .map(|c| vmaf_at(&curve(c), video_bps))
        .collect();
    let best = predicted
        .iter()
        .flatten()
        .copied()
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    // Acceptable: near the best and above the floor; when nothing is above the floor, the
    // best (which the caller then refuses).
    let acceptable = |i: usize, floor: f64| match (best, predicted[i]) {
        (Some(b), Some(v)) => v >= b - ACCEPTABLE_VMAF_LOSS && v >= floor,
        (Some(_), None) => false,
        (None, _) => true,
    };
    let largest = |floor: f64| {
        candidates
            .iter()
            .enumerate()
            .filter(|(i, _)| acceptable(*i, floor))
            .max_by_key(|(_, c)| pixels(c))
            .map(|(i, _)| i)
    };
    let index = largest(MIN_VMAF).or_else(|| largest(f64::NEG_INFINITY))?;
    Some(Choice {
        index,
        predicted_vmaf: predicted[index],
    })
}

/// The least video bitrate any candidate needs to reach [`MIN_VMAF`] (`None` when nothing was
/// measured).
pub fn least_bps_for_min_vmaf(candidates: &[Candidate]) -> Option<f64> {
    candidates
        .iter()
        .filter_map(|c| {
            let curve = curve(c);
            // Below the first point the curve goes on at its first slope (see `vmaf_at`):
            // search down from the first point for where it crosses the floor.
            let first = curve.first()?;
            if first.vmaf < MIN_VMAF {
                return bitrate_for(&curve, MIN_VMAF);
            }
            let mut bps = first.bitrate_bps;
            while bps > 1000.0 && vmaf_at(&curve, bps / 1.05).is_some_and(|v| v >= MIN_VMAF) {
                bps /= 1.05;
            }
            Some(bps)
        })
        .min_by(f64::total_cmp)
}

/// The video bitrate for another second pass after one landed at `actual_bytes` with
/// `video_bps`: the miss is put on the video (the sound and tables are what they are).
pub fn corrected_bitrate(budget: &Budget, video_bps: f64, actual_bytes: u64) -> f64 {
    let other = budget.other_bytes();
    let video_actual = (actual_bytes as f64 - other).max(1.0);
    let video_wanted = (budget.target_bytes as f64 * AIM - other).max(1.0);
    video_bps * video_wanted / video_actual
}

/// Parses a size as people write it: `25MB`, `8 MB`, `1.5GB`, `700k`, `100MiB`, or bytes.
/// Decimal units (kB, MB, GB: 1000s, as messengers and mail limits count) and binary ones
/// (KiB, MiB, GiB).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size; write it like 25MB, 8MB or 1.5GB"))?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "'{text}': unknown unit '{other}'; use B, kB, MB, GB, KiB, MiB or GiB"
            ));
        }
    };
    let bytes = value * factor;
    if !bytes.is_finite() || bytes < 1.0 {
        return Err(format!("'{text}' is not a size a file can have"));
    }
    Ok(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(target_mb: f64, secs: f64) -> Budget {
        Budget {
            target_bytes: (target_mb * 1e6) as u64,
            duration_secs: secs,
            fps: 30.0,
            audio_bps: 128_000.0,
            audio_rate_hz: 48_000.0,
        }
    }

    #[test]
    fn the_budget_counts_sound_and_tables() {
        let b = budget(25.0, 60.0);
        // 25 MB x 0.975 = 24.375 MB; sound 960,000 B; tables 4096 + 1800 x 14 + 2812.5 x 6.
        let other = 960_000.0 + 4096.0 + 1800.0 * 14.0 + 2812.5 * 6.0;
        assert!((b.other_bytes() - other).abs() < 1e-6);
        let v = b.video_bps();
        assert!((v - (24_375_000.0 - other) * 8.0 / 60.0).abs() < 1e-6);
        assert_eq!(b.bytes_for(v), 25_000_000);
        assert!(
            budget(0.5, 60.0).video_bps() < 0.0,
            "the sound alone does not fit"
        );
    }

    #[test]
    fn the_largest_size_near_the_best_is_chosen() {
        let c = |w: u32, h: u32, pts: &[(f64, f64)]| Candidate {
            width: w,
            height: h,
            points: pts
                .iter()
                .map(|&(k, v)| RdPoint {
                    bitrate_bps: k * 1000.0,
                    vmaf: v,
                })
                .collect(),
        };
        let cands = [
            c(1280, 720, &[(500.0, 60.0), (1000.0, 80.0), (2000.0, 92.0)]),
            c(640, 360, &[(250.0, 65.0), (500.0, 78.0), (1000.0, 84.0)]),
        ];
        // At 500 kb/s the small size is far better; at 2 Mb/s the large one.
        assert_eq!(choose(&cands, 500_000.0).map(|c| c.index), Some(1));
        assert_eq!(choose(&cands, 2_000_000.0).map(|c| c.index), Some(0));
        // Nothing measured: the largest.
        let bare = [c(640, 360, &[]), c(1280, 720, &[])];
        assert_eq!(
            choose(&bare, 1.0),
            Some(Choice {
                index: 1,
                predicted_vmaf: None
            })
        );
        let least = least_bps_for_min_vmaf(&cands).expect("measured");
        assert!(least < 250_000.0, "{least}");
        assert!(vmaf_at(&curve(&cands[1]), least).expect("v") >= MIN_VMAF - 1e-6);
    }

    #[test]
    fn a_miss_is_put_on_the_video() {
        let b = budget(25.0, 60.0);
        let v = b.video_bps();
        // 2 % over: the video shrinks by a little more than 2 % (sound did not change).
        let again = corrected_bitrate(&b, v, (25_000_000.0 * AIM * 1.02) as u64);
        assert!(again < v * 0.98 && again > v * 0.97, "{again} vs {v}");
    }

    #[test]
    fn sizes_as_people_write_them() {
        assert_eq!(parse_size("25MB"), Ok(25_000_000));
        assert_eq!(parse_size("8 mb"), Ok(8_000_000));
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("700k"), Ok(700_000));
        assert_eq!(parse_size("100MiB"), Ok(104_857_600));
        assert_eq!(parse_size("123456"), Ok(123_456));
        assert!(parse_size("lots").is_err());
        assert!(
            parse_size("25 parsecs")
                .expect_err("unit")
                .contains("unknown unit")
        );
        assert!(parse_size("0MB").is_err());
    }
}
