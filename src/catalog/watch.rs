//! Watched folders and the files seen in them: a file is queued once, and a file whose content
//! (SHA-256) was already queued from that folder is never redone, whatever its name.

use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::queue::JobKind;
use super::{Catalog, Result, now_secs, path_text};

/// A watched folder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchFolder {
    /// Row id.
    pub id: i64,
    /// The folder watched.
    pub dir: PathBuf,
    /// The preset new files get.
    pub preset: String,
    /// Where their outputs go.
    pub out_dir: PathBuf,
    /// Local or cloud.
    pub kind: JobKind,
}

/// What [`Catalog::watch_queue`] did with a settled file.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchQueued {
    /// Queued as this job.
    Queued(i64),
    /// The same content was queued before (its job not failed or cancelled), as this file.
    Copy(PathBuf),
    /// Another process (the app, another `vodkit watch`) handled this very file first.
    Taken,
    /// The watch was stopped (by the app, `vodkit watch --remove`): nothing is queued.
    Stopped,
}

impl Catalog {
    /// Queues a settled file of a watch, or recognises it as handled, in one transaction under
    /// the write lock: two watchers of one folder never queue the same file or content twice.
    /// Content whose job failed or was cancelled is queued again.
    pub fn watch_queue(
        &self,
        watch: i64,
        path: &Path,
        size_bytes: u64,
        mtime_secs: i64,
        sha256: &str,
        job: &super::queue::NewJob,
    ) -> Result<WatchQueued> {
        let tx = self.write_tx()?;
        // Stopped by another process while this one still watched: nothing more is queued.
        let active: bool = tx
            .query_row(
                "SELECT 1 FROM watch_folders WHERE id = ?1 AND stopped_secs IS NULL",
                [watch],
                |_| Ok(()),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .is_some();
        if !active {
            return Ok(WatchQueued::Stopped);
        }
        let size = i64::try_from(size_bytes).unwrap_or(i64::MAX);
        let taken: bool = tx
            .query_row(
                "SELECT 1 FROM watch_seen WHERE watch_id = ?1 AND path = ?2 AND size_bytes = ?3
                    AND mtime_secs = ?4",
                params![watch, path_text(path), size, mtime_secs],
                |_| Ok(()),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .is_some();
        if taken {
            return Ok(WatchQueued::Taken);
        }
        // A copy's row points at the job of the content's first file: when that job failed
        // or was cancelled, neither counts.
        let earlier: Option<(String, Option<i64>)> = tx
            .query_row(
                "SELECT s.path, s.job_id FROM watch_seen s LEFT JOIN jobs j ON j.id = s.job_id
                 WHERE s.watch_id = ?1 AND s.content_sha256 = ?2 AND s.path != ?3
                    AND (j.id IS NULL OR j.state NOT IN ('failed', 'cancelled'))
                 LIMIT 1",
                params![watch, sha256, path_text(path)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let (outcome, job_id) = match earlier {
            Some((of, job)) => (WatchQueued::Copy(PathBuf::from(of)), job),
            None => {
                let id = super::queue::insert_job(&tx, job).map_err(|e| self.err(e))?;
                (WatchQueued::Queued(id), Some(id))
            }
        };
        tx.execute(
            "INSERT INTO watch_seen (watch_id, path, size_bytes, mtime_secs, content_sha256, job_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (watch_id, path) DO UPDATE SET size_bytes = ?3, mtime_secs = ?4,
                content_sha256 = ?5, job_id = ?6",
            params![watch, path_text(path), size, mtime_secs, sha256, job_id],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(outcome)
    }

    /// Adds a watched folder (or returns the one with the same folder, preset and output,
    /// watching it again with what it saw before it was stopped).
    pub fn add_watch(
        &self,
        dir: &Path,
        preset: &str,
        out_dir: &Path,
        kind: JobKind,
    ) -> Result<WatchFolder> {
        let kind_text = match kind {
            JobKind::Local => "local",
            JobKind::Cloud => "cloud",
        };
        let id: i64 = self
            .conn()
            .query_row(
                "INSERT INTO watch_folders (dir, preset, out_dir, kind, added_secs)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (dir, preset, out_dir) DO UPDATE SET kind = ?4, stopped_secs = NULL
                 RETURNING id",
                params![
                    path_text(dir),
                    preset,
                    path_text(out_dir),
                    kind_text,
                    now_secs()
                ],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok(WatchFolder {
            id,
            dir: dir.to_owned(),
            preset: preset.to_owned(),
            out_dir: out_dir.to_owned(),
            kind,
        })
    }

    /// Every watched folder.
    pub fn watches(&self) -> Result<Vec<WatchFolder>> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT id, dir, preset, out_dir, kind FROM watch_folders
                 WHERE stopped_secs IS NULL ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map([], |r| {
            Ok(WatchFolder {
                id: r.get(0)?,
                dir: PathBuf::from(r.get::<_, String>(1)?),
                preset: r.get(2)?,
                out_dir: PathBuf::from(r.get::<_, String>(3)?),
                kind: if r.get::<_, String>(4)? == "cloud" {
                    JobKind::Cloud
                } else {
                    JobKind::Local
                },
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err(e))
    }

    /// Stops watching a folder. Returns whether it was watched. What it saw is kept: watching
    /// the same folder with the same preset and output again does not redo those files.
    pub fn remove_watch(&self, id: i64) -> Result<bool> {
        self.conn()
            .execute(
                "UPDATE watch_folders SET stopped_secs = ?2 WHERE id = ?1 AND stopped_secs IS NULL",
                params![id, now_secs()],
            )
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// Is the watch still on (not stopped, not unknown)?
    pub fn watch_is_active(&self, id: i64) -> Result<bool> {
        self.conn()
            .query_row(
                "SELECT 1 FROM watch_folders WHERE id = ?1 AND stopped_secs IS NULL",
                [id],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(|e| self.err(e))
    }

    /// Was this file (same size and modification time) already handled by the watch?
    pub fn watch_saw(
        &self,
        watch: i64,
        path: &Path,
        size_bytes: u64,
        mtime_secs: i64,
    ) -> Result<bool> {
        self.conn()
            .query_row(
                "SELECT 1 FROM watch_seen WHERE watch_id = ?1 AND path = ?2 AND size_bytes = ?3
                    AND mtime_secs = ?4",
                params![
                    watch,
                    path_text(path),
                    i64::try_from(size_bytes).unwrap_or(i64::MAX),
                    mtime_secs
                ],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_job(name: &str) -> super::super::queue::NewJob {
        super::super::queue::NewJob {
            kind: JobKind::Local,
            source: PathBuf::from(format!("/in/{name}")),
            preset: "phone-share".into(),
            out_dir: PathBuf::from("/out"),
            spec_json: "{}".into(),
        }
    }

    #[test]
    fn a_copy_is_known_by_its_content() {
        let c = Catalog::in_memory().expect("db");
        let w = c
            .add_watch(
                Path::new("/in"),
                "phone-share",
                Path::new("/out"),
                JobKind::Local,
            )
            .expect("watch");
        let again = c
            .add_watch(
                Path::new("/in"),
                "phone-share",
                Path::new("/out"),
                JobKind::Local,
            )
            .expect("same watch");
        assert_eq!(w.id, again.id);
        let a = Path::new("/in/a.mov");
        assert!(!c.watch_saw(w.id, a, 10, 5).expect("saw"));
        let first = c
            .watch_queue(w.id, a, 10, 5, "abc", &new_job("a.mov"))
            .expect("queue");
        let WatchQueued::Queued(job) = first else {
            panic!("{first:?}");
        };
        assert!(c.watch_saw(w.id, a, 10, 5).expect("saw"));
        assert!(!c.watch_saw(w.id, a, 11, 5).expect("grew"));
        // The same file seen by a second watcher: taken, not queued again.
        assert_eq!(
            c.watch_queue(w.id, a, 10, 5, "abc", &new_job("a.mov"))
                .expect("again"),
            WatchQueued::Taken
        );
        // Its content under another name: a copy.
        let b = Path::new("/in/b.mov");
        assert_eq!(
            c.watch_queue(w.id, b, 10, 6, "abc", &new_job("b.mov"))
                .expect("copy"),
            WatchQueued::Copy(a.to_owned())
        );
        assert_eq!(c.jobs().expect("jobs").len(), 1);
        // A content whose job was cancelled is queued again (a third name).
        assert!(c.cancel_queued(job).expect("cancel"));
        let d = Path::new("/in/d.mov");
        assert!(matches!(
            c.watch_queue(w.id, d, 10, 7, "abc", &new_job("d.mov"))
                .expect("again"),
            WatchQueued::Queued(_)
        ));
        assert_eq!(c.watches().expect("list").len(), 1);
        assert!(c.remove_watch(w.id).expect("remove"));
        assert!(c.watches().expect("list").is_empty());
        assert!(!c.remove_watch(w.id).expect("again"), "already stopped");
        // Watching it again remembers what it saw: nothing is redone.
        let again = c
            .add_watch(
                Path::new("/in"),
                "phone-share",
                Path::new("/out"),
                JobKind::Local,
            )
            .expect("watch again");
        assert_eq!(again.id, w.id);
        assert!(c.watch_saw(again.id, d, 10, 7).expect("seen"));
        assert_eq!(
            c.watch_queue(
                again.id,
                Path::new("/in/e.mov"),
                10,
                8,
                "abc",
                &new_job("e.mov")
            )
            .expect("copy"),
            WatchQueued::Copy(d.to_owned())
        );
        assert_eq!(c.watches().expect("list").len(), 1);
    }
}
