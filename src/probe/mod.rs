//! What a media file holds: container, duration, tags and every stream, read in-process
//! through the FFmpeg libraries. [`probe`] is the one entry point; [`MediaInfo`] is what the
//! planner, both backends and both front ends work from.
//!
//! JSON field names of these types are a stable interface (documented in the README).

pub mod borders;
pub mod files;
pub mod hdr;
mod read;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use read::{probe, probe_output, probe_sample};

/// Why a file could not be probed. Each message names the problem; the caller names the file.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The path does not exist or cannot be opened.
    #[error("cannot open {path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        reason: String,
    },
    /// The file is empty.
    #[error("{path} is empty (0 bytes): nothing to read; was the copy interrupted?")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The path is a directory.
    #[error("{path} is a folder, not a media file")]
    IsDirectory {
        /// The folder.
        path: PathBuf,
    },
    /// FFmpeg cannot recognise or parse the container.
    #[error("{path} is not a media file FFmpeg can read ({reason})")]
    NotMedia {
        /// The file.
        path: PathBuf,
        /// FFmpeg's description of the failure.
        reason: String,
    },
    /// The container opened but its media data stops short of what its index promises.
    #[error("{path} is truncated: {detail}; re-copy or re-export the file")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Where the data ends compared with where it should.
        detail: String,
    },
    /// The file holds no audio or video stream.
    #[error("{path} has no audio or video stream")]
    NoMedia {
        /// The file.
        path: PathBuf,
    },
}

impl ProbeError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Unreadable { path, .. }
            | Self::Empty { path }
            | Self::IsDirectory { path }
            | Self::NotMedia { path, .. }
            | Self::Truncated { path, .. }
            | Self::NoMedia { path } => path,
        }
    }
}

/// Everything Vodkit knows about one source file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    /// The file as given.
    pub path: PathBuf,
    /// The asset title: the file name without its extension.
    pub title: String,
    /// FFmpeg's demuxer name, such as `mov,mp4,m4a,3gp,3g2,mj2` or `matroska,webm`.
    pub container: String,
    /// A readable container name, such as `QuickTime / MOV`.
    pub container_long: Option<String>,
    /// Duration in seconds, when known.
    pub duration_secs: Option<f64>,
    /// File size in bytes.
    pub size_bytes: u64,
    /// Overall bitrate in bits per second (container's figure, else size / duration).
    pub bitrate_bps: Option<u64>,
    /// `creation_time` tag (ISO 8601), as cameras and phones write it.
    pub creation_time: Option<String>,
    /// Recording location as an ISO 6709 string (`+48.8584+002.2945/`), from phone tags.
    pub location: Option<String>,
    /// Every stream in file order.
    pub streams: Vec<StreamInfo>,
    /// Things a user should know before converting (rotation, interlacing, HDR, VFR, ...).
    pub warnings: Vec<String>,
    /// Subtitle files next to the source (`movie.en.srt`), read when probing.
    #[serde(
        default,
        skip_serializing_if = "crate::subtitles::sidecar::Survey::is_empty"
    )]
    pub sidecars: crate::subtitles::sidecar::Survey,
    /// Chapters (MP4/MOV chapter tracks, Matroska chapters), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chapters: Vec<Chapter>,
    /// Descriptive tags kept with the metadata (title, artist, comment...), as (key, value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
}

/// The container tags kept when a preset keeps metadata (besides time and place).
pub const KEPT_TAGS: [&str; 9] = [
    "title",
    "artist",
    "album_artist",
    "album",
    "comment",
    "description",
    "copyright",
    "genre",
    "date",
];

/// A chapter of the source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chapter {
    /// Start, seconds on the container's clock.
    pub start_secs: f64,
    /// End, seconds on the container's clock.
    pub end_secs: f64,
    /// Its title, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// The kind of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamKind {
    /// Pictures.
    Video,
    /// Sound.
    Audio,
    /// Text or bitmap subtitles.
    Subtitle,
    /// Timed metadata, timecode and other data tracks.
    Data,
    /// Fonts and other attachments.
    Attachment,
    /// Anything else.
    Unknown,
}

/// One stream of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamInfo {
    /// Index in the container.
    pub index: usize,
    /// What it carries.
    pub kind: StreamKind,
    /// Codec short name (`h264`, `hevc`, `aac`, `mov_text`, ...).
    pub codec: String,
    /// Codec profile name (`High`, `Main 10`, `LC`), when the codec has profiles.
    pub profile: Option<String>,
    /// Stream bitrate in bits per second, when the container states it.
    pub bitrate_bps: Option<u64>,
    /// Stream duration in seconds, when known.
    pub duration_secs: Option<f64>,
    /// First presentation time in seconds as the demuxer reports it (after edit lists), when
    /// known: MPEG-TS/PS camera files start at arbitrary times, and audio and video rarely
    /// start together.
    #[serde(default)]
    pub start_secs: Option<f64>,
    /// ISO 639 language tag, when set and not `und`.
    pub language: Option<String>,
    /// `handler_name` or `title` tag, when present.
    pub title: Option<String>,
    /// The container's flags for the stream that matter to players: `default`, `forced`,
    /// `hearing_impaired`, `visual_impaired`, `comment`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// Video details, for video streams.
    pub video: Option<VideoInfo>,
    /// Audio details, for audio streams.
    pub audio: Option<AudioInfo>,
}

/// Details of a video stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    /// Codec level as written (`3.1`, `4.2`, `5.1`), when set.
    pub level: Option<String>,
    /// Coded width in pixels.
    pub width: u32,
    /// Coded height in pixels.
    pub height: u32,
    /// Sample (pixel) aspect ratio as `num:den`; `1:1` for square pixels.
    pub sample_aspect_ratio: String,
    /// Display aspect ratio as `num:den`, before rotation.
    pub display_aspect_ratio: String,
    /// Clockwise rotation in degrees (0, 90, 180, 270) a player applies before display.
    pub rotation_deg: u32,
    /// Width a viewer sees: square pixels, after rotation.
    pub display_width: u32,
    /// Height a viewer sees: square pixels, after rotation.
    pub display_height: u32,
    /// Average frame rate in frames per second.
    pub avg_frame_rate: Option<f64>,
    /// Average frame rate as FFmpeg's exact fraction (`30000/1001`).
    pub avg_frame_rate_ratio: Option<String>,
    /// FFmpeg's "real" base frame rate: the lowest rate all timestamps fit.
    pub real_frame_rate: Option<f64>,
    /// True when frame durations vary (phones often record this way).
    pub variable_frame_rate: bool,
    /// Number of frames, when the container states it.
    pub frame_count: Option<u64>,
    /// Pixel format name (`yuv420p`, `yuv420p10le`).
    pub pixel_format: Option<String>,
    /// Bits per colour sample (8, 10, 12).
    pub bit_depth: Option<u32>,
    /// Colour primaries (`bt709`, `bt2020`), when signalled.
    pub color_primaries: Option<String>,
    /// Transfer characteristic (`bt709`, `smpte2084`, `arib-std-b67`), when signalled.
    pub color_transfer: Option<String>,
    /// Matrix coefficients (`bt709`, `bt2020nc`), when signalled.
    pub color_matrix: Option<String>,
    /// `tv` (limited) or `pc` (full) range, when signalled.
    pub color_range: Option<String>,
    /// `PQ` or `HLG` for high dynamic range video, else `None`.
    pub hdr: Option<String>,
    /// The HDR10 mastering display and content light levels, when the source states them.
    #[serde(default, skip_serializing_if = "hdr::HdrMetadata::is_empty")]
    pub hdr_metadata: hdr::HdrMetadata,
    /// `progressive`, `tff` (top field first), `bff`, `tb`, `bt`, or `unknown`.
    pub field_order: String,
    /// True for interlaced video.
    pub interlaced: bool,
    /// Black borders found on pictures across the source (letterbox, pillarbox), in stored
    /// pixels; absent when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub black_borders: Option<borders::Borders>,
}

/// Details of an audio stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioInfo {
    /// Number of channels.
    pub channels: u32,
    /// Channel layout name (`mono`, `stereo`, `5.1`), when known.
    pub channel_layout: Option<String>,
    /// Sample rate in hertz.
    pub sample_rate_hz: u32,
}

impl MediaInfo {
    /// The first video stream (the one a conversion uses), if any.
    pub fn video(&self) -> Option<(&StreamInfo, &VideoInfo)> {
        self.streams
            .iter()
            .find_map(|s| s.video.as_ref().map(|v| (s, v)))
    }

    /// The first audio stream (the one a conversion uses), if any.
    pub fn audio(&self) -> Option<(&StreamInfo, &AudioInfo)> {
        self.streams
            .iter()
            .find_map(|s| s.audio.as_ref().map(|a| (s, a)))
    }

    /// The video bitrate in bits per second: the stream's own figure, else the overall
    /// bitrate less the audio streams'.
    pub fn video_bitrate_bps(&self) -> Option<u64> {
        let (stream, _) = self.video()?;
        if let Some(bps) = stream.bitrate_bps {
            return Some(bps);
        }
        let audio_bps: u64 = self
            .streams
            .iter()
            .filter(|s| s.kind == StreamKind::Audio)
            .filter_map(|s| s.bitrate_bps)
            .sum();
        self.bitrate_bps
            .map(|total| total.saturating_sub(audio_bps))
            .filter(|&bps| bps > 0)
    }
}
