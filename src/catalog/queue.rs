//! The queue: every job is a row before it starts, so closing the app, a crash or a power cut
//! loses nothing. Rows keep their order (`position`), their state and a history of what
//! happened to them. A runner claims the next queued row (atomically: two runners never take
//! the same job); rows left `running` by a process that is gone are put back at the head of the
//! queue by [`Catalog::recover`], and the local resume record skips the rungs they finished.
//!
//! What a job does is the runner's business: the row keeps it as JSON (`spec_json`).

use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Catalog, Result, now_secs, path_text};

/// Where a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// The FFmpeg libraries on this machine.
    Local,
    /// S3 + MediaConvert.
    Cloud,
}

impl JobKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Cloud => "cloud",
        }
    }
    fn parse(s: &str) -> Self {
        if s == "cloud" {
            Self::Cloud
        } else {
            Self::Local
        }
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueState {
    /// Waiting its turn.
    Queued,
    /// A runner has it.
    Running,
    /// Finished with everything made.
    Done,
    /// Finished with an error.
    Failed,
    /// Stopped by the user.
    Cancelled,
}

impl QueueState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => Self::Queued,
        }
    }
    /// Done, failed or cancelled.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Cancelled)
    }
}

/// A job to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// Where it runs.
    pub kind: JobKind,
    /// The source file.
    pub source: PathBuf,
    /// The preset's name (for lists; the spec holds the preset itself).
    pub preset: String,
    /// The output folder (local) or download folder (cloud).
    pub out_dir: PathBuf,
    /// What the runner needs, as JSON.
    pub spec_json: String,
}

/// A job as the queue holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueuedJob {
    /// Row id.
    pub id: i64,
    /// Where it runs.
    pub kind: JobKind,
    /// The source file.
    pub source: PathBuf,
    /// The preset's name.
    pub preset: String,
    /// Output folder.
    pub out_dir: PathBuf,
    /// What the runner needs.
    #[serde(skip)]
    pub spec_json: String,
    /// Where it is.
    pub state: QueueState,
    /// Order among queued jobs (smaller first).
    pub position: f64,
    /// The process running it.
    pub owner_pid: Option<u32>,
    /// Added, seconds since 1970.
    pub created_secs: i64,
    /// Last started.
    pub started_secs: Option<i64>,
    /// Finished.
    pub finished_secs: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// The title folder it wrote, once known.
    pub title_dir: Option<PathBuf>,
}

/// One line of a job's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryLine {
    /// When, seconds since 1970.
    pub at_secs: i64,
    /// `queued`, `started`, `done`, `failed`, `cancelled`, `interrupted`, `requeued`, `moved`.
    pub event: String,
    /// Detail in words (the error, the process).
    pub detail: Option<String>,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Everything made; the title folder.
    Done(Option<PathBuf>),
    /// An error, in words; the title folder if one was claimed.
    Failed(String, Option<PathBuf>),
    /// Stopped by the user.
    Cancelled,
}

const COLUMNS: &str = "id, kind, source, preset, out_dir, spec_json, state, position, owner_pid,
    created_secs, started_secs, finished_secs, error, title_dir";

/// Inserts a queued job at the end of the queue.
pub(super) fn insert_job(tx: &rusqlite::Transaction<'_>, job: &NewJob) -> rusqlite::Result<i64> {
    let position: f64 =
        tx.query_row("SELECT COALESCE(MAX(position), 0) + 1 FROM jobs", [], |r| {
            r.get(0)
        })?;
    let id: i64 = tx.query_row(
        "INSERT INTO jobs (kind, source, preset, out_dir, spec_json, state, position,
            created_secs)
         VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7) RETURNING id",
        params![
            job.kind.as_str(),
            path_text(&job.source),
            job.preset,
            path_text(&job.out_dir),
            job.spec_json,
            position,
            now_secs()
        ],
        |r| r.get(0),
    )?;
    history(tx, id, "queued", None)?;
    Ok(id)
}

/// Marks a queued job running under `pid` (with its identity). False when it is not queued.
fn claim_in(tx: &rusqlite::Transaction<'_>, id: i64, pid: u32) -> rusqlite::Result<bool> {
    let n = tx.execute(
        "UPDATE jobs SET state = 'running', owner_pid = ?2, owner_start = ?3, started_secs = ?4,
            error = NULL
         WHERE id = ?1 AND state = 'queued'",
        params![id, pid, process_identity(pid), now_secs()],
    )?;
    if n > 0 {
        history(tx, id, "started", Some(&format!("process {pid}")))?;
    }
    Ok(n > 0)
}

fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueuedJob> {
    Ok(QueuedJob {
        id: r.get(0)?,
        kind: JobKind::parse(&r.get::<_, String>(1)?),
        source: PathBuf::from(r.get::<_, String>(2)?),
        preset: r.get(3)?,
        out_dir: PathBuf::from(r.get::<_, String>(4)?),
        spec_json: r.get(5)?,
        state: QueueState::parse(&r.get::<_, String>(6)?),
        position: r.get(7)?,
        owner_pid: r.get(8)?,
        created_secs: r.get(9)?,
        started_secs: r.get(10)?,
        finished_secs: r.get(11)?,
        error: r.get(12)?,
        title_dir: r.get::<_, Option<String>>(13)?.map(PathBuf::from),
    })
}

/// Who a process is: its pid with the boot it runs in and its start time (Linux:
/// `/proc/sys/kernel/random/boot_id` and field 22 of `/proc/<pid>/stat`), so a pid reused by
/// another process (after a reboot, or long after) is never taken for the job's owner. `None`
/// when the process does not exist; elsewhere than Linux, `"pid"` alone.
pub fn process_identity(pid: u32) -> Option<String> {
    if !cfg!(target_os = "linux") {
        return Some(format!("{pid}"));
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: fields after it start past the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    let start = after.split_whitespace().nth(19)?;
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    Some(format!("{pid}:{}:{start}", boot.trim()))
}

/// Is the process that claimed a job (pid and identity as recorded) still that process?
fn owner_alive(pid: Option<u32>, start: Option<&str>) -> bool {
    match (pid, start) {
        (Some(pid), Some(start)) => process_identity(pid).as_deref() == Some(start),
        // Rows claimed before identities were kept: the pid alone.
        (Some(pid), None) => process_identity(pid).is_some(),
        (None, _) => false,
    }
}

/// Is process `pid` alive?
pub fn process_alive(pid: u32) -> bool {
    process_identity(pid).is_some()
}

impl Catalog {
    /// Adds a job at the end of the queue. Returns its id.
    pub fn enqueue(&self, job: &NewJob) -> Result<i64> {
        let tx = self.write_tx()?;
        let id = insert_job(&tx, job).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(id)
    }

    /// Adds a job already claimed by process `pid` (it runs now, here: no other runner may
    /// take it in between).
    pub fn enqueue_claimed(&self, job: &NewJob, pid: u32) -> Result<QueuedJob> {
        let tx = self.write_tx()?;
        let id = insert_job(&tx, job).map_err(|e| self.err(e))?;
        claim_in(&tx, id, pid).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        self.job(id)?
            .ok_or_else(|| self.err(format!("job {id} vanished as it was added")))
    }

    /// Every job, queued and running first in queue order, then finished ones newest first.
    pub fn jobs(&self) -> Result<Vec<QueuedJob>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs ORDER BY
                CASE state WHEN 'running' THEN 0 WHEN 'queued' THEN 1 ELSE 2 END,
                CASE WHEN state IN ('running', 'queued') THEN position ELSE -finished_secs END,
                id"
        );
        let mut stmt = self.conn().prepare(&sql).map_err(|e| self.err(e))?;
        stmt.query_map([], job_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// One job.
    pub fn job(&self, id: i64) -> Result<Option<QueuedJob>> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1");
        self.conn()
            .query_row(&sql, [id], job_from_row)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Takes the first queued job (of `only`, when given) for process `pid`, unless the
    /// queue is paused. Two runners never take the same job.
    pub fn claim_next(&self, pid: u32, only: Option<&[i64]>) -> Result<Option<QueuedJob>> {
        if self.is_paused()? {
            return Ok(None);
        }
        let candidates: Vec<i64> = {
            let mut stmt = self
                .conn()
                .prepare("SELECT id FROM jobs WHERE state = 'queued' ORDER BY position, id")
                .map_err(|e| self.err(e))?;
            stmt.query_map([], |r| r.get(0))
                .and_then(|rows| rows.collect())
                .map_err(|e| self.err(e))?
        };
        for id in candidates
            .into_iter()
            .filter(|id| only.is_none_or(|o| o.contains(id)))
        {
            if let Some(job) = self.claim(id, pid)? {
                return Ok(Some(job));
            }
        }
        Ok(None)
    }

    /// Takes one queued job for process `pid` (paused or not: the caller chose it). `None`
    /// when it is not queued (another runner took it, or it was cancelled or removed).
    pub fn claim(&self, id: i64, pid: u32) -> Result<Option<QueuedJob>> {
        let tx = self.write_tx()?;
        let claimed = claim_in(&tx, id, pid).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        if claimed { self.job(id) } else { Ok(None) }
    }

    /// Records the title folder a running job writes (known before it finishes).
    pub fn set_title_dir(&self, id: i64, dir: &Path) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE jobs SET title_dir = ?2 WHERE id = ?1",
                params![id, path_text(dir)],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Ends a job process `pid` runs. Returns false (and changes nothing) when the row is not
    /// running under `pid` any more (recovered by another process after this one was taken for
    /// dead, or removed).
    pub fn finish(&self, id: i64, pid: u32, outcome: &Outcome) -> Result<bool> {
        let (state, error, dir) = match outcome {
            Outcome::Done(dir) => (QueueState::Done, None, dir.as_ref()),
            Outcome::Failed(e, dir) => (QueueState::Failed, Some(e.as_str()), dir.as_ref()),
            Outcome::Cancelled => (QueueState::Cancelled, None, None),
        };
        let tx = self.write_tx()?;
        let n = tx
            .execute(
                "UPDATE jobs SET state = ?2, finished_secs = ?3, error = ?4, owner_pid = NULL,
                    owner_start = NULL, title_dir = COALESCE(?5, title_dir)
                 WHERE id = ?1 AND state = 'running' AND owner_pid = ?6",
                params![
                    id,
                    state.as_str(),
                    now_secs(),
                    error,
                    dir.map(|d| path_text(d)),
                    pid
                ],
            )
            .map_err(|e| self.err(e))?;
        if n > 0 {
            history(&tx, id, state.as_str(), error).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// Cancels a job that has not started. Returns false when it is no longer queued (a
    /// runner took it: cancel it there).
    pub fn cancel_queued(&self, id: i64) -> Result<bool> {
        let tx = self.write_tx()?;
        let n = tx
            .execute(
                "UPDATE jobs SET state = 'cancelled', finished_secs = ?2
                 WHERE id = ?1 AND state = 'queued'",
                params![id, now_secs()],
            )
            .map_err(|e| self.err(e))?;
        if n > 0 {
            history(&tx, id, "cancelled", None).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// Puts jobs left running by a process that is gone (its pid is free, or now another
    /// process's) back at the head of the queue, in their order. Returns their ids. Read and
    /// written under the write lock, each row only if it is still as read: two processes
    /// starting together never requeue a job the other has just claimed.
    pub fn recover(&self) -> Result<Vec<i64>> {
        let tx = self.write_tx()?;
        let running: Vec<(i64, Option<u32>, Option<String>)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT id, owner_pid, owner_start FROM jobs WHERE state = 'running'
                     ORDER BY position",
                )
                .map_err(|e| self.err(e))?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .and_then(|rows| rows.collect())
                .map_err(|e| self.err(e))?
        };
        let orphans: Vec<(i64, Option<u32>, Option<String>)> = running
            .into_iter()
            .filter(|(_, pid, start)| !owner_alive(*pid, start.as_deref()))
            .collect();
        let first: f64 = tx
            .query_row("SELECT COALESCE(MIN(position), 1) FROM jobs", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))?;
        let n = orphans.len() as f64;
        for (i, (id, owner, start)) in orphans.iter().enumerate() {
            tx.execute(
                "UPDATE jobs SET state = 'queued', owner_pid = NULL, owner_start = NULL,
                    position = ?2
                 WHERE id = ?1 AND state = 'running' AND owner_pid IS ?3 AND owner_start IS ?4",
                params![id, first - n + i as f64 - 1.0, owner, start],
            )
            .map_err(|e| self.err(e))?;
            let detail = owner.map(|o| format!("process {o} ended while it ran"));
            history(&tx, *id, "interrupted", detail.as_deref()).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(orphans.into_iter().map(|(id, _, _)| id).collect())
    }

    /// Puts a finished job back in the queue (at its end).
    pub fn requeue(&self, id: i64) -> Result<bool> {
        let tx = self.write_tx()?;
        let n = tx
            .execute(
                "UPDATE jobs SET state = 'queued', error = NULL, finished_secs = NULL,
                    position = (SELECT COALESCE(MAX(position), 0) + 1 FROM jobs)
                 WHERE id = ?1 AND state IN ('done', 'failed', 'cancelled')",
                [id],
            )
            .map_err(|e| self.err(e))?;
        if n > 0 {
            history(&tx, id, "requeued", None).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// Moves a queued job `by` places (negative: earlier). Returns whether it moved.
    pub fn move_job(&self, id: i64, by: i64) -> Result<bool> {
        let queued: Vec<(i64, f64)> = {
            let mut stmt = self
                .conn()
                .prepare(
                    "SELECT id, position FROM jobs WHERE state = 'queued' ORDER BY position, id",
                )
                .map_err(|e| self.err(e))?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect())
                .map_err(|e| self.err(e))?
        };
        let Some(at) = queued.iter().position(|(j, _)| *j == id) else {
            return Ok(false);
        };
        let to = (at as i64 + by).clamp(0, queued.len() as i64 - 1) as usize;
        if to == at {
            return Ok(false);
        }
        let mut order: Vec<i64> = queued.iter().map(|(j, _)| *j).collect();
        let moved = order.remove(at);
        order.insert(to, moved);
        let tx = self.write_tx()?;
        // The queued rows take the positions they held, in the new order.
        for (j, (_, pos)) in order.iter().zip(&queued) {
            tx.execute(
                "UPDATE jobs SET position = ?2 WHERE id = ?1",
                params![j, pos],
            )
            .map_err(|e| self.err(e))?;
        }
        history(&tx, id, "moved", Some(&format!("to place {}", to + 1)))
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(true)
    }

    /// Removes one job that is not running. Returns whether it was removed.
    pub fn remove_job(&self, id: i64) -> Result<bool> {
        self.conn()
            .execute(
                "DELETE FROM jobs WHERE id = ?1 AND state != 'running'",
                [id],
            )
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// Removes queued jobs (`queued`) and/or finished ones (`finished`); running jobs stay.
    /// Returns how many were removed.
    pub fn clear_jobs(&self, queued: bool, finished: bool) -> Result<usize> {
        let mut n = 0;
        if queued {
            n += self
                .conn()
                .execute("DELETE FROM jobs WHERE state = 'queued'", [])
                .map_err(|e| self.err(e))?;
        }
        if finished {
            n += self
                .conn()
                .execute(
                    "DELETE FROM jobs WHERE state IN ('done', 'failed', 'cancelled')",
                    [],
                )
                .map_err(|e| self.err(e))?;
        }
        Ok(n)
    }

    /// Pauses (no job starts) or resumes the queue; running jobs go on.
    pub fn set_paused(&self, paused: bool) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO meta (key, value) VALUES ('queue_paused', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = ?1",
                [if paused { "1" } else { "0" }],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Is the queue paused?
    pub fn is_paused(&self) -> Result<bool> {
        self.conn()
            .query_row(
                "SELECT value FROM meta WHERE key = 'queue_paused'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(|v| v.as_deref() == Some("1"))
            .map_err(|e| self.err(e))
    }

    /// A job's history, oldest first.
    pub fn history(&self, id: i64) -> Result<Vec<HistoryLine>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT at_secs, event, detail FROM job_history WHERE job_id = ?1 ORDER BY id")
            .map_err(|e| self.err(e))?;
        stmt.query_map([id], |r| {
            Ok(HistoryLine {
                at_secs: r.get(0)?,
                event: r.get(1)?,
                detail: r.get(2)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err(e))
    }
}

fn history(
    conn: &rusqlite::Connection,
    id: i64,
    event: &str,
    detail: Option<&str>,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO job_history (job_id, at_secs, event, detail) VALUES (?1, ?2, ?3, ?4)",
        params![id, now_secs(), event, detail],
    )
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str) -> NewJob {
        NewJob {
            kind: JobKind::Local,
            source: PathBuf::from(format!("/videos/{name}")),
            preset: "web-ladder".to_owned(),
            out_dir: PathBuf::from("/out"),
            spec_json: "{}".to_owned(),
        }
    }

    fn order(c: &Catalog) -> Vec<i64> {
        c.jobs()
            .expect("jobs")
            .iter()
            .filter(|j| j.state == QueueState::Queued)
            .map(|j| j.id)
            .collect()
    }

    #[test]
    fn jobs_are_claimed_in_order_once_and_moved() {
        let c = Catalog::in_memory().expect("db");
        let a = c.enqueue(&job("a.mov")).expect("a");
        let b = c.enqueue(&job("b.mov")).expect("b");
        let d = c.enqueue(&job("d.mov")).expect("d");
        assert_eq!(order(&c), [a, b, d]);
        assert!(c.move_job(d, -2).expect("move"));
        assert_eq!(order(&c), [d, a, b]);
        assert!(!c.move_job(d, -1).expect("at the head"));
        let first = c.claim_next(7, None).expect("claim").expect("a job");
        assert_eq!((first.id, first.state), (d, QueueState::Running));
        let only_b = c.claim_next(7, Some(&[b])).expect("claim").expect("b");
        assert_eq!(only_b.id, b);
        assert_eq!(order(&c), [a]);
        assert!(
            !c.finish(d, 8, &Outcome::Done(None)).expect("finish"),
            "only the owner ends a job"
        );
        assert!(
            c.finish(d, 7, &Outcome::Done(Some(PathBuf::from("/out/d"))))
                .expect("finish")
        );
        let done = c.job(d).expect("job").expect("row");
        assert_eq!(done.state, QueueState::Done);
        assert_eq!(done.title_dir, Some(PathBuf::from("/out/d")));
        let events: Vec<String> = c
            .history(d)
            .expect("history")
            .into_iter()
            .map(|h| h.event)
            .collect();
        assert_eq!(events, ["queued", "moved", "started", "done"]);
    }

    #[test]
    fn a_paused_queue_starts_nothing() {
        let c = Catalog::in_memory().expect("db");
        c.enqueue(&job("a.mov")).expect("a");
        c.set_paused(true).expect("pause");
        assert!(c.claim_next(1, None).expect("claim").is_none());
        c.set_paused(false).expect("resume");
        assert!(c.claim_next(1, None).expect("claim").is_some());
    }

    #[test]
    fn jobs_of_a_dead_process_go_back_to_the_head_of_the_queue() {
        let c = Catalog::in_memory().expect("db");
        let a = c.enqueue(&job("a.mov")).expect("a");
        let b = c.enqueue(&job("b.mov")).expect("b");
        let d = c.enqueue(&job("d.mov")).expect("d");
        let me = std::process::id();
        c.claim(a, me).expect("claim a");
        // A pid that is free now: its process ended.
        let mut child = std::process::Command::new("true").spawn().expect("true");
        let dead = child.id();
        child.wait().expect("wait");
        c.claim(b, dead).expect("claim b");
        // An earlier life of this very pid (another start time): a process that is gone.
        c.claim(d, me).expect("claim d");
        c.conn()
            .execute(
                "UPDATE jobs SET owner_start = 'another boot' WHERE id = ?1",
                [d],
            )
            .expect("age d");
        let recovered = c.recover().expect("recover");
        assert_eq!(recovered, [b, d], "a live owner keeps its job");
        assert_eq!(order(&c), [b, d]);
        assert_eq!(
            c.job(a).expect("a").expect("row").state,
            QueueState::Running
        );
        let events: Vec<String> = c
            .history(b)
            .expect("history")
            .into_iter()
            .map(|h| h.event)
            .collect();
        assert_eq!(events, ["queued", "started", "interrupted"]);
        // The dead owner's late finish changes nothing; a runner that claims it again owns it.
        assert!(!c.finish(b, dead, &Outcome::Done(None)).expect("finish"));
        assert!(c.recover().expect("again").is_empty());
        assert!(
            !c.cancel_queued(a).expect("a runs"),
            "a running job is not cancelled as queued"
        );
        assert!(c.cancel_queued(b).expect("b waits"));
    }

    #[test]
    fn a_process_is_known_by_its_start_time() {
        let me = process_identity(std::process::id()).expect("this process");
        assert!(me.starts_with(&format!("{}:", std::process::id())));
        assert_eq!(
            process_identity(std::process::id()).as_deref(),
            Some(me.as_str())
        );
        assert_eq!(process_identity(u32::MAX - 7), None);
    }

    #[test]
    fn clear_keeps_running_jobs_and_requeue_puts_a_job_back() {
        let c = Catalog::in_memory().expect("db");
        let a = c.enqueue(&job("a.mov")).expect("a");
        let b = c.enqueue(&job("b.mov")).expect("b");
        let d = c.enqueue(&job("d.mov")).expect("d");
        c.claim_next(1, None).expect("claim a");
        c.claim_next(1, None).expect("claim b");
        c.finish(b, 1, &Outcome::Failed("no audio".to_owned(), None))
            .expect("finish");
        assert!(c.requeue(b).expect("requeue"));
        assert_eq!(order(&c), [d, b]);
        assert_eq!(c.clear_jobs(true, true).expect("clear"), 2);
        let left: Vec<i64> = c.jobs().expect("jobs").iter().map(|j| j.id).collect();
        assert_eq!(left, [a]);
    }
}
