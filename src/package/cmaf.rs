//! CMAF bytes for one track: the init segment (`ftyp` + `moov` with the source's sample entry
//! and an empty sample table + `mvex`) and media segments (`moof` + `mdat`), built from an
//! MP4's index and its sample bytes. Deterministic: the same track and segment always give the
//! same bytes, so files written by `vodkit package` and answers from `vodkit serve` match.

use std::fs::File;
use std::os::unix::fs::FileExt;

use mp4_atom::{
    Edts, Elst, ElstEntry, Encode, FixedPoint, Ftyp, Mfhd, Moof, Moov, Mvex, Mvhd, Stbl, Stsd,
    Tfdt, Tfhd, Traf, Trex, Trun, TrunEntry, TrunSamples,
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
    // The MP4's edit list stays an edit list (AAC priming, a B-frame video's one-frame delay),
    // so HLS and DASH players start each track where MP4 players do: Chromium and FFmpeg both
    // honour it, where FFmpeg reads negative composition offsets a frame late (crate::timing).
    trak.edts = (track.edit_offset > 0).then(|| Edts {
        elst: Some(Elst {
            entries: vec![ElstEntry {
                segment_duration: 0,
                media_time: Some(track.edit_offset),
                media_rate: FixedPoint::new(1i16, 0),
            }],
        }),
    });
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

/// The samples of a segment as runs of contiguous bytes in the MP4 file: (offset, length).
fn byte_runs(track: &Track, seg: &Segment) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for s in &track.samples[seg.first..seg.end] {
        match runs.last_mut() {
            Some((start, len)) if *start + *len == s.offset => *len += u64::from(s.size),
            _ => runs.push((s.offset, u64::from(s.size))),
        }
    }
    runs
}

/// The 8-byte `mdat` header for `payload` bytes.
fn mdat_header(payload: u64) -> Result<[u8; 8], String> {
    let size = u32::try_from(payload + 8).map_err(|_| "segment over 4 GiB")?;
    let mut h = [0u8; 8];
    h[..4].copy_from_slice(&size.to_be_bytes());
    h[4..].copy_from_slice(b"mdat");
    Ok(h)
}

/// A media segment: `moof` + `mdat` with the samples' bytes read from the MP4 file.
pub fn media_segment(track: &Track, seg: &Segment, sequence: u32) -> Result<Vec<u8>, String> {
    let head = moof(track, seg, sequence)?;
    let file = File::open(&track.file)
        .map_err(|e| format!("cannot open {}: {e}", track.file.display()))?;
    let payload = usize::try_from(seg.bytes).map_err(|_| "segment too large")?;
    let mut out = Vec::with_capacity(head.len() + 8 + payload);
    out.extend_from_slice(&head);
    out.extend_from_slice(&mdat_header(seg.bytes)?);
    let mut at = out.len();
    out.resize(at + payload, 0);
    for (offset, len) in byte_runs(track, seg) {
        let len = len as usize;
        file.read_exact_at(&mut out[at..at + len], offset)
            .map_err(|e| format!("reading {} at byte {offset}: {e}", track.file.display()))?;
        at += len;
    }
    Ok(out)
}

/// Writes the same bytes as [`media_segment`] to `out`, copying the media data file to file
/// in the kernel (`copy_file_range`), as `cp` does, instead of through memory.
pub fn write_media_segment(
    track: &Track,
    seg: &Segment,
    sequence: u32,
    out: &mut File,
) -> Result<(), String> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let head = moof(track, seg, sequence)?;
    let mdat = mdat_header(seg.bytes)?;
    out.write_all(&head)
        .and_then(|()| out.write_all(&mdat))
        .map_err(|e| e.to_string())?;
    let mut src = File::open(&track.file)
        .map_err(|e| format!("cannot open {}: {e}", track.file.display()))?;
    for (offset, len) in byte_runs(track, seg) {
        src.seek(SeekFrom::Start(offset))
            .map_err(|e| e.to_string())?;
        let copied = std::io::copy(&mut (&mut src).take(len), out).map_err(|e| e.to_string())?;
        if copied != len {
            return Err(format!(
                "{} ends before byte {}",
                track.file.display(),
                offset + len
            ));
        }
    }
    Ok(())
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
