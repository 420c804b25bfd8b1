//! A packaged title in memory: its MP4 rungs read into tracks, cut into aligned segments, with
//! the figures manifests need (codec strings, sizes, bandwidths). Built once per title; the
//! static writer and the HTTP server both render from it.

use std::path::{Path, PathBuf};

use super::mp4_index::{self, Track, TrackKind};
use super::segments::{self, Boundaries, Segment};
use super::{PackageError, cmaf, codecs};
use crate::preset::{PackagingSettings, RungOrder};
use crate::timing::KeyframeGrid;

/// One video rung or the audio track, ready to package.
#[derive(Debug, Clone)]
pub struct Rendition {
    /// `720p`, or `audio`.
    pub name: String,
    /// The MP4 file it comes from (name inside the title folder).
    pub source_file: String,
    /// Size of that MP4 file in bytes.
    pub source_bytes: u64,
    /// The track.
    pub track: Track,
    /// Its segments.
    pub segments: Vec<Segment>,
    /// RFC 6381 codec string.
    pub codec: String,
    /// `SDR`, `PQ` or `HLG` (HLS VIDEO-RANGE), from the sample entry's colour box.
    pub video_range: &'static str,
    /// Picture size (0 for audio).
    pub width: u32,
    /// Picture size (0 for audio).
    pub height: u32,
    /// Frames per second (video).
    pub frame_rate: Option<f64>,
    /// Highest segment bitrate, bits per second.
    pub peak_bps: u64,
    /// Average bitrate over the whole track, bits per second.
    pub average_bps: u64,
    /// Channels (audio).
    pub channels: u32,
    /// Sample rate (audio).
    pub sample_rate_hz: u32,
}

impl Rendition {
    /// Seconds of a segment.
    pub fn segment_secs(&self, seg: &Segment) -> f64 {
        seg.duration as f64 / f64::from(self.track.timescale.max(1))
    }

    /// What players list for an audio track: its title (`Commentaire`) when it has one, else
    /// its language's name, else `Main`.
    pub fn audio_label(&self) -> String {
        let title = self
            .track
            .trak
            .mdia
            .hdlr
            .name
            .trim()
            .trim_end_matches('\0')
            .to_owned();
        let generic = title.is_empty()
            || title.ends_with("Handler")
            || title.starts_with("Core Media")
            || title.starts_with("Mainconcept");
        let language = || {
            self.track
                .language_tag()
                .map_or_else(|| "Main".to_owned(), |(_, name)| name.to_owned())
        };
        if generic {
            language()
        } else if title == crate::plan::SURROUND_TITLE {
            // The 5.1 track beside the stereo one: "English 5.1".
            format!("{} {title}", language())
        } else {
            title.replace('"', "'")
        }
    }

    /// The init segment's bytes.
    pub fn init(&self) -> Result<Vec<u8>, String> {
        cmaf::init_segment(&self.track)
    }

    /// Media segment `number` (1-based).
    pub fn segment(&self, number: usize) -> Result<Vec<u8>, String> {
        cmaf::media_segment(&self.track, self.nth(number)?, number as u32)
    }

    /// Media segments `first..=last` (1-based) one after the other: a longer HLS segment made of
    /// consecutive fragments, each keeping its own `moof` and sequence number. At most 30.
    pub fn segments_joined(&self, first: usize, last: usize) -> Result<Vec<u8>, String> {
        if first == 0 || last < first || last - first >= 30 || last > self.segments.len() {
            return Err(format!("{} has no segments {first}-{last}", self.name));
        }
        let mut out = Vec::new();
        for n in first..=last {
            out.extend(self.segment(n)?);
        }
        Ok(out)
    }

    /// Writes media segment `number` to a file (media data copied in the kernel).
    pub fn write_segment(&self, number: usize, out: &mut std::fs::File) -> Result<(), String> {
        cmaf::write_media_segment(&self.track, self.nth(number)?, number as u32, out)
    }

    fn nth(&self, number: usize) -> Result<&Segment, String> {
        number
            .checked_sub(1)
            .and_then(|i| self.segments.get(i))
            .ok_or_else(|| format!("{} has no segment {number}", self.name))
    }
}

/// A title: its video rungs (highest bitrate first) and its audio.
#[derive(Debug, Clone)]
pub struct Title {
    /// The title's name (its folder's name).
    pub name: String,
    /// Its folder.
    pub dir: PathBuf,
    /// Video rungs, highest bitrate first.
    pub videos: Vec<Rendition>,
    /// The audio shared by every rung, if any: the main track.
    pub audio: Option<Rendition>,
    /// The rungs' other audio tracks (other languages, commentary), in their order.
    pub more_audio: Vec<Rendition>,
    /// Duration in seconds (the longest track).
    pub duration_secs: f64,
    /// Packaging settings (from the title's manifest.json, else the defaults).
    pub settings: PackagingSettings,
    /// Subtitle tracks (the plan's, read from `subtitles/<id>.vtt`).
    pub subtitles: Vec<TextTrack>,
}

/// A subtitle track of a title, with its cues.
#[derive(Debug, Clone)]
pub struct TextTrack {
    /// What the plan says of it (id, language, name, default, forced).
    pub planned: crate::subtitles::PlannedSubtitle,
    /// Its cues on the outputs' timeline.
    pub cues: Vec<crate::subtitles::Cue>,
}

/// Which rungs a manifest lists and in what order (just-in-time packaging's dynamic manifests).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// Leave out rungs taller than this (by the picture's short side).
    pub max_height: Option<u32>,
    /// Leave out rungs below this peak bitrate.
    pub min_bitrate: Option<u64>,
    /// Leave out rungs above this peak bitrate.
    pub max_bitrate: Option<u64>,
    /// Order of the rungs; `None` keeps the preset's.
    pub order: Option<RungOrder>,
    /// HLS media playlists list segments of the preset's `hls_segment_secs`, each made of that
    /// many seconds of consecutive CMAF fragments (what `serve` answers); off, they list the
    /// fragments themselves (the static files, which cannot join files without a copy).
    pub hls_joined: bool,
}

impl Title {
    /// How many CMAF fragments make one HLS segment of the preset's length (1 when the HLS
    /// segment is the fragment).
    pub fn hls_fragments_per_segment(&self) -> usize {
        let ratio = self.settings.hls_segment_secs / self.settings.dash_segment_secs.max(1e-3);
        if ratio.is_finite() {
            (ratio.round() as usize).clamp(1, 30)
        } else {
            1
        }
    }

    /// HLS is made: the preset asks for it, or asks for neither format (`vodkit package` on a
    /// folder made elsewhere, or by a preset that packages nothing, makes both).
    pub fn wants_hls(&self) -> bool {
        self.settings.hls || !self.settings.dash
    }

    /// DASH is made (see [`Title::wants_hls`]).
    pub fn wants_dash(&self) -> bool {
        self.settings.dash || !self.settings.hls
    }

    /// The rungs a selection keeps, in its order.
    pub fn select(&self, sel: &Selection) -> Vec<&Rendition> {
        let mut out: Vec<&Rendition> = self
            .videos
            .iter()
            .filter(|r| sel.max_height.is_none_or(|h| r.width.min(r.height) <= h))
            .filter(|r| sel.min_bitrate.is_none_or(|b| r.peak_bps >= b))
            .filter(|r| sel.max_bitrate.is_none_or(|b| r.peak_bps <= b))
            .collect();
        if sel.order.unwrap_or(self.settings.rung_order) == RungOrder::Asc {
            out.reverse();
        }
        out
    }

    /// The HLS subtitle segments' spans, seconds: the video's segments (the first rung's),
    /// joined as HLS segments are, from 0 to the end.
    pub fn text_segments(&self) -> Vec<(f64, f64)> {
        self.text_spans(self.hls_fragments_per_segment())
    }

    /// The DASH subtitle segments' spans, seconds: the video's segments, one for one.
    pub fn dash_text_segments(&self) -> Vec<(f64, f64)> {
        self.text_spans(1)
    }

    fn text_spans(&self, per: usize) -> Vec<(f64, f64)> {
        let Some(video) = self.videos.first() else {
            return vec![(0.0, self.duration_secs.max(1.0))];
        };
        let mut out = Vec::new();
        let mut at = 0.0;
        for run in video.segments.chunks(per) {
            let secs: f64 = run.iter().map(|s| video.segment_secs(s)).sum();
            out.push((at, at + secs));
            at += secs;
        }
        out
    }

    /// A subtitle track by id (`en`, `fr-forced`).
    pub fn text_track(&self, id: &str) -> Option<&TextTrack> {
        self.subtitles.iter().find(|t| t.planned.id == id)
    }

    /// A rendition by name (`720p`, `audio`).
    pub fn rendition(&self, name: &str) -> Option<&Rendition> {
        self.videos
            .iter()
            .chain(self.audio.iter())
            .chain(&self.more_audio)
            .find(|r| r.name == name)
    }
}

/// The rung files of a title folder without a manifest: `<title>_<name>.mp4`, as `vodkit
/// encode` names them.
fn rung_files(dir: &Path, title: &str) -> Vec<(String, PathBuf)> {
    let prefix = format!("{title}_");
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let rung = name.strip_prefix(&prefix)?.strip_suffix(".mp4")?.to_owned();
            Some((rung, e.path()))
        })
        .collect();
    files.sort();
    files
}

/// The rung files `manifest.json` lists (`name`, `file`), when the title has a manifest: the
/// plan's rungs, so files left by an earlier encode of the title are never packaged.
fn manifest_rungs(
    dir: &Path,
    manifest: Option<&serde_json::Value>,
) -> Option<Vec<(String, PathBuf)>> {
    let rungs = manifest?["rungs"].as_array()?;
    let mut out: Vec<(String, PathBuf)> = rungs
        .iter()
        .filter_map(|r| {
            let name = r["name"].as_str()?.to_owned();
            let file = r["file"].as_str()?;
            // A manifest names files in its own folder, nothing else.
            let plain = Path::new(file).file_name().is_some_and(|f| f == file);
            (plain && file.ends_with(".mp4")).then(|| (name, dir.join(file)))
        })
        .collect();
    out.sort();
    Some(out)
}

/// Packaging settings and the keyframe grid from the title's `manifest.json` (the preset it
/// was encoded with and the plan it followed).
fn settings_of(manifest: Option<&serde_json::Value>) -> (PackagingSettings, Option<KeyframeGrid>) {
    let settings = manifest
        .and_then(|v| serde_json::from_value(v["preset"]["packaging"].clone()).ok())
        .unwrap_or_default();
    let grid = manifest.and_then(|v| serde_json::from_value(v["plan"]["keyframes"].clone()).ok());
    (settings, grid)
}

/// Reads a title folder: every rung's index, cut into aligned segments.
pub fn load(dir: &Path) -> Result<Title, PackageError> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| PackageError::NoRungs {
            dir: dir.to_owned(),
        })?;
    // The manifest, read once: the rungs it lists, the packaging settings, the subtitle tracks.
    let manifest = std::fs::read(dir.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    let (settings, grid) = settings_of(manifest.as_ref());
    let files = manifest_rungs(dir, manifest.as_ref()).unwrap_or_else(|| rung_files(dir, &name));
    if files.is_empty() {
        return Err(PackageError::NoRungs {
            dir: dir.to_owned(),
        });
    }
    let segment_secs = settings.dash_segment_secs;
    // Vodkit's own rungs are cut exactly on their keyframe grid (segments are whole GOPs).
    let boundaries = match grid {
        Some(g) => Boundaries::Grid(g.with_period_secs(segment_secs)),
        None => Boundaries::Every(segment_secs),
    };
    let mut videos = Vec::new();
    // Every audio track of the first rung that has audio (each rung carries the same ones).
    let mut audio_tracks: Vec<(String, u64, Track)> = Vec::new();
    for (rung, path) in &files {
        let tracks = mp4_index::read(path).map_err(|e| PackageError::Unreadable {
            path: path.clone(),
            reason: e.reason,
        })?;
        let source_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for track in tracks {
            match track.kind {
                TrackKind::Video => {
                    let segments = segments::cut_video(&track, &boundaries);
                    videos.push(video_rendition(
                        rung,
                        &file_name,
                        source_bytes,
                        track,
                        segments,
                    )?);
                }
                TrackKind::Audio if audio_tracks.is_empty() || audio_tracks[0].0 == file_name => {
                    audio_tracks.push((file_name.clone(), source_bytes, track));
                }
                TrackKind::Audio => {}
            }
        }
    }
    if videos.is_empty() {
        return Err(PackageError::NoRungs {
            dir: dir.to_owned(),
        });
    }
    // Every rung must cut on the same boundaries.
    let cuts: Vec<(String, f64, Vec<i64>)> = videos
        .iter()
        .map(|r| {
            let frame = r.frame_rate.map_or(0.0, |f| 1.0 / f);
            (
                r.name.clone(),
                frame,
                segments::cut_times(&r.track, &r.segments),
            )
        })
        .collect();
    segments::check_aligned(&cuts, &boundaries).map_err(|reason| PackageError::NotAligned {
        dir: dir.to_owned(),
        reason,
    })?;
    let reference_cuts = cuts
        .iter()
        .max_by_key(|c| c.2.len())
        .map(|c| c.2.clone())
        .unwrap_or_default();
    let mut audios = Vec::new();
    for (k, (file, bytes, track)) in audio_tracks.into_iter().enumerate() {
        let segs = segments::cut_at(&track, &reference_cuts);
        let mut r = audio_rendition(&file, bytes, track, segs)?;
        if k > 0 {
            // `audio_fr`, `audio_fr-2`, `audio_3`: unique names for the other tracks.
            let base = r.track.language_tag().map_or_else(
                || format!("audio_{}", k + 1),
                |(tag, _)| format!("audio_{tag}"),
            );
            let mut name = base.clone();
            let mut n = 2;
            while audios.iter().any(|a: &Rendition| a.name == name) {
                name = format!("{base}-{n}");
                n += 1;
            }
            r.name = name;
        }
        audios.push(r);
    }
    let mut audios = audios.into_iter();
    let audio = audios.next();
    let more_audio: Vec<Rendition> = audios.collect();
    videos.sort_by_key(|r| std::cmp::Reverse(r.peak_bps));
    let duration_secs = videos
        .iter()
        .chain(audio.iter())
        .map(|r| r.track.duration_secs())
        .fold(0.0, f64::max);
    Ok(Title {
        name,
        dir: dir.to_owned(),
        videos,
        audio,
        more_audio,
        duration_secs,
        settings,
        subtitles: text_tracks(dir, manifest.as_ref()),
    })
}

/// The plan's subtitle tracks whose WebVTT file the encode wrote (a track whose file is
/// missing failed at encode and was reported then).
fn text_tracks(dir: &Path, manifest: Option<&serde_json::Value>) -> Vec<TextTrack> {
    let planned: Vec<crate::subtitles::PlannedSubtitle> = manifest
        .and_then(|v| serde_json::from_value(v["plan"]["subtitles"].clone()).ok())
        .unwrap_or_default();
    planned
        .into_iter()
        .filter(crate::subtitles::PlannedSubtitle::is_text)
        .filter_map(|planned| {
            let path = dir.join(crate::subtitles::outputs::file_of(&planned));
            let text = std::fs::read_to_string(&path).ok()?;
            let cues = crate::subtitles::vtt::parse(&text, &path.display().to_string()).ok()?;
            Some(TextTrack { planned, cues })
        })
        .collect()
}

fn bitrates(track: &Track, segs: &[Segment]) -> (u64, u64) {
    let ts = f64::from(track.timescale.max(1));
    let peak = segs
        .iter()
        .filter(|s| s.duration > 0)
        .map(|s| (s.bytes as f64 * 8.0 / (s.duration as f64 / ts)) as u64)
        .max()
        .unwrap_or(0);
    let total_bytes: u64 = segs.iter().map(|s| s.bytes).sum();
    let secs = track.duration_secs();
    let avg = if secs > 0.0 {
        (total_bytes as f64 * 8.0 / secs) as u64
    } else {
        0
    };
    (peak, avg)
}

/// A track's (first) sample entry.
fn sample_entry(track: &Track) -> Option<&mp4_atom::Codec> {
    track.trak.mdia.minf.stbl.stsd.codecs.first()
}

/// The codec string of a track's sample entry, or why it cannot be packaged.
fn codec_of(track: &Track, unsupported: &str) -> Result<String, PackageError> {
    sample_entry(track)
        .and_then(codecs::codec_string)
        .ok_or_else(|| PackageError::Unsupported {
            path: track.file.clone(),
            what: unsupported.to_owned(),
        })
}

fn video_rendition(
    rung: &str,
    file: &str,
    source_bytes: u64,
    track: Track,
    segments: Vec<Segment>,
) -> Result<Rendition, PackageError> {
    let codec = codec_of(&track, "a video codec other than H.264, H.265 or AV1")?;
    let video_range = sample_entry(&track).map_or("SDR", codecs::video_range);
    let (width, height) = (
        u32::from(track.trak.tkhd.width.integer()),
        u32::from(track.trak.tkhd.height.integer()),
    );
    let frame_rate = track
        .samples
        .first()
        .filter(|s| s.duration > 0)
        .map(|s| f64::from(track.timescale) / f64::from(s.duration));
    let (peak_bps, average_bps) = bitrates(&track, &segments);
    Ok(Rendition {
        name: rung.to_owned(),
        source_file: file.to_owned(),
        source_bytes,
        track,
        segments,
        codec,
        video_range,
        width,
        height,
        frame_rate,
        peak_bps,
        average_bps,
        channels: 0,
        sample_rate_hz: 0,
    })
}

fn audio_rendition(
    file: &str,
    source_bytes: u64,
    track: Track,
    segments: Vec<Segment>,
) -> Result<Rendition, PackageError> {
    let entry = sample_entry(&track).cloned();
    let (channels, sample_rate_hz) = match &entry {
        // MP4 writers put 2 in the sample entry's channel count for any AAC; the
        // AudioSpecificConfig's channel configuration says what the track is (6: 5.1, 7: 7.1).
        Some(mp4_atom::Codec::Mp4a(m)) => (
            match m
                .esds
                .es_desc
                .dec_config
                .dec_specific
                .as_ref()
                .map(|d| d.chan_conf)
            {
                Some(c @ 1..=6) => u32::from(c),
                Some(7) => 8,
                _ => u32::from(m.audio.channel_count),
            },
            u32::from(m.audio.sample_rate.integer()),
        ),
        _ => (2, 48_000),
    };
    let codec = codec_of(&track, "an audio codec other than AAC")?;
    let (peak_bps, average_bps) = bitrates(&track, &segments);
    Ok(Rendition {
        name: "audio".to_owned(),
        source_file: file.to_owned(),
        source_bytes,
        track,
        segments,
        codec,
        video_range: "SDR",
        width: 0,
        height: 0,
        frame_rate: None,
        peak_bps,
        average_bps,
        channels,
        sample_rate_hz,
    })
}

/// The codec family of an RFC 6381 codec string: `avc1`/`avc3` are one family, `hvc1`/`hev1`
/// another, and so on.
pub fn codec_family(codec: &str) -> &str {
    match codec.split('.').next().unwrap_or(codec) {
        "avc1" | "avc3" => "avc",
        "hvc1" | "hev1" => "hevc",
        other => other,
    }
}

/// How many bits a family saves, for choosing between sets: AV1 before H.265 before H.264.
fn efficiency(family: &str) -> u8 {
    match family {
        "av01" => 3,
        "hevc" => 2,
        "vp09" => 1,
        _ => 0,
    }
}

/// Rungs grouped by codec family, the preferred set first: among the sets with rungs to adapt
/// between (two or more), SDR before HDR, then the most efficient codec (an AV1 ladder before its H.264 fallback
/// set), then by rung count (web-ladder's one H.265 4K rung does not take the lead from its
/// five H.264 rungs). Players that decode the first set start there; the others skip it by
/// its codec string. Each set keeps the selection's order.
/// HDR and SDR rungs of one codec are separate sets (a player switches within one range).
pub fn codec_sets<'a>(rungs: &[&'a Rendition]) -> Vec<Vec<&'a Rendition>> {
    grouped_by_codec(rungs, |r| (r.codec.as_str(), r.video_range))
}

fn grouped_by_codec<'c, T: Copy>(
    items: &[T],
    codec: impl Fn(&T) -> (&'c str, &'static str),
) -> Vec<Vec<T>> {
    let mut sets: Vec<((&str, &str), Vec<T>)> = Vec::new();
    for item in items {
        let (c, range) = codec(item);
        let key = (codec_family(c), range);
        match sets.iter_mut().find(|(k, _)| *k == key) {
            Some((_, set)) => set.push(*item),
            None => sets.push((key, vec![*item])),
        }
    }
    // A stable sort keeps the first-appearance order between equals. SDR before HDR: a
    // player that ignores the range signalling must not start on a picture its display
    // cannot show.
    sets.sort_by_key(|((family, range), set)| {
        let adapts = set.len() >= 2;
        std::cmp::Reverse((
            adapts,
            *range == "SDR",
            if adapts { efficiency(family) } else { 0 },
            set.len(),
        ))
    });
    sets.into_iter().map(|(_, set)| set).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_families() {
        assert_eq!(codec_family("avc1.4d401f"), codec_family("avc3.640028"));
        assert_eq!(
            codec_family("hvc1.1.6.L93.90"),
            codec_family("hev1.1.6.L120.90")
        );
        assert_ne!(codec_family("avc1.4d401f"), codec_family("hvc1.1.6.L93.90"));
        assert_eq!(codec_family("av01.0.01M.08"), "av01");
    }

    #[test]
    fn the_av1_set_leads_and_a_lone_hevc_rung_does_not() {
        let sets = |codecs: &[&'static str]| grouped_by_codec(codecs, |c| (*c, "SDR"));
        // web-ladder-av1 on a 540p source: two AV1 rungs lead one H.264 rung.
        assert_eq!(
            sets(&["avc1.4d401f", "av01.0.04M.08", "av01.0.01M.08"]),
            vec![vec!["av01.0.04M.08", "av01.0.01M.08"], vec!["avc1.4d401f"]]
        );
        // ... and on a 1080p source, AV1 still leads with as many H.264 rungs.
        assert_eq!(
            sets(&[
                "avc1.640028",
                "av01.0.08M.08",
                "avc1.4d401f",
                "av01.0.04M.08"
            ])[0],
            vec!["av01.0.08M.08", "av01.0.04M.08"]
        );
        // web-ladder on a 4K source: one H.265 rung does not lead five H.264 rungs.
        let web = sets(&[
            "hvc1.1.6.L150.90",
            "avc1.640028",
            "avc1.64001f",
            "avc1.4d401f",
            "avc1.4d401e",
            "avc1.4d4015",
        ]);
        assert_eq!(web[0].len(), 5);
        assert_eq!(web[1], vec!["hvc1.1.6.L150.90"]);
    }
}
