//! `vodkit plan FILE... --preset NAME [--json]`: what a preset would make from each file.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::Output;
use crate::plan::{Plan, RungStatus, plan};
use crate::preset::store::Store;
use crate::probe::probe;
use crate::units::{clock, human_bitrate, human_bytes};

pub use crate::local::per_title::FitChoice as Fit;

/// What `vodkit plan` adds to each plan.
pub struct Extras {
    /// Predict the local encode's time from a timed sample.
    pub estimate: bool,
    /// Price the cloud job in this region (empty: the Cloud settings' region).
    pub cloud_region: Option<String>,
}

impl Extras {
    fn cost(
        &self,
        plan: &Plan,
        preset: &crate::preset::Preset,
    ) -> Option<crate::cloud::cost::CostEstimate> {
        let region = self.cloud_region.as_deref()?;
        let region = Some(region.trim().to_owned())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| {
                crate::cloud::cost::pricing_region(&crate::cloud::CloudSettings::saved())
            });
        let snapshot = crate::cloud::prices::load();
        Some(crate::cloud::cost::estimate_plan(
            plan,
            preset,
            &region,
            snapshot.as_ref(),
        ))
    }
}

/// A plan as JSON, with its cloud estimate when asked for.
#[derive(serde::Serialize)]
struct PlanOut<'a> {
    #[serde(flatten)]
    plan: &'a Plan,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud_cost: Option<crate::cloud::cost::CostEstimate>,
}

/// Plans every file with one preset. Returns the number of files that could not be planned.
pub fn run(
    files: &[PathBuf],
    preset_name: &str,
    fit: &Fit,
    extras: &Extras,
    out: &mut Output,
) -> usize {
    let estimate = extras.estimate;
    let preset = match Store::open().find(preset_name) {
        Ok(entry) => entry.preset,
        Err(e) => {
            eprintln!("vodkit: {e}");
            return files.len().max(1);
        }
    };
    if fit.per_title || preset.fit.mode == crate::preset::FitMode::PerTitle {
        return run_per_title(files, &preset, fit, extras, out);
    }
    let cancel = super::cancel_on_ctrl_c();
    let mut failed = 0;
    for file in files {
        let result = probe(file).map_err(|e| e.to_string()).and_then(|info| {
            let mut p = plan(&info, &preset).map_err(|e| e.to_string())?;
            if estimate {
                timed(&info, &preset, &mut p, &cancel)?;
            }
            Ok(p)
        });
        match result {
            Ok(p) if out.json => out.json_line(&PlanOut {
                cloud_cost: extras.cost(&p, &preset),
                plan: &p,
            }),
            Ok(p) => {
                let cost = extras.cost(&p, &preset).map(|c| c.describe());
                out.text(&format!("{}{}", describe(&p), cost.unwrap_or_default()));
            }
            Err(message) => {
                failed += 1;
                out.error(file, &message);
            }
        }
    }
    failed
}

/// A per-title plan as JSON: the analysis (curves, fitted, dropped, fixed) and the plan an
/// encode would follow.
#[derive(serde::Serialize)]
struct PerTitleOut<'a> {
    #[serde(flatten)]
    analysis: &'a crate::local::per_title::Analysis,
    plan: &'a Plan,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud_cost: Option<crate::cloud::cost::CostEstimate>,
}

/// `--per-title`: analyses each file and prints the fitted ladder beside the fixed one.
/// Sets the plan's predicted encode time from a timed sample.
fn timed(
    info: &crate::probe::MediaInfo,
    preset: &crate::preset::Preset,
    plan: &mut Plan,
    cancel: &crate::job::CancelToken,
) -> Result<(), String> {
    let work = crate::local::per_title::Scratch::new("estimate");
    let t = crate::local::estimate::encode_time(info, preset, plan, &work, cancel);
    t?.apply(plan);
    Ok(())
}

fn run_per_title(
    files: &[PathBuf],
    preset: &crate::preset::Preset,
    fit: &Fit,
    extras: &Extras,
    out: &Output,
) -> usize {
    let estimate = extras.estimate;
    let rules = match crate::local::per_title::rules_of(preset, fit.target_vmaf, fit.min_vmaf_step)
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vodkit: {e}");
            return files.len().max(1);
        }
    };
    let cancel = super::cancel_on_ctrl_c();
    let mut failed = 0;
    for file in files {
        // Samples and their encodes go to a private temporary folder, removed afterwards.
        let work = crate::local::per_title::Scratch::new("per-title");
        let result = probe(file).map_err(|e| e.to_string()).and_then(|info| {
            let (mut p, a) = crate::local::per_title::fitted_plan(
                &info,
                preset,
                &rules,
                &crate::local::per_title::Options::default(),
                &work,
                &cancel,
            )?;
            if estimate {
                timed(&info, preset, &mut p, &cancel)?;
            }
            Ok((p, a))
        });
        match result {
            Ok((p, a)) if out.json => out.json_line(&PerTitleOut {
                analysis: &a,
                plan: &p,
                cloud_cost: extras.cost(&p, preset),
            }),
            Ok((p, a)) => out.text(&format!(
                "{}{}{}",
                describe_fit(file, &a, &rules),
                describe(&p),
                extras
                    .cost(&p, preset)
                    .map(|c| c.describe())
                    .unwrap_or_default()
            )),
            Err(e) => {
                failed += 1;
                out.error(file, &format!("{}: {e}", file.display()));
            }
        }
    }
    failed
}

/// The fitted ladder, the dropped sizes and the fixed ladder, as text.
fn describe_fit(
    file: &std::path::Path,
    a: &crate::local::per_title::Analysis,
    rules: &crate::plan::per_title::FitRules,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: per-title ladder (target VMAF {:.0}, steps of at least {:.0}; {:.0} s sampled, {:.0} s of analysis)",
        file.display(),
        rules.target_vmaf,
        rules.min_vmaf_step,
        a.sampled_secs,
        a.wall_secs
    );
    let _ = writeln!(out, "  {:<10} {:>10} {:>8}  why", "size", "kb/s", "VMAF");
    for f in &a.fitted {
        let _ = writeln!(
            out,
            "  {:<10} {:>10.0} {:>8.1}  {}",
            format!("{}x{}", f.width, f.height),
            f.bitrate_bps / 1000.0,
            f.predicted_vmaf,
            f.reason
        );
    }
    for d in &a.dropped {
        let _ = writeln!(
            out,
            "  {:<10} dropped: {}",
            format!("{}x{}", d.width, d.height),
            d.reason
        );
    }
    let _ = writeln!(out, "  the preset's fixed ladder:");
    for f in &a.fixed {
        let _ = writeln!(
            out,
            "  {:<10} {:>10.0} {:>8}",
            format!("{}x{}", f.width, f.height),
            f.bitrate_bps / 1000.0,
            f.predicted_vmaf
                .map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
        );
    }
    let ratio = a.bits_ratio();
    let _ = writeln!(
        out,
        "  total bitrate {:.0}% of the fixed ladder's ({})",
        ratio * 100.0,
        if ratio <= 1.0 {
            format!("{:.0}% fewer bits", (1.0 - ratio) * 100.0)
        } else {
            format!("{:.0}% more bits", (ratio - 1.0) * 100.0)
        }
    );
    out
}

/// A plan as a table: one line per rung, then audio, stills, the total and warnings.
pub fn describe(p: &Plan) -> String {
    let mut out = String::new();
    let _ = write!(out, "{} -> {}", p.source.display(), p.preset);
    if let Some((w, h)) = p.source_display {
        let _ = write!(out, " (source {w}x{h}");
        if let Some(rate) = p.source_frame_rate {
            let _ = write!(out, ", {rate} fps");
        }
        if let Some(bps) = p.source_video_bitrate_bps {
            let _ = write!(out, ", video {}", human_bitrate(bps));
        }
        let _ = write!(out, ", {})", clock(p.duration_secs));
    }
    out.push('\n');
    let predicted = p.rungs.iter().any(|r| r.predicted_vmaf.is_some());
    if !p.rungs.is_empty() {
        let _ = write!(
            out,
            "  {:<9} {:<10} {:<14} {:<6} {:<11} {:<7} {:<8} {:>10}",
            "rung", "size", "codec", "level", "max rate", "fps", "status", "est. size"
        );
        out.push_str(if predicted { "  est. VMAF\n" } else { "\n" });
    }
    for r in &p.rungs {
        let status = match r.status {
            RungStatus::Kept => "kept",
            RungStatus::Resized => "resized",
            RungStatus::Capped => "capped",
            RungStatus::Dropped => "dropped",
        };
        let name = if r.is_made() {
            r.name.clone()
        } else {
            format!("#{}", r.preset_index + 1)
        };
        let _ = write!(
            out,
            "  {:<9} {:<10} {:<14} {:<6} {:<11} {:<7} {:<8} {:>10}",
            name,
            format!("{}x{}", r.width, r.height),
            format!("{} {}", r.codec, r.profile),
            r.level,
            human_bitrate(r.max_bitrate_bps),
            r.frame_rate.to_string(),
            status,
            if r.is_made() {
                human_bytes(r.estimated_bytes)
            } else {
                "-".to_owned()
            },
        );
        match r.predicted_vmaf.filter(|_| r.is_made()) {
            Some(v) => {
                let _ = writeln!(out, "  {v:>9.1}");
            }
            None => out.push('\n'),
        }
        for why in &r.reasons {
            let _ = writeln!(out, "            {why}");
        }
    }
    match &p.audio {
        Some(a) => {
            let _ = write!(
                out,
                "  audio: AAC-LC {}, {} Hz, {} ch",
                human_bitrate(a.bitrate_bps),
                a.sample_rate_hz,
                a.channels
            );
            if let Some(remix) = &a.remix {
                let _ = write!(out, " ({remix})");
            }
            if let Some(l) = &a.loudness {
                let _ = write!(out, ", {}", l.describe());
            }
            out.push('\n');
        }
        None => out.push_str("  audio: none\n"),
    }
    for (k, a) in p.extra_audio.iter().enumerate() {
        let _ = writeln!(
            out,
            "  audio {}: stream {}{}{}, encoded like the first",
            k + 2,
            a.source_index,
            a.language
                .as_deref()
                .and_then(crate::subtitles::languages::find)
                .map(|l| format!(", {}", l.name))
                .unwrap_or_default(),
            a.title
                .as_deref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default(),
        );
    }
    for t in &p.subtitles {
        let from = match &t.origin {
            crate::subtitles::Origin::Embedded { index, codec } => {
                format!("stream {index} ({codec})")
            }
            crate::subtitles::Origin::Sidecar { path, .. } => path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
        };
        let _ = writeln!(
            out,
            "  subtitles {}: {} from {from}{}{} -> WebVTT, HLS, DASH",
            t.id,
            t.name,
            if t.default { ", default" } else { "" },
            if t.forced { ", forced" } else { "" },
        );
    }
    if let Some(s) = &p.stills {
        let times: Vec<String> = s.times_secs.iter().map(|t| format!("{t:.1}s")).collect();
        let _ = writeln!(
            out,
            "  stills: {} x {}x{} {} at {}",
            s.times_secs.len(),
            s.width,
            s.height,
            s.format,
            times.join(", ")
        );
    }
    let _ = write!(out, "  estimated total: {}", human_bytes(p.estimated_bytes));
    if let Some(secs) = p.predicted_encode_secs {
        let _ = write!(out, "; local encode about {} on this machine", clock(secs));
    }
    out.push('\n');
    for w in &p.warnings {
        let _ = writeln!(out, "  ! {w}");
    }
    out
}
