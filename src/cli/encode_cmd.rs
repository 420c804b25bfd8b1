//! `vodkit encode FILE... --preset NAME --out DIR` and `vodkit stills FILE ...`: the local
//! backend from a shell, with progress lines (or JSON lines) and Ctrl-C to cancel cleanly.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::progress_view::View;
use super::{Output, cancel_on_ctrl_c};
use crate::catalog::Catalog;
use crate::catalog::queue::{Outcome, QueueState, QueuedJob};
use crate::job::CancelToken;
use crate::local;
use crate::plan::plan;
use crate::preset::store::Store;
use crate::probe::probe;
use crate::runner::{self, JobSpec};

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

/// Encodes every file, `jobs` at a time. Every file is a row of the library's queue before it
/// starts, so a batch killed mid-way is finished by `vodkit queue run` (or the app), skipping
/// the rungs already made. Returns the number of files that failed.
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
    let specs: Vec<JobSpec> = files
        .iter()
        .map(|file| JobSpec {
            force: choices.force,
            fit: choices.fit,
            target: choices.target,
            range: (choices.start_secs, choices.end_secs),
            estimate: choices.estimate,
            ..JobSpec::local(file, &preset, out_dir)
        })
        .collect();
    let cancel = cancel_on_ctrl_c();
    let catalog = super::queue_cmd::open_catalog();
    let me = std::process::id();
    // Rows claimed by this process as they are added: no other runner (the app, `queue run`,
    // a watch) takes them; if this process dies they go back to the queue for the next one.
    let work: Vec<Work> = specs
        .into_iter()
        .map(|spec| {
            let row = catalog.as_ref().and_then(|c| {
                c.enqueue_claimed(&spec.new_job(), me)
                    .map_err(|e| eprintln!("vodkit: {e} (the job runs without a queue row)"))
                    .ok()
            });
            match row {
                Some(job) => Work::Claimed(Box::new(job)),
                None => Work::Plain(Box::new(spec)),
            }
        })
        .collect();
    let ids: Vec<i64> = work.iter().filter_map(Work::row).collect();
    let catalog = catalog.map(Mutex::new);
    let queue = Mutex::new(work.into_iter());
    let next = || queue.lock().ok().and_then(|mut q| q.next());
    let failed = run_work(next, catalog.as_ref(), choices.jobs, out, &cancel);
    if let Some(c) = catalog.as_ref().and_then(|c| c.lock().ok()) {
        // Files Ctrl-C kept from starting are not left for a later `queue run`.
        for id in ids {
            if c.job(id)
                .ok()
                .flatten()
                .is_some_and(|j| j.state == QueueState::Running)
            {
                let _ = c.finish(id, me, &Outcome::Cancelled);
            }
        }
    }
    if cancel.is_cancelled() {
        failed.max(1)
    } else {
        failed
    }
}

/// A job to run: a queue row this process claimed, or, without a library, a spec.
pub enum Work {
    /// Claimed by this process.
    Claimed(Box<QueuedJob>),
    /// Not in the queue (the library could not be opened).
    Plain(Box<JobSpec>),
}

impl Work {
    fn row(&self) -> Option<i64> {
        match self {
            Self::Claimed(j) => Some(j.id),
            Self::Plain(_) => None,
        }
    }
}

/// Runs work from `next`, `jobs` at a time, with progress on stderr (or JSON lines). Returns
/// the number of jobs that failed.
pub fn run_work(
    next: impl Fn() -> Option<Work> + Sync,
    catalog: Option<&Mutex<Catalog>>,
    jobs: usize,
    out: &Output,
    cancel: &CancelToken,
) -> usize {
    let failed = Mutex::new(0usize);
    let json = out.json;
    let view = Arc::new(View::new(json));
    let path = catalog
        .and_then(|c| c.lock().ok())
        .map(|c| c.path().to_owned());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, 16) {
            scope.spawn(|| {
                while !cancel.is_cancelled() {
                    let Some(work) = next() else {
                        return;
                    };
                    let source = match &work {
                        Work::Claimed(j) => j.source.clone(),
                        Work::Plain(s) => s.source.clone(),
                    };
                    let title = source
                        .file_stem()
                        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
                    let sink = view.sink(&title);
                    let result = match (&work, &path) {
                        (Work::Claimed(job), Some(path)) => {
                            runner::run_row(path, job, &sink, cancel)
                        }
                        (Work::Claimed(job), None) => JobSpec::of_row(job)
                            .and_then(|spec| runner::run_local(&spec, &sink, cancel)),
                        (Work::Plain(spec), _) => runner::run_local(spec, &sink, cancel),
                    };
                    if let Err(e) = report(&source, &title, result, &view) {
                        if let Ok(mut f) = failed.lock() {
                            *f += 1;
                        }
                        if json {
                            Output { json }.error(&source, &e);
                        } else {
                            view.line(&format!("vodkit: {e}"));
                        }
                    }
                }
            });
        }
    });
    failed.into_inner().unwrap_or(0)
}

/// A job's end in words: made vs planned, or why it failed.
fn report(
    file: &Path,
    title: &str,
    result: Result<crate::job::Summary, String>,
    view: &View,
) -> Result<(), String> {
    let summary = result?;
    if let Some(text) = std::fs::read(summary.out_dir.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<local::Manifest>(&b).ok())
        .and_then(|m| compare_with_plan(&m))
    {
        view.line(&format!("{title}: {text}"));
    }
    if summary.cancelled {
        return Err(format!("{}: cancelled", file.display()));
    }
    // The queue's words for a job with failed rungs.
    match runner::outcome_of(&Ok(summary)) {
        Outcome::Failed(e, _) => return Err(e),
        Outcome::Done(_) | Outcome::Cancelled => {}
    }
    Ok(())
}

/// `vodkit stills`: takes `count` stills of `width` pixels into `out`. Returns 1 on failure.
pub fn stills(file: &Path, count: u32, width: u32, out_dir: &Path, out: &Output) -> usize {
    let result = probe(file).map_err(|e| e.to_string()).and_then(|info| {
        let mut preset =
            crate::preset::store::builtin("phone-share").ok_or("built-in presets missing")?;
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
