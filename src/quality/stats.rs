//! Per-frame scores summed up the way ladder tools report them: mean, harmonic mean (libvmaf's
//! pooling: `1 / mean(1 / (1 + x)) - 1`, which weighs bad frames more), the 1 % low (the
//! score 99 % of frames reach), the minimum, mean SSIM and PSNR (luma, and YUV weighted 6:1:1
//! as in the codec literature), and the mean VMAF of every 2 s segment so a bad scene shows.

use serde::{Deserialize, Serialize};

use super::vmaf::FrameScores;

/// The length of the segments VMAF is averaged over: the ladder's 2 s GOPs and DASH segments.
pub const SEGMENT_SECS: f64 = 2.0;

/// VMAF over a rung.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VmafSummary {
    /// Arithmetic mean.
    pub mean: f64,
    /// Harmonic mean (libvmaf's pooling).
    pub harmonic_mean: f64,
    /// The 1st percentile: 99 % of scored frames score at least this.
    pub low_1pct: f64,
    /// The worst frame.
    pub min: f64,
}

/// Everything measured on one rung.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RungQuality {
    /// The rung's name (`720p`), or the file name for files outside a title.
    pub rung: String,
    /// The scored file's name.
    pub file: String,
    /// The VMAF model (`vmaf_v0.6.1`, `vmaf_4k_v0.6.1`).
    pub model: String,
    /// The reference's size: every rung was upscaled (bicubic) to it before scoring.
    pub reference_width: u32,
    /// See `reference_width`.
    pub reference_height: u32,
    /// The rung's own size.
    pub width: u32,
    /// See `width`.
    pub height: u32,
    /// The rung's frame rate (frames per second).
    pub fps: f64,
    /// Frames compared.
    pub frames: u64,
    /// Frames scored (every `every`-th of `frames`).
    pub frames_scored: u64,
    /// Scoring every N-th frame (1: all).
    pub every: u32,
    /// VMAF.
    pub vmaf: VmafSummary,
    /// Mean SSIM of luma (0-1).
    pub ssim_mean: f64,
    /// Mean PSNR of luma, dB (60 for a perfect 8-bit frame).
    pub psnr_y_mean: f64,
    /// Mean PSNR of (6 Y + Cb + Cr) / 8, dB.
    pub psnr_yuv_mean: f64,
    /// The video stream's bitrate, bits per second.
    pub bitrate_bps: u64,
    /// Bits per pixel: bitrate / (width x height x fps).
    pub bits_per_pixel: f64,
    /// Segment length of `segment_vmaf`, seconds.
    pub segment_secs: f64,
    /// Mean VMAF of each segment, in order (segment k covers [k, k+1) x segment_secs).
    pub segment_vmaf: Vec<f64>,
}

/// What a rung is, for [`summarize`].
#[derive(Debug, Clone, PartialEq)]
pub struct RungFacts {
    /// Name (`720p`).
    pub rung: String,
    /// File name.
    pub file: String,
    /// Own size.
    pub width: u32,
    /// Own size.
    pub height: u32,
    /// Frame rate.
    pub fps: f64,
    /// Video bitrate, bits per second.
    pub bitrate_bps: u64,
}

/// Sums up the scores of one rung (`frames` compared, scored every `every`-th) against a
/// reference of `reference` size with `model`. `None` when nothing was scored.
pub fn summarize(
    facts: &RungFacts,
    scores: &[FrameScores],
    frames: u64,
    every: u32,
    reference: (u32, u32),
    model: &str,
    segment_secs: f64,
) -> Option<RungQuality> {
    if scores.is_empty() {
        return None;
    }
    let n = scores.len() as f64;
    let mean = |f: fn(&FrameScores) -> f64| scores.iter().map(f).sum::<f64>() / n;
    let mut sorted: Vec<f64> = scores.iter().map(|s| s.vmaf).collect();
    sorted.sort_by(f64::total_cmp);
    let low_1pct = sorted[((sorted.len() - 1) as f64 * 0.01).floor() as usize];
    let harmonic_mean = n / scores.iter().map(|s| 1.0 / (1.0 + s.vmaf)).sum::<f64>() - 1.0;
    let fps = if facts.fps > 0.0 { facts.fps } else { 1.0 };
    let mut segments: Vec<(f64, u32)> = Vec::new();
    for s in scores {
        let k = (f64::from(s.index) / fps / segment_secs).floor() as usize;
        if segments.len() <= k {
            segments.resize(k + 1, (0.0, 0));
        }
        segments[k].0 += s.vmaf;
        segments[k].1 += 1;
    }
    // A segment without a scored frame (sparse `every`) takes its neighbour's mean.
    let mut segment_vmaf: Vec<f64> = Vec::with_capacity(segments.len());
    for (sum, count) in segments {
        let v = if count > 0 {
            sum / f64::from(count)
        } else {
            segment_vmaf.last().copied().unwrap_or(sorted[0])
        };
        segment_vmaf.push(v);
    }
    let pixels_per_sec = f64::from(facts.width) * f64::from(facts.height) * fps;
    Some(RungQuality {
        rung: facts.rung.clone(),
        file: facts.file.clone(),
        model: model.to_owned(),
        reference_width: reference.0,
        reference_height: reference.1,
        width: facts.width,
        height: facts.height,
        fps: facts.fps,
        frames,
        frames_scored: scores.len() as u64,
        every,
        vmaf: VmafSummary {
            mean: mean(|s| s.vmaf),
            harmonic_mean,
            low_1pct,
            min: sorted[0],
        },
        ssim_mean: mean(|s| s.ssim),
        psnr_y_mean: mean(|s| s.psnr_y),
        psnr_yuv_mean: mean(|s| (6.0 * s.psnr_y + s.psnr_cb + s.psnr_cr) / 8.0),
        bitrate_bps: facts.bitrate_bps,
        bits_per_pixel: if pixels_per_sec > 0.0 {
            facts.bitrate_bps as f64 / pixels_per_sec
        } else {
            0.0
        },
        segment_secs,
        segment_vmaf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(index: u32, vmaf: f64) -> FrameScores {
        FrameScores {
            index,
            vmaf,
            psnr_y: 40.0,
            psnr_cb: 48.0,
            psnr_cr: 32.0,
            ssim: 0.98,
        }
    }

    fn facts() -> RungFacts {
        RungFacts {
            rung: "360p".into(),
            file: "a_360p.mp4".into(),
            width: 640,
            height: 360,
            fps: 2.0,
            bitrate_bps: 460_800,
        }
    }

    #[test]
    fn means_percentile_minimum_and_segments() {
        // 2 fps, 2 s segments: frames 0-3 in the first, 4-7 in the second.
        let mut scores: Vec<FrameScores> = (0..8).map(|i| frame(i, 90.0)).collect();
        scores[5].vmaf = 50.0;
        let q = summarize(&facts(), &scores, 8, 1, (1280, 720), "vmaf_v0.6.1", 2.0).expect("q");
        assert_eq!(q.vmaf.mean, 85.0);
        assert_eq!(q.vmaf.min, 50.0);
        assert_eq!(q.vmaf.low_1pct, 50.0);
        let harmonic = 8.0 / (7.0 / 91.0 + 1.0 / 51.0) - 1.0;
        assert!((q.vmaf.harmonic_mean - harmonic).abs() < 1e-9);
        assert!(q.vmaf.harmonic_mean < q.vmaf.mean);
        assert_eq!(q.segment_vmaf, vec![90.0, 80.0]);
        assert_eq!(q.psnr_y_mean, 40.0);
        assert_eq!(q.psnr_yuv_mean, (240.0 + 48.0 + 32.0) / 8.0);
        assert!((q.bits_per_pixel - 1.0).abs() < 1e-12);
        assert_eq!((q.frames, q.frames_scored, q.every), (8, 8, 1));
    }

    #[test]
    fn sparse_scoring_fills_empty_segments_and_nothing_scored_is_none() {
        let scores = vec![frame(0, 80.0), frame(12, 70.0)];
        let q = summarize(&facts(), &scores, 13, 12, (640, 360), "m", 2.0).expect("q");
        // 2 fps: frame 12 is at 6 s, segment 3; segments 1 and 2 had no scored frame.
        assert_eq!(q.segment_vmaf, vec![80.0, 80.0, 80.0, 70.0]);
        assert_eq!(q.frames_scored, 2);
        assert!(summarize(&facts(), &[], 0, 1, (640, 360), "m", 2.0).is_none());
    }

    #[test]
    fn the_1pct_low_of_many_frames() {
        let scores: Vec<FrameScores> = (0..1000).map(|i| frame(i, f64::from(i) / 10.0)).collect();
        let q = summarize(&facts(), &scores, 1000, 1, (640, 360), "m", 2.0).expect("q");
        assert!((q.vmaf.low_1pct - 0.9).abs() < 1e-9, "{}", q.vmaf.low_1pct);
    }
}
