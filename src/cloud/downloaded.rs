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
        .filter(|file| crate::probe::probe_output(&dir.join(file)).is_err())
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

/// The stills of the title. The job captures twice as many pictures as there are stills
/// (`stills/<title>_capture.NNNNNNN.jpg`, see `job_spec::capture_rate`): the odd-numbered ones
/// are at the local stills' times and become `<title>_still.NNNNNNN.jpg` (numbered from 0),
/// the even ones (in between, named as this job's captures and nothing else) are removed.
/// Stills already named so (a job from before the doubling) are kept as they are; other
/// pictures in the folder (a local encode's) are not the job's.
fn stills_in(dir: &Path, title: &str) -> Vec<PathBuf> {
    let folder = dir.join("stills");
    for (path, k) in numbered(&folder, &format!("{title}_capture.")) {
        if k % 2 == 1 {
            let still = folder.join(format!("{title}_still.{:07}.jpg", k / 2));
            let _ = std::fs::rename(&path, still);
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
    numbered(&folder, &format!("{title}_still."))
        .into_iter()
        .map(|(p, _)| p)
        .collect()
}

/// The `<prefix>NNNNNNN.jpg` files of a folder with their numbers, sorted.
fn numbered(folder: &Path, prefix: &str) -> Vec<(PathBuf, u64)> {
    let mut found: Vec<(PathBuf, u64)> = std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter_map(|p| {
            let n = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix(prefix))
                .and_then(|n| n.strip_suffix(".jpg"))
                .and_then(|n| n.parse::<u64>().ok())?;
            Some((p, n))
        })
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_captures_become_the_stills_and_nothing_else_is_touched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stills = dir.path().join("stills");
        std::fs::create_dir_all(&stills).expect("dir");
        for name in [
            "clip_capture.0000000.jpg",
            "clip_capture.0000001.jpg",
            "clip_capture.0000002.jpg",
            "clip_capture.0000003.jpg",
            "other_capture.0000000.jpg",
            "other_still.0000000.jpg",
            "clip_capture.txt",
        ] {
            std::fs::write(stills.join(name), name).expect("write");
        }
        std::fs::write(dir.path().join("clip_thumb.jpg"), b"x").expect("write");
        let found: Vec<String> = stills_in(dir.path(), "clip")
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(found, ["clip_still.0000000.jpg", "clip_still.0000001.jpg"]);
        // Capture 1 became still 0, capture 3 still 1; the in-between captures are gone.
        assert_eq!(
            std::fs::read_to_string(stills.join("clip_still.0000001.jpg")).expect("read"),
            "clip_capture.0000003.jpg"
        );
        assert!(!stills.join("clip_capture.0000000.jpg").exists());
        assert!(!stills.join("clip_capture.0000002.jpg").exists());
        // Another title's files and anything not named as a capture stay.
        for kept in [
            "other_capture.0000000.jpg",
            "other_still.0000000.jpg",
            "clip_capture.txt",
        ] {
            assert!(stills.join(kept).exists(), "{kept}");
        }
    }
}
