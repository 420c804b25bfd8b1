//! CMAF bytes for one track: the init segment (`ftyp` + `moov` with the source's sample entry
//! and an empty sample table + `mvex`) and media segments (`moof` + `mdat`), built from an
//! MP4's index and its sample bytes. Deterministic: the same track and segment always give the
//! same bytes, so files written by `vodkit package` and answers from `vodkit serve` match.

use std::fs::File;
use std::os::unix::fs::FileExt;

use mp4_atom::{
    Encode, Ftyp, Mdat, Mfhd, Moof, Moov, Mvex, Mvhd, Stbl, Stsd, Tfdt, Tfhd, Traf, Trex, Trun,
    TrunEntry, TrunSamples,
};

use super::mp4_index::{Track, TrackKind};
use super::segments::Segment;

/// Track id inside every CMAF file (one track per file).
const TRACK_ID: u32 = 1;
/// `trun` sample flags: a sync sample, and a sample that depends on others.
const SYNC_FLAGS: u32 = 0x0200_0000;
const NON_SYNC_FLAGS: u32 = 0x0101_0000;

/// The init segment of a track.
pub fn init_segment(track: &Track) -> Result<Vec<u8>, String> {
    let src = &track.trak;
    let mut trak = src.clone();
    trak.edts = None; // composition offsets already carry the edit list's shift
    trak.tkhd.track_id = TRACK_ID;
    trak.tkhd.duration = 0;
    trak.mdia.mdhd.duration = 0;
    trak.mdia.minf.stbl = Stbl {
        stsd: Stsd {
            codecs: src.mdia.minf.stbl.stsd.codecs.clone(),
        },
        ..Stbl::default()
    };
    trak.udta = None;
    trak.meta = None;
    let moov = Moov {
        mvhd: Mvhd {
            timescale: track.timescale,
            duration: 0,
            next_track_id: TRACK_ID + 1,
            ..Mvhd::default()
        },
        mvex: Some(Mvex {
            mehd: None,
            trex: vec![Trex {
                track_id: TRACK_ID,
                default_sample_description_index: 1,
                ..Trex::default()
            }],
        }),
        trak: vec![trak],
        ..Moov::default()
    };
    let ftyp = Ftyp {
        major_brand: b"iso6".into(),
        minor_version: 0,
        compatible_brands: vec![
            b"iso6".into(),
            b"cmfc".into(),
            b"mp41".into(),
            b"dash".into(),
        ],
    };
    let mut out = Vec::new();
    ftyp.encode(&mut out)
        .map_err(|e| format!("encoding ftyp: {e}"))?;
    moov.encode(&mut out)
        .map_err(|e| format!("encoding moov: {e}"))?;
    Ok(out)
}

/// The `moof` of segment number `sequence` (1-based), without its media data; also the size of
/// the `moof` so the caller can place byte ranges.
fn moof(track: &Track, seg: &Segment, sequence: u32) -> Result<Vec<u8>, String> {
    let samples = &track.samples[seg.first..seg.end];
    let entries: Vec<TrunEntry> = samples
        .iter()
        .map(|s| TrunEntry {
            duration: Some(s.duration),
            size: Some(s.size),
            flags: Some(if s.sync { SYNC_FLAGS } else { NON_SYNC_FLAGS }),
            cts: (track.kind == TrackKind::Video).then_some(i64::from(s.cts_offset)),
        })
        .collect();
    let build = |data_offset: i32| Moof {
        mfhd: Mfhd {
            sequence_number: sequence,
        },
        traf: vec![Traf {
            tfhd: Tfhd {
                track_id: TRACK_ID,
                default_base_is_moof: true,
                ..Tfhd::default()
            },
            tfdt: Some(Tfdt {
                base_media_decode_time: seg.start_dts,
            }),
            trun: vec![Trun {
                data_offset: Some(data_offset),
                samples: TrunSamples::Explicit(entries.clone()),
            }],
            ..Traf::default()
        }],
    };
    let mut probe = Vec::new();
    build(0)
        .encode(&mut probe)
        .map_err(|e| format!("encoding moof: {e}"))?;
    // The data starts after the moof and the 8-byte mdat header.
    let offset = i32::try_from(probe.len() + 8).map_err(|_| "moof too large")?;
    let mut out = Vec::with_capacity(probe.len());
    build(offset)
        .encode(&mut out)
        .map_err(|e| format!("encoding moof: {e}"))?;
    Ok(out)
}

/// A media segment: `moof` + `mdat` with the samples' bytes read from the MP4 file.
pub fn media_segment(track: &Track, seg: &Segment, sequence: u32) -> Result<Vec<u8>, String> {
    let head = moof(track, seg, sequence)?;
    let file = File::open(&track.file)
        .map_err(|e| format!("cannot open {}: {e}", track.file.display()))?;
    let mut data = vec![0u8; usize::try_from(seg.bytes).map_err(|_| "segment too large")?];
    let mut at = 0usize;
    for s in &track.samples[seg.first..seg.end] {
        let len = s.size as usize;
        file.read_exact_at(&mut data[at..at + len], s.offset)
            .map_err(|e| format!("reading {} at byte {}: {e}", track.file.display(), s.offset))?;
        at += len;
    }
    let mut out = head;
    Mdat { data }
        .encode(&mut out)
        .map_err(|e| format!("encoding mdat: {e}"))?;
    Ok(out)
}

/// Byte length of a media segment and of its leading part up to the end of the first sample
/// (the keyframe), as I-frame playlists address it, without reading media data.
pub fn segment_layout(track: &Track, seg: &Segment, sequence: u32) -> Result<(u64, u64), String> {
    let moof_len = moof(track, seg, sequence)?.len() as u64;
    let first_sample = track
        .samples
        .get(seg.first)
        .map_or(0, |s| u64::from(s.size));
    Ok((moof_len + 8 + seg.bytes, moof_len + 8 + first_sample))
}
