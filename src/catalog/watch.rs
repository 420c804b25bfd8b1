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

impl Catalog {
    /// Adds a watched folder (or returns the one with the same folder, preset and output).
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
                 ON CONFLICT (dir, preset, out_dir) DO UPDATE SET kind = ?4
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
            .prepare("SELECT id, dir, preset, out_dir, kind FROM watch_folders ORDER BY id")
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

    /// Stops watching a folder. Returns whether it was watched.
    pub fn remove_watch(&self, id: i64) -> Result<bool> {
        self.conn()
            .execute("DELETE FROM watch_folders WHERE id = ?1", [id])
            .map(|n| n > 0)
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

    /// The file already queued from this watch with the same content, if any.
    pub fn watch_content_seen(&self, watch: i64, sha256: &str) -> Result<Option<PathBuf>> {
        self.conn()
            .query_row(
                "SELECT path FROM watch_seen WHERE watch_id = ?1 AND content_sha256 = ?2 LIMIT 1",
                params![watch, sha256],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(|p| p.map(PathBuf::from))
            .map_err(|e| self.err(e))
    }

    /// Remembers a file the watch handled (queued as `job`, or skipped as a copy: `None`).
    pub fn watch_mark(
        &self,
        watch: i64,
        path: &Path,
        size_bytes: u64,
        mtime_secs: i64,
        sha256: &str,
        job: Option<i64>,
    ) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO watch_seen (watch_id, path, size_bytes, mtime_secs, content_sha256,
                    job_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (watch_id, path) DO UPDATE SET size_bytes = ?3, mtime_secs = ?4,
                    content_sha256 = ?5, job_id = ?6",
                params![
                    watch,
                    path_text(path),
                    i64::try_from(size_bytes).unwrap_or(i64::MAX),
                    mtime_secs,
                    sha256,
                    job
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(
            !c.watch_saw(w.id, Path::new("/in/a.mov"), 10, 5)
                .expect("saw")
        );
        c.watch_mark(w.id, Path::new("/in/a.mov"), 10, 5, "abc", None)
            .expect("mark");
        assert!(
            c.watch_saw(w.id, Path::new("/in/a.mov"), 10, 5)
                .expect("saw")
        );
        assert!(
            !c.watch_saw(w.id, Path::new("/in/a.mov"), 11, 5)
                .expect("grew")
        );
        assert_eq!(
            c.watch_content_seen(w.id, "abc").expect("seen"),
            Some(PathBuf::from("/in/a.mov"))
        );
        assert_eq!(c.watches().expect("list").len(), 1);
        assert!(c.remove_watch(w.id).expect("remove"));
        assert!(c.watches().expect("list").is_empty());
    }
}
