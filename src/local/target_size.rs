//! One MP4 that fits a size (`vodkit encode --target-size 25MB`, the app's size field): the
//! budget and the floors come from [`crate::plan::target_size`]; the picture size from scored
//! samples at the preset's largest rung and the usual smaller boxes below it; the bitrate is
//! reached with two x264/x265 passes (the first writes the rate statistics, the second spends
//! the bits where they show), and a file that still misses 95-100 % of the target gets one more
//! second pass at a corrected bitrate. Nothing is encoded for a target that cannot be met.

use std::path::Path;

use crate::job::{CancelToken, EventSink, JobEvent, Stage, Summary};
use crate::plan::target_size::{
    AIM, Budget, Candidate, MIN_VMAF, choose, corrected_bitrate, least_bps_for_min_vmaf,
};
use crate::plan::{Plan, TwoPass};
use crate::preset::{AudioCodec, Preset, Rung};
use crate::probe::MediaInfo;

/// The boxes below a preset's largest rung that a target size may fall back to (the reference
/// ladder's, as landscape boxes; portrait sources fit them turned).
const SMALLER_BOXES: [(u32, u32); 5] = [
    (1920, 1080),
    (1280, 720),
    (960, 540),
    (640, 360),
    (480, 270),
];

/// Corrections after the first second pass, at most.
const MAX_CORRECTIONS: u32 = 2;

/// The least share of the target a file must fill.
pub const LOWEST_SHARE: f64 = 0.95;

/// What a target-size encode asks for.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Target {
    /// The size to land under, bytes.
    pub bytes: u64,
}

/// The preset with one rung per candidate size: its largest rung, then every reference box
/// below it (same codec, profile and frame-rate rule).
fn candidates_preset(preset: &Preset) -> Result<Preset, String> {
    let top = preset
        .rungs
        .iter()
        .max_by_key(|r| u64::from(r.width) * u64::from(r.height))
        .ok_or_else(|| {
            format!(
                "preset '{}' has no video rungs; a target size needs video",
                preset.name
            )
        })?
        .clone();
    if top.codec == crate::preset::Codec::Av1 {
        return Err(format!(
            "preset '{}' makes AV1, and a target size needs two encoder passes, which FFmpeg 5.1's SVT-AV1 encoder does not offer; pick an H.264 or H.265 preset (phone-share, share-1080p) for a size",
            preset.name
        ));
    }
    let mut rungs = vec![top.clone()];
    for (w, h) in SMALLER_BOXES {
        if u64::from(w) * u64::from(h) < u64::from(top.width) * u64::from(top.height) {
            rungs.push(Rung {
                width: w,
                height: h,
                level: "auto".to_owned(),
                ..top.clone()
            });
        }
    }
    let mut p = preset.clone();
    p.rungs = rungs;
    Ok(p)
}

/// The plan of a target-size encode: one rung at the chosen size, two passes at the budget's
/// video bitrate, predicted VMAF from the samples; or an error before anything is encoded.
pub fn plan(
    info: &MediaInfo,
    preset: &Preset,
    target: Target,
    range: (Option<f64>, Option<f64>),
    work: &Path,
    cancel: &CancelToken,
) -> Result<Plan, String> {
    let stats = work.join("two-pass.log");
    let name = info.path.display().to_string();
    let wide = candidates_preset(preset)?;
    let mut base = crate::plan::plan(info, &wide).map_err(|e| e.to_string())?;
    crate::plan::trim(&mut base, range.0, range.1)?;
    let fps = base
        .made_rungs()
        .next()
        .map_or(30.0, |r| r.frame_rate.fps());
    let budget = Budget {
        target_bytes: target.bytes,
        duration_secs: base.duration_secs,
        fps,
        // Every audio track the MP4 carries (other languages, a 5.1 track), and its tables.
        audio_bps: base.audio_tracks().map(|a| a.bitrate_bps as f64).sum(),
        audio_rate_hz: base
            .audio_tracks()
            .map(|a| f64::from(a.sample_rate_hz))
            .sum(),
    };
    if budget.duration_secs <= 0.0 {
        return Err(format!(
            "{name}: the duration is unknown, so no size can be aimed at"
        ));
    }
    let floor_bps = preset.fit.min_bitrate_bps as f64;
    let video_bps = budget.video_bps();
    let too_small = |least_bps: f64, why: &str| {
        format!(
            "{name}: {} cannot hold {} of this video: {why}. The smallest size that works is {} (or trim it with --start/--end)",
            crate::units::decimal_bytes(target.bytes),
            crate::units::clock(budget.duration_secs),
            crate::units::decimal_bytes(budget.bytes_for(least_bps)),
        )
    };
    if video_bps < floor_bps {
        let why = if video_bps <= 0.0 {
            format!(
                "the sound alone needs {} ({:.0} kb/s)",
                crate::units::decimal_bytes((budget.other_bytes() / AIM) as u64),
                budget.audio_bps / 1000.0
            )
        } else {
            format!(
                "the picture would get {:.0} kb/s, below the floor of {:.0} kb/s",
                video_bps / 1000.0,
                floor_bps / 1000.0
            )
        };
        return Err(too_small(floor_bps, &why));
    }
    // The sizes that fit the source, each measured on samples when there is a choice.
    crate::plan::per_title::allow_capped_repeats(&mut base);
    let mut sizes: Vec<(u32, u32)> = Vec::new();
    for r in base.made_rungs() {
        if !sizes.contains(&(r.width, r.height)) {
            sizes.push((r.width, r.height));
        }
    }
    let mut candidates: Vec<Candidate> = sizes
        .iter()
        .map(|&(width, height)| Candidate {
            width,
            height,
            points: Vec::new(),
        })
        .collect();
    if candidates.len() > 1 {
        let rules = crate::plan::per_title::FitRules {
            target_vmaf: preset.fit.target_vmaf,
            min_vmaf_step: preset.fit.min_vmaf_step,
            min_bitrate_bps: floor_bps,
            max_bitrate_bps: video_bps.max(floor_bps),
        };
        let analysis = super::per_title::analyse(
            info,
            &wide,
            &rules,
            &super::per_title::Options::default(),
            work,
            cancel,
        )?;
        for c in &mut candidates {
            if let Some(curve) = analysis
                .curves
                .iter()
                .find(|k| (k.width, k.height) == (c.width, c.height))
            {
                c.points.clone_from(&curve.points);
            }
        }
    }
    let choice =
        choose(&candidates, video_bps).ok_or_else(|| format!("{name}: no picture size fits"))?;
    if let Some(v) = choice.predicted_vmaf
        && v < MIN_VMAF
    {
        let least = least_bps_for_min_vmaf(&candidates)
            .unwrap_or(floor_bps)
            .max(floor_bps);
        return Err(too_small(
            least,
            &format!(
                "at {:.0} kb/s the best picture size is predicted at VMAF {v:.0}, below {MIN_VMAF:.0}",
                video_bps / 1000.0
            ),
        ));
    }
    let chosen = &candidates[choice.index];
    let (w, h) = (chosen.width, chosen.height);
    let mut one = wide.clone();
    let index = base
        .made_rungs()
        .find(|r| (r.width, r.height) == (w, h))
        .map_or(0, |r| r.preset_index);
    one.rungs = vec![wide.rungs[index].clone()];
    let mut plan = crate::plan::plan(info, &one).map_err(|e| e.to_string())?;
    crate::plan::trim(&mut plan, range.0, range.1)?;
    plan.preset.clone_from(&preset.name);
    // A folder of its own (`IMG_0001-25MB`): a size-fitted copy never replaces the preset's
    // ladder of the same source, nor another size's copy.
    plan.title = format!(
        "{}-{}",
        plan.title,
        crate::units::decimal_bytes(target.bytes).replace(' ', "")
    );
    let bps = video_bps.round() as u64;
    for r in plan.rungs.iter_mut().filter(|r| r.is_made()) {
        // The peak cap stays the preset's unless the average needs more room.
        r.max_bitrate_bps = r.max_bitrate_bps.max(bps.saturating_mul(2));
        r.buffer_bits = (r.max_bitrate_bps as f64 * preset.video.hrd_buffer_factor) as u64;
        r.capped = false;
        r.reasons.push(format!(
            "target size {}: {} kb/s on average in two passes",
            crate::units::decimal_bytes(target.bytes),
            bps / 1000
        ));
        r.two_pass = Some(TwoPass {
            bitrate_bps: bps,
            pass: 2,
            stats: stats.clone(),
        });
        r.predicted_vmaf = choice.predicted_vmaf;
        r.estimated_bytes = (target.bytes as f64 * AIM) as u64;
        crate::plan::resolve_level(r);
    }
    plan.estimated_bytes = (target.bytes as f64 * AIM) as u64;
    Ok(plan)
}

/// The first pass's preset: the picture only, nothing kept but the statistics.
fn first_pass_preset(preset: &Preset) -> Preset {
    let mut p = preset.clone();
    p.audio.codec = AudioCodec::None;
    p.stills.count = 0;
    p.packaging.hls = false;
    p.packaging.dash = false;
    p.quality.measure = false;
    p
}

fn with_pass(plan: &Plan, pass: u8, bps: Option<u64>) -> Plan {
    let mut p = plan.clone();
    for r in &mut p.rungs {
        if let Some(t) = &mut r.two_pass {
            t.pass = pass;
            if let Some(b) = bps {
                t.bitrate_bps = b;
            }
        }
    }
    p
}

/// Runs both passes of a target-size plan into `out_dir/<title>/`, correcting the bitrate
/// when the file misses 95-100 % of the target. The first pass works next to the statistics
/// file (the `work` folder [`plan`] was given).
pub fn encode(
    info: &MediaInfo,
    preset: &Preset,
    plan: &Plan,
    target: Target,
    out_dir: &Path,
    events: &EventSink,
    cancel: &CancelToken,
) -> Result<Summary, String> {
    let name = info.path.display().to_string();
    let Some((rung, stats)) = plan
        .made_rungs()
        .find_map(|r| r.two_pass.as_ref().map(|t| (r, t.stats.clone())))
    else {
        return Err(format!("{name}: the plan has no two-pass rung"));
    };
    let work = stats
        .parent()
        .map_or_else(std::env::temp_dir, Path::to_path_buf)
        .join("first-pass");
    let mut bps = rung.two_pass.as_ref().map_or(0, |t| t.bitrate_bps);
    events(JobEvent::Stage { stage: Stage::Fit });
    let quiet: EventSink = std::sync::Arc::new(|_| {});
    let mut first = with_pass(plan, 1, None);
    first.audio = None;
    first.extra_audio = Vec::new();
    first.stills = None;
    let summary = super::encode_with(
        info,
        &first_pass_preset(preset),
        &first,
        &work,
        &quiet,
        cancel,
        true,
    )
    .map_err(|e| e.to_string())?;
    if summary.cancelled {
        return Err(format!("{name}: cancelled"));
    }
    if let Some((r, e)) = summary.failed.first() {
        return Err(format!("{name}: the first pass of {r} failed: {e}"));
    }
    let budget = Budget {
        target_bytes: target.bytes,
        duration_secs: plan.duration_secs,
        fps: rung.frame_rate.fps(),
        audio_bps: plan.audio_tracks().map(|a| a.bitrate_bps as f64).sum(),
        audio_rate_hz: plan
            .audio_tracks()
            .map(|a| f64::from(a.sample_rate_hz))
            .sum(),
    };
    // One MP4: no streaming package of it.
    let mut last = preset.clone();
    last.packaging.hls = false;
    last.packaging.dash = false;
    let mut attempt = 0;
    loop {
        let second = with_pass(plan, 2, Some(bps));
        let summary = super::encode_with(info, &last, &second, out_dir, events, cancel, true)
            .map_err(|e| e.to_string())?;
        // The file as named in the folder the encode claimed (`IMG_0001-25MB-2` when another
        // source had the name).
        let claimed = summary.out_dir.file_name().map_or_else(
            || second.title.clone(),
            |n| n.to_string_lossy().into_owned(),
        );
        let file = super::rung_file(
            &Plan {
                title: claimed,
                ..second.clone()
            },
            Some(&rung.name),
        );
        // Nothing that misses the target may look finished: a pass that fails, is cancelled
        // or is about to be redone takes its file and manifest with it.
        let discard = || {
            let _ = std::fs::remove_file(summary.out_dir.join(&file));
            let _ = std::fs::remove_file(summary.out_dir.join("manifest.json"));
        };
        if summary.cancelled || !summary.failed.is_empty() {
            discard();
            return Ok(summary);
        }
        let size = std::fs::metadata(summary.out_dir.join(&file))
            .map_err(|e| format!("{name}: the finished file cannot be read: {e}"))?
            .len();
        let share = size as f64 / target.bytes as f64;
        if (LOWEST_SHARE..=1.0).contains(&share) {
            return Ok(summary);
        }
        if attempt >= MAX_CORRECTIONS && share < LOWEST_SHARE {
            // The encoder spent all it could: the picture needs less than the target. The
            // file fits, which is what the size was for; say so.
            events(JobEvent::Warning {
                message: format!(
                    "{file}: {} is {:.0} % of the {} target: the video needs no more (every second pass spent less than asked)",
                    crate::units::decimal_bytes(size),
                    share * 100.0,
                    crate::units::decimal_bytes(target.bytes)
                ),
            });
            return Ok(summary);
        }
        discard();
        if attempt >= MAX_CORRECTIONS {
            return Err(format!(
                "{name}: after {} second passes the file is still {:.1} % of the target ({}); nothing was kept",
                attempt + 1,
                share * 100.0,
                crate::units::decimal_bytes(size)
            ));
        }
        events(JobEvent::Warning {
            message: format!(
                "{file}: {:.1} % of the target; one more second pass at a corrected bitrate",
                share * 100.0
            ),
        });
        bps = corrected_bitrate(&budget, bps as f64, size)
            .round()
            .max(1.0) as u64;
        attempt += 1;
    }
}
