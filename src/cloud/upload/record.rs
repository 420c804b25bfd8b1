//! The local record of an unfinished multipart upload: which file, which bucket and key, the
//! upload id and the parts S3 acknowledged, so a later run can send only what is missing.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::CloudError;
use super::super::clients::Clients;

/// The local record of an unfinished multipart upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Record {
    pub(super) bucket: String,
    pub(super) key: String,
    pub(super) upload_id: String,
    pub(super) file: PathBuf,
    pub(super) size_bytes: u64,
    pub(super) modified_unix_ns: u128,
    /// The file's fingerprint (size and samples) when the upload began.
    pub(super) fingerprint: String,
    pub(super) part_size_bytes: u64,
    /// Parts S3 acknowledged, in the order they finished.
    pub(super) parts: Vec<RecordedPart>,
}

/// A part S3 acknowledged (its ETag and checksum are needed to complete the upload).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct RecordedPart {
    pub(super) number: i32,
    pub(super) e_tag: String,
    pub(super) checksum_crc64nvme: Option<String>,
}

impl Record {
    /// The same file, bucket, key and part size: its parts can be reused.
    pub(super) fn same_upload_as(&self, other: &Record) -> bool {
        (
            &self.bucket,
            &self.key,
            &self.file,
            self.size_bytes,
            self.modified_unix_ns,
            &self.fingerprint,
            self.part_size_bytes,
        ) == (
            &other.bucket,
            &other.key,
            &other.file,
            other.size_bytes,
            other.modified_unix_ns,
            &other.fingerprint,
            other.part_size_bytes,
        )
    }

    pub(super) fn has(&self, number: i32) -> bool {
        self.parts.iter().any(|p| p.number == number)
    }
}

/// Where the record of uploading `file` to `bucket`/`key` is kept: one per local file and
/// destination, so two files bound for one key never take over each other's upload.
pub(super) fn record_path(
    dir: &Path,
    clients: &Clients,
    file: &Path,
    bucket: &str,
    key: &str,
) -> PathBuf {
    let file = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_owned());
    let file = file.to_string_lossy();
    let mut h = Sha256::new();
    for part in [clients.settings.endpoint.trim(), bucket, key, &file] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let name = format!("{:x}", h.finalize());
    dir.join(format!("{}.json", &name[..32]))
}

pub(super) fn load_record(path: &Path) -> Option<Record> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

pub(super) fn save_record(path: &Path, record: &Record) -> Result<(), CloudError> {
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("json.part");
        std::fs::write(&tmp, serde_json::to_vec_pretty(record).unwrap_or_default())?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        CloudError::new(format!(
            "cannot write the upload record {}: {e} (needed to resume an interrupted upload)",
            path.display()
        ))
    })
}

/// Whether `file` is no longer `size_bytes` long with that modification time (or is gone):
/// it changed since it was measured.
pub(super) fn changed_since(file: &Path, size_bytes: u64, modified_unix_ns_then: u128) -> bool {
    std::fs::metadata(file).map_or(true, |m| {
        m.len() != size_bytes || modified_unix_ns(&m) != modified_unix_ns_then
    })
}

pub(super) fn modified_unix_ns(meta: &std::fs::Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// Aborts the multipart uploads of records an earlier version wrote (SHA-256 keys, a `sha256`
/// field where records now have `fingerprint`): their keys are no longer used, so they would
/// never be resumed, and S3 bills the parts of an unfinished upload until it is aborted.
/// Best effort: a record whose upload cannot be aborted is kept for the next run.
pub(super) async fn abort_old_records(clients: &Clients, dir: &Path, sink: &crate::job::EventSink) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        let is_record = path.extension().is_some_and(|e| e == "json")
            && path
                .file_name()
                .is_some_and(|n| n != "checksums.json" && n != "sha256.json");
        let Some(old) = is_record
            .then(|| std::fs::read(&path).ok())
            .flatten()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .filter(|v| v.get("sha256").is_some() && v.get("fingerprint").is_none())
        else {
            continue;
        };
        let text = |k: &str| old[k].as_str().unwrap_or_default().to_owned();
        let (bucket, key, upload_id) = (text("bucket"), text("key"), text("upload_id"));
        let gone = super::multipart::abort_upload(clients, &bucket, &key, &upload_id)
            .await
            .is_ok();
        if gone {
            let _ = std::fs::remove_file(&path);
            sink(crate::job::JobEvent::Warning {
                message: format!(
                    "aborted the interrupted upload to s3://{bucket}/{key} left by an earlier Vodkit (sources now go under fingerprint keys)"
                ),
            });
        }
    }
    // The checksum cache of earlier versions.
    let _ = std::fs::remove_file(dir.join("sha256.json"));
}
