//! `vodkit encode FILE... --preset NAME --out DIR` and `vodkit stills FILE ...`: the local
//! backend from a shell, with progress lines (or JSON lines) and Ctrl-C to cancel cleanly.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Output;
use crate::job::{CancelToken, EventSink, JobEvent};
use crate::local;
use crate::plan::plan;
use crate::preset::store::Store;
use crate::probe::probe;
use crate::units::human_bytes;

/// Installs Ctrl-C to cancel every job (a second Ctrl-C is left to the default: exit).
fn cancel_on_ctrl_c() -> CancelToken {
    let token = CancelToken::new();
    let t = token.clone();
    let _ = ctrlc::set_handler(move || {
        if t.is_cancelled() {
            std::process::exit(130);
        }
        eprintln!("\nvodkit: cancelling (unfinished files are removed)...");
        t.cancel();
    });
    token
}

/// Encodes every file, `jobs` at a time. Returns the number of files that failed.
pub fn run(
    files: &[PathBuf],
    preset_name: &str,
    out_dir: &Path,
    jobs: usize,
    out: &Output,
) -> usize {
    let preset = match Store::open().find(preset_name) {
        Ok(e) => e.preset,
        Err(e) => {
            eprintln!("vodkit: {e}");
            return files.len().max(1);
        }
    };
    let cancel = cancel_on_ctrl_c();
    let queue = Mutex::new(files.iter());
    let failed = Mutex::new(0usize);
    let json = out.json;
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
                    if let Err(e) = encode_one(file, &preset, out_dir, json, &cancel) {
                        if let Ok(mut f) = failed.lock() {
                            *f += 1;
                        }
                        let o = Output { json };
                        o.error(file, &e);
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
    out_dir: &Path,
    json: bool,
    cancel: &CancelToken,
) -> Result<(), String> {
    let info = probe(file).map_err(|e| e.to_string())?;
    let plan = plan(&info, preset).map_err(|e| e.to_string())?;
    let title = plan.title.clone();
    let last_line = Arc::new(Mutex::new(Instant::now() - Duration::from_secs(10)));
    let sink: EventSink = Arc::new(move |event: JobEvent| {
        if json {
            let o = Output { json: true };
            o.json_line(&event);
            return;
        }
        match &event {
            JobEvent::Progress { rungs, overall } => {
                let Ok(mut last) = last_line.lock() else {
                    return;
                };
                if last.elapsed() < Duration::from_secs(1) && *overall < 1.0 {
                    return;
                }
                *last = Instant::now();
                let parts: Vec<String> = rungs
                    .iter()
                    .map(|r| {
                        format!(
                            "{} {}/{} {:.0}fps",
                            r.rung, r.frames_done, r.frames_total, r.fps
                        )
                    })
                    .collect();
                let eta = rungs.iter().filter_map(|r| r.eta_secs).fold(0.0, f64::max);
                eprintln!(
                    "{title}: {:>3.0}% | {} | ETA {:.0}s",
                    overall * 100.0,
                    parts.join(" | "),
                    eta
                );
            }
            JobEvent::Output { path, size_bytes } => {
                eprintln!(
                    "{title}: wrote {} ({})",
                    path.display(),
                    human_bytes(*size_bytes)
                );
            }
            JobEvent::Skipped { rung, path } => {
                eprintln!("{title}: {rung} already done ({})", path.display());
            }
            JobEvent::Warning { message } => eprintln!("{title}: warning: {message}"),
            JobEvent::RungFailed { rung, error } => eprintln!("{title}: {rung} failed: {error}"),
            JobEvent::Finished { summary } => {
                eprintln!(
                    "{title}: {} in {:.1}s: {} made, {} skipped, {} failed -> {}",
                    if summary.cancelled {
                        "cancelled"
                    } else {
                        "done"
                    },
                    summary.wall_secs,
                    summary.made.len(),
                    summary.skipped.len(),
                    summary.failed.len(),
                    summary.out_dir.display()
                );
            }
            JobEvent::Started { .. } | JobEvent::Stage { .. } => {}
        }
    });
    let summary =
        local::encode(&info, preset, &plan, out_dir, &sink, cancel).map_err(|e| e.to_string())?;
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
