//! Presets: what to make from a source (rungs, encoder settings, audio, stills, packaging),
//! read from TOML. The same preset drives the local and the cloud backend.
//!
//! Built-in presets live in `presets/*.toml` and are compiled into the binary; user presets
//! live in the OS config folder (see [`store`]).

pub mod levels;
pub mod store;
mod validate;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use validate::{Problem, gop_is_whole_frames, validate};

/// Why a preset could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// The TOML did not parse or has fields we do not know.
    #[error("{origin}: {message}")]
    Syntax {
        /// The file or built-in name.
        origin: String,
        /// The parser's message with line and column.
        message: String,
    },
    /// The preset parsed but asks for something impossible.
    #[error("{origin}: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The file or built-in name.
        origin: String,
        /// Every problem found, each naming its rung and field.
        problems: Vec<Problem>,
    },
    /// No preset has this name.
    #[error("no preset named '{name}' (known: {known}); `vodkit presets` lists them")]
    NotFound {
        /// The name asked for.
        name: String,
        /// Names that exist.
        known: String,
    },
    /// A file operation on the preset folder failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Import or delete refused.
    #[error("{0}")]
    Refused(String),
}

/// A complete preset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Short name used on the command line and as the file name (`web-ladder`).
    pub name: String,
    /// One line for people.
    #[serde(default)]
    pub description: String,
    /// Output container of the rungs.
    #[serde(default)]
    pub container: Container,
    /// Settings shared by every rung's video encoder.
    #[serde(default)]
    pub video: VideoSettings,
    /// The audio track muxed into every rung.
    #[serde(default)]
    pub audio: AudioSettings,
    /// Cover stills taken from the video.
    #[serde(default)]
    pub stills: StillsSettings,
    /// HLS and DASH packaging of the rungs.
    #[serde(default)]
    pub packaging: PackagingSettings,
    /// What source metadata is carried over.
    #[serde(default)]
    pub metadata: MetadataSettings,
    /// Measuring every rung's quality (VMAF, SSIM, PSNR) while it is encoded.
    #[serde(default)]
    pub quality: QualitySettings,
    /// How the ladder is fitted to each source (`fixed`: as written; `per-title`: measured).
    #[serde(default)]
    pub fit: FitSettings,
    /// Subtitle tracks.
    #[serde(default)]
    pub subtitles: SubtitleSettings,
    /// The rungs, largest or smallest first as you like; manifests sort them by
    /// `packaging.rung_order`. Empty for audio-only presets.
    #[serde(default, rename = "rung")]
    pub rungs: Vec<Rung>,
}

/// One rung of a ladder: a box the picture is fitted into, and how it is encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rung {
    /// Box width in pixels (landscape; portrait sources get the box turned).
    pub width: u32,
    /// Box height in pixels.
    pub height: u32,
    /// Video codec.
    #[serde(default)]
    pub codec: Codec,
    /// Codec profile; absent: High for H.264, Main for H.265 and AV1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// Codec level (`3.1`, `4.2`), or `auto` for the lowest that holds the rung.
    #[serde(default = "auto")]
    pub level: String,
    /// Peak bitrate in bits per second (QVBR cap; VBV buffer is a multiple of it).
    pub max_bitrate_bps: u64,
    /// Highest frame rate; sources above it drop frames evenly. Absent: the source's rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_rate: Option<f64>,
}

impl Rung {
    /// The profile to encode with.
    pub fn profile(&self) -> Profile {
        self.profile.unwrap_or(match self.codec {
            Codec::H264 => Profile::High,
            Codec::H265 | Codec::Av1 => Profile::Main,
        })
    }

    /// The level as the tables name it, or `None` for `auto`.
    pub fn fixed_level(&self) -> Option<&'static str> {
        levels::normalise(self.codec, &self.level)
    }
}

fn auto() -> String {
    "auto".to_owned()
}

/// Video codecs a rung can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    /// H.264 / AVC through libx264.
    #[default]
    H264,
    /// H.265 / HEVC through libx265, tagged `hvc1`.
    H265,
    /// AV1 through SVT-AV1 (libavcodec's libsvtav1), Main profile, tagged `av01`.
    Av1,
}

impl Codec {
    /// The FFmpeg codec name (`h264`, `hevc`, `av1`).
    pub fn ffmpeg_name(self) -> &'static str {
        match self {
            Self::H264 => "h264",
            Self::H265 => "hevc",
            Self::Av1 => "av1",
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::H264 => "H.264",
            Self::H265 => "H.265",
            Self::Av1 => "AV1",
        })
    }
}

/// Codec profiles. Outputs are 8-bit 4:2:0, so H.265 uses Main.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// H.264 Constrained Baseline: no B-frames, no CABAC; for very old devices.
    Baseline,
    /// H.264 Main, H.265 Main or AV1 Main (4:2:0, 8 or 10 bits).
    Main,
    /// H.264 High.
    High,
    /// H.265 Main 10 (10-bit 4:2:0): what an HDR rung is made with.
    Main10,
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Baseline => "Baseline",
            Self::Main => "Main",
            Self::High => "High",
            Self::Main10 => "Main 10",
        })
    }
}

/// Output container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// MP4 with the index first (progressive download).
    #[default]
    Mp4,
    /// Audio-only MP4 (`.m4a`), for audio-only presets.
    M4a,
}

/// Adaptive quantisation strength, as MediaConvert names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdaptiveQuantization {
    /// No adaptive quantisation.
    Off,
    /// Light.
    Low,
    /// Medium.
    Medium,
    /// Strong (the reference pipeline's choice).
    #[default]
    High,
    /// Stronger.
    Higher,
    /// Strongest.
    Max,
}

/// Encoder settings shared by every rung.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VideoSettings {
    /// Quality level 1-10 as in MediaConvert QVBR (10 best), mapped to a constant-quality
    /// setting and capped by each rung's max bitrate.
    pub quality_level: u8,
    /// Seconds between IDR frames; every rung has an IDR on every multiple of it.
    pub gop_secs: f64,
    /// Closed GOPs (no frame refers across an IDR), needed to cut segments anywhere.
    pub closed_gop: bool,
    /// B-frames between reference frames.
    pub b_frames: u32,
    /// Reference frames.
    pub reference_frames: u32,
    /// Extra (non-IDR) I-frames at scene cuts.
    pub scene_change_detection: bool,
    /// Adaptive quantisation strength.
    pub adaptive_quantization: AdaptiveQuantization,
    /// VBV/HRD buffer size as a multiple of the rung's max bitrate.
    pub hrd_buffer_factor: f64,
    /// Initial HRD buffer fill, percent.
    pub hrd_initial_fill_percent: u8,
    /// Keep the source aspect ratio inside each rung's box (false stretches to the box).
    pub keep_aspect: bool,
    /// Encoder speed preset (x264/x265 names: `ultrafast` ... `veryslow`).
    pub speed: String,
    /// What an HDR (PQ or HLG) source becomes.
    pub hdr: HdrMode,
    /// Black borders: `"auto"` (those probe finds), `"none"`, or
    /// `{ top, bottom, left, right }` in source pixels.
    pub crop: Crop,
    /// Noise reduction before scaling, for grainy or noisy sources (off by default).
    pub denoise: Denoise,
    /// Soften the block edges of an over-compressed source before scaling.
    pub deblock: bool,
}

/// Noise reduction strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Denoise {
    /// None.
    #[default]
    Off,
    /// A light spatial and temporal smoothing (FFmpeg's hqdn3d at 3/4 of its defaults).
    Light,
    /// hqdn3d at 1.5 times its defaults.
    Medium,
    /// Non-local means (nlmeans): the most noise gone with the least detail lost, slow.
    Strong,
}

impl Denoise {
    /// The FFmpeg filter, or `None` when off.
    pub fn filter(self) -> Option<&'static str> {
        match self {
            Self::Off => None,
            Self::Light => Some("hqdn3d=3:2.25:4.5:3.4"),
            Self::Medium => Some("hqdn3d=6:4.5:9:6.75"),
            Self::Strong => Some("nlmeans=s=4:p=7:r=15"),
        }
    }
}

/// How black borders (letterbox, pillarbox) are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Crop {
    /// `"auto"` or `"none"`.
    Mode(CropMode),
    /// These many pixels off each side of the stored picture.
    Manual(crate::probe::borders::Borders),
}

impl Default for Crop {
    fn default() -> Self {
        Self::Mode(CropMode::Auto)
    }
}

/// `crop = "auto" | "none"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CropMode {
    /// Remove the borders probe finds on pictures across the source.
    Auto,
    /// Keep every pixel.
    None,
}

/// What happens to an HDR source's dynamic range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HdrMode {
    /// Every rung is tone-mapped to SDR BT.709, 8-bit: plays everywhere.
    #[default]
    Tonemap,
    /// H.265 rungs (Main 10) and AV1 rungs (10-bit) stay HDR, with the source's transfer (PQ
    /// or HLG), BT.2020 colour and HDR10 metadata; H.264 rungs are tone-mapped SDR beside them.
    Keep,
}

impl Default for VideoSettings {
    fn default() -> Self {
        Self {
            quality_level: 8,
            gop_secs: 2.0,
            closed_gop: true,
            b_frames: 1,
            reference_frames: 3,
            scene_change_detection: true,
            adaptive_quantization: AdaptiveQuantization::High,
            hrd_buffer_factor: 2.0,
            hrd_initial_fill_percent: 90,
            keep_aspect: true,
            speed: "medium".to_owned(),
            hdr: HdrMode::Tonemap,
            crop: Crop::default(),
            denoise: Denoise::Off,
            deblock: false,
        }
    }
}

/// Audio codecs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AudioCodec {
    /// AAC Low Complexity, MPEG-4 syntax.
    #[default]
    AacLc,
    /// No audio track in the outputs.
    None,
}

/// The audio track, encoded once and muxed into every rung.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AudioSettings {
    /// Codec.
    pub codec: AudioCodec,
    /// Constant bitrate in bits per second.
    pub bitrate_bps: u64,
    /// Sample rate in hertz.
    pub sample_rate_hz: u32,
    /// 1 (mono) or 2 (stereo); 5.1 sources are downmixed, mono sources upmixed.
    pub channels: u32,
    /// Which of the source's audio streams the outputs carry, by language (ISO 639: `en`,
    /// `fra`), the first listed the main one; empty: every audio stream, the source's first
    /// (or default) the main one.
    pub languages: Vec<String>,
    /// Also keep a 5.1 (or wider) main track as a 5.1 AAC-LC track beside the stereo one, in
    /// every rung and as its own HLS/DASH rendition.
    pub surround: bool,
    /// Bitrate of that 5.1 track, bits per second.
    pub surround_bitrate_bps: u64,
    /// Integrated loudness every track is brought to, LUFS (ITU-R BS.1770, EBU R128), by one
    /// gain measured over the whole track; absent: the source's level is kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loudness_lufs: Option<f64>,
    /// Highest true peak after that gain, dBTP (a true-peak limiter holds it; -1 when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub true_peak_dbtp: Option<f64>,
}

/// The true-peak ceiling when a preset sets a loudness but no ceiling, dBTP.
pub const DEFAULT_TRUE_PEAK_DBTP: f64 = -1.0;

impl Default for AudioSettings {
    fn default() -> Self {
        Self {
            codec: AudioCodec::AacLc,
            bitrate_bps: 160_000,
            sample_rate_hz: 48_000,
            channels: 2,
            languages: Vec::new(),
            surround: false,
            surround_bitrate_bps: 384_000,
            loudness_lufs: None,
            true_peak_dbtp: None,
        }
    }
}

/// Still image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StillFormat {
    /// JPEG.
    #[default]
    Jpeg,
    /// PNG.
    Png,
}

/// Cover stills spread evenly through the video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StillsSettings {
    /// How many; 0 for none.
    pub count: u32,
    /// Width in pixels (height follows the picture's aspect ratio).
    pub width: u32,
    /// Image format.
    pub format: StillFormat,
}

impl Default for StillsSettings {
    fn default() -> Self {
        Self {
            count: 5,
            width: 640,
            format: StillFormat::Jpeg,
        }
    }
}

/// Order of rungs in manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RungOrder {
    /// Highest bitrate first.
    #[default]
    Desc,
    /// Lowest bitrate first (some players start on the first listed rung).
    Asc,
}

/// HLS and DASH packaging of the rungs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PackagingSettings {
    /// Make HLS.
    pub hls: bool,
    /// HLS segment length in seconds (a whole number of GOPs).
    pub hls_segment_secs: f64,
    /// Write I-frame-only playlists (trick play, thumbnails while scrubbing).
    pub hls_iframe_playlists: bool,
    /// Audio as its own rendition group shared by every variant. Must be true: the CMAF audio
    /// is one track that HLS and DASH share; muxing it into every variant would copy it.
    pub hls_audio_group: bool,
    /// Make DASH.
    pub dash: bool,
    /// DASH segment length in seconds (a whole number of GOPs).
    pub dash_segment_secs: f64,
    /// DASH `minBufferTime` in seconds.
    pub dash_min_buffer_secs: f64,
    /// Order of rungs in the manifests.
    pub rung_order: RungOrder,
}

impl Default for PackagingSettings {
    fn default() -> Self {
        Self {
            hls: false,
            hls_segment_secs: 6.0,
            hls_iframe_playlists: true,
            hls_audio_group: true,
            dash: false,
            dash_segment_secs: 2.0,
            dash_min_buffer_secs: 30.0,
            rung_order: RungOrder::Desc,
        }
    }
}

/// Source metadata carried into the outputs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataSettings {
    /// Keep the creation time and GPS location a phone recorded, and the descriptive tags
    /// (title, artist, album, comment, description, copyright, genre, date).
    pub keep_phone_metadata: bool,
}

/// Which subtitle tracks a title publishes (the source's text streams and sidecar files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubtitleSettings {
    /// Publish subtitles at all.
    pub keep: bool,
    /// Read sidecar files next to the source (`movie.en.srt`, `movie.fr.vtt`).
    pub sidecars: bool,
    /// Only these languages (ISO 639 codes: `en`, `fra`); empty keeps every track.
    pub languages: Vec<String>,
    /// The language players show without being asked (else none: subtitles stay off until
    /// chosen, forced tracks aside).
    pub default_language: Option<String>,
    /// Burn this language's subtitles into the picture (for players that show no subtitle
    /// tracks: messaging apps); that track is then not published as text.
    #[serde(alias = "burn_subtitles")]
    pub burn: Option<String>,
}

impl Default for SubtitleSettings {
    fn default() -> Self {
        Self {
            keep: true,
            sidecars: true,
            languages: Vec::new(),
            default_language: None,
            burn: None,
        }
    }
}

/// How a ladder is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FitMode {
    /// The rungs as written (capped by the source).
    #[default]
    Fixed,
    /// Measured per source: `vodkit plan` samples it and reads the ladder off the
    /// rate-quality hull of the rungs' sizes.
    PerTitle,
    /// In the cloud, MediaConvert's automated ABR picks the renditions (among the rungs'
    /// sizes, at most `max_renditions`, between the fit's bitrates), billed as 2-pass
    /// Professional encodes; locally the rungs are made as written.
    MediaconvertAuto,
}

/// The per-title fit's goals (see `plan::per_title`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FitSettings {
    /// `fixed`, `per-title` or `mediaconvert-auto`.
    pub mode: FitMode,
    /// The top rung's VMAF.
    pub target_vmaf: f64,
    /// The least VMAF a rung must add over the one below it.
    pub min_vmaf_step: f64,
    /// No rung below this.
    pub min_bitrate_bps: u64,
    /// No rung above this (absent: the largest rung's `max_bitrate_bps`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bitrate_bps: Option<u64>,
    /// `mediaconvert-auto`: the most renditions MediaConvert may make (3-15).
    pub max_renditions: u32,
}

impl Default for FitSettings {
    fn default() -> Self {
        Self {
            mode: FitMode::Fixed,
            target_vmaf: 95.0,
            min_vmaf_step: 3.0,
            min_bitrate_bps: 150_000,
            max_bitrate_bps: None,
            max_renditions: 6,
        }
    }
}

/// The largest preset text read (the built-ins are under 3 KB; 16 rungs take about 3 KB): a
/// bound on what a crafted file can make the parser allocate.
pub const MAX_PRESET_BYTES: usize = 64 * 1024;

/// Quality measured during local encodes (the cloud backend does not measure: MediaConvert
/// has no VMAF; score its downloaded rungs with `vodkit quality`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QualitySettings {
    /// Score every rung against the prepared source as it is encoded.
    pub measure: bool,
    /// Score every N-th frame (1: all).
    pub every: u32,
}

impl Default for QualitySettings {
    fn default() -> Self {
        Self {
            measure: false,
            every: 1,
        }
    }
}

impl Preset {
    /// Parses and validates a preset. `origin` names the file (or built-in) in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, PresetError> {
        if text.len() > MAX_PRESET_BYTES {
            return Err(PresetError::Syntax {
                origin: origin.to_owned(),
                message: format!(
                    "{} bytes is not a preset (a preset is a few KB; at most {MAX_PRESET_BYTES} bytes are read)",
                    text.len()
                ),
            });
        }
        let preset: Self = toml::from_str(text).map_err(|e| PresetError::Syntax {
            origin: origin.to_owned(),
            message: e.to_string().trim_end().replace('\n', "\n  "),
        })?;
        let problems = validate(&preset);
        if problems.is_empty() {
            Ok(preset)
        } else {
            Err(PresetError::Invalid {
                origin: origin.to_owned(),
                problems,
            })
        }
    }

    /// The preset as TOML, in the same layout as the built-in files.
    pub fn to_toml(&self) -> String {
        // Serialising plain structs of numbers, strings and enums cannot fail.
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// True when the preset makes audio only (no rungs).
    pub fn is_audio_only(&self) -> bool {
        self.rungs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let err = Preset::from_toml("name = \"x\"\nbitrate = 3\n", "my.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("my.toml:"), "{msg}");
        assert!(msg.contains("bitrate"), "{msg}");
    }

    #[test]
    fn defaults_fill_what_a_preset_leaves_out() {
        let p = Preset::from_toml(
            "name = \"small\"\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 700000\n",
            "small.toml",
        )
        .expect("valid");
        assert_eq!(p.video.quality_level, 8);
        assert_eq!(p.video.gop_secs, 2.0);
        assert_eq!(p.rungs[0].level, "auto");
        assert_eq!(p.audio.bitrate_bps, 160_000);
    }

    #[test]
    fn a_preset_with_a_million_rungs_is_refused_before_parsing() {
        let rung = "[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 700000\n";
        let text = format!("name = \"huge\"\n{}", rung.repeat(1_000_000));
        let err = Preset::from_toml(&text, "huge.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("huge.toml:") && err.contains("not a preset"),
            "{err}"
        );
        // Seventeen rungs parse, and the check names the limit.
        let text = format!("name = \"many\"\n{}", rung.repeat(17));
        let err = Preset::from_toml(&text, "many.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("at most 16"), "{err}");
    }

    #[test]
    fn toml_round_trips() {
        let p = Preset::from_toml(
            "name = \"rt\"\n[[rung]]\nwidth = 1280\nheight = 720\nmax_bitrate_bps = 3500000\nframe_rate = 30.0\n",
            "rt.toml",
        )
        .expect("valid");
        let again = Preset::from_toml(&p.to_toml(), "again").expect("round trip");
        assert_eq!(p, again);
    }
}
