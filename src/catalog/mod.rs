//! The library database: what Vodkit made (sources, titles, renditions, packages, uploads,
//! cloud jobs), what it is about to make (the queue, every job a row before it starts, with its
//! history) and the folders it watches, in one SQLite file in the data folder.
//!
//! The `manifest.json` files in title folders stay the truth about outputs: [`titles`] reads
//! them into rows and [`titles::rescan`] rebuilds the rows from a folder; rows whose files
//! vanished are marked missing, never dropped silently. The catalog stores what the backends
//! report and knows nothing of egui or AWS.
//!
//! - [`schema`]: the versioned schema and its migrations, run when the file is opened.
//! - [`titles`]: sources, titles, renditions and packages from manifests; search.
//! - [`queue`]: jobs, their order and states, pause, and recovery after a crash.
//! - [`cloud_jobs`]: MediaConvert jobs and uploads as the cloud reports them.
//! - [`watch`]: watched folders and the files seen in them.

pub mod cloud_jobs;
pub mod queue;
pub mod schema;
pub mod titles;
pub mod watch;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

/// A catalog problem, naming the database file and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct CatalogError(pub String);

impl CatalogError {
    fn at(path: &Path, e: impl std::fmt::Display) -> Self {
        Self(format!("library database {}: {e}", path.display()))
    }
}

/// Results of catalog calls.
pub type Result<T> = std::result::Result<T, CatalogError>;

/// An open library database.
pub struct Catalog {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("path", &self.path).finish()
    }
}

/// Seconds since 1970, now.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Catalog {
    /// Opens (creating when absent) the database at `path`: write-ahead log, foreign keys, a
    /// 10 s wait for another process's write, and every migration the file has not had yet.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| CatalogError::at(path, format!("cannot create its folder: {e}")))?;
        }
        let conn = Connection::open(path).map_err(|e| CatalogError::at(path, e))?;
        let mut catalog = Self {
            conn,
            path: path.to_owned(),
        };
        catalog.prepare().map_err(|e| {
            CatalogError::at(
                path,
                format!(
                    "{e} (move the file aside to start an empty library; manifests are kept in \
                     title folders and `vodkit library rescan DIR` reads them back)"
                ),
            )
        })?;
        Ok(catalog)
    }

    /// The user's library (`library.sqlite` in the data folder).
    pub fn open_default() -> Result<Self> {
        let path = crate::dirs::catalog_file().ok_or_else(|| {
            CatalogError(
                "no data folder for the library database: set VODKIT_DATA_DIR to a folder"
                    .to_owned(),
            )
        })?;
        Self::open(&path)
    }

    /// A database in memory (tests, benchmarks).
    pub fn in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory().map_err(|e| CatalogError(e.to_string()))?;
        let mut catalog = Self {
            conn,
            path: PathBuf::from(":memory:"),
        };
        catalog.prepare().map_err(|e| CatalogError(e.to_string()))?;
        Ok(catalog)
    }

    fn prepare(&mut self) -> rusqlite::Result<()> {
        self.conn.busy_timeout(Duration::from_secs(10))?;
        self.conn
            .pragma_update(None, "journal_mode", "WAL")
            .or_else(|_| self.conn.pragma_update(None, "journal_mode", "DELETE"))?;
        // FULL: a commit survives a power cut (queue writes are few; NORMAL may lose the last).
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut self.conn)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file.
    pub fn version(&self) -> Result<u32> {
        schema::version(&self.conn).map_err(|e| self.err(e))
    }

    /// `PRAGMA integrity_check`: `ok`, or what is wrong.
    pub fn integrity_check(&self) -> Result<String> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))
    }

    fn err(&self, e: impl std::fmt::Display) -> CatalogError {
        CatalogError::at(&self.path, e)
    }

    /// A write transaction that takes the write lock at once (`BEGIN IMMEDIATE`), so two
    /// processes writing at the same moment wait for each other (the busy timeout) instead of
    /// one failing when it upgrades a read lock.
    fn write_tx(&self) -> Result<rusqlite::Transaction<'_>> {
        rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))
    }

    /// The connection, for the modules of this room.
    fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// `Some(text)` of a path (SQLite stores paths as text; not-UTF-8 paths are stored lossily).
fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_opening_a_new_library_at_once_all_succeed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("library.sqlite");
        let opened: Vec<Result<u32>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|_| s.spawn(|| Catalog::open(&path).and_then(|c| c.version())))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(CatalogError("panicked".into())))
                })
                .collect()
        });
        for r in opened {
            assert_eq!(r, Ok(schema::latest()));
        }
    }

    #[test]
    fn writers_in_several_processes_wait_for_each_other() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("library.sqlite");
        Catalog::open(&path).expect("create");
        let ids: Vec<Result<i64>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|i| {
                    let path = &path;
                    s.spawn(move || {
                        let c = Catalog::open(path)?;
                        let mut last = Ok(0);
                        for k in 0..25 {
                            last = c.enqueue(&queue::NewJob {
                                kind: queue::JobKind::Local,
                                source: PathBuf::from(format!("/v/{i}-{k}.mov")),
                                preset: "p".into(),
                                out_dir: PathBuf::from("/o"),
                                spec_json: "{}".into(),
                            });
                            last.clone()?;
                        }
                        last
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(CatalogError("panicked".into())))
                })
                .collect()
        });
        for r in ids {
            assert!(r.is_ok(), "{r:?}");
        }
        let c = Catalog::open(&path).expect("open");
        let jobs = c.jobs().expect("jobs");
        assert_eq!(jobs.len(), 100);
        let mut positions: Vec<i64> = jobs.iter().map(|j| j.position as i64).collect();
        positions.sort_unstable();
        positions.dedup();
        assert_eq!(positions.len(), 100, "every job its own place in the queue");
    }
}
