//! `vodkit encode FILE... --preset NAME --out DIR` and `vodkit stills FILE ...`: the local
//! backend from a shell, with progress lines (or JSON lines) and Ctrl-C to cancel cleanly.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::progress_view::View;
use super::{Output, cancel_on_ctrl_c};
use crate::job::CancelToken;
use crate::local;
use crate::plan::plan;
use crate::preset::store::Store;
use crate::probe::probe;

/// `--quality` and `--every`: measuring on top of what the preset says.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quality {
    /// Measure (`--quality`) or not (`--no-quality`) whatever the preset says.
    pub measure: Option<bool>,
    /// Score every N-th frame instead of the preset's choice.
    pub every: Option<u32>,
}

/// How files are encoded beyond the preset: measuring, fitting, a size, a range.
#[derive(Debug, Clone, Copy, Default)]
pub struct Choices {
    /// Files encoded at once.
    pub jobs: usize,
    /// Redo rungs an earlier run made.
    pub force: bool,
    /// Quality measuring over the preset's.
    pub quality: Quality,
    /// Per-title fitting.
    pub fit: crate::local::per_title::FitChoice,
    /// One MP4 of this size instead of the ladder.
    pub target: Option<local::target_size::Target>,
    /// Encode only from here (seconds).
    pub start_secs: Option<f64>,
    /// Encode only up to here (seconds).
    pub end_secs: Option<f64>,
    /// Predict the encode's time first.
    pub estimate: bool,
}

/// Encodes every file, `jobs` at a time. Returns the number of files that failed.
pub fn run(
    files: &[PathBuf],
    preset_name: &str,
    out_dir: &Path,
    choices: &Choices,
    out: &Output,
) -> usize {
    let mut preset = match Store::open().find(preset_name) {
        Ok(e) => e.preset,
        Err(e) => {
            eprintln!("vodkit: {e}");
            return files.len().max(1);
        }
    };
    if let Some(measure) = choices.quality.measure {
        preset.quality.measure = measure;
    }
    if let Some(every) = choices.quality.every {
        preset.quality.every = every;
    }
    let jobs = choices.jobs;
    let cancel = cancel_on_ctrl_c();
    let queue = Mutex::new(files.iter());
    let failed = Mutex::new(0usize);
    let json = out.json;
    let view = Arc::new(View::new(json));
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, 16) {
            scope.spawn(|| {
                loop {
                    let Some(file) = queue.lock().ok().and_then(|mut q| q.next()) else {
                        return;
                    };
                    if cancel.is_cancelled() {
                        return;
                    }
                    if let Err(e) = encode_one(file, &preset, choices, out_dir, &view, &cancel) {
                        if let Ok(mut f) = failed.lock() {
                            *f += 1;
                        }
                        if json {
                            Output { json }.error(file, &e);
                        } else {
                            view.line(&format!("vodkit: {e}"));
                        }
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap_or(0);
    if cancel.is_cancelled() {
        failed.max(1)
    } else {
        failed
    }
}

fn encode_one(
    file: &Path,
    preset: &crate::preset::Preset,
    choices: &Choices,
    out_dir: &Path,
    view: &Arc<View>,
    cancel: &CancelToken,
) -> Result<(), String> {
    let info = probe(file).map_err(|e| e.to_string())?;
    let sink = view.sink(&info.title);
    let range = (choices.start_secs, choices.end_secs);
    let summary = if let Some(target) = choices.target {
        // Samples, the statistics and the first pass go to a private folder, removed after.
        let work = local::per_title::Scratch::new("target-size");
        let result = local::target_size::plan(&info, preset, target, range, &work, cancel)
            .and_then(|plan| {
                local::target_size::encode(&info, preset, &plan, target, out_dir, &sink, cancel)
            });
        result.map_err(|e| {
            if e.contains(&*file.to_string_lossy()) {
                e
            } else {
                format!("{}: {e}", file.display())
            }
        })?
    } else {
        let mut plan = local::per_title::plan_for(&info, preset, &choices.fit, &sink, cancel)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        crate::plan::trim(&mut plan, range.0, range.1)?;
        if choices.estimate {
            let work = local::per_title::Scratch::new("estimate");
            let timed = local::estimate::encode_time(&info, preset, &plan, &work, cancel);
            timed?.apply(&mut plan);
        }
        local::encode_with(&info, preset, &plan, out_dir, &sink, cancel, choices.force)
            .map_err(|e| e.to_string())?
    };
    if let Some(text) = std::fs::read(summary.out_dir.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<local::Manifest>(&b).ok())
        .and_then(|m| compare_with_plan(&m))
    {
        view.line(&format!("{}: {text}", info.title));
    }
    if summary.cancelled {
        return Err(format!("{}: cancelled", file.display()));
    }
    if !summary.failed.is_empty() {
        let list: Vec<String> = summary
            .failed
            .iter()
            .map(|(r, e)| format!("{r}: {e}"))
            .collect();
        return Err(format!(
            "{}: {} rung(s) failed: {}",
            file.display(),
            list.len(),
            list.join("; ")
        ));
    }
    Ok(())
}

/// `vodkit stills`: takes `count` stills of `width` pixels into `out`. Returns 1 on failure.
pub fn stills(file: &Path, count: u32, width: u32, out_dir: &Path, out: &Output) -> usize {
    let result = probe(file).map_err(|e| e.to_string()).and_then(|info| {
        let mut preset = crate::preset::store::builtins()
            .into_iter()
            .find(|p| p.name == "phone-share")
            .ok_or("built-in presets missing")?;
        preset.stills.count = count.clamp(1, 100);
        preset.stills.width = width.clamp(16, 8192);
        let p = plan(&info, &preset).map_err(|e| e.to_string())?;
        let s = p.stills.clone().ok_or("no stills planned")?;
        local::stills::take(&p, &s, out_dir, &CancelToken::new())
    });
    match result {
        Ok(paths) => {
            for p in paths {
                if out.json {
                    out.json_line(&serde_json::json!({ "still": p }));
                } else {
                    out.text(&format!("{}\n", p.display()));
                }
            }
            0
        }
        Err(e) => {
            out.error(file, &e);
            1
        }
    }
}

/// The plan's predictions beside what the encode made, in words (`None` when nothing was
/// predicted beyond the fill model and nothing measured).
fn compare_with_plan(m: &local::Manifest) -> Option<String> {
    let pct = |made: f64, predicted: f64| {
        if predicted > 0.0 {
            format!("{:+.0} %", (made / predicted - 1.0) * 100.0)
        } else {
            "-".to_owned()
        }
    };
    let mut parts: Vec<String> = m
        .predictions()
        .iter()
        .map(|p| {
            let mut s = format!(
                "{} {} (predicted {}, {})",
                p.rung,
                crate::units::human_bytes(p.bytes),
                crate::units::human_bytes(p.predicted_bytes),
                pct(p.bytes as f64, p.predicted_bytes as f64)
            );
            if let (Some(v), Some(pv)) = (p.vmaf, p.predicted_vmaf) {
                s.push_str(&format!(", VMAF {v:.1} (predicted {pv:.1})"));
            }
            s
        })
        .collect();
    if let (Some(took), Some(predicted)) = (m.encode_wall_secs, m.plan.predicted_encode_secs) {
        parts.push(format!(
            "took {} (predicted {}, {})",
            crate::units::clock(took),
            crate::units::clock(predicted),
            pct(took, predicted)
        ));
    }
    (!parts.is_empty()).then(|| format!("made vs planned: {}", parts.join("; ")))
}
