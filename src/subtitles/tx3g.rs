//! 3GPP timed text (`tx3g`, FFmpeg's mov_text) for the MP4 rungs: the sample description
//! FFmpeg's encoder writes by default (white Serif text, bottom-centred) and samples of a
//! 16-bit length, the UTF-8 text and a `styl` box for italic, bold and underline spans.
//! A track is a sequence of samples without gaps: an empty sample clears the screen between
//! cues, since a sample lasts until the next one starts.

use super::Cue;

/// The TextSampleEntry's fields after the sample entry header, as FFmpeg writes them.
pub const SAMPLE_ENTRY: [u8; 48] = [
    0, 0, 0, 0,    // display flags
    1,    // horizontal justification: centre
    0xff, // vertical justification: bottom
    0, 0, 0, 0, // background colour (transparent)
    0, 0, 0, 0, 0, 0, 0, 0, // text box
    0, 0, 0, 0, 0, 1, 0, 0x12, 0xff, 0xff, 0xff, 0xff, // default style: font 1, 18 px, white
    0, 0, 0, 0x12, b'f', b't', b'a', b'b', 0, 1, 0, 1, 5, b'S', b'e', b'r', b'i',
    b'f', // fonts
];

/// One sample: `text` with WebVTT's `<i>`, `<b>`, `<u>` turned into style records; other
/// tags are not expected (cues are cleaned when read).
pub fn sample(text: &str) -> Vec<u8> {
    let mut plain = String::new();
    let mut chars = 0usize;
    let mut open: Vec<(u8, usize)> = Vec::new();
    let mut spans: Vec<(usize, usize, u8)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let tag = [
            ("<i>", 2u8, true),
            ("<b>", 1, true),
            ("<u>", 4, true),
            ("</i>", 2, false),
            ("</b>", 1, false),
            ("</u>", 4, false),
        ]
        .into_iter()
        .find(|(t, _, _)| rest.starts_with(t));
        if let Some((t, face, opening)) = tag {
            if opening {
                open.push((face, chars));
            } else if let Some(k) = open.iter().rposition(|(f, _)| *f == face) {
                let (_, start) = open.remove(k);
                spans.push((start, chars, face));
            }
            rest = &rest[t.len()..];
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        plain.push(c);
        chars += 1;
        rest = &rest[c.len_utf8()..];
    }
    for (face, start) in open {
        spans.push((start, chars, face));
    }
    // Records must not overlap: split at every boundary and OR the faces over each piece.
    let mut cuts: Vec<usize> = spans.iter().flat_map(|s| [s.0, s.1]).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut records: Vec<(usize, usize, u8)> = Vec::new();
    for w in cuts.windows(2) {
        let face = spans
            .iter()
            .filter(|s| s.0 <= w[0] && s.1 >= w[1])
            .fold(0, |f, s| f | s.2);
        if face != 0 && w[1] > w[0] {
            records.push((w[0], w[1], face));
        }
    }
    let bytes = plain.as_bytes();
    // At most 65,535 bytes, cut where a character starts.
    let mut len = bytes.len().min(usize::from(u16::MAX));
    while !plain.is_char_boundary(len) {
        len -= 1;
    }
    let mut out = Vec::with_capacity(2 + len + 10 + records.len() * 12);
    out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(&bytes[..len]);
    if !records.is_empty() {
        let size = u32::try_from(10 + records.len() * 12).unwrap_or(u32::MAX);
        out.extend_from_slice(&size.to_be_bytes());
        out.extend_from_slice(b"styl");
        out.extend_from_slice(
            &u16::try_from(records.len())
                .unwrap_or(u16::MAX)
                .to_be_bytes(),
        );
        for (start, end, face) in records {
            let at = |n: usize| u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes();
            out.extend_from_slice(&at(start));
            out.extend_from_slice(&at(end));
            out.extend_from_slice(&[0, 1, face, 0x12, 0xff, 0xff, 0xff, 0xff]);
        }
    }
    out
}

/// The samples of a track, `(start seconds, bytes)`, each lasting until the next: time is cut
/// at every cue's start and end, and each piece shows the cues active then (two speakers'
/// overlapping lines one above the other), or nothing (an empty sample clears the screen).
/// Pieces shorter than a millisecond (the track's tick) are left out.
pub fn samples(cues: &[Cue], end_secs: f64) -> Vec<(f64, Vec<u8>)> {
    let end_ms = super::cue::ms(end_secs).max(
        cues.iter()
            .map(|c| super::cue::ms(c.end_secs))
            .max()
            .unwrap_or(0),
    );
    let mut out: Vec<(f64, Vec<u8>)> = Vec::new();
    for (from, _, shown) in super::cue::pieces(cues, 0, end_ms) {
        let text: Vec<&str> = shown.iter().map(|c| c.text.as_str()).collect();
        let bytes = sample(&text.join("\n"));
        if out.last().is_some_and(|(_, prev)| *prev == bytes) {
            continue; // the same text goes on
        }
        out.push((from as f64 / 1000.0, bytes));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_read_back_as_tags() {
        for (text, back) in [
            ("plain", "plain"),
            ("<i>Second</i> line", "<i>Second</i> line"),
            ("<u>open", "<u>open</u>"),
        ] {
            assert_eq!(
                super::super::embedded::text_of("mov_text", &sample(text)),
                back
            );
        }
        // Nested styles become records that do not overlap: "bold " bold, "both" bold italic.
        let nested = sample("a <b>bold <i>both</i></b> end");
        let styl = &nested[2 + 15..];
        assert_eq!(&styl[4..8], b"styl");
        assert_eq!(&styl[8..10], &[0, 2]);
        assert_eq!(&styl[10..16], &[0, 2, 0, 7, 0, 1]);
        assert_eq!(styl[16], 1);
        assert_eq!(&styl[22..28], &[0, 7, 0, 11, 0, 1]);
        assert_eq!(styl[28], 3);
        assert_eq!(sample(""), vec![0, 0]);
        assert_eq!(sample("é")[..2], [0, 2], "the length counts bytes");
    }

    #[test]
    fn gaps_are_empty_samples_and_overlaps_share_the_screen() {
        let cue = |a: f64, b: f64, t: &str| Cue {
            start_secs: a,
            end_secs: b,
            text: t.to_owned(),
        };
        let got: Vec<(f64, String)> = samples(
            &[cue(1.0, 2.5, "a"), cue(2.5, 3.0, "b"), cue(5.0, 6.0, "c")],
            10.0,
        )
        .into_iter()
        .map(|(t, b)| (t, super::super::embedded::text_of("mov_text", &b)))
        .collect();
        let want = [
            (0.0, ""),
            (1.0, "a"),
            (2.5, "b"),
            (3.0, ""),
            (5.0, "c"),
            (6.0, ""),
        ];
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (g, w) in got.iter().zip(want) {
            assert!((g.0 - w.0).abs() < 1e-9 && g.1 == w.1, "{got:?}");
        }
        // Two speakers: both lines while they overlap, none lost; same start, both shown.
        let got: Vec<(f64, String)> = samples(
            &[
                cue(0.0, 3.0, "first"),
                cue(2.0, 4.0, "second"),
                cue(5.0, 6.0, "x"),
                cue(5.0, 6.0, "y"),
            ],
            6.0,
        )
        .into_iter()
        .map(|(t, b)| (t, super::super::embedded::text_of("mov_text", &b)))
        .collect();
        let want = [
            (0.0, "first"),
            (2.0, "first\nsecond"),
            (3.0, "second"),
            (4.0, ""),
            (5.0, "x\ny"),
        ];
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (g, w) in got.iter().zip(want) {
            assert!((g.0 - w.0).abs() < 1e-9 && g.1 == w.1, "{got:?}");
        }
    }
}
