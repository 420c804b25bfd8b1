//! WebVTT in ISO BMFF (`wvtt`, ISO/IEC 14496-30) for DASH: an init segment with a `wvtt` sample
//! entry and media segments on the video's segment boundaries, each a run of samples that hold
//! the cues shown then (`vttc` boxes with their text in `payl`) or nothing (`vtte`). dash.js
//! and Shaka Player read these as text tracks (a plain `.vtt` sidecar would also play, but
//! cannot be segmented, so a player would fetch all of a film's subtitles up front).

use crate::subtitles::Cue;
use crate::subtitles::cue::ms;

/// Media timescale: milliseconds.
pub const TIMESCALE: u32 = 1000;

fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let size = u32::try_from(8 + payload.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
    out
}

fn full(kind: &[u8; 4], version: u8, flags: u32, payload: &[u8]) -> Vec<u8> {
    let mut body = vec![version];
    body.extend_from_slice(&flags.to_be_bytes()[1..]);
    body.extend_from_slice(payload);
    boxed(kind, &body)
}

/// ISO 639-2/T packed as mdhd wants it (three 5-bit letters), `und` when unknown.
fn packed_language(tag: Option<&str>) -> u16 {
    let three = tag
        .and_then(crate::subtitles::languages::find)
        .map_or("und", |l| l.three);
    three.bytes().fold(0u16, |acc, b| {
        (acc << 5) | u16::from(b.saturating_sub(0x60) & 0x1f)
    })
}

/// The init segment of a text track.
pub fn init_segment(language: Option<&str>) -> Vec<u8> {
    let mut out = boxed(b"ftyp", b"iso6\0\0\0\0iso6cmfcdash");
    let mut mvhd = vec![0u8; 4 + 4];
    mvhd.extend_from_slice(&TIMESCALE.to_be_bytes());
    mvhd.extend_from_slice(&0u32.to_be_bytes()); // duration: fragments say
    mvhd.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate 1.0
    mvhd.extend_from_slice(&0x0100u16.to_be_bytes()); // volume 1.0
    mvhd.extend_from_slice(&[0; 10]);
    for v in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        mvhd.extend_from_slice(&v.to_be_bytes());
    }
    mvhd.extend_from_slice(&[0; 24]);
    mvhd.extend_from_slice(&2u32.to_be_bytes()); // next track id
    let mvhd = full(b"mvhd", 0, 0, &mvhd);

    let mut tkhd = vec![0u8; 8];
    tkhd.extend_from_slice(&1u32.to_be_bytes()); // track id
    tkhd.extend_from_slice(&[0; 4]);
    tkhd.extend_from_slice(&0u32.to_be_bytes()); // duration
    tkhd.extend_from_slice(&[0; 8]);
    tkhd.extend_from_slice(&[0, 0, 0, 0]); // layer, alternate group
    tkhd.extend_from_slice(&[0, 0, 0, 0]); // volume, reserved
    for v in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        tkhd.extend_from_slice(&v.to_be_bytes());
    }
    tkhd.extend_from_slice(&[0; 8]); // width, height
    let tkhd = full(b"tkhd", 0, 3, &tkhd); // enabled, in movie

    let mut mdhd = vec![0u8; 8];
    mdhd.extend_from_slice(&TIMESCALE.to_be_bytes());
    mdhd.extend_from_slice(&0u32.to_be_bytes());
    mdhd.extend_from_slice(&packed_language(language).to_be_bytes());
    mdhd.extend_from_slice(&[0, 0]);
    let mdhd = full(b"mdhd", 0, 0, &mdhd);
    let mut hdlr = vec![0u8; 4];
    hdlr.extend_from_slice(b"text");
    hdlr.extend_from_slice(&[0; 12]);
    hdlr.extend_from_slice(b"Subtitles\0");
    let hdlr = full(b"hdlr", 0, 0, &hdlr);

    let url = full(b"url ", 0, 1, &[]);
    let mut dref = 1u32.to_be_bytes().to_vec();
    dref.extend_from_slice(&url);
    let dinf = boxed(b"dinf", &full(b"dref", 0, 0, &dref));
    let mut entry = vec![0u8; 6];
    entry.extend_from_slice(&1u16.to_be_bytes()); // data reference index
    entry.extend_from_slice(&boxed(b"vttC", b"WEBVTT"));
    let mut stsd = 1u32.to_be_bytes().to_vec();
    stsd.extend_from_slice(&boxed(b"wvtt", &entry));
    let empty_table = 0u32.to_be_bytes();
    let mut stsz = 0u32.to_be_bytes().to_vec();
    stsz.extend_from_slice(&0u32.to_be_bytes());
    let stbl = [
        full(b"stsd", 0, 0, &stsd),
        full(b"stts", 0, 0, &empty_table),
        full(b"stsc", 0, 0, &empty_table),
        full(b"stsz", 0, 0, &stsz),
        full(b"stco", 0, 0, &empty_table),
    ]
    .concat();
    let minf = boxed(
        b"minf",
        &[full(b"nmhd", 0, 0, &[]), dinf, boxed(b"stbl", &stbl)].concat(),
    );
    let mdia = boxed(b"mdia", &[mdhd, hdlr, minf].concat());
    let trak = boxed(b"trak", &[tkhd, mdia].concat());
    let mut trex = 1u32.to_be_bytes().to_vec(); // track id
    trex.extend_from_slice(&1u32.to_be_bytes()); // sample description index
    trex.extend_from_slice(&[0; 12]);
    let mvex = boxed(b"mvex", &full(b"trex", 0, 0, &trex));
    out.extend_from_slice(&boxed(b"moov", &[mvhd, trak, mvex].concat()));
    out
}

/// One sample's bytes: a `vttc` per cue shown (its text in `payl`), or `vtte` when none is.
fn sample(shown: &[&Cue]) -> Vec<u8> {
    if shown.is_empty() {
        return boxed(b"vtte", &[]);
    }
    shown
        .iter()
        .map(|c| boxed(b"vttc", &boxed(b"payl", c.text.as_bytes())))
        .collect::<Vec<_>>()
        .concat()
}

/// Media segment `number` covering `[from, to)` seconds: time cut at every cue start and end
/// inside it, each piece a sample.
pub fn media_segment(cues: &[Cue], number: u32, from_secs: f64, to_secs: f64) -> Vec<u8> {
    let (start, end) = (ms(from_secs), ms(to_secs).max(ms(from_secs) + 1));
    let samples: Vec<(u32, Vec<u8>)> = crate::subtitles::cue::pieces(cues, start, end)
        .into_iter()
        .map(|(a, b, shown)| (u32::try_from(b - a).unwrap_or(u32::MAX), sample(&shown)))
        .collect();
    let mfhd = full(b"mfhd", 0, 0, &number.to_be_bytes());
    let tfhd = full(b"tfhd", 0, 0x02_0000, &1u32.to_be_bytes()); // default-base-is-moof
    let tfdt = full(b"tfdt", 1, 0, &start.to_be_bytes());
    // trun: data offset, per-sample duration and size.
    let trun_len = 12 + 4 + 4 + samples.len() * 8;
    let traf_len = 8 + tfhd.len() + tfdt.len() + trun_len;
    let moof_len = 8 + mfhd.len() + traf_len;
    let mut trun = u32::try_from(samples.len())
        .unwrap_or(u32::MAX)
        .to_be_bytes()
        .to_vec();
    trun.extend_from_slice(
        &u32::try_from(moof_len + 8)
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    for (duration, bytes) in &samples {
        trun.extend_from_slice(&duration.to_be_bytes());
        trun.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    }
    let trun = full(b"trun", 0, 0x0301, &trun);
    let traf = boxed(b"traf", &[tfhd, tfdt, trun].concat());
    let moof = boxed(b"moof", &[mfhd, traf].concat());
    debug_assert_eq!(moof.len(), moof_len);
    let mdat = boxed(
        b"mdat",
        &samples.into_iter().flat_map(|(_, b)| b).collect::<Vec<_>>(),
    );
    let mut out = boxed(b"styp", b"msdh\0\0\0\0msdhmsixcmfs");
    out.extend_from_slice(&moof);
    out.extend_from_slice(&mdat);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The boxes of a buffer at one level: (type, payload).
    fn boxes(mut b: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        while b.len() >= 8 {
            let size = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
            out.push((
                String::from_utf8_lossy(&b[4..8]).into_owned(),
                b[8..size].to_vec(),
            ));
            b = &b[size..];
        }
        out
    }

    #[test]
    fn segments_hold_the_cues_shown_in_them() {
        let cues = vec![
            Cue {
                start_secs: 1.0,
                end_secs: 2.5,
                text: "Hello".to_owned(),
            },
            Cue {
                start_secs: 2.0,
                end_secs: 3.0,
                text: "World".to_owned(),
            },
        ];
        let seg = media_segment(&cues, 2, 2.0, 4.0);
        let top = boxes(&seg);
        let kinds: Vec<&str> = top.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, ["styp", "moof", "mdat"]);
        // Samples: 2.0-2.5 both cues, 2.5-3.0 World, 3.0-4.0 nothing.
        let mdat = boxes(&top[2].1);
        let kinds: Vec<&str> = mdat.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, ["vttc", "vttc", "vttc", "vtte"]);
        assert_eq!(boxes(&mdat[1].1)[0].1, b"World");
        // tfdt says 2000 ms; the data offset points at the mdat's payload.
        let moof = boxes(&top[1].1);
        let traf = boxes(&moof[1].1);
        assert_eq!(traf[1].1[4..12], 2000u64.to_be_bytes());
        let trun = &traf[2].1;
        let offset = u32::from_be_bytes([trun[8], trun[9], trun[10], trun[11]]) as usize;
        let moof_start = top[0].1.len() + 8;
        assert_eq!(
            &seg[moof_start + offset..moof_start + offset + 8],
            &mdat_first(&seg)
        );
        let durations: Vec<u32> = (0..3)
            .map(|k| {
                u32::from_be_bytes([
                    trun[12 + k * 8],
                    trun[13 + k * 8],
                    trun[14 + k * 8],
                    trun[15 + k * 8],
                ])
            })
            .collect();
        assert_eq!(durations, [500, 500, 1000]);
    }

    fn mdat_first(seg: &[u8]) -> [u8; 8] {
        let at = seg.len() - boxes(seg)[2].1.len();
        let mut out = [0; 8];
        out.copy_from_slice(&seg[at..at + 8]);
        out
    }

    #[test]
    fn the_init_segment_declares_wvtt_in_its_language() {
        let init = init_segment(Some("fr"));
        let top = boxes(&init);
        assert_eq!(top[0].0, "ftyp");
        assert_eq!(top[1].0, "moov");
        let text = String::from_utf8_lossy(&init);
        assert!(text.contains("wvtt") && text.contains("vttCWEBVTT") && text.contains("text"));
        // "fra" packed: f=6, r=18, a=1.
        assert_eq!(packed_language(Some("fr")), (6 << 10) | (18 << 5) | 1);
    }
}
