//! Text subtitles: cues read from the source's text streams (mov_text, SubRip, ASS/SSA as
//! plain text, WebVTT) and from sidecar files next to it (`movie.en.srt`, `movie.fr.vtt`),
//! placed on the outputs' timeline, and written as WebVTT (whole files and HLS segments).
//! Bitmap subtitles (PGS, DVB, VobSub) cannot become text: probe lists them and the plan says
//! they are not converted.

pub mod ass;
pub mod cue;
pub mod embedded;
pub mod languages;
pub mod outputs;
pub mod sidecar;
pub mod srt;
pub mod tx3g;
pub mod vtt;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use cue::Cue;

/// Where a subtitle track comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Origin {
    /// A text stream of the source, by its index in the container.
    Embedded {
        /// Stream index.
        index: usize,
        /// Its codec (`mov_text`, `subrip`, `ass`, `webvtt`).
        codec: String,
    },
    /// A file next to the source.
    Sidecar {
        /// The file.
        path: PathBuf,
        /// Where playback of the source starts (its earliest stream), seconds in its own
        /// time: a sidecar's 00:00:00 is that instant, as players show it.
        #[serde(default)]
        playback_start_secs: f64,
    },
}

/// A subtitle track the plan publishes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedSubtitle {
    /// BCP 47 tag when the language is known (`en`, `pt-BR`), else `None`.
    pub language: Option<String>,
    /// What players show in their menus (`English`, `English (forced)`, the stream's title).
    pub name: String,
    /// Where the cues come from.
    pub origin: Origin,
    /// Shown without asking (only forced subtitles: translations of foreign dialogue).
    pub forced: bool,
    /// For the deaf and hard of hearing (SDH: sounds and speakers named too).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sdh: bool,
    /// The track players pick first (the first of the language the preset prefers).
    pub default: bool,
    /// The file name stem of its outputs (`en`, `en-2`, `und`): unique within the title.
    pub id: String,
    /// Burned into the picture (the preset's `burn`): not published as a text track.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub burned: bool,
}

impl PlannedSubtitle {
    /// Published as a text track (WebVTT, HLS, DASH, mov_text): every track not burned in.
    pub fn is_text(&self) -> bool {
        !self.burned
    }
}

/// Codecs whose packets are text Vodkit reads.
pub const TEXT_CODECS: [&str; 6] = ["mov_text", "subrip", "srt", "ass", "ssa", "webvtt"];

/// Codecs of picture subtitles (listed, never converted).
pub const BITMAP_CODECS: [&str; 4] = ["hdmv_pgs_subtitle", "dvb_subtitle", "dvd_subtitle", "xsub"];

/// A subtitle file's text as lines: without a byte-order mark, with Windows (CRLF) and old Mac
/// (CR) line ends read as line ends.
pub fn normal_text(text: &str) -> String {
    text.strip_prefix('\u{feff}')
        .unwrap_or(text)
        .replace("\r\n", "\n")
        .replace('\r', "\n")
}

impl SubtitleError {
    /// A problem at a line of a file.
    pub fn at(path: &str, line: usize, what: String) -> Self {
        Self {
            path: path.to_owned(),
            line: Some(line),
            what,
        }
    }
}

/// Why subtitles could not be read, naming the file (and line, for sidecars).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}{}: {what}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct SubtitleError {
    /// The file.
    pub path: String,
    /// The line, for text files.
    pub line: Option<usize>,
    /// What is wrong, in words.
    pub what: String,
}
