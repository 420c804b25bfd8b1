//! WebVTT: read (sidecar `.vtt` files, the source's WebVTT streams) and written, whole (one
//! file per track in the title folder) and as HLS segments (each with the cues that overlap
//! it and the `X-TIMESTAMP-MAP` that ties its times to the CMAF media timeline).

use super::cue::{Cue, clean_tags};
use super::{SubtitleError, srt};

/// Reads a WebVTT file's text. Blocks other than cues (`NOTE`, `STYLE`, `REGION`) are skipped;
/// cue settings (`align:start`) are dropped.
pub fn parse(text: &str, path: &str) -> Result<Vec<Cue>, SubtitleError> {
    let text = super::normal_text(text);
    let lines: Vec<&str> = text.lines().collect();
    let error = |line: usize, what: String| SubtitleError::at(path, line, what);
    match lines.first() {
        Some(first)
            if *first == "WEBVTT"
                || first.starts_with("WEBVTT ")
                || first.starts_with("WEBVTT\t") => {}
        _ => {
            return Err(error(
                1,
                "does not start with WEBVTT: not a WebVTT file".to_owned(),
            ));
        }
    }
    let mut cues = Vec::new();
    let mut i = 1;
    while i < lines.len() {
        // Skip the header's own lines, then blank lines between blocks.
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let block_end = (i..lines.len())
            .find(|&k| lines[k].trim().is_empty())
            .unwrap_or(lines.len());
        let block = &lines[i..block_end];
        let timing = block.iter().position(|l| l.contains("-->"));
        let first_word = block[0].split_whitespace().next().unwrap_or("");
        match timing {
            Some(t) if t <= 1 && !matches!(first_word, "NOTE" | "STYLE" | "REGION") => {
                let line = block[t];
                let (a, rest) = line.split_once("-->").unwrap_or((line, ""));
                let b = rest.split_whitespace().next().unwrap_or("");
                let (Some(start), Some(end)) = (clock(a.trim()), clock(b)) else {
                    return Err(error(
                        i + t + 1,
                        format!(
                            "expected a time line like 00:01.000 --> 00:02.500, found '{}'",
                            line.trim()
                        ),
                    ));
                };
                if end < start {
                    return Err(error(i + t + 1, "the cue ends before it starts".to_owned()));
                }
                cues.push(Cue {
                    start_secs: start,
                    end_secs: end,
                    text: clean_tags(&block[t + 1..].join("\n")),
                });
            }
            _ => {} // NOTE, STYLE, REGION, or header metadata
        }
        i = block_end;
    }
    Ok(cues)
}

/// `HH:MM:SS.mmm` or `MM:SS.mmm` in seconds.
pub fn clock(text: &str) -> Option<f64> {
    if text.matches(':').count() == 1 {
        srt::clock(&format!("0:{text}"))
    } else {
        srt::clock(text)
    }
    .filter(|_| text.contains('.'))
}

/// `HH:MM:SS.mmm`.
pub fn timestamp(secs: f64) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Text made safe for a cue payload: `&`, `<`, `>` escaped except WebVTT's own tags, no blank
/// lines (they would end the cue), no `-->`.
fn payload(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let tag = ["<i>", "</i>", "<b>", "</b>", "<u>", "</u>"]
            .into_iter()
            .find(|t| rest.starts_with(t));
        if let Some(t) = tag {
            out.push_str(t);
            rest = &rest[t.len()..];
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A whole WebVTT file of `cues`.
pub fn write(cues: &[Cue]) -> String {
    write_with_header(cues, "WEBVTT\n")
}

/// An HLS subtitle segment `[from, to)`: the cues that overlap it, with their own times (a
/// cue crossing a boundary is in both segments, which players show once), and
/// `X-TIMESTAMP-MAP` saying cue time 0 is media time 0 of the CMAF tracks (their edit lists
/// put the first picture there).
pub fn segment(cues: &[Cue], from_secs: f64, to_secs: f64) -> String {
    let inside: Vec<Cue> = cues
        .iter()
        .filter(|c| c.end_secs > from_secs && c.start_secs < to_secs)
        .cloned()
        .collect();
    write_with_header(
        &inside,
        "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n",
    )
}

fn write_with_header(cues: &[Cue], header: &str) -> String {
    let mut out = String::from(header);
    for c in cues {
        let text = payload(&c.text);
        if text.is_empty() {
            continue;
        }
        out.push('\n');
        out.push_str(&format!(
            "{} --> {}\n{text}\n",
            timestamp(c.start_secs),
            timestamp(c.end_secs)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes_and_what_others_write() {
        let text = "WEBVTT - made elsewhere\n\nNOTE a comment\n-- > not a cue\n\nSTYLE\n::cue { color: red }\n\n\
                    intro\n00:01.000 --> 00:02.500 align:start\nHello <c.red>there</c>\n\n\
                    01:00:00.000 --> 01:00:01.000\nAn hour in\n";
        let cues = parse(text, "a.vtt").expect("parse");
        assert_eq!(cues.len(), 2, "{cues:?}");
        assert_eq!((cues[0].start_secs, cues[0].end_secs), (1.0, 2.5));
        assert_eq!(cues[0].text, "Hello there");
        assert_eq!(cues[1].start_secs, 3600.0);
        let again = parse(&write(&cues), "b.vtt").expect("round trip");
        assert_eq!(again, cues);
    }

    #[test]
    fn escapes_and_errors() {
        let cues = vec![Cue {
            start_secs: 0.5,
            end_secs: 1.0,
            text: "<i>a</i> & b < c\n\nd".to_owned(),
        }];
        assert_eq!(
            write(&cues),
            "WEBVTT\n\n00:00:00.500 --> 00:00:01.000\n<i>a</i> &amp; b &lt; c\nd\n"
        );
        let e = parse("1\n00:00:01,000 --> 00:00:02,000\nHi\n", "x.vtt").expect_err("srt");
        assert_eq!(e.line, Some(1));
        let e = parse("WEBVTT\n\n00:01 --> 00:02.000\nHi\n", "y.vtt").expect_err("time");
        assert_eq!(e.line, Some(3));
    }

    #[test]
    fn segments_hold_the_cues_that_overlap_them() {
        let cues: Vec<Cue> = [(0.5, 1.5), (1.8, 2.4), (4.5, 5.0)]
            .iter()
            .map(|&(a, b)| Cue {
                start_secs: a,
                end_secs: b,
                text: format!("{a}"),
            })
            .collect();
        let s = segment(&cues, 2.0, 4.0);
        assert!(s.starts_with("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n"));
        assert!(s.contains("00:00:01.800 --> 00:00:02.400\n1.8\n"), "{s}");
        assert!(!s.contains("0.5") && !s.contains("4.5"), "{s}");
        assert_eq!(
            segment(&cues, 2.5, 4.0).lines().count(),
            2,
            "an empty segment is a header"
        );
    }
}
