//! `vodkit queue list|add|run|pause|resume|move|retry|remove|clear`: the library's job queue,
//! shared with the app (a job queued here shows in the app's queue and the other way round).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use clap::Subcommand;

use super::encode_cmd::{Work, run_work};
use super::{Output, cancel_on_ctrl_c};
use crate::catalog::Catalog;
use crate::catalog::cloud_jobs::CloudJobRecord;
use crate::catalog::queue::{JobKind, QueueState, QueuedJob};
use crate::preset::store::Store;
use crate::runner::JobSpec;
use crate::units::date_time;

/// What to do with the queue.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// List jobs: running and queued in order, then finished ones, newest first.
    List,
    /// Queue files with a preset (run them with `vodkit queue run` or the app).
    Add {
        /// Source files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Preset name or path to a preset .toml file.
        #[arg(long, short)]
        preset: String,
        /// Output folder.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Run queued jobs (first those a crash or a closed app left running) until none is left.
    Run {
        /// Jobs at once.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Keep waiting for new jobs (Ctrl-C to stop).
        #[arg(long)]
        follow: bool,
    },
    /// Start no new job (running ones go on).
    Pause,
    /// Start jobs again.
    Resume,
    /// Move a queued job earlier (negative) or later.
    Move {
        /// Job id (see `vodkit queue list`).
        id: i64,
        /// Places to move: -1 is one earlier, 1 one later.
        #[arg(allow_negative_numbers = true)]
        by: i64,
    },
    /// Queue a finished, failed or cancelled job again.
    Retry {
        /// Job id.
        id: i64,
    },
    /// Remove a job that is not running.
    Remove {
        /// Job id.
        id: i64,
    },
    /// Remove finished jobs, and with --all queued ones too (running jobs stay).
    Clear {
        /// Also the queued jobs.
        #[arg(long)]
        all: bool,
    },
}

/// The library, or `None` with the reason on stderr (jobs then run without queue rows).
pub fn open_catalog() -> Option<Catalog> {
    Catalog::open_default()
        .map_err(|e| eprintln!("vodkit: {e}"))
        .ok()
}

fn job_line(job: &QueuedJob, cloud: Option<&CloudJobRecord>) -> String {
    let state = match job.state {
        QueueState::Queued => "queued",
        QueueState::Running => "running",
        QueueState::Done => "done",
        QueueState::Failed => "failed",
        QueueState::Cancelled => "cancelled",
    };
    let kind = match job.kind {
        JobKind::Local => "local",
        JobKind::Cloud => "cloud",
    };
    let when = job
        .finished_secs
        .or(job.started_secs)
        .or(Some(job.created_secs))
        .and_then(date_time)
        .unwrap_or_default();
    let mut line = format!(
        "{:>5}  {state:<9} {kind:<5} {:<14} {}  {when}",
        job.id,
        job.preset,
        job.source.display()
    );
    if let Some(c) = cloud {
        line.push_str(&format!(
            "\n       MediaConvert job {}{}: {}",
            c.service_id,
            c.region
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            if c.status == "PROGRESSING" {
                format!("PROGRESSING {}%", c.percent)
            } else {
                c.status.clone()
            }
        ));
        if let Some(url) = &c.output_url {
            line.push_str(&format!("\n       outputs {url}"));
        }
    }
    if let Some(dir) = &job.title_dir {
        line.push_str(&format!("\n       -> {}", dir.display()));
    }
    if let Some(e) = &job.error {
        line.push_str(&format!("\n       {e}"));
    }
    line
}

/// Runs a queue action. Returns the number of failures.
pub fn run(action: Action, out: &Output) -> usize {
    let Some(catalog) = open_catalog() else {
        return 1;
    };
    let done = |r: crate::catalog::Result<bool>, what: &str, id: i64| match r {
        Ok(true) => 0,
        Ok(false) => {
            eprintln!("vodkit: job {id} {what} (see `vodkit queue list`)");
            1
        }
        Err(e) => {
            eprintln!("vodkit: {e}");
            1
        }
    };
    match action {
        Action::List => match catalog.jobs() {
            Ok(jobs) => {
                // Each cloud job's latest MediaConvert record (the newest submit of its row).
                let mut cloud: std::collections::HashMap<i64, CloudJobRecord> =
                    std::collections::HashMap::new();
                for c in catalog.cloud_jobs().unwrap_or_default() {
                    if let Some(row) = c.job_id {
                        cloud.entry(row).or_insert(c);
                    }
                }
                if out.json {
                    for j in &jobs {
                        let mut value = serde_json::to_value(j).unwrap_or_default();
                        if let (Some(map), Some(c)) = (value.as_object_mut(), cloud.get(&j.id)) {
                            map.insert(
                                "cloud".to_owned(),
                                serde_json::to_value(c).unwrap_or_default(),
                            );
                        }
                        out.json_line(&value);
                    }
                } else if jobs.is_empty() {
                    out.text("The queue is empty.\n");
                } else {
                    if catalog.is_paused().unwrap_or(false) {
                        out.text("The queue is paused (vodkit queue resume).\n");
                    }
                    for j in &jobs {
                        out.text(&format!("{}\n", job_line(j, cloud.get(&j.id))));
                    }
                }
                0
            }
            Err(e) => {
                eprintln!("vodkit: {e}");
                1
            }
        },
        Action::Add {
            files,
            preset,
            out: out_dir,
        } => {
            let preset = match Store::open().find(&preset) {
                Ok(e) => e.preset,
                Err(e) => {
                    eprintln!("vodkit: {e}");
                    return 1;
                }
            };
            let mut failed = 0;
            for file in &files {
                if !file.is_file() {
                    eprintln!("vodkit: {}: no such file", file.display());
                    failed += 1;
                    continue;
                }
                let spec = JobSpec::local(file, &preset, &out_dir);
                match catalog.enqueue(&spec.new_job()) {
                    Ok(id) if out.json => {
                        out.json_line(&serde_json::json!({"queued": id, "path": file}));
                    }
                    Ok(id) => out.text(&format!("queued {} as job {id}\n", file.display())),
                    Err(e) => {
                        eprintln!("vodkit: {e}");
                        failed += 1;
                    }
                }
            }
            failed
        }
        Action::Run { jobs, follow } => run_queue(catalog, jobs, follow, out),
        Action::Pause | Action::Resume => {
            let pause = matches!(action, Action::Pause);
            match catalog.set_paused(pause) {
                Ok(()) => {
                    if out.json {
                        out.json_line(&serde_json::json!({ "paused": pause }));
                    } else {
                        out.text(if pause {
                            "The queue is paused: no new job starts; running ones go on.\n"
                        } else {
                            "The queue runs again.\n"
                        });
                    }
                    0
                }
                Err(e) => {
                    eprintln!("vodkit: {e}");
                    1
                }
            }
        }
        Action::Move { id, by } => done(
            catalog.move_job(id, by),
            "is not queued or cannot move further",
            id,
        ),
        Action::Retry { id } => done(catalog.requeue(id), "is not finished", id),
        Action::Remove { id } => done(catalog.remove_job(id), "is running or unknown", id),
        Action::Clear { all } => match catalog.clear_jobs(all, true) {
            Ok(n) => {
                if out.json {
                    out.json_line(&serde_json::json!({ "removed": n }));
                } else {
                    out.text(&format!("removed {n} job(s)\n"));
                }
                0
            }
            Err(e) => {
                eprintln!("vodkit: {e}");
                1
            }
        },
    }
}

/// `vodkit queue run`: jobs a dead process left running first, then the queue in order.
pub fn run_queue(catalog: Catalog, jobs: usize, follow: bool, out: &Output) -> usize {
    let cancel = cancel_on_ctrl_c();
    match catalog.recover() {
        Ok(ids) if !ids.is_empty() => {
            eprintln!(
                "vodkit: {} job(s) were interrupted (the process running them ended); they run first",
                ids.len()
            );
        }
        Ok(_) => {}
        Err(e) => eprintln!("vodkit: {e}"),
    }
    if catalog.is_paused().unwrap_or(false) {
        eprintln!(
            "vodkit: the queue is paused: no job starts{} (vodkit queue resume)",
            if follow { " until it is resumed" } else { "" }
        );
    }
    let catalog = Mutex::new(catalog);
    let next = || loop {
        if cancel.is_cancelled() {
            return None;
        }
        let claimed = catalog
            .lock()
            .ok()
            .and_then(|c| {
                c.claim_next(std::process::id(), None)
                    .map_err(|e| eprintln!("vodkit: {e}"))
                    .ok()
            })
            .flatten();
        match claimed {
            Some(job) => return Some(Work::Claimed(Box::new(job))),
            None if follow => std::thread::sleep(Duration::from_secs(1)),
            None => return None,
        }
    };
    run_work(next, Some(&catalog), jobs, out, &cancel)
}
