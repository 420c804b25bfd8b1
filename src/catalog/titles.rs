//! Titles as the catalog knows them: read from a title folder's `manifest.json` (with its
//! source, renditions and packages), listed, searched, forgotten, and rebuilt by a rescan.
//! A title or file that vanished from disk is marked missing, not dropped.

use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Catalog, Result, path_text};
use crate::local::Manifest;

/// The packaged files a title folder may hold, and their kinds.
const PACKAGE_FILES: [(&str, &str); 3] = [
    ("index.m3u8", "hls"),
    ("index.mpd", "dash"),
    ("index.smil", "smil"),
];

/// One output file of a title.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rendition {
    /// Rung name (`720p`).
    pub name: String,
    /// File inside the title folder.
    pub file: String,
    /// Size, bytes.
    pub size_bytes: u64,
    /// Overall bitrate, bits per second.
    pub bitrate_bps: Option<u64>,
    /// Picture width, pixels.
    pub width: Option<u32>,
    /// Picture height, pixels.
    pub height: Option<u32>,
    /// Video codec and profile.
    pub video_codec: Option<String>,
    /// Audio codec.
    pub audio_codec: Option<String>,
    /// Mean VMAF, when measured.
    pub vmaf_mean: Option<f64>,
    /// The file is gone from disk.
    pub missing: bool,
}

/// A packaged manifest of a title.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Package {
    /// `hls`, `dash` or `smil`.
    pub kind: String,
    /// The file, absolute.
    pub path: PathBuf,
    /// The file is gone from disk.
    pub missing: bool,
}

/// A title as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TitleRecord {
    /// Row id (stable: `vodkit library show 12`).
    pub id: i64,
    /// The title folder, absolute.
    pub dir: PathBuf,
    /// Title name (the folder's name).
    pub title: String,
    /// The source's file name.
    pub source_name: String,
    /// The source's full path, when known (a rescan only knows the name).
    pub source_path: Option<PathBuf>,
    /// The preset's name.
    pub preset: String,
    /// When the manifest was written, seconds since 1970.
    pub made_secs: i64,
    /// Wall time of the encode, seconds.
    pub encode_wall_secs: Option<f64>,
    /// Still images, absolute.
    pub stills: Vec<PathBuf>,
    /// The title folder or its manifest is gone.
    pub missing: bool,
    /// Output files.
    pub renditions: Vec<Rendition>,
    /// HLS/DASH/SMIL files.
    pub packages: Vec<Package>,
}

impl TitleRecord {
    /// Bytes of every rendition present.
    pub fn total_bytes(&self) -> u64 {
        self.renditions
            .iter()
            .filter(|r| !r.missing)
            .map(|r| r.size_bytes)
            .sum()
    }
}

/// Which titles to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TitleFilter {
    /// Words that must all appear in the title, source name, preset or folder (any case).
    pub text: String,
    /// Only this preset.
    pub preset: Option<String>,
    /// Only present (`Some(false)`) or only missing (`Some(true)`) titles.
    pub missing: Option<bool>,
    /// Only titles made at or after this time (seconds since 1970).
    pub since_secs: Option<i64>,
    /// At most this many, newest first (0: all).
    pub limit: usize,
}

/// What a rescan found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rescan {
    /// Title folders read (new or updated).
    pub recorded: Vec<PathBuf>,
    /// Folders whose manifest could not be read, with the reason.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Titles under the folder that are no longer on disk (marked missing).
    pub missing: Vec<PathBuf>,
}

fn mtime_secs(path: &Path) -> i64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

impl Catalog {
    /// Records the title in `dir` from its `manifest.json`; `source` is the source file when
    /// known (an encode knows it; a rescan only has its name). Returns the title's row id.
    pub fn record_title(&self, dir: &Path, source: Option<&Path>) -> Result<i64> {
        let dir = absolute(dir);
        let manifest_path = dir.join("manifest.json");
        let bytes = std::fs::read(&manifest_path)
            .map_err(|e| self.err(format!("{}: {e}", manifest_path.display())))?;
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
            self.err(format!(
                "{}: not a Vodkit manifest ({e})",
                manifest_path.display()
            ))
        })?;
        self.record_manifest(&dir, &manifest, source, mtime_secs(&manifest_path))
    }

    /// Records a title from its manifest (see [`Catalog::record_title`]).
    pub fn record_manifest(
        &self,
        dir: &Path,
        manifest: &Manifest,
        source: Option<&Path>,
        made_secs: i64,
    ) -> Result<i64> {
        let dir = absolute(dir);
        let tx = self.write_tx()?;
        let source_id: Option<i64> = match source {
            Some(path) => Some(self.upsert_source(&tx, path, &manifest.source)?),
            None => None,
        };
        let stills: Vec<PathBuf> = manifest.stills.iter().map(|s| dir.join(s)).collect();
        let stills_json = serde_json::to_string(&stills).unwrap_or_else(|_| "[]".to_owned());
        let plan_json = serde_json::to_string(&manifest.plan).ok();
        let source_name = manifest.source.path.file_name().map_or_else(
            || manifest.source.title.clone(),
            |n| n.to_string_lossy().into_owned(),
        );
        let id: i64 = tx
            .query_row(
                "INSERT INTO titles (dir, title, source_name, source_id, preset, plan_json,
                    stills_json, made_secs, encode_wall_secs, missing)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0)
                 ON CONFLICT (dir) DO UPDATE SET title = ?2, source_name = ?3,
                    source_id = COALESCE(?4, source_id), preset = ?5, plan_json = ?6,
                    stills_json = ?7, made_secs = ?8, encode_wall_secs = ?9, missing = 0
                 RETURNING id",
                params![
                    path_text(&dir),
                    manifest.title,
                    source_name,
                    source_id,
                    manifest.preset.name,
                    plan_json,
                    stills_json,
                    made_secs,
                    manifest.encode_wall_secs,
                ],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM renditions WHERE title_id = ?1", [id])
            .map_err(|e| self.err(e))?;
        for r in &manifest.rungs {
            let quality_json = r
                .quality
                .as_ref()
                .and_then(|q| serde_json::to_string(q).ok());
            tx.execute(
                "INSERT INTO renditions (title_id, name, file, size_bytes, bitrate_bps, width,
                    height, video_codec, audio_codec, vmaf_mean, quality_json, missing)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    id,
                    r.name,
                    r.file,
                    i64::try_from(r.size_bytes).unwrap_or(i64::MAX),
                    r.bitrate_bps.and_then(|b| i64::try_from(b).ok()),
                    r.width,
                    r.height,
                    r.video_codec,
                    r.audio_codec,
                    r.quality.as_ref().map(|q| q.vmaf.mean),
                    quality_json,
                    !dir.join(&r.file).is_file(),
                ],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.execute("DELETE FROM packages WHERE title_id = ?1", [id])
            .map_err(|e| self.err(e))?;
        for (file, kind) in PACKAGE_FILES {
            let path = dir.join(file);
            if path.is_file() {
                tx.execute(
                    "INSERT INTO packages (title_id, kind, path) VALUES (?1, ?2, ?3)",
                    params![id, kind, path_text(&path)],
                )
                .map_err(|e| self.err(e))?;
            }
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(id)
    }

    fn upsert_source(
        &self,
        tx: &rusqlite::Transaction<'_>,
        path: &Path,
        info: &crate::probe::MediaInfo,
    ) -> Result<i64> {
        let path = absolute(path);
        let probe_json = serde_json::to_string(info).ok();
        let size = std::fs::metadata(&path).map_or(info.size_bytes, |m| m.len());
        tx.query_row(
            "INSERT INTO sources (path, size_bytes, mtime_secs, probe_json, missing)
             VALUES (?1, ?2, ?3, ?4, 0)
             ON CONFLICT (path) DO UPDATE SET size_bytes = ?2, mtime_secs = ?3,
                probe_json = ?4, missing = 0,
                content_sha256 = CASE WHEN size_bytes = ?2 AND mtime_secs = ?3
                                 THEN content_sha256 END
             RETURNING id",
            params![
                path_text(&path),
                i64::try_from(size).unwrap_or(i64::MAX),
                mtime_secs(&path),
                probe_json
            ],
            |r| r.get(0),
        )
        .map_err(|e| self.err(e))
    }

    /// Records a source's content hash (known from an upload or a watch), for the file as it
    /// is now (size and time); the hash is dropped when the file changes.
    pub fn record_source_hash(&self, path: &Path, sha256: &str) -> Result<()> {
        let path = absolute(path);
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        self.conn()
            .execute(
                "INSERT INTO sources (path, size_bytes, mtime_secs, content_sha256)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (path) DO UPDATE SET size_bytes = ?2, mtime_secs = ?3,
                    content_sha256 = ?4, missing = 0",
                params![
                    path_text(&path),
                    i64::try_from(size).unwrap_or(i64::MAX),
                    mtime_secs(&path),
                    sha256
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The content hash recorded for a source, while the file is unchanged.
    pub fn source_hash(&self, path: &Path) -> Result<Option<String>> {
        let path = absolute(path);
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        self.conn()
            .query_row(
                "SELECT content_sha256 FROM sources WHERE path = ?1 AND size_bytes = ?2
                    AND mtime_secs = ?3",
                params![
                    path_text(&path),
                    i64::try_from(size).unwrap_or(i64::MAX),
                    mtime_secs(&path)
                ],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }

    /// Titles matching `filter`, newest first.
    pub fn titles(&self, filter: &TitleFilter) -> Result<Vec<TitleRecord>> {
        let mut sql = String::from(
            "SELECT t.id FROM titles t LEFT JOIN sources s ON s.id = t.source_id WHERE 1 = 1",
        );
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        for word in filter.text.split_whitespace() {
            // The word as typed: LIKE's wildcards in it are escaped.
            let escaped = word
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            args.push(format!("%{escaped}%").into());
            let n = args.len();
            sql.push_str(&format!(
                " AND (t.title LIKE ?{n} ESCAPE '\\' OR t.source_name LIKE ?{n} ESCAPE '\\'
                   OR t.preset LIKE ?{n} ESCAPE '\\' OR t.dir LIKE ?{n} ESCAPE '\\'
                   OR s.path LIKE ?{n} ESCAPE '\\')"
            ));
        }
        if let Some(preset) = &filter.preset {
            args.push(preset.clone().into());
            sql.push_str(&format!(" AND t.preset = ?{}", args.len()));
        }
        if let Some(missing) = filter.missing {
            args.push(i64::from(missing).into());
            sql.push_str(&format!(" AND t.missing = ?{}", args.len()));
        }
        if let Some(since) = filter.since_secs {
            args.push(since.into());
            sql.push_str(&format!(" AND t.made_secs >= ?{}", args.len()));
        }
        sql.push_str(" ORDER BY t.made_secs DESC, t.id DESC");
        if filter.limit > 0 {
            sql.push_str(&format!(" LIMIT {}", filter.limit));
        }
        let ids: Vec<i64> = {
            let mut stmt = self.conn().prepare(&sql).map_err(|e| self.err(e))?;
            stmt.query_map(rusqlite::params_from_iter(args), |r| r.get(0))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<i64>>>())
                .map_err(|e| self.err(e))?
        };
        ids.into_iter()
            .filter_map(|id| self.title_by_id(id).transpose())
            .collect()
    }

    /// A title by row id, folder, or title name (the newest of that name).
    pub fn title(&self, key: &str) -> Result<Option<TitleRecord>> {
        if let Ok(id) = key.parse::<i64>()
            && let Some(t) = self.title_by_id(id)?
        {
            return Ok(Some(t));
        }
        let id: Option<i64> = self
            .conn()
            .query_row(
                "SELECT id FROM titles WHERE dir = ?1 OR title = ?2
                 ORDER BY (dir = ?1) DESC, made_secs DESC LIMIT 1",
                params![path_text(&absolute(Path::new(key))), key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match id {
            Some(id) => self.title_by_id(id),
            None => Ok(None),
        }
    }

    /// The ids of titles of this name (two phones' IMG_0001 make two), newest first.
    pub fn titles_named(&self, name: &str) -> Result<Vec<(i64, PathBuf)>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT id, dir FROM titles WHERE title = ?1 ORDER BY made_secs DESC, id DESC")
            .map_err(|e| self.err(e))?;
        stmt.query_map([name], |r| {
            Ok((r.get(0)?, PathBuf::from(r.get::<_, String>(1)?)))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err(e))
    }

    /// A title by row id.
    pub fn title_by_id(&self, id: i64) -> Result<Option<TitleRecord>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT t.dir, t.title, t.source_name, s.path, t.preset, t.made_secs,
                    t.encode_wall_secs, t.stills_json, t.missing
                 FROM titles t LEFT JOIN sources s ON s.id = t.source_id WHERE t.id = ?1",
                [id],
                |r| {
                    Ok(TitleRecord {
                        id,
                        dir: PathBuf::from(r.get::<_, String>(0)?),
                        title: r.get(1)?,
                        source_name: r.get(2)?,
                        source_path: r.get::<_, Option<String>>(3)?.map(PathBuf::from),
                        preset: r.get(4)?,
                        made_secs: r.get(5)?,
                        encode_wall_secs: r.get(6)?,
                        stills: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
                        missing: r.get(8)?,
                        renditions: Vec::new(),
                        packages: Vec::new(),
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(mut title) = row else {
            return Ok(None);
        };
        let mut stmt = conn
            .prepare_cached(
                "SELECT name, file, size_bytes, bitrate_bps, width, height, video_codec,
                    audio_codec, vmaf_mean, missing
                 FROM renditions WHERE title_id = ?1 ORDER BY COALESCE(height, 0), id",
            )
            .map_err(|e| self.err(e))?;
        title.renditions = stmt
            .query_map([id], |r| {
                Ok(Rendition {
                    name: r.get(0)?,
                    file: r.get(1)?,
                    size_bytes: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                    bitrate_bps: r
                        .get::<_, Option<i64>>(3)?
                        .and_then(|b| u64::try_from(b).ok()),
                    width: r.get(4)?,
                    height: r.get(5)?,
                    video_codec: r.get(6)?,
                    audio_codec: r.get(7)?,
                    vmaf_mean: r.get(8)?,
                    missing: r.get(9)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT kind, path, missing FROM packages WHERE title_id = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        title.packages = stmt
            .query_map([id], |r| {
                Ok(Package {
                    kind: r.get(0)?,
                    path: PathBuf::from(r.get::<_, String>(1)?),
                    missing: r.get(2)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        Ok(Some(title))
    }

    /// Forgets a title (its rows, not its files). Returns whether it was known.
    pub fn forget_title(&self, id: i64) -> Result<bool> {
        self.conn()
            .execute("DELETE FROM titles WHERE id = ?1", [id])
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// Reads every title folder under `dir` (a folder holding `manifest.json`, at any depth up
    /// to 3) into the catalog, and marks known titles under `dir` that are gone as missing.
    pub fn rescan(&self, dir: &Path) -> Result<Rescan> {
        let dir = absolute(dir);
        if !dir.is_dir() {
            return Err(self.err(format!("{}: not a folder", dir.display())));
        }
        let mut report = Rescan::default();
        let mut found = Vec::new();
        find_title_dirs(&dir, 3, &mut found);
        found.sort();
        for title_dir in &found {
            match self.record_title(title_dir, None) {
                Ok(_) => report.recorded.push(title_dir.clone()),
                Err(e) => report.unreadable.push((title_dir.clone(), e.0)),
            }
        }
        report.missing = self.mark_missing(Some(&dir))?;
        Ok(report)
    }

    /// Marks titles (under `within`, or all) whose folder or manifest is gone as missing,
    /// and their renditions and packages whose files are gone. Returns the missing titles.
    pub fn mark_missing(&self, within: Option<&Path>) -> Result<Vec<PathBuf>> {
        // The disk is looked at without holding the database: a slow or network folder never
        // keeps other processes (a runner finishing a job) waiting. Then one short write.
        let query = |sql: &str| -> Result<Vec<(i64, i64, String)>> {
            let mut stmt = self.conn().prepare(sql).map_err(|e| self.err(e))?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .and_then(|rows| rows.collect())
                .map_err(|e| self.err(e))
        };
        let titles = query("SELECT id, missing, dir FROM titles")?;
        let renditions = query(
            "SELECT r.id, r.missing, t.dir || '/' || r.file FROM renditions r
             JOIN titles t ON t.id = r.title_id",
        )?;
        let packages = query("SELECT id, missing, path FROM packages")?;
        let inside = |p: &str| within.is_none_or(|w| Path::new(p).starts_with(w));
        let mut missing = Vec::new();
        let mut changes: Vec<(&str, i64, bool)> = Vec::new();
        for (id, was, dir) in &titles {
            if !inside(dir) {
                continue;
            }
            let gone = !Path::new(dir).join("manifest.json").is_file();
            if gone {
                missing.push(PathBuf::from(dir));
            }
            if gone != (*was != 0) {
                changes.push(("titles", *id, gone));
            }
        }
        for (table, rows) in [("renditions", &renditions), ("packages", &packages)] {
            for (id, was, path) in rows {
                if !inside(path) {
                    continue;
                }
                let gone = !Path::new(path).is_file();
                if gone != (*was != 0) {
                    changes.push((table, *id, gone));
                }
            }
        }
        if !changes.is_empty() {
            let tx = self.write_tx()?;
            for (table, id, gone) in changes {
                tx.execute(
                    &format!("UPDATE {table} SET missing = ?2 WHERE id = ?1"),
                    params![id, gone],
                )
                .map_err(|e| self.err(e))?;
            }
            tx.commit().map_err(|e| self.err(e))?;
        }
        Ok(missing)
    }
}

fn find_title_dirs(dir: &Path, depth: u32, out: &mut Vec<PathBuf>) {
    if dir.join("manifest.json").is_file() {
        out.push(dir.to_owned());
        return;
    }
    if depth == 0 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            find_title_dirs(&p, depth - 1, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_are_literal() {
        let c = Catalog::in_memory().expect("db");
        // Rows written directly: the search is what is tested here.
        for (i, (title, preset)) in [
            ("ladder_source", "web-ladder"),
            ("holiday 100%", "phone-share"),
        ]
        .iter()
        .enumerate()
        {
            c.conn()
                .execute(
                    "INSERT INTO titles (dir, title, source_name, preset, made_secs)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        format!("/out/{i}"),
                        title,
                        format!("{title}.mov"),
                        preset,
                        1_796_000_000 + i as i64
                    ],
                )
                .expect("insert");
        }
        let find = |text: &str| -> Vec<String> {
            c.titles(&TitleFilter {
                text: text.to_owned(),
                ..TitleFilter::default()
            })
            .expect("search")
            .into_iter()
            .map(|t| t.title)
            .collect()
        };
        assert_eq!(find("ladder_source"), ["ladder_source"]);
        assert_eq!(find("ladder"), ["ladder_source"], "title or preset");
        assert_eq!(find("r_s"), ["ladder_source"]);
        assert!(find("r%s").is_empty(), "% is a character, not a wildcard");
        assert_eq!(find("100%"), ["holiday 100%"]);
        assert_eq!(
            find("HOLIDAY share"),
            ["holiday 100%"],
            "any case, every word"
        );
        assert_eq!(find("").len(), 2);
    }
}
