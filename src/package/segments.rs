//! Consistent chunking: every rendition is cut at the first keyframe at or after each multiple
//! of the segment length (in presentation time), so renditions encoded separately line up
//! segment for segment. Audio is cut on the same boundaries. Also the check that refuses
//! renditions whose keyframes are not aligned.

use super::mp4_index::{Sample, Track};

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

/// Cuts a video track at its first keyframe at or after every multiple of `segment_secs`.
/// Returns the segments and, for each boundary after the first, where the cut fell (seconds),
/// so alignment can be checked.
pub fn cut_video(track: &Track, segment_secs: f64) -> Vec<Segment> {
    let ts = f64::from(track.timescale.max(1));
    let half_frame = track
        .samples
        .first()
        .map_or(0.0, |s| f64::from(s.duration) / ts / 2.0);
    let mut starts = vec![0usize];
    let mut next_boundary = 1u64;
    for (i, s) in track.samples.iter().enumerate().skip(1) {
        let pts_secs = s.pts() as f64 / ts;
        // A keyframe within half a frame before the boundary counts as on it (rounding).
        if s.sync && pts_secs + half_frame >= next_boundary as f64 * segment_secs {
            starts.push(i);
            while pts_secs + half_frame >= next_boundary as f64 * segment_secs {
                next_boundary += 1;
            }
        }
    }
    runs(&track.samples, &starts)
}

/// Cuts an audio track at the first sample at or after each of the given times (seconds).
pub fn cut_at(track: &Track, cut_secs: &[f64]) -> Vec<Segment> {
    let ts = f64::from(track.timescale.max(1));
    let mut starts = vec![0usize];
    let mut k = 0;
    for (i, s) in track.samples.iter().enumerate().skip(1) {
        if k < cut_secs.len() && s.pts() as f64 / ts >= cut_secs[k] - 1e-9 {
            starts.push(i);
            k += 1;
            while k < cut_secs.len() && s.pts() as f64 / ts >= cut_secs[k] - 1e-9 {
                k += 1;
            }
        }
    }
    runs(&track.samples, &starts)
}

/// Where each segment after the first starts, in seconds of presentation time.
pub fn cut_times(track: &Track, segments: &[Segment]) -> Vec<f64> {
    let ts = f64::from(track.timescale.max(1));
    segments
        .iter()
        .skip(1)
        .map(|s| track.samples[s.first].pts() as f64 / ts)
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

/// Checks that every rendition was cut into the same segments at the same times (within one
/// frame of the slowest rendition). `renditions` holds (name, frame duration in seconds, cut
/// times). Returns a message naming the rendition and the time when they are not aligned.
pub fn check_aligned(
    renditions: &[(String, f64, Vec<f64>)],
    segment_secs: f64,
) -> Result<(), String> {
    let Some((ref_name, _, ref_cuts)) = renditions.iter().max_by_key(|r| r.2.len()) else {
        return Ok(());
    };
    let tolerance = renditions.iter().map(|r| r.1).fold(0.0, f64::max) + 1e-6;
    for (name, _, cuts) in renditions {
        for (k, expected) in ref_cuts.iter().enumerate() {
            match cuts.get(k) {
                Some(t) if (t - expected).abs() <= tolerance => {}
                Some(t) => {
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
        }
    }

    #[test]
    fn cuts_at_the_first_keyframe_on_each_boundary() {
        // Keyframes every second; 2 s segments use every other one.
        let t = video(180, &[0, 30, 60, 90, 120, 150]);
        let segs = cut_video(&t, 2.0);
        assert_eq!(
            segs.iter().map(|s| s.first).collect::<Vec<_>>(),
            vec![0, 60, 120]
        );
        assert_eq!(segs[0].duration, 60_000);
        assert_eq!(segs[2].end, 180);
        assert_eq!(cut_times(&t, &segs), vec![2.0, 4.0]);
    }

    #[test]
    fn a_late_keyframe_starts_the_segment_late() {
        let t = video(180, &[0, 63, 120]);
        let segs = cut_video(&t, 2.0);
        assert_eq!(cut_times(&t, &segs), vec![2.1, 4.0]);
    }

    #[test]
    fn misaligned_rungs_are_refused_with_names_and_times() {
        let ok = vec![
            ("720p".to_owned(), 1.0 / 30.0, vec![2.0, 4.0]),
            ("270p".to_owned(), 1.0 / 15.0, vec![2.0, 4.0 + 1.0 / 15.0]),
        ];
        assert!(check_aligned(&ok, 2.0).is_ok());
        let bad = vec![
            ("720p".to_owned(), 1.0 / 30.0, vec![2.0, 4.0]),
            ("480p".to_owned(), 1.0 / 30.0, vec![2.0, 4.5]),
        ];
        let err = check_aligned(&bad, 2.0).expect_err("misaligned");
        assert!(err.contains("480p") && err.contains("4.500"), "{err}");
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
        let segs = cut_at(&a, &[1.0]);
        // 1.0 s = 48000 ticks: the first sample at or after it is 47 (48128).
        assert_eq!(segs[1].first, 47);
    }
}
