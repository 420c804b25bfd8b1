//! ASS/SSA as plain text: the text field of an event with its override blocks (`{\i1}`,
//! `{\pos(10,20)}`) removed, `\N` and `\n` as line breaks and `\h` as a space. Italic, bold and
//! underline overrides become WebVTT's tags; styles, positions and effects are dropped.

/// The text of an event line as Matroska stores ASS packets
/// (`ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text`) or as a `.ass` file's
/// `Dialogue:` line (`Layer,Start,End,Style,Name,MarginL,MarginR,MarginV,Effect,Text`): the
/// ninth or tenth field onward.
pub fn event_text(packet: &str) -> String {
    let line = packet.trim_end_matches(['\r', '\n', '\0']);
    let (fields, body) = match line.strip_prefix("Dialogue:") {
        Some(rest) => (9, rest.trim_start()),
        None => (8, line),
    };
    let text = body.splitn(fields + 1, ',').nth(fields).unwrap_or(body);
    strip_overrides(text, true)
}

/// Removes override blocks (`{\...}`), keeping italic, bold and underline as WebVTT tags.
/// `ass`: the text is ASS (every `{...}` is a block, `\N`, `\n` and `\h` are escapes); else it
/// is SubRip or WebVTT carrying stray ASS overrides (`{\an8}`), where `{Music}` is text.
pub fn strip_overrides(text: &str, ass: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut open: Vec<char> = Vec::new();
    let opens = |t: &str| {
        if ass { t.find('{') } else { t.find("{\\") }
    };
    while let Some(start) = opens(rest) {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let block = &rest[start + 1..start + end];
        for code in block.split('\\').skip(1) {
            for (tag, letter) in [('i', "i"), ('b', "b"), ('u', "u")] {
                if code == format!("{letter}1") && !open.contains(&tag) {
                    out.push_str(&format!("<{letter}>"));
                    open.push(tag);
                } else if code == format!("{letter}0") && open.contains(&tag) {
                    out.push_str(&format!("</{letter}>"));
                    open.retain(|t| *t != tag);
                }
            }
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    for tag in open.iter().rev() {
        out.push_str(&format!("</{tag}>"));
    }
    if ass {
        out.replace("\\N", "\n")
            .replace("\\n", "\n")
            .replace("\\h", " ")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_as_text() {
        assert_eq!(
            event_text("3,0,Default,,0,0,0,,{\\an8}Hello,\\Nworld"),
            "Hello,\nworld"
        );
        assert_eq!(
            event_text("Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\i1}Quiet{\\i0} now"),
            "<i>Quiet</i> now"
        );
        assert_eq!(strip_overrides("{\\b1}left open", true), "<b>left open</b>");
        assert_eq!(strip_overrides("no {brace", true), "no {brace");
        assert_eq!(
            strip_overrides("{\\an8}{Music} a\\nb", false),
            "{Music} a\\nb"
        );
    }
}
