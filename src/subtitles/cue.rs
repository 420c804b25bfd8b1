//! One cue: text shown from a start to an end time, on the outputs' timeline (seconds, 0 is
//! the first picture), and the shifts and clean-ups every reader applies.

use serde::{Deserialize, Serialize};

/// A cue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cue {
    /// Shown from, seconds.
    pub start_secs: f64,
    /// Shown until, seconds (after the start).
    pub end_secs: f64,
    /// Lines separated by `\n`; only WebVTT's own tags (`<i>`, `<b>`, `<u>`) are kept, and
    /// `&`, `<`, `>` are plain characters here (escaped when written).
    pub text: String,
}

/// Moves cues by `-offset_secs` (the source time that became zero, a trim's start) and keeps
/// the part of each that falls in `[0, end_secs)`; cues wholly outside are dropped, empty ones
/// too, and the rest are sorted by start time.
pub fn place(cues: Vec<Cue>, offset_secs: f64, end_secs: Option<f64>) -> Vec<Cue> {
    let end = end_secs.unwrap_or(f64::INFINITY);
    let mut out: Vec<Cue> = cues
        .into_iter()
        .filter_map(|c| {
            let start = (c.start_secs - offset_secs).max(0.0);
            let stop = (c.end_secs - offset_secs).min(end);
            (stop > start && !c.text.trim().is_empty()).then(|| Cue {
                start_secs: start,
                end_secs: stop,
                text: c.text.trim_matches('\n').to_owned(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.start_secs.total_cmp(&b.start_secs));
    out
}

/// Milliseconds, the tick of the subtitle tracks Vodkit writes (mov_text, wvtt).
pub fn ms(secs: f64) -> u64 {
    (secs.max(0.0) * 1000.0).round() as u64
}

/// `[from_ms, to_ms)` cut at every cue start and end inside it: each piece with the cues shown
/// all through it (none: nothing on screen). What timed-text samples are made of, where one
/// sample shows until the next (mov_text, WebVTT in MP4).
pub fn pieces(cues: &[Cue], from_ms: u64, to_ms: u64) -> Vec<(u64, u64, Vec<&Cue>)> {
    let mut cuts: Vec<u64> = cues
        .iter()
        .flat_map(|c| [ms(c.start_secs), ms(c.end_secs)])
        .filter(|&t| t > from_ms && t < to_ms)
        .chain([from_ms, to_ms])
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2)
        .filter(|w| w[1] > w[0])
        .map(|w| {
            let mid = (w[0] + w[1]) as f64 / 2000.0;
            let shown = cues
                .iter()
                .filter(|c| c.start_secs <= mid && c.end_secs > mid)
                .collect();
            (w[0], w[1], shown)
        })
        .collect()
}

/// Keeps WebVTT's `<i>`, `<b>`, `<u>` (and their ends), drops every other tag (`<font …>`),
/// and turns the HTML entities SubRip files use into characters.
pub fn clean_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        match after.find('>') {
            Some(close) => {
                let tag = &after[1..close];
                let name: String = tag
                    .trim()
                    .trim_start_matches('/')
                    .trim()
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect::<String>()
                    .to_ascii_lowercase();
                let is_tag = !tag.starts_with(char::is_whitespace)
                    && matches!(
                        name.as_str(),
                        "i" | "b"
                            | "u"
                            | "font"
                            | "c"
                            | "v"
                            | "span"
                            | "lang"
                            | "ruby"
                            | "rt"
                            | "s"
                    );
                if !is_tag {
                    // "I <3 you > all": text, not a tag.
                    out.push('<');
                    rest = &after[1..];
                    continue;
                }
                if matches!(name.as_str(), "i" | "b" | "u") {
                    out.push('<');
                    if tag.trim().starts_with('/') {
                        out.push('/');
                    }
                    out.push_str(&name);
                    out.push('>');
                }
                rest = &after[close + 1..];
            }
            None => {
                // A lone '<' is text.
                out.push('<');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    entities(&out)
}

/// The character references subtitle files use, as characters (`&amp;` last, so `&amp;lt;`
/// stays `&lt;`).
fn entities(text: &str) -> String {
    let mut out = text
        .replace("&nbsp;", "\u{a0}")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lrm;", "\u{200e}")
        .replace("&rlm;", "\u{200f}");
    // Numeric references: &#233; and &#xE9;.
    let mut from = 0;
    while let Some(found) = out[from..].find("&#") {
        let at = from + found;
        let rest = &out[at + 2..];
        let code = rest.find(';').filter(|&e| e <= 8).and_then(|end| {
            let digits = &rest[..end];
            let n = match digits.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => digits.parse().ok(),
            };
            n.and_then(char::from_u32).map(|c| (c, end))
        });
        match code {
            Some((c, end)) => {
                out.replace_range(at..at + 3 + end, &c.to_string());
                from = at + c.len_utf8();
            }
            None => from = at + 2,
        }
    }
    out.replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(a: f64, b: f64, t: &str) -> Cue {
        Cue {
            start_secs: a,
            end_secs: b,
            text: t.to_owned(),
        }
    }

    #[test]
    fn placing_shifts_clips_drops_and_sorts() {
        let got = place(
            vec![
                cue(12.0, 13.0, "later"),
                cue(10.2, 11.0, "first"),
                cue(9.0, 10.5, "straddles zero"),
                cue(5.0, 6.0, "before the start"),
                cue(20.0, 30.0, "straddles the end"),
                cue(11.0, 12.0, "  "),
            ],
            10.0,
            Some(15.0),
        );
        let want = [
            cue(0.0, 0.5, "straddles zero"),
            cue(0.2, 1.0, "first"),
            cue(2.0, 3.0, "later"),
            cue(10.0, 15.0, "straddles the end"),
        ];
        assert_eq!(got.len(), 4, "{got:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!((g.start_secs - w.start_secs).abs() < 1e-9, "{g:?}");
            assert!((g.end_secs - w.end_secs).abs() < 1e-9, "{g:?}");
            assert_eq!(g.text, w.text);
        }
    }

    #[test]
    fn only_webvtt_tags_survive() {
        assert_eq!(
            clean_tags("<font color=\"#ff0000\">Red</font> and <I>it</I> &amp; <b>bold</b> 3 < 4"),
            "Red and <i>it</i> & <b>bold</b> 3 < 4"
        );
        assert_eq!(clean_tags("I <3 you > all"), "I <3 you > all");
        assert_eq!(
            clean_tags("&quot;Caf&#233;&quot; &#x2014; &lrm;ok &#zz; &#"),
            "\"Café\" — \u{200e}ok &#zz; &#"
        );
        assert_eq!(clean_tags("<i >a</ i>"), "<i>a</i>");
    }
}
