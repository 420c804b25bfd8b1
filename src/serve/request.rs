//! The pure parts of answering HTTP: a request path made safe (decoded, no way out of the
//! served folder), byte ranges, and the rendition filters of dynamic manifests.

use crate::package::Selection;
use crate::preset::RungOrder;

/// Splits a URL path into safe segments: percent-decoded, with `.`/`..`, backslashes, NUL and
/// absolute parts refused (also when encoded, e.g. `%2e%2e`).
pub fn safe_segments(path: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let decoded = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .ok()?;
        if decoded == "."
            || decoded == ".."
            || decoded.contains(['/', '\\', '\0'])
            || decoded.starts_with('~')
        {
            return None;
        }
        out.push(decoded.into_owned());
    }
    Some(out)
}

/// A byte range to answer, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First byte.
    pub start: u64,
    /// Last byte.
    pub end: u64,
}

/// What a `Range` header asks of a resource of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAsk {
    /// No range or one we ignore: the whole resource.
    Whole,
    /// One satisfiable range.
    Part(Range),
    /// Outside the resource: 416.
    Unsatisfiable,
}

/// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n` (one range; several fall back to the whole).
pub fn parse_range(header: Option<&str>, len: u64) -> RangeAsk {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeAsk::Whole;
    };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeAsk::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(start), Some(end)) if start <= end => Range {
            start,
            end: end.min(len.saturating_sub(1)),
        },
        (Some(start), None) if b.is_empty() => Range {
            start,
            end: len.saturating_sub(1),
        },
        (None, Some(n)) if a.is_empty() && n > 0 => Range {
            start: len.saturating_sub(n),
            end: len.saturating_sub(1),
        },
        // `bytes=-0` asks for the last zero bytes: nothing to send.
        (None, Some(0)) if a.is_empty() => return RangeAsk::Unsatisfiable,
        _ => return RangeAsk::Whole,
    };
    if len == 0 || range.start >= len {
        RangeAsk::Unsatisfiable
    } else {
        RangeAsk::Part(range)
    }
}

/// Reads `max_height`, `min_bitrate`, `max_bitrate` and `order` from a query string.
pub fn parse_selection(query: Option<&str>) -> Result<Selection, String> {
    let mut sel = Selection::default();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{key}={value}: expected a whole number"))
        };
        match key {
            "max_height" => {
                sel.max_height =
                    Some(u32::try_from(number()?).map_err(|_| format!("{key} too large"))?);
            }
            "min_bitrate" => sel.min_bitrate = Some(number()?),
            "max_bitrate" => sel.max_bitrate = Some(number()?),
            "order" => {
                sel.order = Some(match value {
                    "asc" => RungOrder::Asc,
                    "desc" => RungOrder::Desc,
                    _ => return Err(format!("order={value}: expected asc or desc")),
                });
            }
            _ => {}
        }
    }
    Ok(sel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_folder() {
        assert_eq!(
            safe_segments("/movie/index.m3u8"),
            Some(vec!["movie".into(), "index.m3u8".into()])
        );
        assert_eq!(safe_segments("/movie/../etc/passwd"), None);
        assert_eq!(safe_segments("/movie/%2e%2e/secret"), None);
        assert_eq!(safe_segments("/movie/%2E%2E%2Fsecret"), None);
        assert_eq!(safe_segments("/a%5c..%5cb"), None);
        assert_eq!(safe_segments("/a%00b"), None);
        assert_eq!(safe_segments("/my%20movie/"), Some(vec!["my movie".into()]));
    }

    #[test]
    fn byte_ranges() {
        assert_eq!(parse_range(None, 100), RangeAsk::Whole);
        assert_eq!(
            parse_range(Some("bytes=0-9"), 100),
            RangeAsk::Part(Range { start: 0, end: 9 })
        );
        assert_eq!(
            parse_range(Some("bytes=90-"), 100),
            RangeAsk::Part(Range { start: 90, end: 99 })
        );
        assert_eq!(
            parse_range(Some("bytes=-10"), 100),
            RangeAsk::Part(Range { start: 90, end: 99 })
        );
        assert_eq!(
            parse_range(Some("bytes=50-500"), 100),
            RangeAsk::Part(Range { start: 50, end: 99 })
        );
        assert_eq!(
            parse_range(Some("bytes=100-"), 100),
            RangeAsk::Unsatisfiable
        );
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), RangeAsk::Whole);
    }

    #[test]
    fn selections_from_queries() {
        let sel = parse_selection(Some("max_height=720&order=asc&min_bitrate=500000")).expect("ok");
        assert_eq!(sel.max_height, Some(720));
        assert_eq!(sel.order, Some(RungOrder::Asc));
        assert_eq!(sel.min_bitrate, Some(500_000));
        assert!(parse_selection(Some("max_height=tall")).is_err());
        assert!(parse_selection(Some("order=random")).is_err());
    }
}
