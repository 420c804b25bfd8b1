//! Watch folders: a video that appears in a watched folder is queued with the folder's preset
//! once it has stopped growing (same size and modification time for `settle`), and only once:
//! the catalog remembers every file a watch handled, and a file whose content (SHA-256) the
//! watch already queued under another name is skipped as a copy.
//!
//! The file system's notifications (`notify`) wake the scan at once; a scan every few seconds
//! catches what notifications miss (network shares, some container mounts).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::catalog::watch::{WatchFolder, WatchQueued};
use crate::catalog::{Catalog, queue::JobKind};
use crate::job::CancelToken;
use crate::preset::store::Store;
use crate::runner::JobSpec;

/// What a watch did with a file.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    /// Queued as this job.
    Queued {
        /// The file.
        path: PathBuf,
        /// Its queue row.
        job: i64,
    },
    /// Not queued: the same content was queued already.
    Copy {
        /// The file.
        path: PathBuf,
        /// The file with that content the watch queued first.
        of: PathBuf,
    },
    /// The watch was stopped elsewhere (the app, `vodkit watch --remove`): this process no
    /// longer watches the folder.
    Stopped {
        /// The folder.
        dir: PathBuf,
    },
    /// Could not be queued (in words).
    Failed {
        /// The file.
        path: PathBuf,
        /// Why.
        error: String,
    },
}

/// A file seen growing or waiting to settle.
#[derive(Debug, Clone, Copy)]
struct Pending {
    size: u64,
    mtime: i64,
    since: Instant,
}

/// One watched folder and the files waiting in it.
#[derive(Debug)]
pub struct FolderWatch {
    /// The folder as stored.
    pub folder: WatchFolder,
    pending: HashMap<PathBuf, Pending>,
    /// Files that could not be queued, as they were then (size, time).
    failed: HashMap<PathBuf, (u64, i64)>,
}

impl FolderWatch {
    /// A watch with nothing pending.
    pub fn new(folder: WatchFolder) -> Self {
        Self {
            folder,
            pending: HashMap::new(),
            failed: HashMap::new(),
        }
    }

    /// Files still waiting to settle.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

fn stat(path: &Path) -> Option<(u64, i64)> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some((meta.len(), i64::try_from(mtime).unwrap_or(0)))
}

/// Videos directly in the folder (not hidden: `.name` files are partial copies of many tools).
fn videos_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && crate::probe::files::is_video(p)
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    out.sort();
    out
}

/// One pass over a watched folder: files that settled are queued (or skipped as copies).
pub fn scan(catalog: &Catalog, watch: &mut FolderWatch, settle: Duration) -> Vec<WatchEvent> {
    let now = Instant::now();
    let id = watch.folder.id;
    if catalog.watch_is_active(id).ok() == Some(false) {
        return vec![WatchEvent::Stopped {
            dir: watch.folder.dir.clone(),
        }];
    }
    let mut events = Vec::new();
    let present = videos_in(&watch.folder.dir);
    watch.pending.retain(|p, _| present.contains(p));
    for path in present {
        let Some((size, mtime)) = stat(&path) else {
            continue;
        };
        if watch.failed.get(&path) == Some(&(size, mtime))
            || catalog.watch_saw(id, &path, size, mtime).unwrap_or(false)
        {
            watch.pending.remove(&path);
            continue;
        }
        // A file counts as settled when two scans at least `settle` apart saw the same size
        // and time (a first sight never queues: a copy may have just begun).
        let Some(entry) = watch.pending.get_mut(&path) else {
            watch.pending.insert(
                path,
                Pending {
                    size,
                    mtime,
                    since: now,
                },
            );
            continue;
        };
        if entry.size != size || entry.mtime != mtime || size == 0 {
            *entry = Pending {
                size,
                mtime,
                since: now,
            };
            continue;
        }
        if now.duration_since(entry.since) < settle {
            continue;
        }
        watch.pending.remove(&path);
        let event = queue_file(catalog, &watch.folder, &path, size, mtime);
        if matches!(event, Some(WatchEvent::Failed { .. })) {
            // Not looked at again until it changes (no re-hashing a big file every second).
            watch.failed.insert(path.clone(), (size, mtime));
        }
        events.extend(event);
    }
    events
}

fn queue_file(
    catalog: &Catalog,
    folder: &WatchFolder,
    path: &Path,
    size: u64,
    mtime: i64,
) -> Option<WatchEvent> {
    let failed = |error: String| {
        Some(WatchEvent::Failed {
            path: path.to_owned(),
            error: format!("{}: {error}", path.display()),
        })
    };
    // What does not depend on the file first: a wrong watch fails before any hashing.
    if folder.kind == JobKind::Cloud {
        return failed("watch folders queue local jobs; this one asks for the cloud".to_owned());
    }
    let preset = match Store::open().find(&folder.preset) {
        Ok(e) => e.preset,
        Err(e) => return failed(format!("the watch's preset: {e}")),
    };
    // The content's checksum: a copy of a file already queued is not queued again.
    let options = crate::cloud::upload::UploadOptions {
        records_dir: None,
        ..Default::default()
    };
    let sha = match crate::cloud::upload::source_sha256(&options, path) {
        Ok(s) => s,
        Err(e) => return failed(format!("cannot be read ({e})")),
    };
    // A file that changed while it was read is still being written: it is looked at again.
    if stat(path) != Some((size, mtime)) {
        return None;
    }
    let spec = JobSpec::local(path, &preset, &folder.out_dir);
    match catalog.watch_queue(folder.id, path, size, mtime, &sha, &spec.new_job()) {
        Ok(WatchQueued::Queued(job)) => {
            let _ = catalog.record_source_hash(path, &sha);
            Some(WatchEvent::Queued {
                path: path.to_owned(),
                job,
            })
        }
        Ok(WatchQueued::Copy(of)) => Some(WatchEvent::Copy {
            path: path.to_owned(),
            of,
        }),
        Ok(WatchQueued::Taken) => None,
        Ok(WatchQueued::Stopped) => Some(WatchEvent::Stopped {
            dir: folder.dir.clone(),
        }),
        Err(e) => failed(e.to_string()),
    }
}

/// Watches `folders` until `cancel`: notifications wake a scan at once, a scan runs every
/// `rescan` anyway (and every second while a file settles). Every event goes to `report`.
pub fn watch(
    catalog: &Catalog,
    folders: Vec<WatchFolder>,
    settle: Duration,
    rescan: Duration,
    cancel: &CancelToken,
    mut report: impl FnMut(&WatchEvent),
) {
    use notify::Watcher as _;
    let (tx, rx) = mpsc::channel::<()>();
    let notifier = notify::recommended_watcher(move |_: notify::Result<notify::Event>| {
        let _ = tx.send(());
    });
    let mut notifier = notifier.ok();
    for f in &folders {
        if let Some(n) = notifier.as_mut()
            && let Err(e) = n.watch(&f.dir, notify::RecursiveMode::NonRecursive)
        {
            eprintln!(
                "vodkit: {}: no change notifications ({e}); scanning every {} s",
                f.dir.display(),
                rescan.as_secs()
            );
        }
    }
    let mut watches: Vec<FolderWatch> = folders.into_iter().map(FolderWatch::new).collect();
    while !cancel.is_cancelled() {
        let mut stopped = Vec::new();
        for w in &mut watches {
            for event in scan(catalog, w, settle) {
                if matches!(event, WatchEvent::Stopped { .. }) {
                    stopped.push(w.folder.id);
                }
                report(&event);
            }
        }
        watches.retain(|w| !stopped.contains(&w.folder.id));
        let waiting = watches.iter().any(|w| w.pending() > 0);
        let wait = if waiting {
            Duration::from_secs(1).min(rescan)
        } else {
            rescan
        };
        let deadline = Instant::now() + wait;
        while !cancel.is_cancelled() && Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_millis(250)) {
                Ok(()) => {
                    // Let a burst of notifications pass, then scan.
                    std::thread::sleep(Duration::from_millis(200));
                    while rx.try_recv().is_ok() {}
                    break;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(Duration::from_millis(250));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_growing_file_waits_and_a_copy_is_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = Catalog::in_memory().expect("db");
        let folder = c
            .add_watch(
                dir.path(),
                "phone-share",
                &dir.path().join("out"),
                JobKind::Local,
            )
            .expect("watch");
        let mut w = FolderWatch::new(folder);
        let a = dir.path().join("a.mp4");
        std::fs::write(&a, b"part").expect("write");
        std::fs::write(dir.path().join(".b.mp4"), b"hidden partial").expect("write");
        std::fs::write(dir.path().join("notes.txt"), b"not a video").expect("write");
        assert!(scan(&c, &mut w, Duration::ZERO).is_empty(), "first sight");
        assert_eq!(w.pending(), 1);
        std::fs::write(&a, b"part and more").expect("grow");
        assert!(scan(&c, &mut w, Duration::ZERO).is_empty(), "it grew");
        let events = scan(&c, &mut w, Duration::ZERO);
        assert!(
            matches!(&events[..], [WatchEvent::Queued { path, .. }] if *path == a),
            "{events:?}"
        );
        assert!(scan(&c, &mut w, Duration::ZERO).is_empty(), "queued once");
        let copy = dir.path().join("copy of a.mp4");
        std::fs::copy(&a, &copy).expect("copy");
        scan(&c, &mut w, Duration::ZERO);
        let events = scan(&c, &mut w, Duration::ZERO);
        assert!(
            matches!(&events[..], [WatchEvent::Copy { path, of }] if *path == copy && *of == a),
            "{events:?}"
        );
        assert_eq!(c.jobs().expect("jobs").len(), 1);
        // Stopped by another process (its own connection): this watch queues nothing more.
        let other = dir.path().join("b.mp4");
        std::fs::write(&other, b"another clip").expect("write");
        scan(&c, &mut w, Duration::ZERO);
        assert!(c.remove_watch(w.folder.id).expect("stop"));
        let events = scan(&c, &mut w, Duration::ZERO);
        assert!(
            matches!(&events[..], [WatchEvent::Stopped { dir: d }] if d == dir.path()),
            "{events:?}"
        );
        assert_eq!(
            c.jobs().expect("jobs").len(),
            1,
            "nothing queued once stopped"
        );
        // The race: stopped between the scan and the queueing, the transaction refuses.
        let spec = JobSpec::local(&other, &crate::preset::store::builtins()[0], dir.path());
        assert_eq!(
            c.watch_queue(w.folder.id, &other, 12, 1, "ff", &spec.new_job())
                .expect("queue"),
            WatchQueued::Stopped
        );
    }
}
