//! The source's text subtitle streams read as cues: every packet of the chosen streams is
//! demuxed (no decoder: their payloads are text) and turned into plain text by codec:
//! mov_text (a 16-bit length, then UTF-8; style boxes after it ignored), SubRip (text with
//! HTML-like tags), ASS/SSA (event fields with override blocks) and WebVTT (the cue's text).
//! Times are the source's own (seconds, as the demuxer reports them); [`super::cue::place`]
//! moves them onto the outputs' timeline.

use std::collections::HashMap;
use std::path::Path;

use super::cue::{Cue, clean_tags};
use super::{SubtitleError, TEXT_CODECS, ass};
use crate::av::{self, ffmpeg};

/// A cue without a duration (some muxers leave it out) shows until the next one or this long.
const OPEN_CUE_SECS: f64 = 5.0;

/// Reads the text streams `indices` of `path`; returns their cues by stream index.
pub fn read(path: &Path, indices: &[usize]) -> Result<HashMap<usize, Vec<Cue>>, SubtitleError> {
    av::init();
    let error = |what: String| SubtitleError {
        path: path.display().to_string(),
        line: None,
        what,
    };
    let mut input = ffmpeg::format::input(path).map_err(|e| error(format!("cannot open: {e}")))?;
    let mut wanted: HashMap<usize, (String, f64)> = HashMap::new();
    for &index in indices {
        let stream = input
            .stream(index)
            .ok_or_else(|| error(format!("has no stream {index}")))?;
        let codec = stream.parameters().id().name().to_owned();
        if !TEXT_CODECS.contains(&codec.as_str()) {
            return Err(error(format!(
                "stream {index} holds {codec} subtitles, which are not text"
            )));
        }
        wanted.insert(index, (codec, f64::from(stream.time_base())));
    }
    // Only the subtitle streams' packets are wanted: the demuxer skips the rest's payloads.
    let others: Vec<usize> = input
        .streams()
        .map(|s| s.index())
        .filter(|i| !wanted.contains_key(i))
        .collect();
    for index in others {
        if let Some(mut s) = input.stream_mut(index) {
            // SAFETY: a plain field write on a stream of the open input.
            unsafe { (*s.as_mut_ptr()).discard = ffmpeg::ffi::AVDiscard::AVDISCARD_ALL };
        }
    }
    let mut cues: HashMap<usize, Vec<Cue>> = indices.iter().map(|&i| (i, Vec::new())).collect();
    let mut open: HashMap<usize, usize> = HashMap::new();
    for (stream, packet) in input.packets() {
        let index = stream.index();
        let Some((codec, tb)) = wanted.get(&index) else {
            continue;
        };
        let (Some(pts), Some(data)) = (packet.pts().or(packet.dts()), packet.data()) else {
            continue;
        };
        let start = pts as f64 * tb;
        let list = cues.entry(index).or_default();
        // A cue left open by a packet without duration ends where this one starts.
        if let Some(k) = open.remove(&index)
            && let Some(c) = list.get_mut(k)
        {
            c.end_secs = start.min(c.start_secs + OPEN_CUE_SECS).max(c.start_secs);
        }
        let text = text_of(codec, data);
        if text.trim().is_empty() {
            continue; // mov_text writes empty samples to clear the screen
        }
        let duration = packet.duration();
        let end = if duration > 0 {
            start + duration as f64 * tb
        } else {
            open.insert(index, list.len());
            start + OPEN_CUE_SECS
        };
        list.push(Cue {
            start_secs: start,
            end_secs: end,
            text,
        });
    }
    Ok(cues)
}

/// A packet's text, by codec.
pub fn text_of(codec: &str, data: &[u8]) -> String {
    match codec {
        "mov_text" => mov_text(data),
        "ass" | "ssa" => clean_tags(&ass::event_text(&String::from_utf8_lossy(data))),
        // SubRip and WebVTT payloads are the cue text.
        _ => clean_tags(&ass::strip_overrides(
            String::from_utf8_lossy(data).trim_end_matches('\0'),
            false,
        )),
    }
}

/// A 3GPP timed-text sample: a 16-bit length, the UTF-8 text, then boxes; the `styl` box's
/// records (start and end character, face flags: 1 bold, 2 italic, 4 underline) become
/// WebVTT's tags.
fn mov_text(data: &[u8]) -> String {
    let len = data
        .get(..2)
        .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
    let text = String::from_utf8_lossy(data.get(2..2 + len).unwrap_or(&[])).into_owned();
    let mut styles: Vec<(usize, usize, u8)> = Vec::new();
    let mut at = 2 + len;
    while let Some(head) = data.get(at..at + 8) {
        let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if size < 8 {
            break;
        }
        if &head[4..8] == b"styl"
            && let Some(body) = data.get(at + 8..at + size)
        {
            let count = body
                .get(..2)
                .map_or(0, |c| usize::from(u16::from_be_bytes([c[0], c[1]])));
            for k in 0..count {
                let Some(r) = body.get(2 + k * 12..2 + (k + 1) * 12) else {
                    break;
                };
                let (start, end) = (
                    usize::from(u16::from_be_bytes([r[0], r[1]])),
                    usize::from(u16::from_be_bytes([r[2], r[3]])),
                );
                let face = r[6] & 0b111;
                if face != 0 && end > start {
                    styles.push((start, end, face));
                }
            }
        }
        at += size;
    }
    if styles.is_empty() {
        return clean_tags(&text);
    }
    // Opening and closing tags by character position.
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars
        .iter()
        .enumerate()
        .chain(std::iter::once((chars.len(), &'\0')))
    {
        for &(_, end, face) in styles.iter().rev() {
            if end == i {
                for (bit, tag) in [(4, "u"), (1, "b"), (2, "i")] {
                    if face & bit != 0 {
                        out.push_str(&format!("</{tag}>"));
                    }
                }
            }
        }
        for &(start, _, face) in &styles {
            if start == i {
                for (bit, tag) in [(2, "i"), (1, "b"), (4, "u")] {
                    if face & bit != 0 {
                        out.push_str(&format!("<{tag}>"));
                    }
                }
            }
        }
        if i < chars.len() {
            out.push(*c);
        }
    }
    clean_tags(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_payloads_by_codec() {
        let mut tx3g = vec![0, 11];
        tx3g.extend_from_slice(b"Hello\nworld");
        tx3g.extend_from_slice(&[0, 0, 0, 12, b's', b't', b'y', b'l', 0, 0, 0, 0]);
        assert_eq!(text_of("mov_text", &tx3g), "Hello\nworld");
        assert_eq!(text_of("mov_text", &[0, 0]), "");
        // "Second line" with characters 0-6 italic, as FFmpeg's mov_text encoder writes <i>.
        let mut styled = vec![0, 11];
        styled.extend_from_slice(b"Second line");
        styled.extend_from_slice(&[0, 0, 0, 22, b's', b't', b'y', b'l', 0, 1]);
        styled.extend_from_slice(&[0, 0, 0, 6, 0, 1, 2, 18, 255, 255, 255, 255]);
        assert_eq!(text_of("mov_text", &styled), "<i>Second</i> line");
        assert_eq!(text_of("mov_text", &[0]), "");
        assert_eq!(
            text_of("ass", b"0,0,Default,,0,0,0,,{\\i1}Hi{\\i0}\\Nthere"),
            "<i>Hi</i>\nthere"
        );
        assert_eq!(text_of("subrip", b"<font color=red>Red</font>"), "Red");
        assert_eq!(text_of("webvtt", b"A <b>cue</b>"), "A <b>cue</b>");
    }
}
