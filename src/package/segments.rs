//! Consistent chunking: every rendition is cut at the first keyframe at or after each boundary
//! (in presentation time), so renditions line up segment for segment. Vodkit's own ladders
//! carry their keyframe grid in `manifest.json` and are cut exactly on it (a keyframe an
//! encoder added at a scene cut just before a boundary is not a boundary); other MP4s are cut
//! on multiples of the segment length. Audio is cut on the same boundaries. Also the check that
//! refuses renditions whose keyframes are not aligned.

use super::mp4_index::{Sample, Track};
use crate::timing::KeyframeGrid;

/// Where segments start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Boundaries {
    /// On the ladder's keyframe grid, exactly (Vodkit's own rungs).
    Grid(KeyframeGrid),
    /// Near every multiple of this many seconds (rungs made elsewhere).
    Every(f64),
}

impl Boundaries {
    /// Time of boundary `k` in microseconds.
    fn time_us(&self, k: u64) -> u64 {
        match self {
            Self::Grid(g) => g.boundary_time_us(k),
            Self::Every(secs) => (k as f64 * secs * 1e6).round() as u64,
        }
    }

    /// How far before a boundary a keyframe still counts as on it, in microseconds: none on
    /// the grid, half a frame otherwise (rounding in other tools' timestamps).
    fn slack_us(&self, track: &Track) -> u64 {
        match self {
            Self::Grid(_) => 0,
            Self::Every(_) => track.samples.first().map_or(0, |s| {
                u64::from(s.duration) * 500_000 / u64::from(track.timescale.max(1))
            }),
        }
    }

    /// Segment length in seconds, for messages.
    fn secs(&self) -> f64 {
        match self {
            Self::Grid(g) => g.period_us as f64 / 1e6,
            Self::Every(secs) => *secs,
        }
    }
}

/// A sample's presentation time in whole microseconds (rounded down, exact for the rational
/// times encoders write).
fn pts_us(track: &Track, s: &Sample) -> i64 {
    let ts = i128::from(track.timescale.max(1));
    let shifted = i128::from(s.pts()) - i128::from(track.edit_offset);
    i64::try_from((shifted * 1_000_000).div_euclid(ts)).unwrap_or(i64::MAX)
}

/// One segment of a track: a run of samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// First sample (index into the track's samples).
    pub first: usize,
    /// One past the last sample.
    pub end: usize,
    /// Decode time of the first sample, in the track's timescale.
    pub start_dts: u64,
    /// Sum of the samples' durations, in the track's timescale.
    pub duration: u64,
    /// Bytes of sample data.
    pub bytes: u64,
}

/// Cuts a video track at its first keyframe at or after every boundary.
pub fn cut_video(track: &Track, boundaries: &Boundaries) -> Vec<Segment> {
    let slack = i64::try_from(boundaries.slack_us(track)).unwrap_or(0);
    let due = |k: u64| i64::try_from(boundaries.time_us(k)).unwrap_or(i64::MAX) - slack;
    let mut starts = vec![0usize];
    let mut next_boundary = 1u64;
    for (i, s) in track.samples.iter().enumerate().skip(1) {
        let t = pts_us(track, s);
        if s.sync && t >= due(next_boundary) {
            starts.push(i);
            while t >= due(next_boundary) {
                next_boundary += 1;
            }
        }
    }
    runs(&track.samples, &starts)
}

/// Cuts an audio track at the first sample presented at or after each of the given times
/// (microseconds; the priming is taken off the samples' times first).
pub fn cut_at(track: &Track, cuts_us: &[i64]) -> Vec<Segment> {
    let mut starts = vec![0usize];
    let mut k = 0;
    for (i, s) in track.samples.iter().enumerate().skip(1) {
        let t = pts_us(track, s);
        if k < cuts_us.len() && t >= cuts_us[k] {
            starts.push(i);
            k += 1;
            while k < cuts_us.len() && t >= cuts_us[k] {
                k += 1;
            }
        }
    }
    runs(&track.samples, &starts)
}

/// Where each segment after the first starts, in microseconds of presentation time.
pub fn cut_times(track: &Track, segments: &[Segment]) -> Vec<i64> {
    segments
        .iter()
        .skip(1)
        .filter_map(|s| track.samples.get(s.first))
        .map(|s| pts_us(track, s))
        .collect()
}

fn runs(samples: &[Sample], starts: &[usize]) -> Vec<Segment> {
    starts
        .iter()
        .enumerate()
        .map(|(k, &first)| {
            let end = starts.get(k + 1).copied().unwrap_or(samples.len());
            let run = &samples[first..end];
            Segment {
                first,
                end,
                start_dts: run.first().map_or(0, |s| s.dts),
                duration: run.iter().map(|s| u64::from(s.duration)).sum(),
                bytes: run.iter().map(|s| u64::from(s.size)).sum(),
            }
        })
        .collect()
}

/// Checks that every rendition was cut into the same segments at the same times: exactly (to
/// the microsecond) on a keyframe grid, within one frame of the slowest rendition otherwise.
/// `renditions` holds (name, frame duration in seconds, cut times in microseconds). Returns a
/// message naming the rendition and the time when they are not aligned.
pub fn check_aligned(
    renditions: &[(String, f64, Vec<i64>)],
    boundaries: &Boundaries,
) -> Result<(), String> {
    let segment_secs = boundaries.secs();
    let Some((ref_name, _, ref_cuts)) = renditions.iter().max_by_key(|r| r.2.len()) else {
        return Ok(());
    };
    let tolerance_us = match boundaries {
        Boundaries::Grid(_) => 0,
        Boundaries::Every(_) => {
            (renditions.iter().map(|r| r.1).fold(0.0, f64::max) * 1e6).ceil() as i64 + 1
        }
    };
    for (name, _, cuts) in renditions {
        for (k, &expected_us) in ref_cuts.iter().enumerate() {
            let expected = expected_us as f64 / 1e6;
            match cuts.get(k) {
                Some(t) if (t - expected_us).abs() <= tolerance_us => {}
                Some(&t_us) => {
                    let t = t_us as f64 / 1e6;
                    return Err(format!(
                        "rung {name} has its keyframe at {t:.3} s where {ref_name} has one at {expected:.3} s: \
                         the rungs' GOPs are not aligned on {segment_secs} s boundaries (re-encode with a fixed GOP, \
                         e.g. vodkit encode, or ffmpeg -force_key_frames 'expr:gte(t,n_forced*{segment_secs})')"
                    ));
                }
                None => {
                    return Err(format!(
                        "rung {name} has no keyframe near {expected:.3} s where {ref_name} has one: \
                         the rungs' GOPs are not aligned on {segment_secs} s boundaries"
                    ));
                }
            }
        }
        if let Some(extra) = cuts.get(ref_cuts.len()) {
            let extra = *extra as f64 / 1e6;
            return Err(format!(
                "rung {name} has a segment boundary at {extra:.3} s that {ref_name} lacks"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::mp4_index::TrackKind;

    /// A 30 fps video track with keyframes at the given frame numbers.
    fn video(frames: usize, keyframes: &[usize]) -> Track {
        let samples = (0..frames)
            .map(|i| Sample {
                offset: i as u64 * 100,
                size: 100,
                dts: i as u64 * 1000,
                cts_offset: 0,
                duration: 1000,
                sync: keyframes.contains(&i),
            })
            .collect();
        Track {
            file: "x.mp4".into(),
            kind: TrackKind::Video,
            timescale: 30_000,
            trak: mp4_atom::Trak::default(),
            samples,
            edit_offset: 0,
        }
    }

    #[test]
    fn cuts_at_the_first_keyframe_on_each_boundary() {
        // Keyframes every second; 2 s segments use every other one.
        let t = video(180, &[0, 30, 60, 90, 120, 150]);
        let segs = cut_video(&t, &Boundaries::Every(2.0));
        assert_eq!(
            segs.iter().map(|s| s.first).collect::<Vec<_>>(),
            vec![0, 60, 120]
        );
        assert_eq!(segs[0].duration, 60_000);
        assert_eq!(segs[2].end, 180);
        assert_eq!(cut_times(&t, &segs), vec![2_000_000, 4_000_000]);
    }

    #[test]
    fn a_late_keyframe_starts_the_segment_late() {
        let t = video(180, &[0, 63, 120]);
        let segs = cut_video(&t, &Boundaries::Every(2.0));
        assert_eq!(cut_times(&t, &segs), vec![2_100_000, 4_000_000]);
    }

    #[test]
    fn on_the_grid_a_scene_cut_keyframe_just_before_a_boundary_is_not_a_cut() {
        // 30 fps, grid on every 2nd frame: the 2 s boundary is frame 60. An extra keyframe at
        // frame 59 (a scene cut) would be within half a frame's slack of "2 s" for other tools.
        let t = video(180, &[0, 59, 60, 120]);
        let grid = KeyframeGrid::new(30, 1, 2.0, &[2]);
        let segs = cut_video(&t, &Boundaries::Grid(grid));
        assert_eq!(cut_times(&t, &segs), vec![2_000_000, 4_000_000]);
    }

    #[test]
    fn misaligned_rungs_are_refused_with_names_and_times() {
        let every = Boundaries::Every(2.0);
        let ok = vec![
            ("720p".to_owned(), 1.0 / 30.0, vec![2_000_000, 4_000_000]),
            ("270p".to_owned(), 1.0 / 15.0, vec![2_000_000, 4_066_666]),
        ];
        assert!(check_aligned(&ok, &every).is_ok());
        let bad = vec![
            ("720p".to_owned(), 1.0 / 30.0, vec![2_000_000, 4_000_000]),
            ("480p".to_owned(), 1.0 / 30.0, vec![2_000_000, 4_500_000]),
        ];
        let err = check_aligned(&bad, &every).expect_err("misaligned");
        assert!(err.contains("480p") && err.contains("4.500"), "{err}");
        // On a grid, one frame apart is not aligned.
        let grid = Boundaries::Grid(KeyframeGrid::new(30, 1, 2.0, &[1]));
        let err = check_aligned(&ok, &grid).expect_err("a frame apart");
        assert!(err.contains("270p") && err.contains("4.067"), "{err}");
    }

    #[test]
    fn audio_follows_the_video_cuts() {
        let mut a = video(100, &[]);
        a.timescale = 48_000;
        for (i, s) in a.samples.iter_mut().enumerate() {
            s.dts = i as u64 * 1024;
            s.duration = 1024;
            s.sync = true;
        }
        let segs = cut_at(&a, &[1_000_000]);
        // 1.0 s = 48000 ticks: the first sample at or after it is 47 (48128).
        assert_eq!(segs[1].first, 47);
        // With 1024 samples of priming, sample 48 (49152 - 1024 = 48128) is the one.
        a.edit_offset = 1024;
        let segs = cut_at(&a, &[1_000_000]);
        assert_eq!(segs[1].first, 48);
    }
}
