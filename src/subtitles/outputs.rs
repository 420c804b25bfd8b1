//! A title's subtitle files: each planned track's cues read (the source's text streams in one
//! pass over its packets, sidecars from their files), placed on the outputs' timeline and
//! written whole as `subtitles/<id>.vtt` in the title folder. HLS segments and the DASH text
//! track are made from these files by the packager.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{Cue, Origin, PlannedSubtitle, SubtitleError, cue, embedded, sidecar, vtt};
use crate::plan::Plan;

/// Folder of the subtitle files inside a title folder.
pub const FOLDER: &str = "subtitles";

/// The whole WebVTT file of a track, relative to the title folder.
pub fn file_of(track: &PlannedSubtitle) -> String {
    format!("{FOLDER}/{}.vtt", track.id)
}

/// Every planned track's cues on the outputs' timeline (0 is the first picture; a trim's start
/// is already in the plan's time zero). The source's streams carry the source's own times;
/// sidecars count from the start of playback (the source's earliest stream).
pub fn cues(plan: &Plan) -> Result<Vec<(PlannedSubtitle, Vec<Cue>)>, SubtitleError> {
    let streams: Vec<usize> = plan
        .subtitles
        .iter()
        .filter_map(|t| match &t.origin {
            Origin::Embedded { index, .. } => Some(*index),
            Origin::Sidecar { .. } => None,
        })
        .collect();
    let mut read: HashMap<usize, Vec<Cue>> = if streams.is_empty() {
        HashMap::new()
    } else {
        embedded::read(&plan.source, &streams)?
    };
    let end = Some(plan.duration_secs).filter(|d| *d > 0.0);
    plan.subtitles
        .iter()
        .map(|t| {
            let (raw, offset) = match &t.origin {
                Origin::Embedded { index, .. } => (
                    read.remove(index).unwrap_or_default(),
                    plan.timeline.zero_secs,
                ),
                // Time zero (a trim's start included) counted from where playback starts.
                Origin::Sidecar {
                    path,
                    playback_start_secs,
                } => (
                    sidecar::read(path)?,
                    plan.timeline.zero_secs - playback_start_secs,
                ),
            };
            Ok((t.clone(), cue::place(raw, offset, end)))
        })
        .collect()
}

/// Writes `subtitles/<id>.vtt` for every track read by [`cues`] (each whole or not at all).
/// Returns the files written with their cue counts.
pub fn write(
    dir: &Path,
    tracks: &[(PlannedSubtitle, Vec<Cue>)],
) -> Result<Vec<(PathBuf, usize)>, String> {
    if tracks.is_empty() {
        remove_stale(dir, tracks);
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir.join(FOLDER))
        .map_err(|e| format!("cannot write {}: {e}", dir.join(FOLDER).display()))?;
    let mut written = Vec::new();
    for (track, cues) in tracks.iter().filter(|(t, _)| t.is_text()) {
        let path = dir.join(file_of(track));
        crate::local::write_atomically(&path, vtt::write(cues).as_bytes())?;
        written.push((path, cues.len()));
    }
    remove_stale(dir, tracks);
    Ok(written)
}

/// Removes WebVTT files an earlier encode of the title wrote for tracks this plan does not
/// have (so `serve` and uploads never hand them out).
pub fn remove_stale(dir: &Path, tracks: &[(PlannedSubtitle, Vec<Cue>)]) {
    let keep: Vec<String> = tracks
        .iter()
        .filter(|(t, _)| t.is_text())
        .map(|(t, _)| format!("{}.vtt", t.id))
        .collect();
    for entry in std::fs::read_dir(dir.join(FOLDER))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".vtt") && !keep.contains(&name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
