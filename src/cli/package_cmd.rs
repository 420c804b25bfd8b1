//! `vodkit package DIR... [--json]`: HLS + DASH + SMIL next to the MP4 rungs of each title.

use std::path::PathBuf;

use super::Output;
use crate::package::package;
use crate::units::human_bytes;

/// Title folders to package: each given folder, or, for a folder of titles (the `--out` of
/// `vodkit encode`), every title in it.
fn titles(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in dirs {
        let has_rungs = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".mp4"));
        let children: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir() && p.join("manifest.json").is_file())
            .collect();
        if has_rungs || children.is_empty() {
            out.push(dir.clone());
        } else {
            let mut children = children;
            children.sort();
            out.extend(children);
        }
    }
    out
}

/// Packages every title folder. Returns the number that failed.
pub fn run(dirs: &[PathBuf], out: &Output) -> usize {
    let mut failed = 0;
    for dir in &titles(dirs) {
        match package(dir) {
            Ok(p) if out.json => out.json_line(&p),
            Ok(p) => out.text(&format!(
                "{}: {} rungs, {} segments each, {} files; media {} ({:.3}x the MP4 rungs' {}), manifests {}\n",
                p.dir.display(),
                p.rungs.len(),
                p.segments,
                p.files,
                human_bytes(p.media_bytes),
                p.media_bytes as f64 / p.mp4_bytes.max(1) as f64,
                human_bytes(p.mp4_bytes),
                human_bytes(p.manifest_bytes),
            )),
            Err(e) => {
                failed += 1;
                out.error(dir, &e.to_string());
            }
        }
    }
    failed
}
