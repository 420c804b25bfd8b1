//! A cloud job's outputs once downloaded become a title like a local encode's: a
//! `manifest.json` written from the files that arrived (probed, as locally) and a record in the
//! library, so the Library view, `vodkit library` and `vodkit serve` know them.

use std::path::{Path, PathBuf};

use crate::catalog::Catalog;
use crate::plan::Plan;
use crate::preset::Preset;
use crate::probe::MediaInfo;

/// Writes the title folder's manifest from the downloaded rungs and stills and records the
/// title in the library at `library` (when one can be opened). Every rung the plan makes must
/// have arrived and be readable, else nothing is written (a manifest already there stays as
/// it was) and the error names the missing files. `wall_secs` is the cloud job's time. Returns
/// the manifest's path and, when the library could not keep it, why.
pub fn record(
    library: Option<&Path>,
    dir: &Path,
    source: &Path,
    info: &MediaInfo,
    preset: &Preset,
    plan: &Plan,
    wall_secs: Option<f64>,
) -> Result<(PathBuf, Option<String>), String> {
    let missing: Vec<String> = plan
        .made_rungs()
        .map(|r| crate::local::rung_file(plan, Some(&r.name)))
        .filter(|file| crate::probe::probe(&dir.join(file)).is_err())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{}: {} did not arrive or cannot be read",
            dir.display(),
            missing.join(", ")
        ));
    }
    let stills = stills_in(dir, &plan.title);
    let made = crate::local::manifest::Made {
        stills: &stills,
        measured: &[],
        kept: &[],
        // The cloud job's time, not a local encode's from an earlier manifest in the folder.
        wall_secs: Some(wall_secs.unwrap_or(0.0)),
    };
    let (path, _) = crate::local::manifest::write(dir, info, preset, plan, &made)?;
    let kept =
        library.map(|path| Catalog::open(path).and_then(|c| c.record_title(dir, Some(source))));
    let note = match kept {
        Some(Ok(_)) => None,
        Some(Err(e)) => Some(e.to_string()),
        None => Some("there is no data folder for the library (set VODKIT_DATA_DIR)".to_owned()),
    };
    Ok((path, note))
}

/// The stills of the title: of the captures MediaConvert wrote (`stills/<title>_still.NNNNNNN.jpg`,
/// twice as many as asked, see `job_spec::capture_rate`), the odd-numbered ones, which are at
/// the local stills' times; the even ones are removed. Other pictures in the folder (a local
/// encode's) are not the job's.
fn stills_in(dir: &Path, title: &str) -> Vec<PathBuf> {
    let mut kept = Vec::new();
    for path in captures_in(dir, title) {
        let index = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.rsplit('.').nth(1))
            .and_then(|n| n.parse::<u64>().ok());
        match index {
            Some(k) if k % 2 == 1 => kept.push(path),
            Some(_) => {
                let _ = std::fs::remove_file(&path);
            }
            None => {}
        }
    }
    kept
}

/// Every capture MediaConvert wrote for the title, sorted.
fn captures_in(dir: &Path, title: &str) -> Vec<PathBuf> {
    let prefix = format!("{title}_still.");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir.join("stills"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".jpg"))
        })
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_jobs_stills_count() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("stills")).expect("dir");
        for name in [
            "clip_still.0000001.jpg",
            "clip_still.0000000.jpg",
            "other_still.0000000.jpg",
            "clip_still.txt",
        ] {
            std::fs::write(dir.path().join("stills").join(name), b"x").expect("write");
        }
        std::fs::write(dir.path().join("clip_thumb.jpg"), b"x").expect("write");
        let found: Vec<String> = captures_in(dir.path(), "clip")
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(found, ["clip_still.0000000.jpg", "clip_still.0000001.jpg"]);
        // The odd captures are the stills (at the local times); the even ones go.
        let kept: Vec<String> = stills_in(dir.path(), "clip")
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(kept, ["clip_still.0000001.jpg"]);
        assert!(!dir.path().join("stills/clip_still.0000000.jpg").exists());
        assert!(dir.path().join("stills/other_still.0000000.jpg").exists());
    }
}
