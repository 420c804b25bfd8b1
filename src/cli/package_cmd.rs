//! `vodkit package DIR... [--json]`: HLS + DASH + SMIL next to the MP4 rungs of each title.

use std::path::PathBuf;

use super::Output;
use crate::package::package;
use crate::units::human_bytes;

/// Packages every title folder. Returns the number that failed.
pub fn run(dirs: &[PathBuf], out: &Output) -> usize {
    let mut failed = 0;
    for dir in dirs {
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
