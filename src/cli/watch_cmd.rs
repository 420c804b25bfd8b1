//! `vodkit watch DIR --preset P --out OUT`: queue every video that lands in a folder (once it
//! stopped growing, once per content) and encode it; the watch is remembered, so `vodkit
//! watch` alone resumes every stored watch, and the app shows the same jobs.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use super::encode_cmd::{Work, run_work};
use super::queue_cmd::open_catalog;
use super::{Output, cancel_on_ctrl_c};
use crate::catalog::queue::JobKind;
use crate::watcher::WatchEvent;

/// What `vodkit watch` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// A folder to add (none: every stored watch).
    pub dir: Option<PathBuf>,
    /// Its preset.
    pub preset: Option<String>,
    /// Its output folder.
    pub out: Option<PathBuf>,
    /// Seconds a file must stay the same size before it is queued.
    pub settle_secs: f64,
    /// Jobs at once.
    pub jobs: usize,
    /// List stored watches and stop.
    pub list: bool,
    /// Forget a stored watch and stop.
    pub remove: Option<i64>,
}

/// Runs `vodkit watch`. Returns the number of failures.
pub fn run(o: &Options, out: &Output) -> usize {
    let Some(catalog) = open_catalog() else {
        return 1;
    };
    if o.list {
        return match catalog.watches() {
            Ok(ws) => {
                for w in &ws {
                    if out.json {
                        out.json_line(w);
                    } else {
                        out.text(&format!(
                            "{:>4}  {}  preset {}  -> {}\n",
                            w.id,
                            w.dir.display(),
                            w.preset,
                            w.out_dir.display()
                        ));
                    }
                }
                if ws.is_empty() && !out.json {
                    out.text("No watched folders (vodkit watch DIR --preset P --out OUT).\n");
                }
                0
            }
            Err(e) => {
                eprintln!("vodkit: {e}");
                1
            }
        };
    }
    if let Some(id) = o.remove {
        return match catalog.remove_watch(id) {
            Ok(true) => 0,
            Ok(false) => {
                eprintln!("vodkit: no watch {id} (see `vodkit watch --list`)");
                1
            }
            Err(e) => {
                eprintln!("vodkit: {e}");
                1
            }
        };
    }
    if let Some(dir) = &o.dir {
        let (Some(preset), Some(out_dir)) = (&o.preset, &o.out) else {
            eprintln!(
                "vodkit: watching {} needs --preset and --out",
                dir.display()
            );
            return 1;
        };
        if !dir.is_dir() {
            eprintln!("vodkit: {}: not a folder", dir.display());
            return 1;
        }
        if let Err(e) = crate::preset::store::Store::open().find(preset) {
            eprintln!("vodkit: {e}");
            return 1;
        }
        let abs = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
        if let Err(e) = catalog.add_watch(&abs(dir), preset, &abs(out_dir), JobKind::Local) {
            eprintln!("vodkit: {e}");
            return 1;
        }
    }
    let folders = match catalog.watches() {
        Ok(f) if f.is_empty() => {
            eprintln!("vodkit: no watched folders: vodkit watch DIR --preset P --out OUT");
            return 1;
        }
        Ok(f) => match &o.dir {
            Some(d) => {
                let d = std::path::absolute(d).unwrap_or_else(|_| d.clone());
                f.into_iter().filter(|w| w.dir == d).collect()
            }
            None => f,
        },
        Err(e) => {
            eprintln!("vodkit: {e}");
            return 1;
        }
    };
    for f in &folders {
        eprintln!(
            "vodkit: watching {} (preset {}, into {}); Ctrl-C to stop",
            f.dir.display(),
            f.preset,
            f.out_dir.display()
        );
    }
    let cancel = cancel_on_ctrl_c();
    let _ = catalog.recover();
    let catalog = Mutex::new(catalog);
    let settle = Duration::from_secs_f64(o.settle_secs.clamp(0.0, 3600.0));
    let json = out.json;
    std::thread::scope(|scope| {
        // The watcher queues; the runners below take the queue's jobs as they come.
        scope.spawn(|| {
            let Some(path) = catalog.lock().ok().map(|c| c.path().to_owned()) else {
                return;
            };
            let Ok(own) = crate::catalog::Catalog::open(&path) else {
                return;
            };
            crate::watcher::watch(&own, folders, settle, Duration::from_secs(5), &cancel, |e| {
                let out = Output { json };
                match e {
                    WatchEvent::Queued { path, job } => {
                        if json {
                            out.json_line(&serde_json::json!({"watch": "queued", "path": path, "job": job}));
                        } else {
                            eprintln!("vodkit: {} queued (job {job})", path.display());
                        }
                    }
                    WatchEvent::Copy { path, of } => {
                        if json {
                            out.json_line(&serde_json::json!({"watch": "copy", "path": path, "of": of}));
                        } else {
                            eprintln!(
                                "vodkit: {} is a copy of {}: not encoded again",
                                path.display(),
                                of.display()
                            );
                        }
                    }
                    WatchEvent::Failed { path, error } => out.error(path, error),
                    WatchEvent::Stopped { dir } => {
                        if json {
                            out.json_line(&serde_json::json!({"watch": "stopped", "dir": dir}));
                        } else {
                            eprintln!(
                                "vodkit: {} is no longer watched (stopped with `vodkit watch --remove` or in the app); the queue still runs",
                                dir.display()
                            );
                        }
                    }
                }
            });
        });
        let next = || loop {
            if cancel.is_cancelled() {
                return None;
            }
            let claimed = catalog
                .lock()
                .ok()
                .and_then(|c| c.claim_next(std::process::id(), None).ok())
                .flatten();
            match claimed {
                Some(job) => return Some(Work::Claimed(Box::new(job))),
                None => std::thread::sleep(Duration::from_millis(500)),
            }
        };
        run_work(next, Some(&catalog), o.jobs, out, &cancel);
    });
    0
}
