//! A plan is a preset fitted to one source: which rungs are made (kept, resized, capped) or
//! dropped and why, at what size, frame rate, level and bitrate, what happens to the picture
//! on the way (rotation, deinterlacing, HDR), the audio, the stills and the estimated sizes.
//!
//! Pure logic over a [`MediaInfo`] and a [`Preset`]: both backends and both front ends show
//! and run the same plan.

mod colour;
pub mod per_title;
pub mod subtitles;
pub mod target_size;
mod trim;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use colour::ColourIn;
pub use trim::trim;

use crate::preset::{AudioCodec, Codec, Preset, Profile, gop_is_whole_frames, levels};
use crate::probe::MediaInfo;
use crate::timing::{KeyframeGrid, Timeline};
use crate::units::{even_floor, even_round, reduce};

/// Why a source cannot be planned with a preset.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A video preset on a file without video.
    #[error("{path} has no video stream; use an audio-only preset such as podcast-audio")]
    NoVideo {
        /// The source.
        path: PathBuf,
    },
    /// An audio-only preset on a file without audio.
    #[error("{path} has no audio stream, and preset '{preset}' makes audio only")]
    NoAudio {
        /// The source.
        path: PathBuf,
        /// The preset.
        preset: String,
    },
    /// A subtitle sidecar file that does not read (file and line named).
    #[error("{reason}; fix the file, remove it, or set [subtitles] sidecars = false")]
    Subtitles {
        /// Which file, line and why.
        reason: String,
    },
    /// The video stream has no usable size.
    #[error("{path}: the video stream has no picture size; the file may be damaged")]
    NoPictureSize {
        /// The source.
        path: PathBuf,
    },
    /// The preset's crop leaves no picture.
    #[error(
        "{path}: the preset's crop (top {}, bottom {}, left {}, right {}) leaves less than 16x16 of the {width}x{height} picture; make it smaller or set crop = \"auto\"",
        crop.top, crop.bottom, crop.left, crop.right
    )]
    CropTooLarge {
        /// The source.
        path: PathBuf,
        /// The crop asked for.
        crop: crate::probe::borders::Borders,
        /// The stored picture's width.
        width: u32,
        /// The stored picture's height.
        height: u32,
    },
}

/// A frame rate as an exact fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameRate {
    /// Frames ...
    pub num: u32,
    /// ... per this many seconds.
    pub den: u32,
}

impl FrameRate {
    /// Frames per second.
    pub fn fps(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// The rate divided by a whole number (every n-th frame kept), reduced.
    pub fn divided(self, by: u32) -> Self {
        let (num, den) = reduce(u64::from(self.num), u64::from(self.den) * u64::from(by));
        Self {
            num: num as u32,
            den: den as u32,
        }
    }

    /// Parses `30000/1001`.
    pub fn parse(ratio: &str) -> Option<Self> {
        let (n, d) = ratio.split_once('/')?;
        let (num, den) = (n.trim().parse().ok()?, d.trim().parse().ok()?);
        (num > 0 && den > 0).then_some(Self { num, den })
    }
}

impl std::fmt::Display for FrameRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fps = self.fps();
        if (fps - fps.round()).abs() < 1e-9 {
            write!(f, "{fps:.0}")
        } else {
            write!(f, "{fps:.3}")
        }
    }
}

/// Rates people and devices use; measured rates snap to the nearest within tolerance.
const COMMON_RATES: [(u32, u32); 12] = [
    (24000, 1001),
    (24, 1),
    (25, 1),
    (30000, 1001),
    (30, 1),
    (48, 1),
    (50, 1),
    (60000, 1001),
    (60, 1),
    (100, 1),
    (120000, 1001),
    (120, 1),
];

/// What happens to a rung.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RungStatus {
    /// Made as the preset says.
    Kept,
    /// Made at another size than the preset's box (aspect ratio, portrait, source size).
    Resized,
    /// Made with a lower max bitrate than the preset's (the source has less).
    Capped,
    /// Not made.
    Dropped,
}

/// One rung of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedRung {
    /// Display name, the height with a `p` (`720p`); the output file uses it.
    pub name: String,
    /// The rung's position in the preset (0-based).
    pub preset_index: usize,
    /// Kept, resized, capped or dropped.
    pub status: RungStatus,
    /// Also resized (when the status says capped or dropped).
    pub resized: bool,
    /// Also capped.
    pub capped: bool,
    /// Why it was resized, capped or dropped, in words.
    pub reasons: Vec<String>,
    /// Output width in pixels (even).
    pub width: u32,
    /// Output height in pixels (even).
    pub height: u32,
    /// Codec.
    pub codec: Codec,
    /// Profile.
    pub profile: Profile,
    /// Level as the tables name it (`3.1`), resolved when the preset says `auto`.
    pub level: String,
    /// Peak bitrate in bits per second.
    pub max_bitrate_bps: u64,
    /// VBV/HRD buffer in bits.
    pub buffer_bits: u64,
    /// Output frame rate.
    pub frame_rate: FrameRate,
    /// Keep every n-th source frame (1 keeps all).
    pub frame_step: u32,
    /// Frames per GOP (an IDR frame every `gop_secs` of presentation time).
    pub gop_frames: u32,
    /// Estimated file size in bytes (video at the quality level's typical fill, plus audio;
    /// from the samples when the ladder was fitted per title).
    pub estimated_bytes: u64,
    /// This rung's quality level (1-10) over the preset's: a per-title fit picks the level
    /// whose rate reaches the rung's bitrate, which then caps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_level: Option<u8>,
    /// An average bitrate reached in two passes instead of a quality level (target size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub two_pass: Option<TwoPass>,
    /// VMAF predicted from the samples (per-title fits and target sizes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_vmaf: Option<f64>,
    /// The source's HDR kept on this rung (H.265 Main 10 or 10-bit AV1); `None`: SDR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hdr: Option<KeptHdr>,
}

/// An HDR rung: the source's transfer, BT.2020 colour and HDR10 metadata, 10-bit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptHdr {
    /// `PQ` (SMPTE ST 2084) or `HLG` (ARIB STD-B67).
    pub transfer: String,
    /// The source's mastering display and content light levels, passed on.
    #[serde(
        default,
        skip_serializing_if = "crate::probe::hdr::HdrMetadata::is_empty"
    )]
    pub metadata: crate::probe::hdr::HdrMetadata,
}

impl KeptHdr {
    /// True for HLG, false for PQ.
    pub fn is_hlg(&self) -> bool {
        self.transfer == "HLG"
    }
}

/// A two-pass encode to an average bitrate: the first pass writes `stats`, the second reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwoPass {
    /// Average video bitrate over the whole file.
    pub bitrate_bps: u64,
    /// 1 (analysis, output thrown away) or 2 (the file).
    pub pass: u8,
    /// The encoder's statistics file.
    pub stats: PathBuf,
}

impl PlannedRung {
    /// True when the rung is made.
    pub fn is_made(&self) -> bool {
        self.status != RungStatus::Dropped
    }
}

/// What happens to every picture before it is scaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PictureTransform {
    /// Clockwise rotation applied to the pixels (0, 90, 180, 270).
    pub rotate_deg: u32,
    /// Deinterlace (the source is interlaced).
    pub deinterlace: bool,
    /// `PQ` or `HLG` when an HDR source is converted to SDR BT.709.
    pub hdr_to_sdr: Option<String>,
    /// Resize non-square pixels to square ones.
    pub square_pixels: bool,
    /// Source frames are retimed to a constant rate (the source is VFR).
    pub constant_rate: bool,
    /// The source's colour, converted to BT.709 limited range when it is anything else.
    #[serde(default)]
    pub colour: ColourIn,
    /// Black borders removed first (stored pixels, before rotation and square pixels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crop: Option<crate::probe::borders::Borders>,
    /// Noise reduction before scaling.
    #[serde(default, skip_serializing_if = "is_off")]
    pub denoise: crate::preset::Denoise,
    /// Block edges softened before scaling.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deblock: bool,
}

fn is_off(d: &crate::preset::Denoise) -> bool {
    *d == crate::preset::Denoise::Off
}

/// A track brought to a loudness: the target, and once the encode has measured the track,
/// what it measured and the gain it applied.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Loudness {
    /// Integrated loudness aimed at, LUFS.
    pub target_lufs: f64,
    /// True-peak ceiling, dBTP.
    pub true_peak_dbtp: f64,
    /// The track's integrated loudness as measured (BS.1770 via FFmpeg's ebur128), LUFS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_lufs: Option<f64>,
    /// The track's true peak as measured, dBTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_true_peak_dbtp: Option<f64>,
    /// The gain applied, dB (the limiter then holds the ceiling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gain_db: Option<f64>,
}

/// How far under the true-peak ceiling the limiter holds, dB: the oversampled limiter sees
/// most of what a true-peak meter finds, and AAC coding adds overshoot of its own (measured:
/// a limit 0.5 dB under a -1.5 dBTP ceiling came out at -1.1 dBTP).
pub const LIMITER_MARGIN_DB: f64 = 1.0;

/// The most a quiet track is raised, dB: beyond this its noise floor would come up with it.
pub const MAX_LOUDNESS_GAIN_DB: f64 = 30.0;

impl Loudness {
    /// In words: the target, and what was measured and done once it was.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "loudness to {:.1} LUFS, true peak at most {:.1} dBTP",
            self.target_lufs, self.true_peak_dbtp
        );
        match (
            self.measured_lufs,
            self.measured_true_peak_dbtp,
            self.gain_db,
        ) {
            (Some(m), tp, Some(g)) => {
                s.push_str(&format!(" (measured {m:.1} LUFS"));
                if let Some(tp) = tp {
                    s.push_str(&format!(", peak {tp:.1} dBTP"));
                }
                s.push_str(&format!("; gain {g:+.1} dB)"));
            }
            (Some(_), _, None) => s.push_str(" (silent: left as it is)"),
            _ => s.push_str(" (measured when encoding)"),
        }
        s
    }

    /// The gain that brings `measured_lufs` to the target (capped at
    /// [`MAX_LOUDNESS_GAIN_DB`]), or `None` for a silent track.
    pub fn gain_for(&self, measured_lufs: f64) -> Option<f64> {
        (measured_lufs.is_finite() && measured_lufs > -70.0)
            .then(|| (self.target_lufs - measured_lufs).min(MAX_LOUDNESS_GAIN_DB))
    }

    /// The filters that apply the measured gain: the gain, then (when the peaks would pass
    /// the ceiling) a limiter at four times the rate, so peaks between samples are held too,
    /// with its delay compensated. Empty before measuring.
    pub fn filters(&self, sample_rate_hz: u32) -> String {
        let Some(gain) = self.gain_db else {
            return String::new();
        };
        let mut f = format!(",volume={gain:.2}dB:precision=float");
        let peak_after = self.measured_true_peak_dbtp.map(|p| p + gain);
        if peak_after.is_none_or(|p| p > self.true_peak_dbtp - LIMITER_MARGIN_DB) {
            let limit = 10f64
                .powf((self.true_peak_dbtp - LIMITER_MARGIN_DB) / 20.0)
                .clamp(0.0625, 1.0);
            f.push_str(&format!(
                ",aresample={},alimiter=limit={limit:.5}:attack=1:release=60:level=false:latency=true,aresample={sample_rate_hz}",
                4 * sample_rate_hz
            ));
        }
        f
    }
}

/// The audio track of the outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedAudio {
    /// Source stream index.
    pub source_index: usize,
    /// Codec of the outputs (`aac-lc`).
    pub codec: String,
    /// Bitrate in bits per second.
    pub bitrate_bps: u64,
    /// Sample rate in hertz.
    pub sample_rate_hz: u32,
    /// Channels out.
    pub channels: u32,
    /// Channels in.
    pub source_channels: u32,
    /// Language tag carried over.
    pub language: Option<String>,
    /// `downmix 5.1 to stereo`, `upmix mono to stereo`, or none.
    pub remix: Option<String>,
    /// The stream's title (`Director's commentary`), when it has one worth showing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Loudness normalisation, when the preset asks for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loudness: Option<Loudness>,
}

/// Cover stills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedStills {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Times in seconds, evenly spread, away from the first and last frame.
    pub times_secs: Vec<f64>,
    /// `jpeg` or `png`.
    pub format: String,
}

/// The borders to remove: those probe found (`crop = "auto"`), none, or the preset's own.
fn crop_of(
    info: &MediaInfo,
    video: &crate::probe::VideoInfo,
    preset: &Preset,
) -> Result<Option<crate::probe::borders::Borders>, PlanError> {
    use crate::preset::{Crop, CropMode};
    let crop = match preset.video.crop {
        Crop::Mode(CropMode::Auto) => video.black_borders,
        Crop::Mode(CropMode::None) => None,
        Crop::Manual(b) => Some(b),
    }
    .filter(|b| !b.is_zero());
    if let Some(b) = crop {
        let (w, h) = b.inside(video.width, video.height);
        if w < 16
            || h < 16
            || b.left.saturating_add(b.right) >= video.width
            || b.top.saturating_add(b.bottom) >= video.height
        {
            return Err(PlanError::CropTooLarge {
                path: info.path.clone(),
                crop: b,
                width: video.width,
                height: video.height,
            });
        }
    }
    Ok(crop)
}

/// The preset's noise reduction for this source: nlmeans works in 8 bits, so a deeper source
/// (10-bit, HDR) gets hqdn3d, which keeps its depth, instead of banding.
fn denoise_for(
    video: &crate::probe::VideoInfo,
    preset: &Preset,
    warnings: &mut Vec<String>,
) -> crate::preset::Denoise {
    use crate::preset::Denoise;
    let depth = video.bit_depth.unwrap_or(8);
    if preset.video.denoise == Denoise::Strong && depth > 8 {
        warnings.push(format!(
            "denoise \"strong\" (nlmeans) works in 8 bits: this {depth}-bit source gets \"medium\" (hqdn3d, which keeps its depth)"
        ));
        return Denoise::Medium;
    }
    preset.video.denoise
}

/// The picture as shown (square pixels, upright) once `b` is removed.
fn cropped_display(
    video: &crate::probe::VideoInfo,
    b: &crate::probe::borders::Borders,
) -> (u32, u32) {
    let (w, h) = (video.width.max(1), video.height.max(1));
    let (iw, ih) = b.inside(w, h);
    let (fx, fy) = (f64::from(iw) / f64::from(w), f64::from(ih) / f64::from(h));
    let scale = |n: u32, f: f64| ((f64::from(n) * f).round() as u32).max(2);
    if video.rotation_deg % 180 == 90 {
        (
            scale(video.display_width, fy),
            scale(video.display_height, fx),
        )
    } else {
        (
            scale(video.display_width, fx),
            scale(video.display_height, fy),
        )
    }
}

fn crop_words(
    video: &crate::probe::VideoInfo,
    b: &crate::probe::borders::Borders,
    (w, h): (u32, u32),
) -> String {
    format!(
        "black borders cropped ({}): shown {w}x{h} ({:.2}:1) instead of {}x{}",
        b.describe(video.width, video.height),
        f64::from(w) / f64::from(h.max(1)),
        video.display_width,
        video.display_height,
    )
}

/// A preset fitted to one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The source file.
    pub source: PathBuf,
    /// The asset title (file name without extension).
    pub title: String,
    /// The preset's name.
    pub preset: String,
    /// Source duration in seconds (0 when unknown).
    pub duration_secs: f64,
    /// Source picture as shown (square pixels, after rotation, black borders cropped), if it
    /// has video.
    pub source_display: Option<(u32, u32)>,
    /// Source picture as stored (before rotation, borders and square pixels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_stored: Option<(u32, u32)>,
    /// Source frame rate as used (snapped for VFR sources).
    pub source_frame_rate: Option<FrameRate>,
    /// Source video bitrate in bits per second, when known.
    pub source_video_bitrate_bps: Option<u64>,
    /// Picture transforms before scaling.
    pub transform: PictureTransform,
    /// Where time zero is in the source and how each stream starts (see [`crate::timing`]).
    #[serde(default)]
    pub timeline: Timeline,
    /// Where every rung has its IDR frames (absent for audio-only plans).
    #[serde(default)]
    pub keyframes: Option<KeyframeGrid>,
    /// Every rung of the preset, in preset order, made or dropped.
    pub rungs: Vec<PlannedRung>,
    /// The audio track, if any.
    pub audio: Option<PlannedAudio>,
    /// Stills, if any.
    pub stills: Option<PlannedStills>,
    /// Things the user should know.
    pub warnings: Vec<String>,
    /// Sum of the made rungs' estimates (or the audio file's), in bytes.
    pub estimated_bytes: u64,
    /// Wall time of the local encode on this machine, predicted from a timed sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_encode_secs: Option<f64>,
    /// The measurements a per-title fit was read from, when the ladder was fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_title: Option<per_title::FitRecord>,
    /// The part of the source encoded, when trimmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trim: Option<Trim>,
    /// The source's other audio streams (other languages, commentary), each encoded once like
    /// the main one and carried by every MP4 rung after it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_audio: Vec<PlannedAudio>,
    /// Subtitle tracks published (WebVTT beside the rungs, in HLS and DASH).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subtitles: Vec<crate::subtitles::PlannedSubtitle>,
    /// In the cloud, MediaConvert's automated ABR picks the renditions among the made rungs'
    /// sizes (`fit.mode = "mediaconvert-auto"`): the job makes no MP4 rungs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub automated_abr: bool,
    /// The source's chapters on the output's timeline, kept in every MP4 rung.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chapters: Vec<crate::probe::Chapter>,
}

/// `chapters` moved `shift_secs` earlier and cut to `0..duration_secs`: those wholly outside
/// go, and one that began before the new zero (a trimmed start) begins at zero.
pub fn chapters_within(
    chapters: &[crate::probe::Chapter],
    shift_secs: f64,
    duration_secs: f64,
) -> Vec<crate::probe::Chapter> {
    let mut kept: Vec<crate::probe::Chapter> = chapters
        .iter()
        .map(|c| crate::probe::Chapter {
            start_secs: c.start_secs - shift_secs,
            end_secs: (c.end_secs - shift_secs).min(duration_secs),
            title: c.title.clone(),
        })
        .filter(|c| c.end_secs > 0.0 && c.start_secs < duration_secs)
        .collect();
    if let Some(first) = kept.first_mut() {
        first.start_secs = first.start_secs.max(0.0);
    }
    kept
}

/// A part of the source: from `start_secs` to `end_secs` on the source's own timeline (0 is
/// where the output would start untrimmed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trim {
    /// Start, seconds.
    pub start_secs: f64,
    /// End, seconds.
    pub end_secs: f64,
}

/// MP4 boxes, sample tables and the moov's share of a file: about 1-2% at these bitrates.
const CONTAINER_OVERHEAD: f64 = 1.02;

impl Plan {
    /// Every audio track the outputs carry: the main one, then the others.
    pub fn audio_tracks(&self) -> impl Iterator<Item = &PlannedAudio> {
        self.audio.iter().chain(&self.extra_audio)
    }

    /// The rungs that are made.
    pub fn made_rungs(&self) -> impl Iterator<Item = &PlannedRung> {
        self.rungs.iter().filter(|r| r.is_made())
    }

    /// The most a rung's MP4 can hold, in bytes: video at its cap for the whole duration plus
    /// the full VBV buffer it may spend up front, the audio, and the container. The estimate is
    /// a guess from typical content; this is the bound busy content (sport, noise, confetti)
    /// reaches. A two-pass rung's average is its size.
    pub fn most_bytes_of(&self, r: &PlannedRung) -> u64 {
        let duration = self.duration_secs.max(0.0);
        let audio_bits = self
            .audio
            .as_ref()
            .map_or(0.0, |a| a.bitrate_bps as f64 * duration);
        let video_bits = match &r.two_pass {
            Some(t) => t.bitrate_bps as f64 * duration,
            None => r.max_bitrate_bps as f64 * duration + r.buffer_bits as f64,
        };
        ((video_bits + audio_bits) / 8.0 * CONTAINER_OVERHEAD) as u64
    }

    /// The most the made rungs' MP4s can hold together (see [`Plan::most_bytes_of`]).
    pub fn most_bytes(&self) -> u64 {
        self.made_rungs().map(|r| self.most_bytes_of(r)).sum()
    }
}

/// Share of the max bitrate a QVBR-style encode typically uses at each quality level (1-10).
/// Used for size estimates only; documented in the README.
pub fn typical_fill(quality_level: u8) -> f64 {
    0.30 + 0.055 * f64::from(quality_level.clamp(1, 10))
}

/// Fits a preset to a source.
pub fn plan(info: &MediaInfo, preset: &Preset) -> Result<Plan, PlanError> {
    let duration_secs = info.duration_secs.unwrap_or(0.0).max(0.0);
    let (audio, extra_audio) = plan_audio(info, preset);
    let mut warnings = Vec::new();
    if duration_secs == 0.0 {
        warnings.push("duration unknown: size estimates are 0".to_owned());
    }

    if preset.is_audio_only() {
        let Some(audio) = audio else {
            return Err(PlanError::NoAudio {
                path: info.path.clone(),
                preset: preset.name.clone(),
            });
        };
        let estimated_bytes = (audio.bitrate_bps as f64 * duration_secs / 8.0) as u64;
        let timeline = Timeline::new(None, audio_start(info, Some(&audio)), None);
        let chapters = chapters_within(&info.chapters, timeline.zero_secs, duration_secs);
        return Ok(Plan {
            source: info.path.clone(),
            title: info.title.clone(),
            preset: preset.name.clone(),
            duration_secs,
            source_display: None,
            source_stored: None,
            source_frame_rate: None,
            source_video_bitrate_bps: None,
            transform: PictureTransform {
                rotate_deg: 0,
                deinterlace: false,
                hdr_to_sdr: None,
                square_pixels: false,
                constant_rate: false,
                colour: ColourIn::default(),
                crop: None,
                denoise: crate::preset::Denoise::Off,
                deblock: false,
            },
            timeline,
            keyframes: None,
            rungs: Vec::new(),
            audio: Some(audio),
            stills: None,
            warnings,
            estimated_bytes,
            predicted_encode_secs: None,
            per_title: None,
            trim: None,
            subtitles: Vec::new(),
            automated_abr: false,
            chapters,
            extra_audio,
        });
    }

    let Some((_, video)) = info.video() else {
        return Err(PlanError::NoVideo {
            path: info.path.clone(),
        });
    };
    if video.display_width < 2 || video.display_height < 2 {
        return Err(PlanError::NoPictureSize {
            path: info.path.clone(),
        });
    }
    let crop = crop_of(info, video, preset)?;
    let source = match crop {
        Some(b) => {
            let cropped = cropped_display(video, &b);
            warnings.push(crop_words(video, &b, cropped));
            cropped
        }
        None => (video.display_width, video.display_height),
    };
    let source_rate = source_frame_rate(
        video.avg_frame_rate_ratio.as_deref(),
        video.avg_frame_rate,
        video.variable_frame_rate,
    );
    let source_bps = info.video_bitrate_bps().map(|bps| SourceBitrate {
        bps,
        codec: info
            .video()
            .map(|(s, _)| s.codec.clone())
            .unwrap_or_default(),
    });
    if source_bps.is_none() {
        warnings.push("source video bitrate unknown: rungs are not capped".to_owned());
    }
    if audio.is_none() && preset.audio.codec != AudioCodec::None {
        warnings.push("the source has no audio: outputs have no sound track".to_owned());
    }
    // Every rung carries every audio track (other languages, a 5.1 track).
    let audio_bps: u64 = audio
        .iter()
        .chain(&extra_audio)
        .map(|a| a.bitrate_bps)
        .sum();

    let mut rungs: Vec<PlannedRung> = preset
        .rungs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            fit_rung(
                preset,
                i,
                r,
                source,
                source_rate,
                source_bps.as_ref(),
                false,
            )
        })
        .collect();
    drop_duplicates(&mut rungs);
    ensure_one_survives(preset, &mut rungs, source, source_rate, source_bps.as_ref());
    // HDR kept where the codec carries it (H.265 Main 10, 10-bit AV1); H.264 stays SDR.
    let (subtitles, notes) = subtitles::plan(info, &preset.subtitles)
        .map_err(|reason| PlanError::Subtitles { reason })?;
    warnings.extend(notes);
    let mut keep_hdr = (preset.video.hdr == crate::preset::HdrMode::Keep)
        .then_some(video.hdr.as_ref())
        .flatten();
    // Burned-in subtitles are drawn in SDR white: on a PQ or HLG picture they would glare.
    if let Some(transfer) = keep_hdr
        && subtitles.iter().any(|t| t.burned)
    {
        warnings.push(format!(
            "HDR ({transfer}) not kept: subtitles are burned in, and they are drawn for SDR; every rung is tone-mapped to SDR BT.709"
        ));
        keep_hdr = None;
    }
    if let Some(transfer) = keep_hdr {
        let mut kept = Vec::new();
        for r in rungs
            .iter_mut()
            .filter(|r| r.is_made() && r.codec != Codec::H264)
        {
            r.hdr = Some(KeptHdr {
                transfer: transfer.clone(),
                metadata: video.hdr_metadata,
            });
            if r.codec == Codec::H265 {
                r.profile = Profile::Main10;
            }
            kept.push(format!("{}x{}", r.width, r.height));
        }
        let tonemapped = rungs
            .iter()
            .filter(|r| r.is_made() && r.hdr.is_none())
            .count();
        warnings.push(if kept.is_empty() {
            format!(
                "HDR ({transfer}): the preset keeps HDR, but only H.265 and AV1 rungs can carry it; every rung here is H.264, so all are tone-mapped to SDR BT.709"
            )
        } else {
            format!(
                "HDR ({transfer}) kept on {} (10-bit, BT.2020{}){}",
                kept.join(", "),
                if video.hdr_metadata.mastering_display.is_some() {
                    ", the source's mastering display and light levels"
                } else {
                    ""
                },
                if tonemapped > 0 {
                    "; the H.264 rungs are tone-mapped to SDR BT.709 beside them"
                } else {
                    ""
                }
            )
        });
    }
    for r in &mut rungs {
        resolve_level(r);
        r.name = format!("{}p", r.width.min(r.height));
        r.estimated_bytes = ((r.max_bitrate_bps as f64 * typical_fill(preset.video.quality_level)
            + audio_bps as f64)
            * duration_secs
            / 8.0) as u64;
        if !gop_is_whole_frames(preset.video.gop_secs, r.frame_rate.fps()) {
            warnings.push(format!(
                "{}: a {} s GOP is not a whole number of frames at {} fps; IDR frames still fall on every {} s boundary, GOP lengths vary by a frame",
                r.name, preset.video.gop_secs, r.frame_rate, preset.video.gop_secs
            ));
        }
    }
    // A ladder of AV1 and H.264/H.265 sets names its AV1 rungs `720p_av1`, beside the other
    // set's `720p`; two made rungs of the same name are then told apart by bitrate.
    let made = |rungs: &[PlannedRung]| -> Vec<(String, Codec)> {
        rungs
            .iter()
            .filter(|r| r.is_made())
            .map(|r| (r.name.clone(), r.codec))
            .collect()
    };
    let names = made(&rungs);
    let mixed =
        names.iter().any(|(_, c)| *c == Codec::Av1) && names.iter().any(|(_, c)| *c != Codec::Av1);
    if mixed {
        for r in rungs.iter_mut().filter(|r| r.codec == Codec::Av1) {
            r.name = format!("{}_av1", r.name);
        }
    }
    let names = made(&rungs);
    for r in rungs.iter_mut().filter(|r| r.is_made()) {
        if names.iter().filter(|(n, _)| *n == r.name).count() > 1 {
            r.name = format!("{}_{}k", r.name, r.max_bitrate_bps / 1000);
        }
    }

    let transform = PictureTransform {
        rotate_deg: video.rotation_deg,
        deinterlace: video.interlaced,
        hdr_to_sdr: video.hdr.clone(),
        square_pixels: video.sample_aspect_ratio != "1:1",
        constant_rate: video.variable_frame_rate,
        colour: ColourIn::of(video),
        crop,
        denoise: denoise_for(video, preset, &mut warnings),
        deblock: preset.video.deblock,
    };
    if preset.video.deblock {
        warnings.push(
            "deblock applies to local encodes only: MediaConvert has no deblocking filter"
                .to_owned(),
        );
    }
    if transform.hdr_to_sdr.is_none()
        && let Some(words) = transform.colour.describe()
    {
        warnings.push(words);
    }
    let (video_stream, _) = info.video().ok_or_else(|| PlanError::NoVideo {
        path: info.path.clone(),
    })?;
    let timeline = Timeline::new(
        video_stream.start_secs,
        audio_start(info, audio.as_ref()),
        Some((source_rate.num, source_rate.den)),
    );
    if let Some(words) = timeline.describe() {
        warnings.push(words);
    }
    let steps: Vec<u32> = rungs
        .iter()
        .filter(|r| r.is_made())
        .map(|r| r.frame_step)
        .collect();
    let keyframes = KeyframeGrid::new(
        source_rate.num,
        source_rate.den,
        preset.video.gop_secs,
        &steps,
    );
    if transform.constant_rate {
        warnings.push(format!(
            "variable frame rate source: outputs run at a constant {source_rate} fps"
        ));
    }
    if !preset.video.keep_aspect {
        warnings.push(
            "the preset stretches pictures to each rung's box (keep_aspect = false)".to_owned(),
        );
    }

    let stills = (preset.stills.count > 0).then(|| {
        let width = even_floor(preset.stills.width.min(source.0));
        let height = even_round(f64::from(width) * f64::from(source.1) / f64::from(source.0));
        let count = preset.stills.count;
        PlannedStills {
            width,
            height: height.max(2),
            times_secs: (0..count)
                .map(|i| duration_secs * (f64::from(i) + 0.5) / f64::from(count))
                .collect(),
            format: match preset.stills.format {
                crate::preset::StillFormat::Jpeg => "jpeg",
                crate::preset::StillFormat::Png => "png",
            }
            .to_owned(),
        }
    });

    let estimated_bytes = rungs
        .iter()
        .filter(|r| r.is_made())
        .map(|r| r.estimated_bytes)
        .sum();
    if preset.fit.mode == crate::preset::FitMode::MediaconvertAuto {
        warnings.push(format!(
            "in the cloud MediaConvert's automated ABR picks up to {} renditions among these sizes (no MP4 files, no SMIL); a local encode makes them as listed",
            preset.fit.max_renditions
        ));
    }
    let chapters = chapters_within(&info.chapters, timeline.zero_secs, duration_secs);
    Ok(Plan {
        source: info.path.clone(),
        title: info.title.clone(),
        preset: preset.name.clone(),
        duration_secs,
        source_display: Some(source),
        source_stored: Some((video.width, video.height)),
        source_frame_rate: Some(source_rate),
        source_video_bitrate_bps: source_bps.map(|s| s.bps),
        transform,
        timeline,
        keyframes: Some(keyframes),
        rungs,
        audio,
        stills,
        warnings,
        estimated_bytes,
        predicted_encode_secs: None,
        per_title: None,
        trim: None,
        subtitles,
        automated_abr: preset.fit.mode == crate::preset::FitMode::MediaconvertAuto,
        chapters,
        extra_audio,
    })
}

/// When the planned audio stream starts in the source, if known.
fn audio_start(info: &MediaInfo, audio: Option<&PlannedAudio>) -> Option<f64> {
    let a = audio?;
    info.streams
        .iter()
        .find(|s| s.index == a.source_index)
        .and_then(|s| s.start_secs)
}

/// The source's video bitrate and the codec that spends it.
#[derive(Debug, Clone)]
struct SourceBitrate {
    bps: u64,
    codec: String,
}

/// Bits of H.264 that give about the same picture as one bit of this codec (an FFmpeg codec
/// name or a rung's codec), so a cap at the source's bitrate compares like with like. Rounded
/// from published encoder comparisons (HEVC and VP9 save about a third over H.264, AV1 about
/// 40 %, MPEG-2 needs two thirds more); intra-only and mezzanine codecs spend many times more
/// bits than a delivery codec needs.
pub fn h264_bits_per_bit(codec: &str) -> f64 {
    match codec {
        "hevc" | "h265" => 1.5,
        "av1" => 1.7,
        "vp9" => 1.4,
        "mpeg2video" => 0.6,
        "mpeg1video" => 0.5,
        "mpeg4" | "msmpeg4v3" | "h263" | "vc1" | "wmv3" => 0.8,
        "prores" | "dnxhd" | "mjpeg" | "rawvideo" | "ffv1" | "huffyuv" | "utvideo" | "qtrle"
        | "png" | "cfhd" => 0.25,
        _ => 1.0,
    }
}

/// The main audio track and the others the outputs carry: every audio stream, or those of the
/// preset's languages (the first listed is the main one); the main one is otherwise the
/// stream the source marks default, else its first.
fn plan_audio(info: &MediaInfo, preset: &Preset) -> (Option<PlannedAudio>, Vec<PlannedAudio>) {
    if preset.audio.codec == AudioCodec::None {
        return (None, Vec::new());
    }
    let languages: Vec<&str> = preset
        .audio
        .languages
        .iter()
        .filter_map(|c| crate::subtitles::languages::find(c).map(|l| l.code))
        .collect();
    let language_of = |s: &crate::probe::StreamInfo| {
        s.language
            .as_deref()
            .and_then(crate::subtitles::languages::find)
            .map(|l| l.code)
    };
    let mut streams: Vec<(&crate::probe::StreamInfo, &crate::probe::AudioInfo)> = info
        .streams
        .iter()
        .filter_map(|s| s.audio.as_ref().map(|a| (s, a)))
        .filter(|(s, _)| {
            languages.is_empty() || language_of(s).is_some_and(|l| languages.contains(&l))
        })
        .collect();
    // The main one first: the preset's first language, else the source's default stream.
    let rank = |s: &crate::probe::StreamInfo| {
        let by_language = language_of(s)
            .and_then(|l| languages.iter().position(|w| *w == l))
            .unwrap_or(usize::MAX);
        (by_language, !s.flags.iter().any(|f| f == "default"))
    };
    if let Some(main) = (0..streams.len()).min_by_key(|&k| (rank(streams[k].0), k)) {
        let first = streams.remove(main);
        streams.insert(0, first);
    }
    let mut planned = streams.into_iter().map(|(stream, audio)| {
        let channels = preset.audio.channels;
        let remix = match (audio.channels, channels) {
            (a, b) if a == b => None,
            (1, 2) => Some("upmix mono to stereo".to_owned()),
            (a, 2) if a > 2 => Some(format!(
                "downmix {} to stereo",
                audio
                    .channel_layout
                    .clone()
                    .unwrap_or_else(|| format!("{a} channels"))
            )),
            (a, 1) => Some(format!("downmix {a} channels to mono")),
            (a, b) => Some(format!("remix {a} to {b} channels")),
        };
        PlannedAudio {
            source_index: stream.index,
            codec: "aac-lc".to_owned(),
            bitrate_bps: preset.audio.bitrate_bps,
            sample_rate_hz: preset.audio.sample_rate_hz,
            channels,
            source_channels: audio.channels,
            language: stream.language.clone(),
            remix,
            title: stream.title.clone().filter(|t| {
                !t.trim().is_empty() && !t.ends_with("Handler") && !t.starts_with("Core Media")
            }),
            loudness: preset.audio.loudness_lufs.map(|target_lufs| Loudness {
                target_lufs,
                true_peak_dbtp: preset
                    .audio
                    .true_peak_dbtp
                    .unwrap_or(crate::preset::DEFAULT_TRUE_PEAK_DBTP),
                measured_lufs: None,
                measured_true_peak_dbtp: None,
                gain_db: None,
            }),
        }
    });
    let main = planned.next();
    let mut extra: Vec<PlannedAudio> = planned.collect();
    // 5.1 kept beside the stereo main track when the preset asks and the source has it.
    if let Some(m) = main
        .as_ref()
        .filter(|m| preset.audio.surround && m.source_channels >= 6)
    {
        extra.insert(
            0,
            PlannedAudio {
                bitrate_bps: preset.audio.surround_bitrate_bps,
                channels: 6,
                remix: (m.source_channels > 6)
                    .then(|| format!("downmix {} channels to 5.1", m.source_channels)),
                title: Some(SURROUND_TITLE.to_owned()),
                ..m.clone()
            },
        );
    }
    (main, extra)
}

/// The title of the 5.1 track kept beside the stereo one.
pub const SURROUND_TITLE: &str = "5.1";

/// The source's frame rate: its stated average, snapped to a common rate when close (always
/// for variable-rate sources, which must come out constant).
fn source_frame_rate(ratio: Option<&str>, fps: Option<f64>, variable: bool) -> FrameRate {
    let stated = ratio.and_then(FrameRate::parse);
    let fps = stated.map(FrameRate::fps).or(fps).unwrap_or(30.0);
    let tolerance = if variable { 0.05 } else { 0.002 };
    let nearest = COMMON_RATES
        .iter()
        .map(|&(num, den)| FrameRate { num, den })
        .min_by(|a, b| {
            (a.fps() - fps)
                .abs()
                .partial_cmp(&(b.fps() - fps).abs())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    match (nearest, stated) {
        (Some(n), _) if (n.fps() - fps).abs() / fps <= tolerance => n,
        (_, Some(s)) if !variable && s.den <= 1001 => s,
        _ => FrameRate {
            num: fps.round().max(1.0) as u32,
            den: 1,
        },
    }
}

fn fit_rung(
    preset: &Preset,
    index: usize,
    rung: &crate::preset::Rung,
    source: (u32, u32),
    source_rate: FrameRate,
    source_bps: Option<&SourceBitrate>,
    at_source_size: bool,
) -> PlannedRung {
    let (sw, sh) = (f64::from(source.0), f64::from(source.1));
    let mut reasons = Vec::new();
    let portrait = source.1 > source.0;
    let (bw, bh) = if portrait && rung.width > rung.height {
        reasons.push(format!(
            "turned to portrait ({}x{}) for a portrait source",
            rung.height, rung.width
        ));
        (rung.height, rung.width)
    } else {
        (rung.width, rung.height)
    };
    let (fbw, fbh) = (f64::from(bw), f64::from(bh));

    let mut dropped = None;
    let (width, height) = if at_source_size {
        reasons.push(format!(
            "the source ({}x{}) is smaller than every rung; made at the source size so one rung remains",
            source.0, source.1
        ));
        (even_floor(source.0).max(2), even_floor(source.1).max(2))
    } else if preset.video.keep_aspect {
        let scale = (fbw / sw).min(fbh / sh);
        if scale > 1.0 + 1e-9 {
            dropped = Some(format!(
                "larger than the source ({}x{}); never upscaled",
                source.0, source.1
            ));
        }
        let s = scale.min(1.0);
        let w = even_round(sw * s).min(even_floor(source.0)).min(bw);
        let h = even_round(sh * s).min(even_floor(source.1)).min(bh);
        (w.max(2), h.max(2))
    } else {
        if bw > source.0 || bh > source.1 {
            dropped = Some(format!(
                "larger than the source ({}x{}); never upscaled",
                source.0, source.1
            ));
        }
        (bw, bh)
    };
    // A rung too large for the source is shown with the box it asked for.
    let (width, height) = if dropped.is_some() {
        (bw, bh)
    } else {
        (width, height)
    };
    let resized = (width, height) != (bw, bh) || portrait && rung.width > rung.height;
    if (width, height) != (bw, bh) && !at_source_size {
        reasons.push(format!(
            "{width}x{height} keeps the source's {} aspect ratio inside the {bw}x{bh} box",
            aspect_name(source)
        ));
    }

    let mut max_bitrate_bps = rung.max_bitrate_bps;
    let mut capped = false;
    if let Some(src) = source_bps
        && dropped.is_none()
    {
        let factor = h264_bits_per_bit(&src.codec) / h264_bits_per_bit(rung.codec.ffmpeg_name());
        let worth = (src.bps as f64 * factor) as u64;
        if worth < max_bitrate_bps {
            max_bitrate_bps = worth;
            capped = true;
            if (factor - 1.0).abs() < 1e-9 {
                reasons.push(format!(
                    "max bitrate capped from {} to the source's {} kb/s",
                    rung.max_bitrate_bps / 1000,
                    src.bps / 1000
                ));
            } else {
                reasons.push(format!(
                    "max bitrate capped from {} to {} kb/s: the source's {} kb/s of {} is worth about {factor:.2}x as many bits of {}",
                    rung.max_bitrate_bps / 1000,
                    worth / 1000,
                    src.bps / 1000,
                    src.codec,
                    rung.codec.ffmpeg_name()
                ));
            }
        }
    }

    let (frame_rate, frame_step) = match rung.frame_rate {
        Some(limit) if limit < source_rate.fps() * 0.999 => {
            let step = (1..=240u32)
                .find(|&n| source_rate.fps() / f64::from(n) <= limit * 1.001)
                .unwrap_or(1);
            let rate = source_rate.divided(step);
            reasons.push(format!(
                "{rate} fps: every {} frame of the {source_rate} fps source",
                ordinal(step)
            ));
            (rate, step)
        }
        _ => (source_rate, 1),
    };
    let gop_frames = (preset.video.gop_secs * frame_rate.fps()).round().max(1.0) as u32;
    let status = if dropped.is_some() {
        RungStatus::Dropped
    } else if resized {
        RungStatus::Resized
    } else if capped {
        RungStatus::Capped
    } else {
        RungStatus::Kept
    };
    if let Some(why) = dropped {
        reasons.insert(0, why);
    }
    PlannedRung {
        name: format!("{}p", width.min(height)),
        preset_index: index,
        status,
        resized,
        capped,
        reasons,
        width,
        height,
        codec: rung.codec,
        profile: rung.profile(),
        level: rung.level.clone(),
        max_bitrate_bps,
        buffer_bits: (max_bitrate_bps as f64 * preset.video.hrd_buffer_factor) as u64,
        frame_rate,
        frame_step,
        gop_frames,
        estimated_bytes: 0,
        quality_level: None,
        two_pass: None,
        predicted_vmaf: None,
        hdr: None,
    }
}

/// Drops rungs that repeat another: the same picture size (the higher bitrate stays), or,
/// after capping, a bitrate no lower than a larger rung's (the larger stays).
fn drop_duplicates(rungs: &mut [PlannedRung]) {
    let mut order: Vec<usize> = (0..rungs.len()).filter(|&i| rungs[i].is_made()).collect();
    order.sort_by_key(|&i| {
        std::cmp::Reverse((
            u64::from(rungs[i].width) * u64::from(rungs[i].height),
            rungs[i].max_bitrate_bps,
        ))
    });
    let mut kept: Vec<usize> = Vec::new();
    for i in order {
        let repeat = kept.iter().find_map(|&k| {
            let (a, b) = (&rungs[k], &rungs[i]);
            // An AV1 rung beside an H.264 one of the same size is a set of its own (players
            // pick one codec), not a repeat.
            if (a.codec == Codec::Av1) != (b.codec == Codec::Av1) {
                None
            } else if (a.width, a.height) == (b.width, b.height) {
                Some(format!(
                    "same size as the {} rung (#{}), which has the higher bitrate",
                    a.name,
                    a.preset_index + 1
                ))
            } else if b.max_bitrate_bps >= a.max_bitrate_bps && b.capped {
                Some(format!(
                    "after capping, its bitrate equals the larger {}x{} rung's (#{}); the larger one stays",
                    a.width,
                    a.height,
                    a.preset_index + 1
                ))
            } else {
                None
            }
        });
        match repeat {
            Some(why) => {
                rungs[i].status = RungStatus::Dropped;
                rungs[i].reasons.insert(0, why);
            }
            None => kept.push(i),
        }
    }
}

/// When the source is smaller than every rung (of a codec set: AV1, or the others), the
/// smallest rung is made at the source size.
fn ensure_one_survives(
    preset: &Preset,
    rungs: &mut [PlannedRung],
    source: (u32, u32),
    source_rate: FrameRate,
    source_bps: Option<&SourceBitrate>,
) {
    // An AV1 set and its H.264/H.265 fallback set each keep one rung: a small source still
    // gets a picture every player decodes.
    for av1 in [false, true] {
        let in_set = |r: &PlannedRung| (r.codec == Codec::Av1) == av1;
        if !rungs.iter().any(in_set) || rungs.iter().any(|r| in_set(r) && r.is_made()) {
            continue;
        }
        let Some(smallest) = (0..rungs.len())
            .filter(|&i| in_set(&rungs[i]))
            .min_by_key(|&i| {
                let r = &preset.rungs[rungs[i].preset_index];
                u64::from(r.width) * u64::from(r.height)
            })
        else {
            continue;
        };
        let index = rungs[smallest].preset_index;
        rungs[smallest] = fit_rung(
            preset,
            index,
            &preset.rungs[index],
            source,
            source_rate,
            source_bps,
            true,
        );
    }
}

/// Settles the level: `auto` becomes the lowest that holds the rung; a fixed level too low
/// for the real frame rate is raised, with the reason.
pub(crate) fn resolve_level(r: &mut PlannedRung) {
    let fps = r.frame_rate.fps();
    let lowest = levels::lowest_fitting(
        r.codec,
        r.profile,
        r.width,
        r.height,
        fps,
        r.max_bitrate_bps,
    );
    match levels::normalise(r.codec, &r.level) {
        Some(fixed) => {
            if let Some(why) = levels::why_not(
                r.codec,
                r.profile,
                fixed,
                r.width,
                r.height,
                fps,
                r.max_bitrate_bps,
            ) {
                if let Some(l) = lowest {
                    if r.is_made() {
                        r.reasons.push(format!("level raised to {l}: {why}"));
                    }
                    r.level = l.to_owned();
                }
            } else {
                r.level = fixed.to_owned();
            }
        }
        None => {
            r.level = lowest.unwrap_or("6.2").to_owned();
        }
    }
}

fn aspect_name(size: (u32, u32)) -> String {
    let (w, h) = reduce(u64::from(size.0), u64::from(size.1));
    if w <= 64 && h <= 64 {
        format!("{w}:{h}")
    } else {
        format!("{:.2}:1", size.0 as f64 / size.1 as f64)
    }
}

fn ordinal(n: u32) -> String {
    match n {
        2 => "2nd".to_owned(),
        3 => "3rd".to_owned(),
        n => format!("{n}th"),
    }
}

#[cfg(test)]
pub(crate) mod tests;
