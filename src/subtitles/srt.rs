//! SubRip (`.srt`) files: numbered blocks of a time line (`00:00:01,000 --> 00:00:02,500`) and
//! text lines, separated by blank lines. Read leniently where files in the wild differ (a
//! byte-order mark, CRLF, `.` for `,`, missing numbers, extra blank lines), strictly where a
//! cue would be wrong (a time line that does not read, an end before its start): the error
//! names the file and line.

use super::cue::{Cue, clean_tags};
use super::{SubtitleError, ass};

/// Reads a SubRip file's text.
pub fn parse(text: &str, path: &str) -> Result<Vec<Cue>, SubtitleError> {
    let text = super::normal_text(text);
    let lines: Vec<&str> = text.lines().collect();
    let error = |line: usize, what: String| SubtitleError::at(path, line, what);
    let mut cues = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        // An optional cue number, then the time line.
        let mut at = i;
        if !lines[at].contains("-->") && lines[at].trim().chars().all(|c| c.is_ascii_digit()) {
            at += 1;
        }
        let Some(timing) = lines.get(at) else {
            return Err(error(
                at,
                "the file ends after a cue number with no time line".to_owned(),
            ));
        };
        let (start, end) = times(timing).ok_or_else(|| {
            error(
                at + 1,
                format!(
                    "expected a time line like 00:00:01,000 --> 00:00:02,500, found '{}'",
                    timing.trim()
                ),
            )
        })?;
        if end < start {
            return Err(error(
                at + 1,
                format!(
                    "the cue ends ({}) before it starts ({})",
                    timing_text(end),
                    timing_text(start)
                ),
            ));
        }
        let mut body = Vec::new();
        let mut k = at + 1;
        while k < lines.len() && !lines[k].trim().is_empty() {
            // A file missing the blank line between cues: the next cue starts here.
            let number_then_time = lines[k].trim().chars().all(|c| c.is_ascii_digit())
                && lines.get(k + 1).is_some_and(|l| times(l).is_some());
            if times(lines[k]).is_some() || number_then_time {
                break;
            }
            body.push(lines[k]);
            k += 1;
        }
        cues.push(Cue {
            start_secs: start,
            end_secs: end,
            // Some files carry ASS position tags ({\an8}); they are not text.
            text: clean_tags(&ass::strip_overrides(&body.join("\n"), false)),
        });
        i = k;
    }
    if cues.is_empty() && !text.trim().is_empty() {
        return Err(SubtitleError {
            path: path.to_owned(),
            line: Some(1),
            what: "no cue in it: not a SubRip file".to_owned(),
        });
    }
    Ok(cues)
}

/// `HH:MM:SS,mmm --> HH:MM:SS,mmm` (hours may be one digit or more; `.` for `,`; positions
/// after the end time ignored).
fn times(line: &str) -> Option<(f64, f64)> {
    let (a, b) = line.split_once("-->")?;
    let b = b.split_whitespace().next()?;
    Some((clock(a.trim())?, clock(b.trim())?))
}

/// `H:MM:SS,mmm` or `H:MM:SS.mmm` in seconds.
pub fn clock(text: &str) -> Option<f64> {
    let (hms, ms) = text.split_once([',', '.'])?;
    let parts: Vec<&str> = hms.split(':').collect();
    let [h, m, s] = parts.as_slice() else {
        return None;
    };
    let number = |t: &str| t.trim().parse::<u64>().ok();
    let (h, m, s) = (number(h)?, number(m)?, number(s)?);
    if h > 999
        || m >= 60
        || s >= 60
        || ms.is_empty()
        || ms.len() > 3
        || !ms.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let frac = ms.parse::<f64>().ok()? / 10f64.powi(i32::try_from(ms.len()).ok()?);
    Some((h * 3600 + m * 60 + s) as f64 + frac)
}

/// A SubRip file of `cues` (what libass reads for burning them into the picture).
pub fn write(cues: &[Cue]) -> String {
    let mut out = String::new();
    for (k, c) in cues.iter().enumerate() {
        let text: Vec<&str> = c.text.lines().filter(|l| !l.trim().is_empty()).collect();
        if text.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "{}\n{} --> {}\n{}\n\n",
            k + 1,
            timing_text(c.start_secs),
            timing_text(c.end_secs),
            text.join("\n")
        ));
    }
    out
}

fn timing_text(secs: f64) -> String {
    let ms = (secs * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02},{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_as_they_come() {
        let text = "\u{feff}1\r\n00:00:01,000 --> 00:00:02,500\r\nHello\r\n<i>world</i>\r\n\r\n\r\n\
                    00:00:03.250 --> 00:00:04,000 X1:10 X2:20\n{\\an8}Top &amp; line\n\n";
        let cues = parse(text, "a.srt").expect("parse");
        assert_eq!(cues.len(), 2);
        assert_eq!(cues[0].start_secs, 1.0);
        assert_eq!(cues[0].end_secs, 2.5);
        assert_eq!(cues[0].text, "Hello\n<i>world</i>");
        assert_eq!(cues[1].start_secs, 3.25);
        assert_eq!(cues[1].text, "Top & line");
    }

    #[test]
    fn a_missing_blank_line_does_not_swallow_the_next_cue() {
        let text = "1\n00:00:01,000 --> 00:00:02,000\nOne {Music}\n2\n00:00:03,000 --> 00:00:04,000\nTwo\n";
        let cues = parse(text, "a.srt").expect("parse");
        assert_eq!(cues.len(), 2, "{cues:?}");
        assert_eq!(
            cues[0].text, "One {Music}",
            "only {{\\...}} blocks are ASS overrides"
        );
        assert_eq!(cues[1].start_secs, 3.0);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let e = parse("1\n00:00:01,000 -> 00:00:02,000\nHi\n", "movie.en.srt").expect_err("bad");
        assert_eq!(e.line, Some(2));
        assert!(
            e.to_string()
                .starts_with("movie.en.srt line 2: expected a time line"),
            "{e}"
        );
        let e = parse("1\n00:00:05,000 --> 00:00:02,000\nHi\n", "b.srt").expect_err("backwards");
        assert!(
            e.to_string()
                .contains("ends (00:00:02,000) before it starts (00:00:05,000)"),
            "{e}"
        );
        let e = parse("just some words\nand more\n", "notes.srt").expect_err("not srt");
        assert_eq!(e.line, Some(1));
        assert_eq!(parse("", "empty.srt").expect("empty"), Vec::new());
    }

    #[test]
    fn writes_what_it_reads() {
        let cues = parse(
            "1\n00:00:01,000 --> 00:00:02,500\n<i>Hi</i>\nthere\n",
            "a.srt",
        )
        .expect("parse");
        assert_eq!(parse(&write(&cues), "b.srt").expect("again"), cues);
    }

    #[test]
    fn clocks() {
        assert_eq!(clock("01:02:03,004"), Some(3723.004));
        assert_eq!(clock("0:00:00.5"), Some(0.5));
        assert_eq!(clock("00:61:00,000"), None);
        assert_eq!(clock("00:00:00"), None);
        assert_eq!(clock("99999999999999999999:00:00,000"), None);
    }
}
