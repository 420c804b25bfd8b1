//! The versioned schema. Each migration takes the file from version N-1 to N inside one
//! transaction and bumps `PRAGMA user_version`; opening a file runs the ones it lacks, so a
//! library made by any earlier Vodkit opens in this one. A file from a newer Vodkit is refused
//! (its schema may mean things this build does not know).
//!
//! Never edit a released migration: add one. `tests/catalog.rs` migrates the committed dumps of
//! every earlier version (`tests/fixtures/catalog-v*.sql`).

use rusqlite::Connection;

/// Migrations in order; index + 1 is the version they make.
pub const MIGRATIONS: &[&str] = &[
    // 1: the catalog and the queue.
    r"
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        size_bytes INTEGER NOT NULL,
        mtime_secs INTEGER NOT NULL,
        content_sha256 TEXT,
        probe_json TEXT,
        missing INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX sources_by_hash ON sources(content_sha256);
    CREATE TABLE titles (
        id INTEGER PRIMARY KEY,
        dir TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        source_name TEXT NOT NULL,
        source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,
        preset TEXT NOT NULL,
        plan_json TEXT,
        stills_json TEXT NOT NULL DEFAULT '[]',
        made_secs INTEGER NOT NULL,
        encode_wall_secs REAL,
        missing INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE renditions (
        id INTEGER PRIMARY KEY,
        title_id INTEGER NOT NULL REFERENCES titles(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        file TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        bitrate_bps INTEGER,
        width INTEGER,
        height INTEGER,
        video_codec TEXT,
        audio_codec TEXT,
        vmaf_mean REAL,
        quality_json TEXT,
        missing INTEGER NOT NULL DEFAULT 0,
        UNIQUE (title_id, file)
    );
    CREATE TABLE packages (
        id INTEGER PRIMARY KEY,
        title_id INTEGER NOT NULL REFERENCES titles(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        missing INTEGER NOT NULL DEFAULT 0,
        UNIQUE (title_id, path)
    );
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('local', 'cloud')),
        source TEXT NOT NULL,
        preset TEXT NOT NULL,
        out_dir TEXT NOT NULL,
        spec_json TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        position REAL NOT NULL,
        owner_pid INTEGER,
        created_secs INTEGER NOT NULL,
        started_secs INTEGER,
        finished_secs INTEGER,
        error TEXT,
        title_dir TEXT
    );
    CREATE INDEX jobs_by_state ON jobs(state, position);
    CREATE TABLE job_history (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        at_secs INTEGER NOT NULL,
        event TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX job_history_by_job ON job_history(job_id);
    CREATE TABLE uploads (
        id INTEGER PRIMARY KEY,
        source_path TEXT NOT NULL,
        bucket TEXT NOT NULL,
        key TEXT NOT NULL,
        etag TEXT,
        size_bytes INTEGER,
        uploaded_secs INTEGER NOT NULL,
        UNIQUE (bucket, key)
    );
    CREATE TABLE cloud_jobs (
        id INTEGER PRIMARY KEY,
        service_id TEXT NOT NULL UNIQUE,
        region TEXT,
        job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
        status TEXT NOT NULL,
        percent INTEGER NOT NULL DEFAULT 0,
        output_url TEXT,
        outputs_json TEXT NOT NULL DEFAULT '[]',
        updated_secs INTEGER NOT NULL
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    ",
    // 2: watch folders, and a text index over titles for search.
    r"
    CREATE TABLE watch_folders (
        id INTEGER PRIMARY KEY,
        dir TEXT NOT NULL,
        preset TEXT NOT NULL,
        out_dir TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'local' CHECK (kind IN ('local', 'cloud')),
        added_secs INTEGER NOT NULL,
        UNIQUE (dir, preset, out_dir)
    );
    CREATE TABLE watch_seen (
        watch_id INTEGER NOT NULL REFERENCES watch_folders(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        mtime_secs INTEGER NOT NULL,
        content_sha256 TEXT NOT NULL,
        job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
        PRIMARY KEY (watch_id, path)
    );
    CREATE INDEX watch_seen_by_hash ON watch_seen(watch_id, content_sha256);
    CREATE INDEX titles_by_title ON titles(title COLLATE NOCASE);
    CREATE INDEX renditions_by_title ON renditions(title_id);
    ",
    // 3: a running job's owner is known by its start time too (a pid alone is reused, after a
    // reboot soon).
    r"
    ALTER TABLE jobs ADD COLUMN owner_start TEXT;
    ",
    // 4: stopping a watch keeps what it saw, so watching the folder again redoes nothing.
    r"
    ALTER TABLE watch_folders ADD COLUMN stopped_secs INTEGER;
    ",
];

/// The schema version this build writes.
pub fn latest() -> u32 {
    u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
}

/// The file's schema version (`PRAGMA user_version`; 0 for an empty file).
pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Runs the migrations the file lacks; refuses a file from a newer Vodkit.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    migrate_to(conn, latest())
}

/// Runs migrations up to version `to` (tests make every earlier version this way).
pub fn migrate_to(conn: &mut Connection, to: u32) -> rusqlite::Result<()> {
    let at = version(conn)?;
    if at > latest() {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "made by a newer Vodkit (schema version {at}, this build knows up to {}); update \
             Vodkit",
            latest()
        )));
    }
    if at >= to.min(latest()) {
        return Ok(());
    }
    // Each step takes the write lock first and reads the version under it: two processes
    // opening a new library at once (the app and `vodkit encode`) never run a step twice.
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let at = version(&tx)?;
        if at >= to.min(latest()) {
            tx.commit()?;
            break;
        }
        tx.execute_batch(MIGRATIONS[at as usize])?;
        tx.pragma_update(None, "user_version", at + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_runs_from_every_version() {
        for start in 0..=latest() {
            let mut conn = Connection::open_in_memory().expect("memory db");
            migrate_to(&mut conn, start).expect("to start");
            assert_eq!(version(&conn).expect("version"), start);
            migrate(&mut conn).expect("to latest");
            assert_eq!(version(&conn).expect("version"), latest());
            // Idempotent: a second open changes nothing.
            migrate(&mut conn).expect("again");
        }
    }

    #[test]
    fn a_newer_file_is_refused() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        conn.pragma_update(None, "user_version", latest() + 1)
            .expect("set");
        let e = migrate(&mut conn).expect_err("refused");
        assert!(e.to_string().contains("newer Vodkit"), "{e}");
    }
}
