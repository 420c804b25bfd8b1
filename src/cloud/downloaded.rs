//! A cloud job's outputs once downloaded become a title like a local encode's: a
//! `manifest.json` written from the files that arrived (probed, as locally) and a record in the
//! library, so the Library view, `vodkit library` and `vodkit serve` know them.

use std::path::{Path, PathBuf};

use crate::catalog::Catalog;
use crate::plan::Plan;
use crate::preset::Preset;
use crate::probe::MediaInfo;

/// Writes the title folder's manifest from the downloaded rungs and stills and records the
/// title in the library at `library` (when one can be opened). Returns the manifest's path; a
/// library that cannot be opened is reported in the `Ok` note, not as a failure of the download.
pub fn record(
    library: Option<&Path>,
    dir: &Path,
    source: &Path,
    info: &MediaInfo,
    preset: &Preset,
    plan: &Plan,
) -> Result<(PathBuf, Option<String>), String> {
    let stills = stills_in(dir);
    let made = crate::local::manifest::Made {
        stills: &stills,
        measured: &[],
        kept: &[],
        wall_secs: None,
    };
    let (path, manifest) = crate::local::manifest::write(dir, info, preset, plan, &made)?;
    if manifest.rungs.is_empty() {
        return Err(format!(
            "{}: none of the plan's rungs ({}) arrived; the title is not recorded",
            dir.display(),
            plan.made_rungs()
                .map(|r| crate::local::rung_file(plan, Some(&r.name)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let note = match library
        .map(|path| Catalog::open(path).and_then(|c| c.record_title(dir, Some(source))))
    {
        Some(Ok(_)) => None,
        Some(Err(e)) => Some(format!("not kept in the library: {e}")),
        None => {
            Some("not kept in the library: it has no data folder (set VODKIT_DATA_DIR)".to_owned())
        }
    };
    Ok((path, note))
}

/// The JPEG stills under a title folder (MediaConvert writes them under `stills/`), sorted.
fn stills_in(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}
