//! What a plan's local encode will take and make on this machine: a short sample of the source
//! (cut at a keyframe, no re-encode) is encoded with the plan's own rungs and settings and
//! timed; the time and each rung's bytes are scaled by the source's duration, and the rungs'
//! VMAF is the sample's when the preset measures quality. The encoders' pace and spend on the
//! real content say more than any table (the plan's fill model is the guess without it).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::job::{CancelToken, EventSink};
use crate::plan::Plan;
use crate::preset::Preset;
use crate::probe::MediaInfo;

/// Seconds of the source the timed sample holds (more when the next keyframe is later).
pub const SAMPLE_SECS: f64 = 4.0;

/// One rung as the sample made it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampledRung {
    /// Rung name.
    pub rung: String,
    /// Video bits per second the sample's file spent.
    pub bitrate_bps: f64,
    /// Its VMAF, when the preset measures quality.
    pub vmaf: Option<f64>,
}

/// A predicted encode time and what it was measured on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeEstimate {
    /// Predicted wall time of the whole encode, seconds.
    pub predicted_secs: f64,
    /// Seconds of video in the sample.
    pub sample_secs: f64,
    /// Wall time the sample took, seconds.
    pub sample_wall_secs: f64,
    /// Each rung as the sample made it.
    pub rungs: Vec<SampledRung>,
}

impl TimeEstimate {
    /// Puts the predictions into the plan: the encode time, and each rung's size (its sample's
    /// rate over the duration, plus the sound; never above the rung's cap, which a short
    /// sample can pass by its initial buffer) and VMAF when the sample was scored. A per-title
    /// plan keeps the fit's predictions (from samples spread over the whole source).
    pub fn apply(&self, plan: &mut Plan) {
        plan.predicted_encode_secs = Some(self.predicted_secs);
        if plan.per_title.is_some() {
            return;
        }
        let audio_bps = plan.audio.as_ref().map_or(0.0, |a| a.bitrate_bps as f64);
        let duration = plan.duration_secs;
        for r in plan.rungs.iter_mut().filter(|r| r.is_made()) {
            if let Some(s) = self.rungs.iter().find(|s| s.rung == r.name) {
                let rate = s.bitrate_bps.min(r.max_bitrate_bps as f64);
                r.estimated_bytes = ((rate + audio_bps) * duration / 8.0) as u64;
                if s.vmaf.is_some() {
                    r.predicted_vmaf = s.vmaf;
                }
            }
        }
        plan.estimated_bytes = plan.made_rungs().map(|r| r.estimated_bytes).sum();
    }
}

/// Times a sample of `info` encoded with `plan`'s rungs (in `work`, which the caller removes)
/// and scales it to the plan's duration.
pub fn encode_time(
    info: &MediaInfo,
    preset: &Preset,
    plan: &Plan,
    work: &Path,
    cancel: &CancelToken,
) -> Result<TimeEstimate, String> {
    let name = info.path.display().to_string();
    if plan.made_rungs().any(|r| r.two_pass.is_some()) {
        return Err(format!(
            "{name}: a two-pass plan's time is not predicted from one pass"
        ));
    }
    let source_secs = info.duration_secs.unwrap_or(plan.duration_secs);
    let samples = super::samples::cut(
        &info.path,
        source_secs,
        1,
        SAMPLE_SECS,
        &work.join("sample"),
    )?;
    let sample = samples
        .first()
        .ok_or_else(|| format!("{name}: no sample could be cut"))?;
    let sinfo = crate::probe::probe_sample(sample, info).map_err(|e| e.to_string())?;
    let mut splan = crate::plan::plan(&sinfo, preset).map_err(|e| e.to_string())?;
    // The plan's own rungs (a per-title fit's caps and levels too) on the sample's timeline.
    splan.rungs.clone_from(&plan.rungs);
    splan.stills = None;
    splan.trim = None;
    let sample_secs = sinfo.duration_secs.unwrap_or(0.0);
    if sample_secs <= 0.0 {
        return Err(format!("{name}: the sample has no duration"));
    }
    let mut variant = preset.clone();
    variant.stills.count = 0;
    variant.packaging.hls = false;
    variant.packaging.dash = false;
    let quiet: EventSink = Arc::new(|_| {});
    let started = Instant::now();
    let summary = super::encode_with(
        &sinfo,
        &variant,
        &splan,
        &work.join("out"),
        &quiet,
        cancel,
        true,
    )
    .map_err(|e| e.to_string())?;
    let sample_wall_secs = started.elapsed().as_secs_f64();
    if summary.cancelled {
        return Err(format!("{name}: cancelled"));
    }
    if let Some((r, e)) = summary.failed.first() {
        return Err(format!("{name}: the timed sample's {r} rung failed: {e}"));
    }
    let manifest: super::Manifest = std::fs::read(summary.out_dir.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| format!("{name}: the timed sample wrote no manifest"))?;
    let rungs = manifest
        .rungs
        .iter()
        .map(|m| SampledRung {
            rung: m.name.clone(),
            bitrate_bps: m.size_bytes as f64 * 8.0
                / m.duration_secs.unwrap_or(sample_secs).max(1e-3),
            vmaf: m.quality.as_ref().map(|q| q.vmaf.mean),
        })
        .collect();
    Ok(TimeEstimate {
        predicted_secs: sample_wall_secs * plan.duration_secs / sample_secs,
        sample_secs,
        sample_wall_secs,
        rungs,
    })
}
