//! What identifies a source on S3 without reading it all before the upload starts:
//!
//! - its **fingerprint**, a SHA-256 of its size and of about 4 MiB sampled from its start, its
//!   end and evenly in between, which names the folder its object goes to (so two files called
//!   `IMG_0001.MOV` never share a key, and one file uploaded from two folders or two machines
//!   does);
//! - its **CRC-64/NVME** over every byte, the full-object checksum S3 keeps for objects uploaded
//!   with it (computed by the SDK part by part as the parts stream, combined and checked by S3),
//!   which says exactly whether an object holds this file.
//!
//! The full checksum is read locally only when an object is already at the key; it is
//! remembered per file while the size and modification time are unchanged, and the upload
//! remembers the one S3 reports, so a re-run does not read a big source again.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::CloudError;
use super::UploadOptions;

const MIB: u64 = 1024 * 1024;
/// Sampled at the start and at the end of a file.
const EDGE_BYTES: u64 = MIB;
/// Blocks sampled evenly between the edges, and their size.
const INNER_BLOCKS: u64 = 32;
const INNER_BLOCK_BYTES: u64 = 64 * 1024;

/// The byte ranges (offset, length) the fingerprint of a file of `size_bytes` reads: the whole
/// file up to 4 MiB, else the first and last MiB and 32 blocks of 64 KiB evenly between.
pub fn fingerprint_ranges(size_bytes: u64) -> Vec<(u64, u64)> {
    let whole = 2 * EDGE_BYTES + INNER_BLOCKS * INNER_BLOCK_BYTES;
    if size_bytes <= whole {
        return vec![(0, size_bytes)];
    }
    let inner_start = EDGE_BYTES;
    let inner_len = size_bytes - 2 * EDGE_BYTES;
    let mut ranges = vec![(0, EDGE_BYTES)];
    for i in 0..INNER_BLOCKS {
        // Block i starts at (i + 0.5) / n of the inner span, less half a block.
        let centre = inner_start + inner_len * (2 * i + 1) / (2 * INNER_BLOCKS);
        ranges.push((centre - INNER_BLOCK_BYTES / 2, INNER_BLOCK_BYTES));
    }
    ranges.push((size_bytes - EDGE_BYTES, EDGE_BYTES));
    ranges
}

/// A source's fingerprint: 16 hex digits of the SHA-256 of its size and the ranges of
/// [`fingerprint_ranges`]. Reads at most 4 MiB. Blocking.
pub fn source_fingerprint(file: &Path) -> Result<String, CloudError> {
    let named =
        |e: std::io::Error| CloudError::new(format!("{}: cannot read: {e}", file.display()));
    let mut f = std::fs::File::open(file).map_err(named)?;
    let size = f.metadata().map_err(named)?.len();
    let mut h = Sha256::new();
    h.update(size.to_be_bytes());
    let mut buf = Vec::new();
    for (offset, len) in fingerprint_ranges(size) {
        f.seek(SeekFrom::Start(offset)).map_err(named)?;
        buf.resize(usize::try_from(len).unwrap_or(usize::MAX), 0);
        f.read_exact(&mut buf).map_err(named)?;
        h.update(&buf);
    }
    Ok(h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// A CRC-64/NVME as S3 writes it: the 8 bytes, big-endian, in base64.
pub fn crc64nvme_text(crc: u64) -> String {
    aws_smithy_types::base64::encode(crc.to_be_bytes())
}

/// Which checksum a remembered entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SumKind {
    Sha256,
    Crc64nvme,
}

/// A file's checksum as computed before, valid while its size and modification time are
/// unchanged (what rsync trusts too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct KnownSum {
    file: PathBuf,
    kind: SumKind,
    size_bytes: u64,
    modified_unix_ns: u128,
    sum: String,
}

fn sums_file(options: &UploadOptions) -> Option<PathBuf> {
    options
        .records_dir
        .as_ref()
        .map(|d| d.join("checksums.json"))
}

fn known_sum(
    options: &UploadOptions,
    kind: SumKind,
    file: &Path,
    size: u64,
    modified: u128,
) -> Option<String> {
    let path = sums_file(options)?;
    let sums: Vec<KnownSum> = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let file = std::fs::canonicalize(file).ok()?;
    sums.into_iter()
        .find(|k| {
            k.file == file
                && k.kind == kind
                && k.size_bytes == size
                && k.modified_unix_ns == modified
        })
        .map(|k| k.sum)
}

/// Adds a checksum to the known ones (the newest 400 are kept). Best effort: a failure only
/// means the next run reads the file again.
fn remember_sum(
    options: &UploadOptions,
    kind: SumKind,
    file: &Path,
    size: u64,
    modified: u128,
    sum: &str,
) {
    let (Some(path), Ok(file)) = (sums_file(options), std::fs::canonicalize(file)) else {
        return;
    };
    let mut sums: Vec<KnownSum> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    sums.retain(|k| !(k.file == file && k.kind == kind));
    sums.push(KnownSum {
        file,
        kind,
        size_bytes: size,
        modified_unix_ns: modified,
        sum: sum.to_owned(),
    });
    let keep_from = sums.len().saturating_sub(400);
    let sums = sums.split_off(keep_from);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // One temporary file per writer: uploads run side by side.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("json.{}-{n}.part", std::process::id()));
    if std::fs::write(&tmp, serde_json::to_vec(&sums).unwrap_or_default()).is_ok() {
        let _ = std::fs::rename(&tmp, &path);
    }
}

/// Remembers the CRC-64/NVME S3 reported for an object made from `file` (when the file is
/// unchanged since `modified`).
pub(super) fn remember_crc64nvme(
    options: &UploadOptions,
    file: &Path,
    size: u64,
    modified: u128,
    crc: &str,
) {
    remember_sum(options, SumKind::Crc64nvme, file, size, modified, crc);
}

/// Reads a whole file in 1 MiB blocks into `update`, stopping when `cancel` is set.
fn read_all(
    file: &Path,
    cancel: Option<&crate::job::CancelToken>,
    mut update: impl FnMut(&[u8]),
) -> Result<(), CloudError> {
    let named =
        |e: std::io::Error| CloudError::new(format!("{}: cannot read: {e}", file.display()));
    let mut f = std::fs::File::open(file).map_err(named)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        if cancel.is_some_and(crate::job::CancelToken::is_cancelled) {
            return Err(CloudError::Cancelled);
        }
        let n = f.read(&mut buf).map_err(named)?;
        if n == 0 {
            return Ok(());
        }
        update(&buf[..n]);
    }
}

/// A checksum of the whole file: the remembered one while the file's size and modification
/// time are unchanged, else computed (and remembered).
fn whole_file_sum(
    options: &UploadOptions,
    kind: SumKind,
    file: &Path,
    compute: impl FnOnce(&Path) -> Result<String, CloudError>,
) -> Result<String, CloudError> {
    let meta = std::fs::metadata(file)
        .map_err(|e| CloudError::new(format!("{}: cannot read: {e}", file.display())))?;
    let modified = super::record::modified_unix_ns(&meta);
    if let Some(sum) = known_sum(options, kind, file, meta.len(), modified) {
        return Ok(sum);
    }
    let sum = compute(file)?;
    remember_sum(options, kind, file, meta.len(), modified, &sum);
    Ok(sum)
}

/// A source's SHA-256 (hex), remembered per file (see [`whole_file_sum`]). Watch folders tell
/// copies of one file apart by it. Blocking.
pub fn source_sha256(options: &UploadOptions, file: &Path) -> Result<String, CloudError> {
    whole_file_sum(options, SumKind::Sha256, file, |file| {
        let mut h = Sha256::new();
        read_all(file, None, |b| h.update(b))?;
        Ok(format!("{:x}", h.finalize()))
    })
}

/// A source's CRC-64/NVME over every byte, as S3 writes it ([`crc64nvme_text`]), remembered
/// per file. Blocking; stops (`Cancelled`) within a MiB of `cancel` being set.
pub fn source_crc64nvme(
    options: &UploadOptions,
    file: &Path,
    cancel: &crate::job::CancelToken,
) -> Result<String, CloudError> {
    whole_file_sum(options, SumKind::Crc64nvme, file, |file| {
        let mut d = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme);
        read_all(file, Some(cancel), |b| d.update(b))?;
        Ok(crc64nvme_text(d.finalize()))
    })
}

/// Runs a blocking checksum function off the async threads.
pub async fn off_thread<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CloudError> + Send + 'static,
) -> Result<T, CloudError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CloudError::new(format!("checksum task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_are_remembered_while_the_file_is_unchanged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.mov");
        std::fs::write(&file, b"video").expect("write");
        let options = UploadOptions {
            records_dir: Some(dir.path().join("uploads")),
            ..UploadOptions::default()
        };
        let kind = SumKind::Crc64nvme;
        assert_eq!(known_sum(&options, kind, &file, 5, 42), None);
        remember_sum(&options, kind, &file, 5, 42, "abc");
        remember_sum(&options, SumKind::Sha256, &file, 5, 42, "sha");
        assert_eq!(
            known_sum(&options, kind, &file, 5, 42).as_deref(),
            Some("abc")
        );
        assert_eq!(
            known_sum(&options, SumKind::Sha256, &file, 5, 42).as_deref(),
            Some("sha"),
            "one entry per file and kind"
        );
        assert_eq!(
            known_sum(&options, kind, &file, 6, 42),
            None,
            "size changed"
        );
        assert_eq!(
            known_sum(&options, kind, &file, 5, 43),
            None,
            "modified since"
        );
        remember_sum(&options, kind, &file, 5, 43, "def");
        assert_eq!(
            known_sum(&options, kind, &file, 5, 43).as_deref(),
            Some("def")
        );
        assert_eq!(known_sum(&options, kind, &file, 5, 42), None);
    }

    #[test]
    fn crc64nvme_matches_s3s_check_value() {
        // CRC-64/NVME of "123456789" is 0xAE8B14860A799888 (the catalogue's check value).
        let mut d = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme);
        d.update(b"123456789");
        assert_eq!(d.finalize(), 0xAE8B_1486_0A79_9888);
        assert_eq!(crc64nvme_text(0xAE8B_1486_0A79_9888), "rosUhgp5mIg=");
    }

    #[test]
    fn fingerprints_sample_the_edges_and_evenly_between() {
        assert_eq!(fingerprint_ranges(10), vec![(0, 10)]);
        assert_eq!(fingerprint_ranges(4 * MIB), vec![(0, 4 * MIB)]);
        let size = 400 * MIB;
        let ranges = fingerprint_ranges(size);
        assert_eq!(ranges.len(), 34);
        assert_eq!(ranges[0], (0, MIB));
        assert_eq!(ranges[33], (size - MIB, MIB));
        let read: u64 = ranges.iter().map(|r| r.1).sum();
        assert_eq!(read, 4 * MIB);
        for w in ranges.windows(2) {
            assert!(w[0].0 + w[0].1 <= w[1].0, "in order, apart: {w:?}");
        }
        // Odd sizes just over the threshold still fit.
        let ranges = fingerprint_ranges(4 * MIB + 1);
        assert!(ranges.iter().all(|&(o, l)| o + l <= 4 * MIB + 1));
    }

    #[test]
    fn fingerprints_tell_sizes_and_edges_apart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a");
        let body = vec![7u8; 6 * 1024 * 1024];
        std::fs::write(&a, &body).expect("write");
        let fp = source_fingerprint(&a).expect("fingerprint");
        assert_eq!(fp.len(), 16);
        let b = dir.path().join("b");
        let mut other = body.clone();
        *other.last_mut().expect("last") = 8;
        std::fs::write(&b, &other).expect("write");
        assert_ne!(
            source_fingerprint(&b).expect("fingerprint"),
            fp,
            "last byte"
        );
        std::fs::write(&b, &body[..body.len() - 1]).expect("write");
        assert_ne!(source_fingerprint(&b).expect("fingerprint"), fp, "size");
        std::fs::write(&b, &body).expect("write");
        assert_eq!(source_fingerprint(&b).expect("fingerprint"), fp, "a copy");
    }
}
