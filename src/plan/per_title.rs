//! The per-title ladder rules (Netflix's method): every allowed size's rate-quality curve,
//! measured on samples of the source at a few quality points, the upper convex hull of all of
//! them, and the ladder read off the hull. Pure: the samples and their scores come from the
//! caller.
//!
//! The rules, in order:
//! 1. The hull is taken over bitrate on a log scale (each doubling of bits counts the same at
//!    every rate) against mean VMAF. A size that never lies on the hull is dropped: at every
//!    bitrate some other size looks better.
//! 2. A size on the hull owns a range of bitrates; its rung sits at the top of that range (where
//!    the next larger size starts doing better, and no further than the size was measured),
//!    predicted from its own curve.
//! 3. The top rung is the hull's first point reaching `target_vmaf` (or the best it reaches),
//!    and no rung is kept above it.
//! 4. Going down, a rung sits at most `min_vmaf_step` below the one above it (fewer bits where
//!    its range would put it higher); one that cannot get that far below, or would need as
//!    many bits as the rung above, is dropped (it costs a rung and adds nothing a player can
//!    use).
//!    Adjacent rungs are at least 1.5x apart in bitrate.
//! 5. Bitrates are kept within `min_bitrate_bps`..`max_bitrate_bps`: above is capped (and the
//!    predicted VMAF falls with it), below is dropped, except the top rung, which is raised to
//!    the minimum (a ladder always has a rung).

use super::{Plan, RungStatus};

/// The least ratio between adjacent rungs' bitrates.
pub const MIN_RATE_RATIO: f64 = 1.5;

/// One measured point: a size encoded at one quality setting.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RdPoint {
    /// Bits per second the sample needed.
    pub bitrate_bps: f64,
    /// Its mean VMAF against the source.
    pub vmaf: f64,
}

/// The points of one allowed size.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SizeCurve {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Measured points, in any order.
    pub points: Vec<RdPoint>,
}

/// What the ladder must respect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitRules {
    /// The top rung's goal.
    pub target_vmaf: f64,
    /// The least a rung must add over the one below it.
    pub min_vmaf_step: f64,
    /// No rung below this.
    pub min_bitrate_bps: f64,
    /// No rung above this.
    pub max_bitrate_bps: f64,
}

/// A rung the fit keeps.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fitted {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The bitrate to encode it at.
    pub bitrate_bps: f64,
    /// Its VMAF as the curve predicts at that bitrate.
    pub predicted_vmaf: f64,
    /// Why this bitrate.
    pub reason: String,
}

/// A size the fit leaves out, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Dropped {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// In words.
    pub reason: String,
}

/// A size's curve sorted by bitrate, made monotone (a point with more bits and less quality
/// than an earlier one is measurement noise: it is left out).
fn monotone(points: &[RdPoint]) -> Vec<RdPoint> {
    let mut p: Vec<RdPoint> = points
        .iter()
        .copied()
        .filter(|p| p.bitrate_bps > 0.0 && p.bitrate_bps.is_finite() && p.vmaf.is_finite())
        .collect();
    p.sort_by(|a, b| a.bitrate_bps.total_cmp(&b.bitrate_bps));
    let mut out: Vec<RdPoint> = Vec::with_capacity(p.len());
    for q in p {
        if out.last().is_none_or(|l| q.vmaf > l.vmaf) {
            out.push(q);
        }
    }
    out
}

/// [`monotone`] for other planners.
pub fn monotone_points(points: &[RdPoint]) -> Vec<RdPoint> {
    monotone(points)
}

/// VMAF on a monotone curve at a bitrate: linear in log bitrate between points; below the
/// first point the first segment's slope goes on (fewer bits never score the same), above the
/// last it stays flat (the curve has saturated as far as anyone measured).
pub fn vmaf_at(curve: &[RdPoint], bitrate_bps: f64) -> Option<f64> {
    let (first, last) = (curve.first()?, curve.last()?);
    if bitrate_bps <= first.bitrate_bps {
        return Some(match curve.get(1) {
            Some(second) if bitrate_bps > 0.0 => {
                let slope =
                    (second.vmaf - first.vmaf) / (second.bitrate_bps.ln() - first.bitrate_bps.ln());
                (first.vmaf - slope * (first.bitrate_bps.ln() - bitrate_bps.ln())).clamp(0.0, 100.0)
            }
            _ => first.vmaf,
        });
    }
    if bitrate_bps >= last.bitrate_bps {
        return Some(last.vmaf);
    }
    curve.windows(2).find_map(|w| {
        let (a, b) = (w[0], w[1]);
        (bitrate_bps <= b.bitrate_bps).then(|| {
            let t =
                (bitrate_bps.ln() - a.bitrate_bps.ln()) / (b.bitrate_bps.ln() - a.bitrate_bps.ln());
            a.vmaf + t * (b.vmaf - a.vmaf)
        })
    })
}

/// The bitrate at which a monotone curve reaches `vmaf` (`None` if it never does).
pub fn bitrate_for(curve: &[RdPoint], vmaf: f64) -> Option<f64> {
    let first = curve.first()?;
    if vmaf <= first.vmaf {
        return Some(first.bitrate_bps);
    }
    curve.windows(2).find_map(|w| {
        let (a, b) = (w[0], w[1]);
        (vmaf <= b.vmaf).then(|| {
            let t = (vmaf - a.vmaf) / (b.vmaf - a.vmaf);
            (a.bitrate_bps.ln() + t * (b.bitrate_bps.ln() - a.bitrate_bps.ln())).exp()
        })
    })
}

/// The upper convex hull of every size's points over (log bitrate, VMAF), as indices into
/// `points` (size index, point), from the lowest bitrate up.
pub fn upper_hull(points: &[(usize, RdPoint)]) -> Vec<(usize, RdPoint)> {
    let mut p: Vec<(usize, RdPoint)> = points.to_vec();
    p.sort_by(|a, b| {
        a.1.bitrate_bps
            .total_cmp(&b.1.bitrate_bps)
            .then(a.1.vmaf.total_cmp(&b.1.vmaf))
    });
    let x = |q: &RdPoint| q.bitrate_bps.ln();
    let mut hull: Vec<(usize, RdPoint)> = Vec::new();
    for q in p {
        // Only points that raise the quality can be on an upper hull that climbs.
        if hull.last().is_some_and(|l| q.1.vmaf <= l.1.vmaf) {
            continue;
        }
        while hull.len() >= 2 {
            let (a, b) = (hull[hull.len() - 2].1, hull[hull.len() - 1].1);
            // b is under the line from a to q: not on the upper hull (on it, it stays: a size
            // on the hull's edge is as good a choice there as its neighbours).
            let cross =
                (x(&b) - x(&a)) * (q.1.vmaf - a.vmaf) - (b.vmaf - a.vmaf) * (x(&q.1) - x(&a));
            if cross > 1e-9 {
                hull.pop();
            } else {
                break;
            }
        }
        hull.push(q);
    }
    hull
}

/// Fits a ladder to the measured curves. Returns the kept rungs, largest first, and the
/// dropped sizes with their reasons.
pub fn fit(curves: &[SizeCurve], rules: &FitRules) -> (Vec<Fitted>, Vec<Dropped>) {
    let sorted: Vec<Vec<RdPoint>> = curves.iter().map(|c| monotone(&c.points)).collect();
    let all: Vec<(usize, RdPoint)> = sorted
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.iter().map(move |p| (i, *p)))
        .collect();
    let hull = upper_hull(&all);
    let mut dropped = Vec::new();
    let drop = |dropped: &mut Vec<Dropped>, i: usize, reason: String| {
        dropped.push(Dropped {
            width: curves[i].width,
            height: curves[i].height,
            reason,
        });
    };
    // The bitrate range each size owns on the hull: from its first hull point to where the
    // next size's first hull point is.
    // A size that comes back on the hull after another owns up to its last stretch: one
    // candidate per size, ordered by where its range ends.
    let mut owned: Vec<(usize, f64)> = Vec::new(); // (size, top of its range)
    for (k, (i, p)) in hull.iter().enumerate() {
        let next_other = hull[k + 1..].iter().find(|(j, _)| j != i);
        let top = next_other.map_or(p.bitrate_bps, |(_, q)| q.bitrate_bps);
        match owned.iter_mut().find(|(j, _)| j == i) {
            Some((_, t)) => *t = t.max(top),
            None => owned.push((*i, top)),
        }
    }
    owned.sort_by(|a, b| a.1.total_cmp(&b.1));
    for (i, c) in curves.iter().enumerate() {
        if sorted[i].is_empty() {
            drop(&mut dropped, i, "no sample could be measured".to_owned());
        } else if !owned.iter().any(|(j, _)| *j == i) {
            drop(
                &mut dropped,
                i,
                format!(
                    "{}x{} is never on the hull: at every bitrate another size scores higher",
                    c.width, c.height
                ),
            );
        }
    }
    // Candidates from the top of the hull down.
    let mut kept: Vec<Fitted> = Vec::new();
    let mut reached_target = false;
    for &(i, top) in owned.iter().rev() {
        let curve = &sorted[i];
        let (w, h) = (curves[i].width, curves[i].height);
        // Never beyond what was measured: a curve is not extrapolated.
        let top = top.min(curve.last().map_or(top, |p| p.bitrate_bps));
        // Where the size reaches the target, if it does within (or above) its range.
        let at_target = bitrate_for(curve, rules.target_vmaf);
        let (mut rate, mut reason) = match at_target {
            Some(r) if !reached_target => (
                r,
                format!("reaches the target VMAF {:.0}", rules.target_vmaf),
            ),
            _ => (
                top,
                "where the next larger size starts to do better".to_owned(),
            ),
        };
        // Below the top rung: no higher than `min_vmaf_step` under the rung above, and at
        // most 1/1.5 of its bitrate (adjacent rungs 1.5-2x apart, as Apple's HLS authoring
        // rules ask, so a player has a real step down).
        if let Some(above) = kept.last() {
            let want = above.predicted_vmaf - rules.min_vmaf_step;
            if let Some(r) = bitrate_for(curve, want).filter(|&r| r < rate) {
                rate = r;
                reason = format!(
                    "{:.0} VMAF points under the {}x{} rung",
                    rules.min_vmaf_step, above.width, above.height
                );
            }
            let step_down = above.bitrate_bps / MIN_RATE_RATIO;
            if rate > step_down {
                rate = step_down;
                reason = format!(
                    "{MIN_RATE_RATIO}x below the {}x{} rung's bitrate",
                    above.width, above.height
                );
            }
        }
        if rate > rules.max_bitrate_bps {
            rate = rules.max_bitrate_bps;
            reason = format!(
                "capped at the maximum bitrate ({:.0} kb/s)",
                rules.max_bitrate_bps / 1000.0
            );
        }
        let predicted = vmaf_at(curve, rate).unwrap_or(0.0);
        if kept.is_empty() && at_target.is_some() {
            reached_target = true;
        }
        if rate < rules.min_bitrate_bps && kept.is_empty() {
            // The top rung is always made: an easy source gets the minimum, not nothing.
            rate = rules.min_bitrate_bps;
            reason = format!(
                "raised to the minimum bitrate ({:.0} kb/s): the source needs less",
                rules.min_bitrate_bps / 1000.0
            );
        }
        let predicted = vmaf_at(curve, rate).unwrap_or(predicted);
        if rate < rules.min_bitrate_bps {
            drop(
                &mut dropped,
                i,
                format!(
                    "would need only {:.0} kb/s, below the minimum {:.0} kb/s",
                    rate / 1000.0,
                    rules.min_bitrate_bps / 1000.0
                ),
            );
            continue;
        }
        if let Some(above) = kept.last() {
            if above.predicted_vmaf - predicted < rules.min_vmaf_step {
                drop(
                    &mut dropped,
                    i,
                    format!(
                        "VMAF {predicted:.1} is less than {:.1} below the {}x{} rung's {:.1}",
                        rules.min_vmaf_step, above.width, above.height, above.predicted_vmaf
                    ),
                );
                continue;
            }
            if rate >= above.bitrate_bps {
                drop(
                    &mut dropped,
                    i,
                    "would need as many bits as the rung above it".to_owned(),
                );
                continue;
            }
        }
        kept.push(Fitted {
            width: w,
            height: h,
            bitrate_bps: rate,
            predicted_vmaf: predicted,
            reason,
        });
    }
    (kept, dropped)
}

/// One size measured at one quality level (the rate its constant rate factor needs when
/// nothing caps it).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LevelPoint {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The preset quality level (1-10).
    pub quality_level: u8,
    /// Its rate and VMAF.
    pub point: RdPoint,
}

/// What a per-title fit was read from, kept in the plan (and so in manifest.json) to draw
/// and to compare with what the encode made.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FitRecord {
    /// The goal of the top rung.
    pub target_vmaf: f64,
    /// The least step between rungs.
    pub min_vmaf_step: f64,
    /// One curve per allowed size.
    pub curves: Vec<SizeCurve>,
    /// Every measured point with its quality level.
    pub levels: Vec<LevelPoint>,
    /// The rungs kept, largest first.
    pub fitted: Vec<Fitted>,
    /// The sizes left out.
    pub dropped: Vec<Dropped>,
    /// Total bitrate of the preset's fixed ladder for this source.
    pub fixed_total_bps: f64,
    /// Seconds of the source in the samples.
    pub sampled_secs: f64,
}

/// Brings back the rungs a plan dropped only because capping made their bitrate equal a
/// larger rung's: per-title sets its own bitrates, so every size that fits the source is a
/// candidate.
pub fn allow_capped_repeats(plan: &mut Plan) {
    for r in &mut plan.rungs {
        if r.status == RungStatus::Dropped
            && r.reasons
                .first()
                .is_some_and(|w| w.starts_with("after capping"))
        {
            r.status = RungStatus::Capped;
            r.reasons.remove(0);
        }
    }
}

/// The lowest measured quality level of a size whose uncapped rate reaches `bitrate_bps` (so
/// the rung's cap, not the level, decides its rate), or the highest measured when none does;
/// with that level's own rate.
fn level_reaching(
    levels: &[LevelPoint],
    (w, h): (u32, u32),
    bitrate_bps: f64,
) -> Option<LevelPoint> {
    let mut of_size: Vec<LevelPoint> = levels
        .iter()
        .filter(|l| (l.width, l.height) == (w, h))
        .copied()
        .collect();
    of_size.sort_by_key(|l| l.quality_level);
    of_size
        .iter()
        .find(|l| l.point.bitrate_bps >= bitrate_bps)
        .or(of_size.last())
        .copied()
}

/// Sets a plan (made with capped repeats allowed) to a fit: the fitted sizes get their
/// bitrate as the cap, the quality level whose rate reaches it, the level that holds it, the
/// VMAF and size the samples predict; every other size is dropped with the fit's reason.
///
/// The predicted size is the level's own rate over the duration, unless the cap holds it
/// lower: the cap's bits plus what the HRD buffer holds at the start (a short file can spend
/// its initial buffer on top of the cap).
pub fn apply(plan: &mut Plan, record: FitRecord, video: &crate::preset::VideoSettings) {
    let hrd_buffer_factor = video.hrd_buffer_factor;
    let initial_fill = f64::from(video.hrd_initial_fill_percent) / 100.0;
    let audio_bps: f64 = plan.audio_tracks().map(|a| a.bitrate_bps as f64).sum();
    let duration = plan.duration_secs;
    for r in &mut plan.rungs {
        if !r.is_made() {
            continue;
        }
        let size = (r.width, r.height);
        match record.fitted.iter().find(|f| (f.width, f.height) == size) {
            Some(f) => {
                let cap = f.bitrate_bps.round().max(1.0);
                r.max_bitrate_bps = cap as u64;
                r.buffer_bits = (cap * hrd_buffer_factor) as u64;
                r.capped = false;
                r.status = if r.resized {
                    RungStatus::Resized
                } else {
                    RungStatus::Kept
                };
                r.reasons.retain(|w| !w.starts_with("capped"));
                r.reasons.push(format!("per-title: {}", f.reason));
                let level = level_reaching(&record.levels, size, cap);
                r.quality_level = level.map(|l| l.quality_level);
                let capped_bits = cap * duration + r.buffer_bits as f64 * initial_fill;
                let video_bits = level.map_or(capped_bits, |l| {
                    (l.point.bitrate_bps * duration).min(capped_bits)
                });
                let rate = if duration > 0.0 {
                    video_bits / duration
                } else {
                    cap
                };
                let curve = record
                    .curves
                    .iter()
                    .find(|c| (c.width, c.height) == size)
                    .map(|c| monotone(&c.points))
                    .unwrap_or_default();
                r.predicted_vmaf = vmaf_at(&curve, rate).or(Some(f.predicted_vmaf));
                r.estimated_bytes = ((rate + audio_bps) * duration / 8.0) as u64;
                super::resolve_level(r);
            }
            None => {
                r.status = RungStatus::Dropped;
                let why = record
                    .dropped
                    .iter()
                    .find(|d| (d.width, d.height) == size)
                    .map_or_else(
                        || "per-title: not in the fitted ladder".to_owned(),
                        |d| format!("per-title: {}", d.reason),
                    );
                r.reasons.push(why);
            }
        }
    }
    // Two kept rungs of one size cannot happen (one candidate per size), but the same size
    // twice in a preset would make two: keep the first.
    let mut seen = Vec::new();
    for r in plan.rungs.iter_mut().filter(|r| r.is_made()) {
        if seen.contains(&(r.width, r.height)) {
            r.status = RungStatus::Dropped;
            r.reasons
                .push("per-title: the same size as a larger rung".to_owned());
        } else {
            seen.push((r.width, r.height));
        }
    }
    plan.estimated_bytes = plan.made_rungs().map(|r| r.estimated_bytes).sum();
    plan.per_title = Some(record);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(kbps: f64, vmaf: f64) -> RdPoint {
        RdPoint {
            bitrate_bps: kbps * 1000.0,
            vmaf,
        }
    }

    fn curve(w: u32, h: u32, points: &[(f64, f64)]) -> SizeCurve {
        SizeCurve {
            width: w,
            height: h,
            points: points.iter().map(|&(r, v)| p(r, v)).collect(),
        }
    }

    fn rules() -> FitRules {
        FitRules {
            target_vmaf: 95.0,
            min_vmaf_step: 3.0,
            min_bitrate_bps: 200_000.0,
            max_bitrate_bps: 8_000_000.0,
        }
    }

    #[test]
    fn the_hull_keeps_only_points_above_every_line() {
        let pts = vec![
            (0, p(100.0, 40.0)),
            (0, p(200.0, 62.0)),
            (1, p(200.0, 50.0)),
            (1, p(400.0, 80.0)),
            (0, p(400.0, 70.0)),
            (1, p(800.0, 90.0)),
            (0, p(800.0, 75.0)),
        ];
        let hull = upper_hull(&pts);
        let got: Vec<(usize, f64)> = hull.iter().map(|(i, q)| (*i, q.vmaf)).collect();
        assert_eq!(got, vec![(0, 40.0), (0, 62.0), (1, 80.0), (1, 90.0)]);
        // Points on one line all lie on the hull's edge.
        let line = vec![
            (0, p(100.0, 40.0)),
            (0, p(200.0, 60.0)),
            (1, p(400.0, 80.0)),
        ];
        assert_eq!(upper_hull(&line).len(), 3);
    }

    #[test]
    fn interpolation_both_ways_on_a_log_scale() {
        let c = monotone(&[p(400.0, 80.0), p(100.0, 60.0), p(200.0, 55.0)]);
        assert_eq!(
            c.len(),
            2,
            "the noisy point (more bits, less VMAF) is left out"
        );
        assert!((vmaf_at(&c, 200_000.0).expect("v") - 70.0).abs() < 1e-9);
        // Below the first point the first slope goes on; above the last, flat.
        assert!((vmaf_at(&c, 50_000.0).expect("v") - 50.0).abs() < 1e-9);
        assert_eq!(vmaf_at(&c, 1_000_000.0), Some(80.0));
        assert!((bitrate_for(&c, 70.0).expect("r") - 200_000.0).abs() < 1e-6);
        assert_eq!(bitrate_for(&c, 81.0), None);
    }

    #[test]
    fn an_easy_source_gets_a_cheaper_ladder_than_a_hard_one() {
        // Slides: every size saturates early. Sport: needs many more bits.
        let easy = [
            curve(640, 360, &[(150.0, 80.0), (300.0, 86.0), (600.0, 88.0)]),
            curve(1280, 720, &[(300.0, 85.0), (600.0, 93.0), (1200.0, 96.0)]),
            curve(1920, 1080, &[(600.0, 90.0), (1200.0, 96.0), (2400.0, 98.0)]),
        ];
        let hard = [
            curve(640, 360, &[(600.0, 60.0), (1200.0, 70.0), (2400.0, 75.0)]),
            curve(1280, 720, &[(1200.0, 65.0), (2400.0, 80.0), (4800.0, 88.0)]),
            curve(
                1920,
                1080,
                &[(2400.0, 75.0), (4800.0, 90.0), (9600.0, 95.0)],
            ),
        ];
        let (e, _) = fit(&easy, &rules());
        let (h, _) = fit(&hard, &rules());
        assert!(e[0].bitrate_bps < h[0].bitrate_bps, "{e:?} {h:?}");
        assert!((e[0].predicted_vmaf - 95.0).abs() < 0.01, "{e:?}");
        // The hard source cannot reach 95 within 8 Mb/s: capped, and says so.
        assert_eq!(h[0].bitrate_bps, 8_000_000.0);
        assert!(h[0].reason.contains("capped"), "{h:?}");
        // Three rungs each: 1080p, 720p, 360p, at least 3 VMAF and 1.5x bitrate apart.
        for l in [&e, &h] {
            assert_eq!(
                l.iter().map(|r| r.height).collect::<Vec<_>>(),
                vec![1080, 720, 360]
            );
            for w in l.windows(2) {
                assert!(w[0].predicted_vmaf - w[1].predicted_vmaf >= 3.0, "{l:?}");
                assert!(
                    w[0].bitrate_bps >= w[1].bitrate_bps * MIN_RATE_RATIO - 1.0,
                    "{l:?}"
                );
            }
        }
        // The easy 720p rung sits 3 points under the top; its 360p a 1.5x step further down.
        assert!((e[1].predicted_vmaf - 92.0).abs() < 0.01, "{e:?}");
        assert!(e[2].reason.contains("1.5x below"), "{e:?}");
    }

    #[test]
    fn a_size_back_on_the_hull_is_one_candidate() {
        // 270p wins at the bottom and again between 640p's points (measurement noise).
        let curves = [
            curve(480, 270, &[(100.0, 70.0), (700.0, 90.5), (900.0, 91.0)]),
            curve(640, 360, &[(300.0, 86.0), (2500.0, 95.0), (5000.0, 97.0)]),
        ];
        let (kept, dropped) = fit(&curves, &rules());
        let mut all: Vec<u32> = kept.iter().map(|k| k.height).collect();
        all.extend(dropped.iter().map(|d| d.height));
        all.sort_unstable();
        assert_eq!(all, vec![270, 360], "each size once: {kept:?} {dropped:?}");
    }

    #[test]
    fn sizes_off_the_hull_too_close_or_too_cheap_are_dropped_with_reasons() {
        let curves = [
            // Never on the hull: 720p beats it everywhere.
            curve(854, 480, &[(300.0, 50.0), (600.0, 60.0), (1200.0, 70.0)]),
            curve(1280, 720, &[(300.0, 70.0), (600.0, 85.0), (1200.0, 95.0)]),
            // A tiny size that the hull keeps only below the minimum bitrate.
            curve(320, 180, &[(50.0, 60.0), (100.0, 65.0), (150.0, 66.0)]),
        ];
        // A still picture needs almost nothing: its one rung is raised to the minimum.
        let (still, _) = fit(&[curve(640, 360, &[(10.0, 96.0), (20.0, 97.0)])], &rules());
        assert_eq!(still.len(), 1);
        assert_eq!(still[0].bitrate_bps, 200_000.0);
        assert!(
            still[0].reason.contains("raised to the minimum"),
            "{still:?}"
        );
        let (kept, dropped) = fit(&curves, &rules());
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!((kept[0].width, kept[0].height), (1280, 720));
        let why = |w: u32| {
            dropped
                .iter()
                .find(|d| d.width == w)
                .map(|d| d.reason.clone())
                .unwrap_or_default()
        };
        assert!(why(854).contains("never on the hull"), "{dropped:?}");
        assert!(why(320).contains("below the minimum"), "{dropped:?}");
    }

    #[test]
    fn the_level_whose_rate_reaches_the_cap_is_chosen() {
        let at = |q: u8, kbps: f64| LevelPoint {
            width: 640,
            height: 360,
            quality_level: q,
            point: p(kbps, 80.0),
        };
        let levels = [at(9, 2000.0), at(5, 500.0), at(7, 1000.0)];
        let pick =
            |kbps: f64| level_reaching(&levels, (640, 360), kbps * 1000.0).map(|l| l.quality_level);
        assert_eq!(pick(400.0), Some(5), "the lowest level already reaches it");
        assert_eq!(pick(800.0), Some(7));
        assert_eq!(pick(1000.0), Some(7), "reaching exactly is enough");
        assert_eq!(pick(5000.0), Some(9), "none reaches: the highest measured");
        assert_eq!(
            level_reaching(&levels, (320, 180), 1.0),
            None,
            "another size"
        );
    }
}
