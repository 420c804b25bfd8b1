//! Sending a source to S3: multipart with several parts in flight, progress by bytes, retries
//! with backoff (the SDK's standard retry policy, [`super::clients::MAX_ATTEMPTS`] attempts on
//! throttling, 5xx answers and dropped connections), resumable across restarts, skipped when the
//! same object is already there, and aborted cleanly when cancelled.
//!
//! Resuming: the multipart upload's id is written to a record in the config folder before the
//! first part is sent, and each part is added as S3 acknowledges it (its ETag and CRC-64/NVME are what
//! completing the upload needs). A later run for the same file, bucket and key asks S3 which
//! parts it holds (ListParts; the record is corrected to what S3 says, or trusted when the
//! store cannot list) and sends only the parts missing. A record whose file changed since (size, time or fingerprint) is discarded and
//! its upload aborted; an upload S3 no longer has (expired, aborted elsewhere) starts again.
//! Records an earlier Vodkit left (SHA-256 keys) are aborted and removed on the first
//! upload, so their parts are not billed for ever.
//!
//! Sameness without a pass before the upload: the key's folder is the file's fingerprint (size
//! and 4 MiB sampled, see [`checksum`]), and every object is uploaded with S3's full-object
//! CRC-64/NVME, which the SDK computes part by part as the bytes stream and S3 combines and
//! checks. An object at the key with the same size and full checksum is not sent again; one
//! with other content (a file with the same fingerprint) sends this file to a folder of its
//! own. The full checksum is read locally only in that case, and remembered.

mod checksum;
mod multipart;
mod record;

use std::path::{Path, PathBuf};
use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ChecksumType};
use serde::Serialize;

use super::CloudError;
use super::clients::Clients;
use super::errors::On;
use crate::job::{CancelToken, EventSink, JobEvent};
pub(crate) use checksum::off_thread;
pub use checksum::{fingerprint_ranges, source_crc64nvme, source_fingerprint, source_sha256};
pub use multipart::part_size_for;
use multipart::{Run, Stop, abort, create};
use record::{Record, load_record, modified_unix_ns, record_path, save_record};

/// S3's smallest part (all but the last).
pub const MIN_PART_SIZE_BYTES: u64 = 5 * 1024 * 1024;

/// How an upload runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOptions {
    /// Part size in bytes (at least 5 MiB; raised so a file needs at most 10,000 parts).
    pub part_size_bytes: u64,
    /// Parts sent at once.
    pub parts_in_flight: usize,
    /// Where records of unfinished uploads are kept (default: `uploads/` in the config folder).
    pub records_dir: Option<PathBuf>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        Self {
            part_size_bytes: 16 * 1024 * 1024,
            parts_in_flight: 4,
            records_dir: crate::dirs::config_dir().map(|d| d.join("uploads")),
        }
    }
}

/// What happened to the object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum UploadOutcome {
    /// Sent now: in `parts` parts, `resumed_parts` of which an earlier run had sent.
    Uploaded {
        /// Parts in all.
        parts: u32,
        /// Parts already on S3 from an interrupted run.
        resumed_parts: u32,
    },
    /// The same object (size and full CRC-64/NVME) was already there.
    AlreadyThere,
}

/// An object on S3 holding a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uploaded {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// The folder under `inputs/` that names the content: the fingerprint, with the full
    /// checksum added when another file had the same fingerprint.
    pub content_id: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// The object's full CRC-64/NVME as S3 reports it (base64), when the store reports one.
    pub crc64nvme: Option<String>,
    /// Sent now or already there.
    #[serde(flatten)]
    pub outcome: UploadOutcome,
}

impl Uploaded {
    /// `s3://bucket/key`.
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

pub(super) fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .as_deref()
    {
        Some("mp4" | "m4v") => "video/mp4",
        Some("mov") => "video/quicktime",
        Some("mkv") => "video/x-matroska",
        Some("webm") => "video/webm",
        Some("ts" | "mts" | "m2ts") => "video/mp2t",
        Some("mxf") => "application/mxf",
        _ => "application/octet-stream",
    }
}

pub(super) struct Progress<'a> {
    pub(super) name: String,
    pub(super) total_bytes: u64,
    pub(super) started: Instant,
    pub(super) base_bytes: u64,
    pub(super) sink: &'a EventSink,
}

impl Progress<'_> {
    pub(super) fn report(&self, done_bytes: u64) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        (self.sink)(JobEvent::Transfer {
            name: self.name.clone(),
            done_bytes,
            total_bytes: self.total_bytes,
            bytes_per_sec: done_bytes.saturating_sub(self.base_bytes) as f64 / secs,
        });
    }
}

/// What S3 holds at a key: its size and its full-object CRC-64/NVME when it has one.
struct Existing {
    size_bytes: Option<u64>,
    crc64nvme: Option<String>,
}

/// Asks S3 for the object at `key` (with its checksum); `None` when there is none.
async fn existing(
    clients: &Clients,
    bucket: &str,
    key: &str,
) -> Result<Option<Existing>, CloudError> {
    match clients
        .s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
    {
        Ok(head) => Ok(Some(Existing {
            size_bytes: head.content_length().and_then(|n| u64::try_from(n).ok()),
            // A multipart object with composite checksums shows "<sum>-<parts>": not the file's.
            crc64nvme: head
                .checksum_crc64_nvme()
                .filter(|_| head.checksum_type() != Some(&ChecksumType::Composite))
                .map(str::to_owned),
        })),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
        Err(e) => Err(clients.explain(
            &e,
            &format!("checking s3://{bucket}/{key}"),
            On::Object("s3:GetObject", bucket, key),
        )),
    }
}

/// The folder a source goes to when another file has its fingerprint: the fingerprint and 16
/// hex digits of its full CRC-64/NVME (given as S3 writes it).
fn collision_folder(fingerprint: &str, crc64nvme: &str) -> String {
    let hex: String = aws_smithy_types::base64::decode(crc64nvme)
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{fingerprint}-{hex}")
}

/// Uploads a source to `inputs/<content>/<file name>` under the settings' prefix (see
/// [`crate::cloud::job_spec::input_path`]). See the module documentation.
///
/// The folder is the file's fingerprint, so nothing is read in full before the first byte
/// goes out; the full CRC-64/NVME is read only when an object is already at that key, to tell
/// this file (skipped) from another one with the same fingerprint (which goes to a folder of
/// its own, so neither replaces the other).
///
/// An object is only created where none is (S3's conditional writes, `If-None-Match: *`): when
/// another upload (another file with the same name and fingerprint, sent at the same moment)
/// got there first, the decision is made again against what it wrote.
pub async fn upload(
    clients: &Clients,
    file: &Path,
    options: &UploadOptions,
    sink: &EventSink,
    cancel: &CancelToken,
) -> Result<Uploaded, CloudError> {
    // Measured and fingerprinted once: every pass decides about the same file.
    let named = |e: String| CloudError::new(format!("{}: {e}", file.display()));
    let meta = std::fs::metadata(file).map_err(|e| named(e.to_string()))?;
    if !meta.is_file() {
        return Err(named("not a file".to_owned()));
    }
    if meta.len() == 0 {
        return Err(named(
            "the file is empty (0 bytes); nothing to upload".to_owned(),
        ));
    }
    let measured = (meta.len(), modified_unix_ns(&meta));
    let fingerprint = {
        let file = file.to_owned();
        off_thread(move || source_fingerprint(&file)).await?
    };
    for _ in 0..3 {
        if let Some(done) = upload_once(
            clients,
            file,
            (measured, &fingerprint),
            options,
            sink,
            cancel,
        )
        .await?
        {
            return Ok(done);
        }
        sink(JobEvent::Warning {
            message: format!(
                "another upload wrote {}'s key first; looking again",
                file.display()
            ),
        });
    }
    Err(CloudError::new(format!(
        "{}: other uploads kept writing the same key; run it again",
        file.display()
    )))
}

/// The S3 error code of a failed request (`NoSuchUpload`, `PreconditionFailed`...), if S3
/// answered with one.
pub(super) fn s3_code<E: aws_sdk_s3::error::ProvideErrorMetadata>(
    e: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> Option<&str> {
    e.as_service_error()
        .and_then(aws_sdk_s3::error::ProvideErrorMetadata::code)
}

/// Is this S3's answer to a conditional write that found an object there (412), or to one
/// that met another in flight (409)?
fn lost_the_race<E: aws_sdk_s3::error::ProvideErrorMetadata>(
    e: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> bool {
    matches!(
        s3_code(e),
        Some("PreconditionFailed" | "ConditionalRequestConflict")
    )
}

/// Aborts the recorded, interrupted upload of `file` to `key`, if there is one (best effort;
/// said when it fails).
async fn drop_interrupted(
    clients: &Clients,
    options: &UploadOptions,
    file: &Path,
    bucket: &str,
    key: &str,
    sink: &EventSink,
) {
    let Some(dir) = options.records_dir.as_deref() else {
        return;
    };
    let path = record_path(dir, clients, file, bucket, key);
    let Some(old) = load_record(&path) else {
        return;
    };
    match abort(clients, &old).await {
        Ok(()) => {
            let _ = std::fs::remove_file(&path);
        }
        Err(e) => sink(JobEvent::Warning {
            message: e.to_string(),
        }),
    }
}

/// Is this a store that does not take conditional writes (501 NotImplemented)?
fn condition_unsupported<E: aws_sdk_s3::error::ProvideErrorMetadata>(
    e: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> bool {
    s3_code(e) == Some("NotImplemented")
}

/// What is said when a store refuses `If-None-Match` and the object is written without it.
fn condition_unsupported_warning(url: &str) -> String {
    format!(
        "the S3 store does not take conditional writes (If-None-Match); {url} is written without \
         one, so two files with the same name and fingerprint sent at the same moment could \
         replace each other"
    )
}

/// One pass of [`upload`]; `None` when a conditional write found another object arrived.
async fn upload_once(
    clients: &Clients,
    file: &Path,
    (measured, fingerprint): ((u64, u128), &str),
    options: &UploadOptions,
    sink: &EventSink,
    cancel: &CancelToken,
) -> Result<Option<Uploaded>, CloudError> {
    let bucket = clients.settings.require_bucket()?.to_owned();
    let named = |e: String| CloudError::new(format!("{}: {e}", file.display()));
    let (size_bytes, modified) = measured;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| named("has no file name".to_owned()))?;
    let key_in = |folder: &str| {
        clients
            .settings
            .key(&crate::cloud::job_spec::input_path(&name, folder))
    };
    let mut content_id = fingerprint.to_owned();
    let mut key = key_in(&content_id);
    // Written only where nothing is, unless this run replaces an object on purpose.
    let mut only_if_absent = true;
    let already_there = |key: String, content_id: String, crc64nvme: String| Uploaded {
        bucket: bucket.clone(),
        key,
        content_id,
        size_bytes,
        crc64nvme: Some(crc64nvme),
        outcome: UploadOutcome::AlreadyThere,
    };
    if let Some(there) = existing(clients, &bucket, &key).await? {
        if there.crc64nvme.is_none() && there.size_bytes == Some(size_bytes) {
            // Vodkit's own objects always carry one: this store keeps no CRC-64/NVME (or
            // another tool wrote the object), and whether it holds this file cannot be told.
            return Err(CloudError::new(format!(
                "s3://{bucket}/{key} is there with the size of {} but without a CRC-64/NVME \
                 checksum, so Vodkit cannot tell whether it holds this file: the S3-compatible \
                 store must keep CRC-64/NVME checksums (AWS S3, MinIO and moto with awscrt do); \
                 delete the object to upload the file again",
                file.display()
            )));
        }
        let crc = {
            let (options, file, cancel) = (options.clone(), file.to_owned(), cancel.clone());
            off_thread(move || source_crc64nvme(&options, &file, &cancel)).await?
        };
        let same = |e: &Existing| {
            e.size_bytes == Some(size_bytes) && e.crc64nvme.as_deref() == Some(crc.as_str())
        };
        // An upload of this file to this key interrupted earlier will never be resumed now
        // (the object is there, or this file goes elsewhere): its parts are aborted.
        drop_interrupted(clients, options, file, &bucket, &key, sink).await;
        if same(&there) {
            return Ok(Some(already_there(key, content_id, crc)));
        }
        // Another file with this fingerprint (or an object Vodkit did not make): this one
        // goes beside it, named by its full checksum.
        content_id = collision_folder(fingerprint, &crc);
        key = key_in(&content_id);
        sink(JobEvent::Warning {
            message: format!(
                "s3://{bucket}/{} holds other content than {}; uploading to s3://{bucket}/{key}",
                key_in(fingerprint),
                file.display()
            ),
        });
        match existing(clients, &bucket, &key).await? {
            Some(there) if same(&there) => return Ok(Some(already_there(key, content_id, crc))),
            Some(_) => {
                only_if_absent = false;
                sink(JobEvent::Warning {
                    message: format!("s3://{bucket}/{key} exists with other content; replacing it"),
                });
            }
            None => {}
        }
    }
    if cancel.is_cancelled() {
        return Err(CloudError::Cancelled);
    }
    let url = format!("s3://{bucket}/{key}");
    let progress = Progress {
        name: url.clone(),
        total_bytes: size_bytes,
        started: Instant::now(),
        base_bytes: 0,
        sink,
    };
    let finished = |crc64nvme: Option<String>, outcome: UploadOutcome| {
        if let Some(crc) = &crc64nvme {
            // S3's checksum is the file's as long as it did not change while it went out.
            if !record::changed_since(file, size_bytes, modified) {
                checksum::remember_crc64nvme(options, file, size_bytes, modified, crc);
            }
        }
        Uploaded {
            bucket: bucket.clone(),
            key: key.clone(),
            content_id: content_id.clone(),
            size_bytes,
            crc64nvme,
            outcome,
        }
    };

    let part_size = part_size_for(size_bytes, options.part_size_bytes);
    if size_bytes <= part_size {
        // One request; nothing to resume. The SDK sends the CRC-64/NVME as it reads.
        let mut condition = only_if_absent;
        let result = loop {
            let body = ByteStream::from_path(file)
                .await
                .map_err(|e| named(e.to_string()))?;
            let send = clients
                .s3
                .put_object()
                .bucket(&bucket)
                .key(&key)
                .content_type(content_type(file))
                .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
                .set_if_none_match(condition.then(|| "*".to_owned()))
                .body(body)
                .send();
            let result = tokio::select! {
                r = send => r,
                () = cancel.cancelled() => return Err(CloudError::Cancelled),
            };
            if condition && result.as_ref().is_err_and(condition_unsupported) {
                sink(JobEvent::Warning {
                    message: condition_unsupported_warning(&url),
                });
                condition = false;
                continue;
            }
            break result;
        };
        if result.as_ref().is_err_and(lost_the_race) {
            return Ok(None);
        }
        let put = result.map_err(|e| {
            clients.explain(
                &e,
                &format!("uploading {url}"),
                On::Object("s3:PutObject", &bucket, &key),
            )
        })?;
        if record::changed_since(file, size_bytes, modified) {
            // What S3 holds may be half of each version: it is not kept.
            let _ = clients
                .s3
                .delete_object()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await;
            return Err(named(
                "the file changed while it was uploading; the object was removed, run it again"
                    .to_owned(),
            ));
        }
        progress.report(size_bytes);
        return Ok(Some(finished(
            put.checksum_crc64_nvme().map(str::to_owned),
            UploadOutcome::Uploaded {
                parts: 1,
                resumed_parts: 0,
            },
        )));
    }

    let records_dir = options.records_dir.as_deref().ok_or_else(|| {
        CloudError::new(
            "no config folder to keep the upload record in (set HOME or VODKIT_CONFIG_DIR)",
        )
    })?;
    record::abort_old_records(clients, records_dir, sink).await;
    let record_file = record_path(records_dir, clients, file, &bucket, &key);
    let wanted = Record {
        bucket: bucket.clone(),
        key: key.clone(),
        upload_id: String::new(),
        file: file.to_owned(),
        size_bytes,
        modified_unix_ns: modified,
        fingerprint: fingerprint.to_owned(),
        part_size_bytes: part_size,
        parts: Vec::new(),
    };
    let mut earlier = match load_record(&record_file) {
        Some(old) if old.same_upload_as(&wanted) => {
            // S3 is the truth about which parts arrived (a part sent just before a kill may be
            // missing from the record; one the record names may be gone).
            match multipart::held_parts(clients, &old).await {
                multipart::Held::Parts(held) => {
                    let (record, lost) = multipart::reconciled(old, &held);
                    if lost > 0 {
                        sink(JobEvent::Warning {
                            message: format!(
                                "S3 does not hold {lost} part(s) the record of {url} names; sending them again"
                            ),
                        });
                    }
                    save_record(&record_file, &record)?;
                    Some(record)
                }
                multipart::Held::Gone => {
                    sink(JobEvent::Warning {
                        message: format!(
                            "the interrupted upload of {url} is no longer on S3; starting again"
                        ),
                    });
                    let _ = std::fs::remove_file(&record_file);
                    None
                }
                multipart::Held::Unknown(why) => {
                    sink(JobEvent::Warning {
                        message: format!(
                            "S3 did not list the parts of {url} ({why}); resuming from the local record"
                        ),
                    });
                    Some(old)
                }
            }
        }
        Some(old) => {
            sink(JobEvent::Warning {
                message: format!(
                    "{} changed since its upload to {url} was interrupted; starting again",
                    file.display()
                ),
            });
            let _ = abort(clients, &old).await;
            let _ = std::fs::remove_file(&record_file);
            None
        }
        None => None,
    };
    loop {
        let resuming = earlier.is_some();
        let record = match earlier.take() {
            Some(r) => r,
            None => {
                let id = create(clients, &wanted, file).await?;
                let r = Record {
                    upload_id: id,
                    ..wanted.clone()
                };
                save_record(&record_file, &r)?;
                r
            }
        };
        let run = Run {
            clients,
            record_file: &record_file,
            options,
            sink,
            cancel,
            url: &url,
            only_if_absent,
        };
        let record_for_abort = record.clone();
        match run.send(record).await {
            Ok((outcome, crc64nvme)) => {
                let _ = std::fs::remove_file(&record_file);
                // Some stores leave the checksum out of the answer to completing; HEAD has it.
                let crc64nvme = match crc64nvme {
                    Some(crc) => Some(crc),
                    None => existing(clients, &bucket, &key)
                        .await
                        .ok()
                        .flatten()
                        .and_then(|e| e.crc64nvme),
                };
                return Ok(Some(finished(crc64nvme, outcome)));
            }
            Err(Stop::Gone) if resuming => {
                // Expired or aborted elsewhere, or S3 refused a part the record named: the
                // parts sent earlier cannot be used.
                sink(JobEvent::Warning {
                    message: format!(
                        "the interrupted upload of {url} is no longer on S3 as recorded; starting again"
                    ),
                });
                let _ = std::fs::remove_file(&record_file);
                let _ = abort(clients, &record_for_abort).await;
            }
            Err(Stop::Gone) => {
                let _ = std::fs::remove_file(&record_file);
                return Err(CloudError::new(format!(
                    "S3 lost the multipart upload of {url} while it ran (aborted by a lifecycle rule \
                     or another tool?); run it again"
                )));
            }
            Err(Stop::Raced) => {
                let _ = std::fs::remove_file(&record_file);
                return Ok(None);
            }
            Err(Stop::Error(e)) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type(Path::new("a.MOV")), "video/quicktime");
        assert_eq!(content_type(Path::new("a.mp4")), "video/mp4");
        assert_eq!(content_type(Path::new("a")), "application/octet-stream");
    }
}
