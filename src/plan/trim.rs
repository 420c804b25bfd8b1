//! Trimming a plan to a part of the source (`--start`, `--end`, the app's range on the stills
//! strip): the output's time zero moves to the start (snapped to a whole source frame, so the
//! pictures are the source's own), the duration, the size estimates and the stills follow.
//! Pure; the local backend reads the trim from the plan.

use super::{Plan, Trim};

/// Trims `plan` to `start_secs..end_secs` (seconds on the untrimmed output's timeline; either
/// may be absent). Errors name the file and the problem.
pub fn trim(plan: &mut Plan, start_secs: Option<f64>, end_secs: Option<f64>) -> Result<(), String> {
    if start_secs.is_none() && end_secs.is_none() {
        return Ok(());
    }
    let name = plan.source.display().to_string();
    let duration = plan.duration_secs;
    let start = start_secs.unwrap_or(0.0);
    let end = end_secs.unwrap_or(duration);
    if !start.is_finite() || start < 0.0 {
        return Err(format!(
            "{name}: --start must be a time of 0 or more (got {start})"
        ));
    }
    if duration <= 0.0 {
        return Err(format!(
            "{name}: the source's duration is unknown, so it cannot be trimmed"
        ));
    }
    if start >= duration {
        return Err(format!(
            "{name}: --start {start:.3} s is past the end of the source ({duration:.3} s)"
        ));
    }
    if !end.is_finite() || end <= start {
        return Err(format!(
            "{name}: --end ({end:.3} s) must be after --start ({start:.3} s)"
        ));
    }
    // On a whole frame of the source: the first picture is one the source has.
    let frame = plan
        .source_frame_rate
        .map(|r| 1.0 / r.fps())
        .filter(|f| f.is_finite() && *f > 0.0);
    let start = frame
        .map_or(start, |f| (start / f).round() * f)
        .min(duration);
    let end = end.min(duration);
    if end - start < frame.unwrap_or(0.001) {
        return Err(format!(
            "{name}: {start:.3}-{end:.3} s holds no whole picture of the source"
        ));
    }
    let kept = (end - start) / duration;
    plan.timeline.zero_secs += start;
    plan.timeline.video_delay_secs = (plan.timeline.video_delay_secs - start).max(0.0);
    plan.timeline.audio_delay_secs = plan.timeline.audio_delay_secs.map(|a| (a - start).max(0.0));
    plan.duration_secs = end - start;
    plan.chapters = super::chapters_within(&plan.chapters, start, plan.duration_secs);
    for r in &mut plan.rungs {
        r.estimated_bytes = (r.estimated_bytes as f64 * kept) as u64;
    }
    plan.estimated_bytes = (plan.estimated_bytes as f64 * kept) as u64;
    plan.predicted_encode_secs = plan.predicted_encode_secs.map(|t| t * kept);
    if let Some(s) = &mut plan.stills {
        let count = s.times_secs.len().max(1) as f64;
        s.times_secs = (0..s.times_secs.len())
            .map(|i| plan.duration_secs * (i as f64 + 0.5) / count)
            .collect();
    }
    plan.trim = Some(Trim {
        start_secs: start,
        end_secs: end,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let info = super::super::tests::info_1080p(60.0);
        crate::plan::plan(&info, &crate::preset::store::builtins()[0]).expect("plan")
    }

    #[test]
    fn a_range_moves_zero_and_scales_the_estimates() {
        let mut p = plan();
        let (zero, bytes) = (p.timeline.zero_secs, p.estimated_bytes);
        trim(&mut p, Some(10.01), Some(40.0)).expect("trim");
        let t = p.trim.expect("recorded");
        // 10.01 s snaps to the nearest frame of 29.97 fps (frame 300 is 10.010 s).
        assert!(
            (t.start_secs - 300.0 * 1001.0 / 30000.0).abs() < 1e-9,
            "{t:?}"
        );
        assert!((p.timeline.zero_secs - zero - t.start_secs).abs() < 1e-9);
        assert!((p.duration_secs - (40.0 - t.start_secs)).abs() < 1e-9);
        let expected = bytes as f64 * p.duration_secs / 60.0;
        assert!((p.estimated_bytes as f64 - expected).abs() <= 1.0 + expected * 1e-9);
        // Stills spread over the part: the middles of equal parts of it.
        let s = p.stills.as_ref().expect("the preset takes stills");
        let n = s.times_secs.len() as f64;
        for (i, t) in s.times_secs.iter().enumerate() {
            let want = p.duration_secs * (i as f64 + 0.5) / n;
            assert!((t - want).abs() < 1e-9, "{t} vs {want}");
        }
    }

    #[test]
    fn impossible_ranges_are_refused_with_the_reason() {
        let mut p = plan();
        let past = trim(&mut p, Some(75.0), None).expect_err("past the end");
        assert!(
            past.contains("past the end of the source (60.000 s)"),
            "{past}"
        );
        let back = trim(&mut p, Some(20.0), Some(10.0)).expect_err("backwards");
        assert!(back.contains("must be after --start"), "{back}");
        let neg = trim(&mut p, Some(-1.0), None).expect_err("negative");
        assert!(neg.contains("0 or more"), "{neg}");
        assert!(p.trim.is_none(), "nothing changed");
        trim(&mut p, None, Some(500.0)).expect("an end past the source is the source's end");
        assert_eq!(p.duration_secs, 60.0);
    }
}
