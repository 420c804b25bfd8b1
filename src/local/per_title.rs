//! Per-title analysis: samples of the source encoded at every allowed size (the preset's rungs)
//! at three quality points around the preset's, each scored with VMAF against the prepared
//! source, give one rate-quality curve per size; [`crate::plan::per_title::fit`] reads the
//! ladder off their hull. The encodes are the local backend's own (same encoder settings, one
//! decode per sample for every size), so what is measured is what an encode would make.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::job::{CancelToken, EventSink};
use crate::plan::per_title::{
    Dropped, FitRecord, FitRules, Fitted, LevelPoint, RdPoint, SizeCurve, fit, vmaf_at,
};
use crate::preset::{AudioCodec, Preset};
use crate::probe::MediaInfo;

/// How the analysis samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Samples spread over the source (the whole file when it is short).
    pub samples: u32,
    /// Seconds per sample.
    pub sample_secs: f64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            samples: 3,
            sample_secs: 4.0,
        }
    }
}

/// What one size measured at one quality point, summed over the samples.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    /// Bits of all samples.
    bits: f64,
    /// Their seconds.
    secs: f64,
    /// Mean VMAF times frames scored, per sample, summed.
    vmaf_frames: f64,
    /// Frames scored.
    frames: f64,
}

/// A rung of the preset's own (fixed) ladder, with what the curves predict for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixedRung {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Its maximum bitrate in the plan.
    pub bitrate_bps: f64,
    /// VMAF its size's curve predicts at that bitrate.
    pub predicted_vmaf: Option<f64>,
}

/// The analysis and the ladder fitted from it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// One curve per allowed size: bitrate and VMAF at each quality point, fewest bits first.
    pub curves: Vec<SizeCurve>,
    /// The fitted ladder, largest first.
    pub fitted: Vec<Fitted>,
    /// Sizes left out, and why.
    pub dropped: Vec<Dropped>,
    /// The preset's fixed ladder for comparison.
    pub fixed: Vec<FixedRung>,
    /// Every measured point with the quality level it was encoded at.
    pub levels: Vec<LevelPoint>,
    /// Seconds of the source the samples hold.
    pub sampled_secs: f64,
    /// Wall time of the analysis, seconds.
    pub wall_secs: f64,
}

impl Analysis {
    /// Total bitrate of the fitted ladder over the fixed one (below 1: fewer bits).
    pub fn bits_ratio(&self) -> f64 {
        let fitted: f64 = self.fitted.iter().map(|f| f.bitrate_bps).sum();
        let fixed: f64 = self.fixed.iter().map(|f| f.bitrate_bps).sum();
        if fixed > 0.0 { fitted / fixed } else { 1.0 }
    }

    /// What the plan keeps of it.
    pub fn record(&self, rules: &FitRules) -> FitRecord {
        FitRecord {
            target_vmaf: rules.target_vmaf,
            min_vmaf_step: rules.min_vmaf_step,
            curves: self.curves.clone(),
            levels: self.levels.clone(),
            fitted: self.fitted.clone(),
            dropped: self.dropped.clone(),
            fixed_total_bps: self.fixed.iter().map(|f| f.bitrate_bps).sum(),
            sampled_secs: self.sampled_secs,
        }
    }
}

/// The fit rules of a preset: its `[fit]` goals, with the command line's over them. Without
/// `fit.max_bitrate_bps` the maximum is left open here ([`f64::INFINITY`]) and [`analyse`]
/// sets it to the fixed ladder's top rung for the source, so a fitted ladder never spends more
/// at its top than the preset's own ladder would.
pub fn rules_of(
    preset: &Preset,
    target_vmaf: Option<f64>,
    min_vmaf_step: Option<f64>,
) -> Result<FitRules, String> {
    let target_vmaf = target_vmaf.unwrap_or(preset.fit.target_vmaf);
    let min_vmaf_step = min_vmaf_step.unwrap_or(preset.fit.min_vmaf_step);
    if !(0.0..=100.0).contains(&target_vmaf) || !(0.0..=50.0).contains(&min_vmaf_step) {
        return Err("--target-vmaf must be 0-100 and --min-vmaf-step 0-50".to_owned());
    }
    let min = preset.fit.min_bitrate_bps as f64;
    Ok(FitRules {
        target_vmaf,
        min_vmaf_step,
        min_bitrate_bps: min,
        max_bitrate_bps: preset
            .fit
            .max_bitrate_bps
            .map_or(f64::INFINITY, |m| (m as f64).max(min)),
    })
}

/// Plans `info` with `preset`: fitted per title when `fit` says so or the preset's fit mode is
/// per-title (the samples are encoded in a private temporary folder, removed afterwards),
/// the preset's fixed ladder otherwise.
pub fn plan_for(
    info: &MediaInfo,
    preset: &Preset,
    fit: &FitChoice,
    events: &EventSink,
    cancel: &CancelToken,
) -> Result<crate::plan::Plan, String> {
    if !fit.per_title && preset.fit.mode != crate::preset::FitMode::PerTitle {
        return crate::plan::plan(info, preset).map_err(|e| e.to_string());
    }
    events(crate::job::JobEvent::Stage {
        stage: crate::job::Stage::Fit,
    });
    let rules = rules_of(preset, fit.target_vmaf, fit.min_vmaf_step)?;
    let work = Scratch::new("per-title");
    fitted_plan(info, preset, &rules, &Options::default(), &work, cancel).map(|(plan, _)| plan)
}

/// A fresh private folder under the system's temporary folder for samples, statistics and
/// first passes, removed when dropped (on every way out, errors and cancels included).
pub struct Scratch(std::path::PathBuf);

impl Scratch {
    /// A new folder name for `what` (created by whoever writes into it first).
    pub fn new(what: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self(std::env::temp_dir().join(format!("vodkit-{what}-{}-{n}", std::process::id())))
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `--per-title` and its goals, from a command line or the app (over the preset's `[fit]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FitChoice {
    /// Fit the ladder even when the preset's fit mode is `fixed`.
    pub per_title: bool,
    /// Overrides `fit.target_vmaf`.
    pub target_vmaf: Option<f64>,
    /// Overrides `fit.min_vmaf_step`.
    pub min_vmaf_step: Option<f64>,
}

/// Analyses the source and returns the plan with the fitted ladder (see
/// [`crate::plan::per_title::apply`]) and the analysis.
pub fn fitted_plan(
    info: &MediaInfo,
    preset: &Preset,
    rules: &FitRules,
    options: &Options,
    dir: &Path,
    cancel: &CancelToken,
) -> Result<(crate::plan::Plan, Analysis), String> {
    let analysis = analyse(info, preset, rules, options, dir, cancel)?;
    let mut plan = crate::plan::plan(info, preset).map_err(|e| e.to_string())?;
    crate::plan::per_title::allow_capped_repeats(&mut plan);
    crate::plan::per_title::apply(&mut plan, analysis.record(rules), &preset.video);
    Ok((plan, analysis))
}

/// The preset to encode samples with at one quality level: the same encoder settings, video
/// only, no stills or packaging, scored. (The rungs come from [`sample_plan`].)
fn sampling_preset(preset: &Preset, quality_level: u8) -> Preset {
    let mut p = preset.clone();
    p.video.quality_level = quality_level;
    p.audio.codec = AudioCodec::None;
    p.stills.count = 0;
    p.packaging.hls = false;
    p.packaging.dash = false;
    p.quality.measure = true;
    p.quality.every = 1;
    p
}

/// The plan of a sample: the preset's own sizes, rates, profiles (planned with the preset, so
/// they are the real plan's), every rung uncapped up to `max_bitrate_bps` with the level that
/// holds it, no stills. (Planning with raised caps would let the source's bitrate cap several
/// rungs to one value and drop the smaller ones.)
fn sample_plan(
    sample: &MediaInfo,
    preset: &Preset,
    max_bitrate_bps: f64,
) -> Result<crate::plan::Plan, String> {
    let mut plan = crate::plan::plan(sample, preset).map_err(|e| e.to_string())?;
    plan.stills = None;
    crate::plan::per_title::allow_capped_repeats(&mut plan);
    // Far above the ladder's maximum, so the curves show what each quality point costs; the
    // fit caps the rungs afterwards.
    let cap = (max_bitrate_bps * 4.0).max(1.0) as u64;
    for r in plan.rungs.iter_mut().filter(|r| r.is_made()) {
        r.max_bitrate_bps = cap.max(r.max_bitrate_bps);
        r.buffer_bits = (r.max_bitrate_bps as f64 * preset.video.hrd_buffer_factor) as u64;
        if let Some(level) = crate::preset::levels::lowest_fitting(
            r.codec,
            r.profile,
            r.width,
            r.height,
            r.frame_rate.fps(),
            r.max_bitrate_bps,
        ) {
            level.clone_into(&mut r.level);
        }
    }
    Ok(plan)
}

/// Runs the analysis on `info`'s source, working in `dir` (samples and their encodes).
pub fn analyse(
    info: &MediaInfo,
    preset: &Preset,
    rules: &FitRules,
    options: &Options,
    dir: &Path,
    cancel: &CancelToken,
) -> Result<Analysis, String> {
    let started = Instant::now();
    let mut plan = crate::plan::plan(info, preset).map_err(|e| e.to_string())?;
    let fixed_rungs: Vec<crate::plan::PlannedRung> = plan.made_rungs().cloned().collect();
    // The samples' curves are kept by picture size; an AV1 set beside an H.264 set would mix
    // two codecs' curves at the same size.
    let av1 = fixed_rungs
        .iter()
        .filter(|r| r.codec == crate::preset::Codec::Av1)
        .count();
    if av1 > 0 && av1 < fixed_rungs.len() {
        return Err(format!(
            "{}: preset '{}' has an AV1 set and an H.264/H.265 set; per-title fitting fits one codec at a time (use a preset with one set, or the fixed ladder)",
            info.path.display(),
            preset.name
        ));
    }
    // Never above the fixed ladder's top for this source, which the source's own (codec-aware)
    // bitrate already caps; a preset's `fit.max_bitrate_bps` may only lower it.
    let mut rules = *rules;
    let top = fixed_rungs
        .iter()
        .map(|r| r.max_bitrate_bps)
        .max()
        .unwrap_or(0) as f64;
    rules.max_bitrate_bps = rules.max_bitrate_bps.min(top).max(rules.min_bitrate_bps);
    let rules = &rules;
    crate::plan::per_title::allow_capped_repeats(&mut plan);
    let sizes: Vec<(u32, u32)> = plan.made_rungs().map(|r| (r.width, r.height)).collect();
    if sizes.is_empty() {
        return Err(format!(
            "{}: the preset makes no video rungs from it; nothing to fit",
            info.path.display()
        ));
    }
    let samples = super::samples::cut(
        &info.path,
        plan.duration_secs,
        options.samples,
        options.sample_secs,
        &dir.join("samples"),
    )?;
    let level = preset.video.quality_level;
    let levels: Vec<u8> = [level.saturating_sub(2).max(1), level, (level + 2).min(10)]
        .into_iter()
        .collect::<std::collections::BTreeSet<u8>>()
        .into_iter()
        .collect();
    let mut sums: BTreeMap<(u32, u32), BTreeMap<u8, Sums>> = BTreeMap::new();
    let mut level_points = Vec::new();
    // Warnings (a rung whose quality could not be measured) are kept to explain a gap.
    let warnings: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let kept = Arc::clone(&warnings);
    let quiet: EventSink = Arc::new(move |e| {
        if let crate::job::JobEvent::Warning { message } = e
            && let Ok(mut w) = kept.lock()
        {
            w.push(message);
        }
    });
    let mut sampled_secs = 0.0;
    for (k, sample) in samples.iter().enumerate() {
        let sinfo = crate::probe::probe_sample(sample, info).map_err(|e| e.to_string())?;
        sampled_secs += sinfo.duration_secs.unwrap_or(0.0);
        for &q in &levels {
            if cancel.is_cancelled() {
                return Err("cancelled".to_owned());
            }
            let variant = sampling_preset(preset, q);
            let splan = sample_plan(&sinfo, preset, rules.max_bitrate_bps)?;
            let out = dir.join(format!("level-{q}")).join(format!("sample-{k}"));
            let summary = super::encode_with(&sinfo, &variant, &splan, &out, &quiet, cancel, true)
                .map_err(|e| e.to_string())?;
            if let Some((rung, why)) = summary.failed.first() {
                return Err(format!("encoding a sample's {rung} rung failed: {why}"));
            }
            let manifest: super::Manifest = std::fs::read(summary.out_dir.join("manifest.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .ok_or("a sample's encode wrote no manifest")?;
            for r in manifest.rungs {
                let Some(qm) = r.quality else { continue };
                let secs = qm.frames as f64 / qm.fps.max(1e-9);
                let e = sums
                    .entry((qm.width, qm.height))
                    .or_default()
                    .entry(q)
                    .or_default();
                e.bits += qm.bitrate_bps as f64 * secs;
                e.secs += secs;
                e.vmaf_frames += qm.vmaf.mean * qm.frames_scored as f64;
                e.frames += qm.frames_scored as f64;
            }
        }
    }
    for (&(width, height), by_level) in &sums {
        for (&quality_level, s) in by_level {
            if s.secs > 0.0 && s.frames > 0.0 {
                level_points.push(LevelPoint {
                    width,
                    height,
                    quality_level,
                    point: RdPoint {
                        bitrate_bps: s.bits / s.secs,
                        vmaf: s.vmaf_frames / s.frames,
                    },
                });
            }
        }
    }
    let curves: Vec<SizeCurve> = sizes
        .iter()
        .map(|&(w, h)| SizeCurve {
            width: w,
            height: h,
            points: sums
                .get(&(w, h))
                .map(|by_level| {
                    by_level
                        .values()
                        .filter(|s| s.secs > 0.0 && s.frames > 0.0)
                        .map(|s| RdPoint {
                            bitrate_bps: s.bits / s.secs,
                            vmaf: s.vmaf_frames / s.frames,
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
        })
        .collect();
    let (fitted, mut dropped) = fit(&curves, rules);
    let warnings = warnings.lock().map(|w| w.clone()).unwrap_or_default();
    for d in &mut dropped {
        if d.reason.starts_with("no sample")
            && let Some(w) = warnings.first()
        {
            d.reason = format!("{} ({w})", d.reason);
        }
    }
    let fixed = fixed_rungs
        .iter()
        .map(|r| {
            let curve = curves
                .iter()
                .find(|c| (c.width, c.height) == (r.width, r.height))
                .map(|c| {
                    let mut p = c.points.clone();
                    p.sort_by(|a, b| a.bitrate_bps.total_cmp(&b.bitrate_bps));
                    p
                })
                .unwrap_or_default();
            FixedRung {
                width: r.width,
                height: r.height,
                bitrate_bps: r.max_bitrate_bps as f64,
                predicted_vmaf: vmaf_at(&curve, r.max_bitrate_bps as f64),
            }
        })
        .collect();
    Ok(Analysis {
        curves,
        fitted,
        dropped,
        fixed,
        levels: level_points,
        sampled_secs,
        wall_secs: started.elapsed().as_secs_f64(),
    })
}
