//! `manifest.json` (what a job made, read back from the files themselves) and the record of
//! finished rungs that lets an interrupted batch resume where it stopped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::{Plan, PlannedRung};
use crate::preset::Preset;
use crate::probe::MediaInfo;

const DONE_FILE: &str = ".vodkit-done.json";

/// Rungs finished by earlier runs: file name -> the settings that made it.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DoneRecord {
    files: BTreeMap<String, serde_json::Value>,
}

impl DoneRecord {
    /// Reads the record of a title folder (empty when there is none or it is unreadable).
    pub fn load(dir: &Path) -> Self {
        std::fs::read(dir.join(DONE_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// True when `file` exists and was made from exactly these settings.
    pub fn is_complete(&self, file: &str, key: &serde_json::Value, path: &Path) -> bool {
        self.files.get(file) == Some(key) && path.is_file()
    }

    /// Records a finished file.
    pub fn mark(&mut self, file: &str, key: serde_json::Value) {
        self.files.insert(file.to_owned(), key);
    }

    /// Writes the record (atomically); a failure only costs the ability to resume.
    pub fn save(&self, dir: &Path) {
        if let Ok(bytes) = serde_json::to_vec_pretty(self) {
            let _ = super::write_atomically(&dir.join(DONE_FILE), &bytes);
        }
    }
}

/// Everything that decides a rung's bytes: the source (path, size, modification time), the
/// rung as planned, the shared video and audio settings, and the Vodkit version.
pub fn fingerprint(
    info: &MediaInfo,
    preset: &Preset,
    plan: &Plan,
    rung: Option<&PlannedRung>,
) -> serde_json::Value {
    let modified = std::fs::metadata(&info.path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos().to_string());
    let rung = rung.map(|r| {
        let mut r = r.clone();
        r.estimated_bytes = 0;
        r.predicted_vmaf = None;
        r.reasons.clear();
        r
    });
    serde_json::json!({
        "vodkit": env!("CARGO_PKG_VERSION"),
        "source": info.path,
        "source_size_bytes": info.size_bytes,
        "source_modified_ns": modified,
        "rung": rung,
        "transform": plan.transform,
        // Which part of the source, on which timeline: a trimmed file is another file.
        "timeline": plan.timeline,
        "trim": plan.trim,
        "duration_secs": plan.duration_secs,
        "video": preset.video,
        "audio": plan.audio,
        "extra_audio": plan.extra_audio,
        "metadata": preset.metadata,
        // The subtitle tracks muxed into the rung, and the sidecar files they come from as
        // they are now: a changed sidecar remakes the rungs that carry it.
        "subtitles": plan.subtitles,
        "sidecars": plan
            .subtitles
            .iter()
            .filter_map(|t| match &t.origin {
                crate::subtitles::Origin::Sidecar { path, .. } => {
                    let meta = std::fs::metadata(path).ok()?;
                    let ns = meta
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map(|d| d.as_nanos().to_string());
                    Some(serde_json::json!([meta.len(), ns]))
                }
                crate::subtitles::Origin::Embedded { .. } => None,
            })
            .collect::<Vec<_>>(),
    })
}

/// One output file as read back from disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestRung {
    /// Rung name (`720p`).
    pub name: String,
    /// File name inside the title folder.
    pub file: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Overall bitrate in bits per second.
    pub bitrate_bps: Option<u64>,
    /// Duration in seconds.
    pub duration_secs: Option<f64>,
    /// Picture size.
    pub width: Option<u32>,
    /// Picture size.
    pub height: Option<u32>,
    /// Video codec and profile (`h264 High`).
    pub video_codec: Option<String>,
    /// Audio codec (`aac LC`).
    pub audio_codec: Option<String>,
    /// The option string the video encoder wrote into the stream (x264 and x265 record every
    /// setting they ran with: `... keyint=62 ... open_gop=0 ...`), read back from the file.
    #[serde(default)]
    pub encoder_options: Option<String>,
    /// VMAF, SSIM and PSNR, when measured (`[quality] measure` in the preset, `--quality`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<crate::quality::RungQuality>,
}

/// The manifest of a title.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Asset title.
    pub title: String,
    /// Vodkit version that made it.
    pub vodkit_version: String,
    /// The output files.
    pub rungs: Vec<ManifestRung>,
    /// Still images, relative to the title folder.
    pub stills: Vec<String>,
    /// How HDR was handled, if the source was HDR or more than 8 bits.
    pub color_conversion: Option<String>,
    /// The source as probed.
    pub source: MediaInfo,
    /// The preset used.
    pub preset: Preset,
    /// The plan followed (with its predictions: size and VMAF per rung, encode time).
    pub plan: Plan,
    /// Wall time of the encode that wrote this manifest, seconds (to compare with
    /// `plan.predicted_encode_secs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encode_wall_secs: Option<f64>,
}

/// One rung's prediction beside what was made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Rung name.
    pub rung: String,
    /// Predicted size, bytes.
    pub predicted_bytes: u64,
    /// The file's size, bytes.
    pub bytes: u64,
    /// Predicted VMAF (from samples), if any.
    pub predicted_vmaf: Option<f64>,
    /// Measured VMAF, if measured.
    pub vmaf: Option<f64>,
}

impl Manifest {
    /// Every made rung's predicted size and VMAF beside the file's.
    pub fn predictions(&self) -> Vec<Prediction> {
        self.plan
            .made_rungs()
            .filter_map(|r| {
                let made = self.rungs.iter().find(|m| m.name == r.name)?;
                Some(Prediction {
                    rung: r.name.clone(),
                    predicted_bytes: r.estimated_bytes,
                    bytes: made.size_bytes,
                    predicted_vmaf: r.predicted_vmaf,
                    vmaf: made.quality.as_ref().map(|q| q.vmaf.mean),
                })
            })
            .collect()
    }
}

/// The settings x264/x265 wrote into the first video sample of an MP4 (their SEI message
/// ends with `options: <every option>`), or `None` for other encoders.
pub fn written_encoder_options(path: &Path) -> Option<String> {
    use std::os::unix::fs::FileExt;
    let tracks = crate::package::mp4_index::read(path).ok()?;
    let first = tracks
        .iter()
        .find(|t| t.kind == crate::package::mp4_index::TrackKind::Video)?
        .samples
        .first()
        .copied()?;
    let len = usize::try_from(first.size).ok()?.min(1 << 20);
    let mut bytes = vec![0u8; len];
    std::fs::File::open(path)
        .ok()?
        .read_exact_at(&mut bytes, first.offset)
        .ok()?;
    let marker = b"options: ";
    let at = bytes.windows(marker.len()).position(|w| w == marker)? + marker.len();
    let end = bytes[at..]
        .iter()
        .position(|&b| !(0x20..0x7f).contains(&b))
        .map_or(bytes.len(), |e| at + e);
    Some(String::from_utf8_lossy(&bytes[at..end]).into_owned())
}

/// `quality.html` next to the manifest when rungs were scored or the ladder was fitted per
/// title (removed otherwise, so an old report never describes new rungs).
fn write_quality_report(dir: &Path, manifest: &Manifest) -> Result<(), String> {
    let path = dir.join("quality.html");
    let scored: Vec<crate::quality::RungQuality> = manifest
        .rungs
        .iter()
        .filter_map(|r| r.quality.clone())
        .collect();
    let fit = manifest.plan.per_title.as_ref();
    if scored.is_empty() && fit.is_none() {
        let _ = std::fs::remove_file(&path);
        return Ok(());
    }
    let page = crate::quality::report::html(&manifest.title, &scored, fit)?;
    super::write_atomically(&path, page.as_bytes())
}

/// A path reduced to its file name (no folders of the user's machine).
fn file_name_only(path: &Path) -> PathBuf {
    path.file_name().map_or_else(PathBuf::new, PathBuf::from)
}

/// What a run made, for its manifest.
pub struct Made<'a> {
    /// Still images written.
    pub stills: &'a [PathBuf],
    /// Scores measured this run.
    pub measured: &'a [crate::quality::RungQuality],
    /// Files this run kept (made or skipped as already complete).
    pub kept: &'a [String],
    /// Wall time of the run so far, seconds; `None` when nothing was encoded (every rung was
    /// made by an earlier run, whose time the manifest keeps).
    pub wall_secs: Option<f64>,
}

/// Writes `manifest.json` for a title from the files present. Returns its path.
pub fn write(
    dir: &Path,
    info: &MediaInfo,
    preset: &Preset,
    plan: &Plan,
    made: &Made<'_>,
) -> Result<(PathBuf, Manifest), String> {
    let (stills, measured, kept) = (made.stills, made.measured, made.kept);
    // Scores of rungs this run kept (skipped: made by an earlier run) come from the manifest
    // before, while the file is the one they were measured on (same size); a rung remade
    // without measuring has none.
    let earlier: Option<Manifest> = std::fs::read(dir.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok());
    let earlier_wall_secs = earlier.as_ref().and_then(|m| m.encode_wall_secs);
    // A run that made nothing (every rung kept) measured no loudness: what the run that made
    // the rungs measured still describes them.
    let earlier_loudness: Vec<Option<crate::plan::Loudness>> = earlier
        .as_ref()
        .map(|m| m.plan.audio_tracks().map(|a| a.loudness).collect())
        .unwrap_or_default();
    let before: Vec<ManifestRung> = earlier.map(|m| m.rungs).unwrap_or_default();
    let mut names: Vec<(String, String)> = plan
        .made_rungs()
        .map(|r| (r.name.clone(), super::rung_file(plan, Some(&r.name))))
        .collect();
    if plan.rungs.is_empty() {
        names.push(("audio".to_owned(), super::rung_file(plan, None)));
    }
    let rungs = names
        .into_iter()
        .filter_map(|(name, file)| {
            let probed = crate::probe::probe_output(&dir.join(&file)).ok()?;
            let encoder_options = written_encoder_options(&dir.join(&file));
            let video = probed.video();
            let quality = measured
                .iter()
                .find(|q| q.file == file)
                .cloned()
                .or_else(|| {
                    before
                        .iter()
                        .filter(|_| kept.contains(&file))
                        .find(|b| b.file == file && b.size_bytes == probed.size_bytes)
                        .and_then(|b| b.quality.clone())
                });
            Some(ManifestRung {
                name,
                file,
                size_bytes: probed.size_bytes,
                bitrate_bps: probed.bitrate_bps,
                duration_secs: probed.duration_secs,
                width: video.map(|(_, v)| v.width),
                height: video.map(|(_, v)| v.height),
                video_codec: video
                    .map(|(s, _)| format!("{} {}", s.codec, s.profile.clone().unwrap_or_default())),
                audio_codec: probed
                    .audio()
                    .map(|(s, _)| format!("{} {}", s.codec, s.profile.clone().unwrap_or_default())),
                encoder_options,
                quality,
            })
        })
        .collect();
    let kept: Vec<&str> = plan
        .made_rungs()
        .filter(|r| r.hdr.is_some())
        .map(|r| r.name.as_str())
        .collect();
    let color_conversion = match (&plan.transform.hdr_to_sdr, info.video()) {
        (Some(hdr), _) if !kept.is_empty() => {
            let sdr = plan.made_rungs().count() - kept.len();
            Some(format!(
                "{hdr} HDR kept on {} (10-bit BT.2020, HDR10 metadata passed on){}",
                kept.join(", "),
                if sdr > 0 {
                    "; the other rungs tone-mapped (hable) to SDR BT.709, 8-bit"
                } else {
                    ""
                }
            ))
        }
        (Some(hdr), _) => Some(format!(
            "{hdr} HDR tone-mapped (hable) to SDR BT.709, 8-bit"
        )),
        (None, Some((_, v))) => {
            let depth = v
                .bit_depth
                .filter(|&d| d > 8)
                .map(|d| format!("{d}-bit SDR converted to 8-bit"));
            let parts: Vec<String> = depth
                .into_iter()
                .chain(plan.transform.colour.describe())
                .collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        _ => None,
    };
    // Privacy: the manifest is handed out by `serve` and uploaded with titles, so it names the
    // source by its file name only, and carries the recording time and GPS location only when
    // the preset keeps phone metadata (as the rungs do).
    let mut source = info.clone();
    let mut plan = plan.clone();
    let tracks = plan.audio.iter_mut().chain(plan.extra_audio.iter_mut());
    for (track, before) in tracks.zip(&earlier_loudness) {
        if let (Some(now), Some(before)) = (track.loudness.as_mut(), before)
            && now.gain_db.is_none()
            && now.target_lufs == before.target_lufs
            && now.true_peak_dbtp == before.true_peak_dbtp
        {
            *now = *before;
        }
    }
    source.path = file_name_only(&source.path);
    plan.source = file_name_only(&plan.source);
    for s in &mut source.sidecars.found {
        s.path = file_name_only(&s.path);
    }
    // Their problems name folders; the plan's notes say them by file name.
    source.sidecars.unreadable.clear();
    source.sidecars.notes.clear();
    for t in &mut plan.subtitles {
        if let crate::subtitles::Origin::Sidecar { path, .. } = &mut t.origin {
            *path = file_name_only(path);
        }
    }
    if !preset.metadata.keep_phone_metadata {
        source.creation_time = None;
        source.location = None;
    }
    let manifest = Manifest {
        title: plan.title.clone(),
        vodkit_version: env!("CARGO_PKG_VERSION").to_owned(),
        rungs,
        stills: stills
            .iter()
            .filter_map(|p| p.strip_prefix(dir).ok().map(|p| p.display().to_string()))
            .collect(),
        color_conversion,
        source,
        preset: preset.clone(),
        plan,
        encode_wall_secs: made.wall_secs.or(earlier_wall_secs),
    };
    let path = dir.join("manifest.json");
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    super::write_atomically(&path, &bytes)?;
    write_quality_report(dir, &manifest)?;
    Ok((path, manifest))
}
