//! The timing model: where time zero is, how every stream is shifted to it, and the one grid of
//! keyframe positions that every rung keeps. Pure arithmetic, written once and used by the plan
//! (which decides it), the local encoder (which follows it) and the packager (which cuts on it).
//!
//! # Time zero
//! Sources rarely start at zero: MPEG-TS/PS camera files start wherever the camera's clock was
//! (0.52 s, 1.4 s, hours), MOV/MP4 edit lists delay one track with an empty edit, and audio and
//! video rarely start at the same instant. Vodkit's output time zero is the **earliest first
//! presentation time of the streams it uses** (the video and the chosen audio), as the demuxer
//! reports them after applying edit lists. Every stream is shifted by that same amount, so the
//! distance between a picture and a sound stays what it was in the source:
//! - the video starts at zero; when it starts later than the audio, its first picture is shown
//!   from zero until its own time (the constant-rate filter fills the gap);
//! - the audio starts at zero; when it starts later than the video, silence fills the gap, and
//!   audio timestamps before zero (encoder delay in the source) are trimmed.
//!
//! # Priming and edit lists in the outputs
//! The AAC encoder's first packet carries 1024 samples of priming, and B-frames delay a video's
//! first picture by a frame or two. The MP4 rungs say so with an edit list (`elst` media time
//! 1024 on the audio track, one or two frame durations on the video track). The packager keeps
//! both as edit lists in the CMAF headers, with the samples' composition offsets as they are,
//! so HLS and DASH players present each track exactly where an MP4 player does. Checked in
//! Chromium's MSE (buffered ranges start at 0 with the edit list) and in FFmpeg's HLS and DASH
//! readers; FFmpeg reads negative composition offsets (the other way CMAF allows) a frame late,
//! which is why Vodkit does not use them. The DASH SegmentTimeline gives decode times (`tfdt`),
//! which for closed GOPs equal the segments' presentation times after the edit list, except
//! that the audio's first segment starts 1024 samples (21 ms) before zero, which players trim.
//! HLS and DASH share these bytes, so they match.

//! # The keyframe grid
//! Every rung gets an IDR frame at the first frame of the source's constant-rate sequence at or
//! after each multiple of the GOP length, rounded up to a frame that every rung keeps: a 15 fps
//! rung of a 29.97 fps source keeps every 2nd frame, so boundaries fall on even frames. The grid
//! is decided once for the whole ladder (the least common multiple of the rungs' frame steps),
//! so every rung's keyframes are at identical presentation times, for hours of content, and the
//! packager cuts every rung at the same instants.

use serde::{Deserialize, Serialize};

/// Where the outputs' time zero is in the source, and how each stream starts relative to it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Timeline {
    /// The source time (seconds, as the demuxer reports it) that becomes zero in every output.
    pub zero_secs: f64,
    /// When the source's video starts, relative to zero (seconds, >= 0).
    pub video_delay_secs: f64,
    /// When the source's audio starts, relative to zero (seconds, >= 0), if there is audio.
    pub audio_delay_secs: Option<f64>,
}

impl Timeline {
    /// The timeline of streams whose first presentation times are given (seconds; `None` when
    /// the demuxer does not know). Unknown starts count as zero. With a frame rate, a video that
    /// starts after the audio is placed on a whole frame (zero moves earlier by less than one
    /// frame, the audio gets that much silence), so the picture is not rounded to a neighbouring
    /// frame slot.
    pub fn new(
        video_start_secs: Option<f64>,
        audio_start_secs: Option<f64>,
        frame_rate: Option<(u32, u32)>,
    ) -> Self {
        let finite = |s: Option<f64>| s.filter(|s| s.is_finite());
        let video = finite(video_start_secs);
        let audio = finite(audio_start_secs);
        let zero = match (video, audio) {
            (Some(v), Some(a)) if a < v => match frame_rate {
                Some((num, den)) if num > 0 && den > 0 => {
                    let frame = f64::from(den) / f64::from(num);
                    let frames = ((v - a) / frame - 1e-6).ceil().max(0.0);
                    v - frames * frame
                }
                _ => a,
            },
            (Some(v), _) => v,
            (None, Some(a)) => a,
            (None, None) => 0.0,
        };
        Self {
            zero_secs: zero,
            video_delay_secs: video.map_or(0.0, |v| v - zero),
            audio_delay_secs: audio.map(|a| a - zero),
        }
    }

    /// How the source's timing was mapped, in words, when there was anything to map.
    pub fn describe(&self) -> Option<String> {
        let audio = self.audio_delay_secs.unwrap_or(0.0);
        if self.zero_secs.abs() < 1e-6 && self.video_delay_secs < 1e-6 && audio < 1e-6 {
            return None;
        }
        let mut s = format!(
            "the source starts at {:.3} s; outputs start at 0 with every stream shifted by the same {:.3} s",
            self.zero_secs, self.zero_secs
        );
        let picture_late = self.video_delay_secs - audio;
        if picture_late >= 1e-6 {
            s.push_str(&format!(
                "; the picture starts {picture_late:.3} s after the sound (its first frame is held until then)"
            ));
        } else if picture_late <= -1e-6 {
            s.push_str(&format!(
                "; the sound starts {:.3} s after the picture (silence until then)",
                -picture_late
            ));
        }
        Some(s)
    }
}

/// The keyframe positions of a ladder: frame indexes of the source's constant-rate sequence
/// (frame 0 is shown at time zero) that start a GOP in every rung.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyframeGrid {
    /// Frame rate of the constant-rate sequence: frames ...
    pub rate_num: u32,
    /// ... per this many seconds.
    pub rate_den: u32,
    /// Distance between boundaries in microseconds (the GOP length).
    pub period_us: u64,
    /// Boundaries fall on multiples of this many source frames (every rung keeps them).
    pub frame_step: u32,
}

impl KeyframeGrid {
    /// A grid of `period_secs` on a source at `rate_num/rate_den` fps whose rungs keep every
    /// n-th frame for each n in `steps`.
    pub fn new(rate_num: u32, rate_den: u32, period_secs: f64, steps: &[u32]) -> Self {
        let frame_step = steps
            .iter()
            .copied()
            .filter(|&s| s > 0)
            .fold(1u32, |acc, s| lcm(acc, s).min(u32::from(u16::MAX)));
        Self {
            rate_num: rate_num.max(1),
            rate_den: rate_den.max(1),
            period_us: (period_secs * 1e6).round().max(1.0) as u64,
            frame_step,
        }
    }

    /// The same grid with another period (a segment length that is a whole number of GOPs
    /// cuts on every n-th boundary).
    pub fn with_period_secs(self, period_secs: f64) -> Self {
        Self {
            period_us: (period_secs * 1e6).round().max(1.0) as u64,
            ..self
        }
    }

    /// The source frame that starts boundary `k` (boundary 0 is frame 0): the first frame at or
    /// after `k` periods, rounded up to a multiple of the frame step.
    pub fn boundary_frame(&self, k: u64) -> u64 {
        let num = u128::from(k) * u128::from(self.period_us) * u128::from(self.rate_num);
        let den = 1_000_000 * u128::from(self.rate_den);
        let first = num.div_ceil(den);
        let step = u128::from(self.frame_step.max(1));
        u64::try_from(first.div_ceil(step) * step).unwrap_or(u64::MAX)
    }

    /// True when source frame `index` starts a GOP.
    pub fn is_boundary(&self, index: u64) -> bool {
        // The largest k whose exact boundary time is at or before this frame; its rounded-up
        // frame is the only candidate besides the one before it.
        let k = u128::from(index) * 1_000_000 * u128::from(self.rate_den)
            / (u128::from(self.period_us) * u128::from(self.rate_num));
        let k = u64::try_from(k).unwrap_or(u64::MAX);
        self.boundary_frame(k) == index || (k > 0 && self.boundary_frame(k - 1) == index)
    }

    /// Presentation time of source frame `index`, in microseconds (exact to the microsecond,
    /// rounded down).
    pub fn frame_time_us(&self, index: u64) -> u64 {
        let us =
            u128::from(index) * 1_000_000 * u128::from(self.rate_den) / u128::from(self.rate_num);
        u64::try_from(us).unwrap_or(u64::MAX)
    }

    /// Presentation time of boundary `k`, in microseconds.
    pub fn boundary_time_us(&self, k: u64) -> u64 {
        self.frame_time_us(self.boundary_frame(k))
    }

    /// The longest distance between two boundaries, in source frames.
    pub fn max_gop_frames(&self) -> u64 {
        let exact = (u128::from(self.period_us) * u128::from(self.rate_num))
            .div_ceil(1_000_000 * u128::from(self.rate_den));
        u64::try_from(exact).unwrap_or(u64::MAX) + u64::from(self.frame_step)
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn lcm(a: u32, b: u32) -> u32 {
    if a == 0 || b == 0 {
        return a.max(b);
    }
    let l = u64::from(a) / u64::from(gcd(a, b)) * u64::from(b);
    u32::try_from(l).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(num: u32, den: u32, steps: &[u32]) -> KeyframeGrid {
        KeyframeGrid::new(num, den, 2.0, steps)
    }

    #[test]
    fn time_zero_is_the_earliest_stream() {
        let t = Timeline::new(Some(1.4), Some(1.4), None);
        assert_eq!(t.zero_secs, 1.4);
        assert_eq!(t.video_delay_secs, 0.0);
        assert_eq!(t.audio_delay_secs, Some(0.0));
        let late_audio = Timeline::new(Some(0.0), Some(0.5), None);
        assert_eq!(late_audio.audio_delay_secs, Some(0.5));
        let early_audio = Timeline::new(Some(0.52), Some(0.3), None);
        assert!((early_audio.video_delay_secs - 0.22).abs() < 1e-9);
        assert_eq!(early_audio.zero_secs, 0.3);
        assert!(
            Timeline::new(Some(0.0), Some(0.0), None)
                .describe()
                .is_none()
        );
        assert!(Timeline::new(None, None, None).describe().is_none());
        // A camera TS whose AAC starts 23.2 ms before the picture: at 25 fps the picture starts
        // on frame 1 exactly (zero 40 ms before it) and the audio 16.8 ms after zero.
        let ts = Timeline::new(Some(2.8), Some(2.7768), Some((25, 1)));
        assert!((ts.video_delay_secs - 0.04).abs() < 1e-9, "{ts:?}");
        assert!(
            (ts.audio_delay_secs.expect("audio") - 0.0168).abs() < 1e-9,
            "{ts:?}"
        );
        // A whole number of frames stays as it is.
        let whole = Timeline::new(Some(1.08), Some(1.0), Some((25, 1)));
        assert!((whole.video_delay_secs - 0.08).abs() < 1e-9);
        assert!(whole.audio_delay_secs.expect("audio").abs() < 1e-9);
        let words = late_audio.describe().expect("a delay is worth saying");
        assert!(words.contains("0.500 s after the picture"), "{words}");
    }

    #[test]
    fn the_15fps_rung_of_a_2997_source_keeps_every_boundary() {
        // The measured bug: at 34 s the 29.97 fps rungs cut at frame 1019 (34.001 s), which a
        // 15 fps rung does not have. The grid puts that boundary on frame 1020 for all rungs.
        let g = grid(30000, 1001, &[1, 2]);
        assert_eq!(g.frame_step, 2);
        assert_eq!(g.boundary_frame(17), 1020);
        assert_eq!(g.boundary_time_us(17), 34_034_000);
        // Every boundary over two hours is a frame the 15 fps rung keeps.
        for k in 0..3600 {
            let f = g.boundary_frame(k);
            assert_eq!(f % 2, 0);
            assert!(g.is_boundary(f), "boundary {k} at frame {f}");
            assert!(!g.is_boundary(f + 1));
            // Never before the exact boundary time, never more than a step after it.
            let exact_us = k as u128 * 2_000_000;
            let t = u128::from(g.boundary_time_us(k));
            assert!(t >= exact_us && t < exact_us + 70_000, "{k}: {t}");
        }
    }

    #[test]
    fn boundaries_are_exact_at_common_rates() {
        for &(num, den, steps) in &[
            (24000u32, 1001u32, &[1u32][..]),
            (25, 1, &[1, 2]),
            (30000, 1001, &[1, 2]),
            (30, 1, &[1, 2]),
            (50, 1, &[1, 2, 4]),
            (60000, 1001, &[1, 2, 4]),
            (60, 1, &[1, 4]),
        ] {
            let g = grid(num, den, steps);
            let mut count = 0;
            for i in 0..(g.boundary_frame(100) + 1) {
                if g.is_boundary(i) {
                    assert_eq!(i, g.boundary_frame(count), "{num}/{den} frame {i}");
                    count += 1;
                }
            }
            assert_eq!(count, 101, "{num}/{den}");
            assert!(g.max_gop_frames() >= g.boundary_frame(2) - g.boundary_frame(1));
        }
        // 25 fps: 2 s is exactly 50 frames.
        assert_eq!(grid(25, 1, &[1]).boundary_frame(3), 150);
    }

    #[test]
    fn a_segment_of_three_gops_cuts_on_every_third_boundary() {
        let g = grid(30000, 1001, &[2]);
        let seg = g.with_period_secs(6.0);
        for k in 0..200 {
            assert_eq!(seg.boundary_frame(k), g.boundary_frame(3 * k));
        }
    }
}
