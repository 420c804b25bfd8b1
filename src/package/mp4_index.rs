//! Reads the sample index of an MP4 file (its `moov`): for each audio and video track, where
//! every sample is, how long it lasts, when it is shown and whether it is a keyframe. The media
//! bytes themselves are read later, only for the samples a segment needs.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use mp4_atom::{Decode, Moov, StszSamples, Trak};

/// One sample of a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Byte offset in the file.
    pub offset: u64,
    /// Size in bytes.
    pub size: u32,
    /// Decode time in the track's timescale.
    pub dts: u64,
    /// Presentation time minus decode time, as the sample table says (before the edit list's
    /// shift, which is [`Track::edit_offset`]).
    pub cts_offset: i32,
    /// Duration in the track's timescale.
    pub duration: u32,
    /// A random access point (IDR frame; every audio sample).
    pub sync: bool,
}

impl Sample {
    /// Composition time in the track's timescale (before the edit list's shift).
    pub fn pts(&self) -> i64 {
        self.dts as i64 + i64::from(self.cts_offset)
    }
}

/// What a track carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackKind {
    /// Pictures.
    Video,
    /// Sound.
    Audio,
}

/// A track with its full sample table.
#[derive(Debug, Clone)]
pub struct Track {
    /// The file the samples live in.
    pub file: PathBuf,
    /// Video or audio.
    pub kind: TrackKind,
    /// Ticks per second of every time in this track.
    pub timescale: u32,
    /// The source `trak`, kept to build the init segment (sample entry, handler, language).
    pub trak: Trak,
    /// Every sample, in decode order.
    pub samples: Vec<Sample>,
    /// The edit list's media time: the composition time shown at zero (AAC priming, 1024
    /// samples; a B-frame video's reorder delay, one frame). Kept as an edit list in the CMAF
    /// header, which browsers and FFmpeg both honour (see `crate::timing`).
    pub edit_offset: u64,
}

impl Track {
    /// Duration in seconds (sum of sample durations).
    pub fn duration_secs(&self) -> f64 {
        let ticks: u64 = self.samples.iter().map(|s| u64::from(s.duration)).sum();
        ticks as f64 / f64::from(self.timescale.max(1))
    }

    /// The ISO 639-2 language of the track, unless undetermined.
    pub fn language(&self) -> Option<String> {
        let lang = self.trak.mdia.mdhd.language.clone();
        (!lang.is_empty() && lang != "und").then_some(lang)
    }

    /// The language as manifests write it (BCP 47: `en` for `eng`), and its English name.
    pub fn language_tag(&self) -> Option<(String, &'static str)> {
        let lang = self.language()?;
        let known = crate::subtitles::languages::find(&lang);
        Some((
            known.map_or_else(|| lang.clone(), |l| l.code.to_owned()),
            known.map_or("Main", |l| l.name),
        ))
    }
}

/// Why an MP4 index could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct IndexError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub reason: String,
}

/// Reads every audio and video track of an MP4 file.
pub fn read(path: &Path) -> Result<Vec<Track>, IndexError> {
    let fail = |reason: String| IndexError {
        path: path.to_owned(),
        reason,
    };
    let mut file = File::open(path).map_err(|e| fail(format!("cannot open: {e}")))?;
    let len = file.metadata().map_err(|e| fail(e.to_string()))?.len();
    read_from(&mut file, len, path)
}

/// [`read`] on `len` bytes of any reader (`path` names them in errors and in the tracks).
/// Untrusted bytes are welcome: every size and count is checked against `len` before it is
/// used or allocated (the fuzz target `mp4_index` feeds it arbitrary input).
pub fn read_from<R: Read + Seek>(
    reader: &mut R,
    len: u64,
    path: &Path,
) -> Result<Vec<Track>, IndexError> {
    let fail = |reason: String| IndexError {
        path: path.to_owned(),
        reason,
    };
    let mut moov = find_moov(reader, len).map_err(fail)?;
    keep_only_what_is_read(&mut moov, 0).map_err(fail)?;
    let moov = Moov::decode(&mut moov.as_slice()).map_err(|e| {
        fail(format!(
            "its index (moov box) is damaged ({e}); encode this title again or re-export the file"
        ))
    })?;
    let mut tracks = Vec::new();
    for trak in moov.trak {
        let kind = match &trak.mdia.hdlr.handler.to_string()[..] {
            "vide" => TrackKind::Video,
            "soun" => TrackKind::Audio,
            _ => continue,
        };
        let samples = samples(&trak, len).map_err(fail)?;
        // Every sample must lie inside the file (a damaged table may point anywhere).
        if let Some(bad) = samples
            .iter()
            .find(|s| s.offset.saturating_add(u64::from(s.size)) > len)
        {
            return Err(fail(format!(
                "truncated or damaged: a sample ends at byte {} but the file has {len}",
                bad.offset.saturating_add(u64::from(bad.size))
            )));
        }
        let edit_offset = edit_shift(&trak);
        tracks.push(Track {
            file: path.to_owned(),
            kind,
            timescale: trak.mdia.mdhd.timescale,
            trak,
            samples,
            edit_offset,
        });
    }
    Ok(tracks)
}

/// Walks the top-level boxes to the `moov` and returns its bytes (header included).
fn find_moov<R: Read + Seek>(file: &mut R, len: u64) -> Result<Vec<u8>, String> {
    let mut pos = 0u64;
    while pos.saturating_add(8) <= len {
        file.seek(SeekFrom::Start(pos)).map_err(|e| e.to_string())?;
        let mut head = [0u8; 16];
        file.read_exact(&mut head[..8]).map_err(|e| e.to_string())?;
        let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let kind = [head[4], head[5], head[6], head[7]];
        let size = match size32 {
            0 => len - pos,
            1 => {
                file.read_exact(&mut head[8..16])
                    .map_err(|e| e.to_string())?;
                u64::from_be_bytes([
                    head[8], head[9], head[10], head[11], head[12], head[13], head[14], head[15],
                ])
            }
            n => u64::from(n),
        };
        // A 64-bit size near u64::MAX must not wrap around past the check.
        if size < 8 || pos.checked_add(size).is_none_or(|end| end > len) {
            return Err(format!(
                "box '{}' at byte {pos} runs past the end of the file",
                String::from_utf8_lossy(&kind)
            ));
        }
        if &kind == b"moov" {
            let mut bytes = vec![0u8; usize::try_from(size).map_err(|_| "moov too large")?];
            file.seek(SeekFrom::Start(pos)).map_err(|e| e.to_string())?;
            file.read_exact(&mut bytes).map_err(|e| e.to_string())?;
            return Ok(bytes);
        }
        pos += size;
    }
    Err("no moov box: not an MP4 file, or a fragmented one".to_owned())
}

/// Boxes holding the boxes the index reads.
const CONTAINERS: [&[u8; 4]; 7] = [
    b"moov", b"trak", b"edts", b"mdia", b"minf", b"dinf", b"stbl",
];
/// Boxes the index and the CMAF headers read; every other box inside `moov` (user data,
/// metadata, sample groups, ...) is turned into `free` before decoding, so a damaged box the
/// index never needed cannot stop it, and a crafted one cannot make the decoder loop or
/// allocate (a sample group description claiming 2^32 zero-byte entries did: fuzzing found it).
const READ: [&[u8; 4]; 17] = [
    b"mvhd", b"tkhd", b"elst", b"mdhd", b"hdlr", b"vmhd", b"smhd", b"nmhd", b"dref", b"stsd",
    b"stts", b"ctts", b"stss", b"stsc", b"stsz", b"stco", b"co64",
];

/// Walks the boxes of `bytes` (a `moov`, header included, at depth 0) and renames those the
/// index does not read to `free`, in place. Sizes are checked as it goes.
fn keep_only_what_is_read(bytes: &mut [u8], depth: usize) -> Result<(), String> {
    if depth > 8 {
        return Err("boxes nested too deep".to_owned());
    }
    let mut pos = 0usize;
    while pos + 8 <= bytes.len() {
        let size32 =
            u32::from_be_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]]);
        let (size, header) = match size32 {
            0 => (bytes.len() - pos, 8),
            1 => {
                let wide = bytes
                    .get(pos + 8..pos + 16)
                    .ok_or("a box header is cut short")?;
                let mut b = [0u8; 8];
                b.copy_from_slice(wide);
                (
                    usize::try_from(u64::from_be_bytes(b)).unwrap_or(usize::MAX),
                    16,
                )
            }
            n => (n as usize, 8),
        };
        if size < header || size > bytes.len() - pos {
            return Err(format!(
                "box '{}' inside moov runs past its parent",
                String::from_utf8_lossy(&bytes[pos + 4..pos + 8])
            ));
        }
        let kind: [u8; 4] = [
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ];
        if CONTAINERS.contains(&&kind) {
            keep_only_what_is_read(&mut bytes[pos + header..pos + size], depth + 1)?;
        } else if !READ.contains(&&kind) {
            bytes[pos + 4..pos + 8].copy_from_slice(b"free");
        }
        pos += size;
    }
    Ok(())
}

/// The media time of a track's first real edit (where its presentation starts), or 0.
fn edit_shift(trak: &Trak) -> u64 {
    trak.edts
        .as_ref()
        .and_then(|e| e.elst.as_ref())
        .and_then(|l| l.entries.iter().find_map(|e| e.media_time))
        .unwrap_or(0)
}

/// Expands a track's sample tables into one entry per sample. `file_len` bounds what a table
/// may claim (every sample takes at least a byte of the file, or of its sample table).
fn samples(trak: &Trak, file_len: u64) -> Result<Vec<Sample>, String> {
    let max_samples = usize::try_from(file_len).unwrap_or(usize::MAX);
    let stbl = &trak.mdia.minf.stbl;
    let sizes: Vec<u32> = match &stbl.stsz.samples {
        StszSamples::Identical { count, size } => {
            // A crafted table may claim billions of samples: no more than the file can hold.
            let count = usize::try_from(*count).map_err(|_| "sample count out of range")?;
            if count > max_samples {
                return Err(format!(
                    "the sample table claims {count} samples, more than a {file_len}-byte file can hold"
                ));
            }
            vec![*size; count]
        }
        StszSamples::Different { sizes } => sizes.clone(),
    };
    let count = sizes.len();
    let chunk_offsets: Vec<u64> = match (&stbl.stco, &stbl.co64) {
        (Some(stco), _) => stco.entries.iter().map(|&o| u64::from(o)).collect(),
        (None, Some(co64)) => co64.entries.clone(),
        (None, None) => return Err("track without chunk offsets".to_owned()),
    };
    // Sample offsets: walk the chunks, each holding samples_per_chunk from its stsc run.
    let mut offsets = Vec::with_capacity(count);
    let runs = &stbl.stsc.entries;
    for (i, run) in runs.iter().enumerate() {
        let first = run.first_chunk.max(1) as usize;
        let last = runs.get(i + 1).map_or(chunk_offsets.len(), |next| {
            (next.first_chunk as usize).saturating_sub(1)
        });
        for chunk in first..=last {
            let Some(&start) = chunk_offsets.get(chunk - 1) else {
                break;
            };
            let mut at = start;
            for _ in 0..run.samples_per_chunk {
                if offsets.len() == count {
                    break;
                }
                let size = sizes[offsets.len()];
                offsets.push(at);
                at = at
                    .checked_add(u64::from(size))
                    .ok_or("a chunk offset runs past the largest file size")?;
            }
        }
    }
    if offsets.len() != count {
        return Err(format!(
            "sample table lists {count} samples but its chunks hold {}",
            offsets.len()
        ));
    }
    // Run-length tables are expanded no further than the samples there are.
    let mut durations = Vec::with_capacity(count);
    for e in &stbl.stts.entries {
        let room = count - durations.len();
        durations.extend(std::iter::repeat_n(
            e.sample_delta,
            (e.sample_count as usize).min(room),
        ));
    }
    durations.resize(count, durations.last().copied().unwrap_or(0));
    let mut cts = Vec::with_capacity(count);
    if let Some(ctts) = &stbl.ctts {
        for e in &ctts.entries {
            let room = count - cts.len();
            cts.extend(std::iter::repeat_n(
                e.sample_offset,
                (e.sample_count as usize).min(room),
            ));
        }
    }
    cts.resize(count, 0);
    let is_video = trak.mdia.hdlr.handler.to_string() == "vide";
    let sync: Option<std::collections::HashSet<u32>> = stbl
        .stss
        .as_ref()
        .map(|s| s.entries.iter().copied().collect());
    let mut dts = 0u64;
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let sample_sync = match &sync {
            Some(set) => set.contains(&(i as u32 + 1)),
            None => true,
        };
        let offset = cts[i];
        out.push(Sample {
            offset: offsets[i],
            size: sizes[i],
            dts,
            cts_offset: i32::try_from(offset).map_err(|_| "composition offset out of range")?,
            duration: durations[i],
            sync: sample_sync || !is_video,
        });
        dts = dts.saturating_add(u64::from(durations[i]));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mp4_atom::{Co64, Stco, StscEntry, SttsEntry};

    /// A video track whose tables say what the test wants.
    fn trak(sizes: StszSamples, chunks: Vec<u64>, per_chunk: u32, stts: Vec<SttsEntry>) -> Trak {
        let mut t = Trak::default();
        let stbl = &mut t.mdia.minf.stbl;
        stbl.stsz.samples = sizes;
        if chunks.iter().all(|&c| u32::try_from(c).is_ok()) {
            stbl.stco = Some(Stco {
                entries: chunks.iter().map(|&c| c as u32).collect(),
            });
        } else {
            stbl.co64 = Some(Co64 { entries: chunks });
        }
        stbl.stsc.entries = vec![StscEntry {
            first_chunk: 1,
            samples_per_chunk: per_chunk,
            sample_description_index: 1,
        }];
        stbl.stts.entries = stts;
        t
    }

    /// Fuzz crashers, kept: each must give an error (or tracks), never a panic or an allocation
    /// beyond the input.
    #[test]
    fn fuzz_regressions_are_errors() {
        let cases: [(&str, &[u8]); 1] = [(
            // A sample group description (sgpd) claiming billions of zero-byte entries: mp4-atom
            // grew a vector until memory ran out (1.3 GB from 5 KB).
            "sgpd",
            include_bytes!("../../tests/fuzz/regressions/mp4_index-sgpd-oom.bin"),
        )];
        for (name, bytes) in cases {
            let r = read_from(
                &mut std::io::Cursor::new(bytes),
                bytes.len() as u64,
                Path::new(name),
            );
            if let Ok(tracks) = r {
                for t in &tracks {
                    assert!(t.samples.len() <= bytes.len(), "{name}");
                }
            }
        }
    }

    #[test]
    fn boxes_sizes_near_the_top_and_truncated_headers_are_errors() {
        // A 64-bit size near u64::MAX after a first box: must not wrap past the check.
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&16u32.to_be_bytes());
        bytes.extend_from_slice(b"ftyp");
        bytes.extend_from_slice(&[0u8; 8]);
        bytes.extend_from_slice(&1u32.to_be_bytes());
        bytes.extend_from_slice(b"moov");
        bytes.extend_from_slice(&(u64::MAX - 3).to_be_bytes());
        bytes.extend_from_slice(&[0u8; 32]);
        let err = read_from(
            &mut std::io::Cursor::new(&bytes),
            bytes.len() as u64,
            Path::new("huge.mp4"),
        )
        .expect_err("refused");
        assert!(err.reason.contains("runs past the end"), "{err}");
        // A header cut after four bytes.
        let cut = b"\0\0\0\x20mo";
        assert!(read_from(&mut std::io::Cursor::new(cut), 6, Path::new("cut.mp4")).is_err());
        // A box inside moov larger than moov.
        let mut inner = Vec::new();
        inner.extend_from_slice(&24u32.to_be_bytes());
        inner.extend_from_slice(b"moov");
        inner.extend_from_slice(&1000u32.to_be_bytes());
        inner.extend_from_slice(b"trak");
        inner.extend_from_slice(&[0u8; 8]);
        let err = read_from(
            &mut std::io::Cursor::new(&inner),
            inner.len() as u64,
            Path::new("inner.mp4"),
        )
        .expect_err("refused");
        assert!(err.reason.contains("runs past its parent"), "{err}");
    }

    #[test]
    fn a_table_claiming_billions_of_samples_is_an_error_not_an_allocation() {
        let t = trak(
            StszSamples::Identical {
                count: u32::MAX,
                size: 1,
            },
            vec![0],
            u32::MAX,
            vec![],
        );
        let err = samples(&t, 10_000).expect_err("refused");
        assert!(err.contains("4294967295 samples"), "{err}");
    }

    #[test]
    fn run_lengths_of_2_pow_32_and_offsets_near_the_top_are_bounded() {
        // Two real samples, a time table claiming 2^32-1 of them: expanded to two.
        let t = trak(
            StszSamples::Different {
                sizes: vec![10, 10],
            },
            vec![100],
            2,
            vec![SttsEntry {
                sample_count: u32::MAX,
                sample_delta: 1000,
            }],
        );
        let s = samples(&t, 1_000).expect("two samples");
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].dts, 1000);
        // A 64-bit chunk offset near u64::MAX: an error, not an overflow.
        let t = trak(
            StszSamples::Different {
                sizes: vec![10, 10],
            },
            vec![u64::MAX - 5],
            2,
            vec![],
        );
        assert!(samples(&t, 1_000).is_err());
    }
}
