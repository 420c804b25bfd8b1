//! Sending a source to S3: multipart with several parts in flight, progress by bytes, retries
//! with backoff (the SDK's standard retry policy, [`super::clients::MAX_ATTEMPTS`] attempts on
//! throttling, 5xx answers and dropped connections), resumable across restarts, skipped when the
//! same object is already there, and aborted cleanly when cancelled.
//!
//! Resuming: the multipart upload's id is written to a record in the config folder before the
//! first part is sent, and each part is added as S3 acknowledges it (its ETag and CRC32 are what
//! completing the upload needs). A later run for the same file, bucket and key sends only the
//! parts missing. A record whose file changed since (size, time or checksum) is discarded and
//! its upload aborted; an upload S3 no longer has (expired, aborted elsewhere) starts again.
//!
//! Sameness: every object Vodkit uploads carries the source's SHA-256 in its metadata
//! (`x-amz-meta-vodkit-sha256`); an object with the same size and checksum is not sent again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use super::CloudError;
use super::clients::Clients;
use super::errors::{Context, explain};
use super::part_body::counted_part;
use crate::job::{CancelToken, EventSink, JobEvent};

/// S3's smallest part (all but the last).
pub const MIN_PART_SIZE_BYTES: u64 = 5 * 1024 * 1024;
/// S3's largest part count.
const MAX_PARTS: u64 = 10_000;
/// The object metadata key holding the source's SHA-256 (hex).
pub const SHA256_METADATA_KEY: &str = "vodkit-sha256";

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
    /// The same object (size and SHA-256) was already there.
    AlreadyThere,
}

/// An object on S3 holding a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uploaded {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
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

/// The local record of an unfinished multipart upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    bucket: String,
    key: String,
    upload_id: String,
    file: PathBuf,
    size_bytes: u64,
    modified_unix_ns: u128,
    sha256: String,
    part_size_bytes: u64,
    /// Parts S3 acknowledged, in the order they finished.
    parts: Vec<RecordedPart>,
}

/// A part S3 acknowledged (its ETag and checksum are needed to complete the upload).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RecordedPart {
    number: i32,
    e_tag: String,
    checksum_crc32: Option<String>,
}

impl Record {
    /// The same file, bucket, key and part size: its parts can be reused.
    fn same_upload_as(&self, other: &Record) -> bool {
        (
            &self.bucket,
            &self.key,
            &self.file,
            self.size_bytes,
            self.modified_unix_ns,
            &self.sha256,
            self.part_size_bytes,
        ) == (
            &other.bucket,
            &other.key,
            &other.file,
            other.size_bytes,
            other.modified_unix_ns,
            &other.sha256,
            other.part_size_bytes,
        )
    }

    fn has(&self, number: i32) -> bool {
        self.parts.iter().any(|p| p.number == number)
    }
}

fn content_type(path: &Path) -> &'static str {
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

/// The part size for a file: the wanted size, at least 5 MiB, raised (in whole MiB) so the file
/// fits in 10,000 parts.
pub fn part_size_for(size_bytes: u64, wanted_bytes: u64) -> u64 {
    const MIB: u64 = 1024 * 1024;
    let needed = size_bytes.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    wanted_bytes.max(MIN_PART_SIZE_BYTES).max(needed)
}

fn record_path(dir: &Path, clients: &Clients, bucket: &str, key: &str) -> PathBuf {
    let mut h = Sha256::new();
    for part in [clients.settings.endpoint.trim(), bucket, key] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let name = format!("{:x}", h.finalize());
    dir.join(format!("{}.json", &name[..32]))
}

fn load_record(path: &Path) -> Option<Record> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn save_record(path: &Path, record: &Record) -> Result<(), CloudError> {
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

fn modified_unix_ns(meta: &std::fs::Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// A file's SHA-256 as computed before, when its size and modification time are unchanged
/// (what rsync trusts too), so re-running an upload or a submit does not read a big source
/// again just to find it is already there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct KnownSum {
    file: PathBuf,
    size_bytes: u64,
    modified_unix_ns: u128,
    sha256: String,
}

fn sums_file(options: &UploadOptions) -> Option<PathBuf> {
    options.records_dir.as_ref().map(|d| d.join("sha256.json"))
}

fn known_sha256(options: &UploadOptions, file: &Path, size: u64, modified: u128) -> Option<String> {
    let path = sums_file(options)?;
    let sums: Vec<KnownSum> = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let file = std::fs::canonicalize(file).ok()?;
    sums.into_iter()
        .find(|k| k.file == file && k.size_bytes == size && k.modified_unix_ns == modified)
        .map(|k| k.sha256)
}

/// Adds a checksum to the known ones (the newest 200 are kept). Best effort: a failure only
/// means the next run reads the file again.
fn remember_sha256(options: &UploadOptions, file: &Path, size: u64, modified: u128, sum: &str) {
    let (Some(path), Ok(file)) = (sums_file(options), std::fs::canonicalize(file)) else {
        return;
    };
    let mut sums: Vec<KnownSum> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    sums.retain(|k| k.file != file);
    sums.push(KnownSum {
        file,
        size_bytes: size,
        modified_unix_ns: modified,
        sha256: sum.to_owned(),
    });
    let keep_from = sums.len().saturating_sub(200);
    let sums = sums.split_off(keep_from);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let tmp = path.with_extension("json.part");
    if std::fs::write(&tmp, serde_json::to_vec(&sums).unwrap_or_default()).is_ok() {
        let _ = std::fs::rename(&tmp, &path);
    }
}

/// SHA-256 of a file, hex, read in 1 MiB blocks off the async threads.
pub async fn sha256_of(path: &Path) -> Result<String, CloudError> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut f = std::fs::File::open(&path)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok::<_, std::io::Error>(format!("{:x}", h.finalize()))
    })
    .await
    .map_err(|e| CloudError::new(format!("checksum task failed: {e}")))?
    .map_err(|e| CloudError::new(format!("cannot read the source: {e}")))
}

/// One part to send.
#[derive(Debug, Clone, Copy)]
struct Part {
    number: i32,
    offset: u64,
    len: u64,
}

fn parts_of(size_bytes: u64, part_size_bytes: u64) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut offset = 0;
    let mut number = 1;
    while offset < size_bytes {
        let len = part_size_bytes.min(size_bytes - offset);
        parts.push(Part {
            number,
            offset,
            len,
        });
        offset += len;
        number += 1;
    }
    parts
}

struct Progress<'a> {
    name: String,
    total_bytes: u64,
    started: Instant,
    base_bytes: u64,
    sink: &'a EventSink,
}

impl Progress<'_> {
    fn report(&self, done_bytes: u64) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        (self.sink)(JobEvent::Transfer {
            name: self.name.clone(),
            done_bytes,
            total_bytes: self.total_bytes,
            bytes_per_sec: done_bytes.saturating_sub(self.base_bytes) as f64 / secs,
        });
    }
}

/// Uploads `file` to `key` in the settings' bucket. See the module documentation.
pub async fn upload(
    clients: &Clients,
    file: &Path,
    key: &str,
    options: &UploadOptions,
    sink: &EventSink,
    cancel: &CancelToken,
) -> Result<Uploaded, CloudError> {
    let bucket = clients.settings.require_bucket()?.to_owned();
    let named = |e: String| CloudError::new(format!("{}: {e}", file.display()));
    let meta = std::fs::metadata(file).map_err(|e| named(e.to_string()))?;
    if !meta.is_file() {
        return Err(named("not a file".to_owned()));
    }
    let size_bytes = meta.len();
    if size_bytes == 0 {
        return Err(named(
            "the file is empty (0 bytes); nothing to upload".to_owned(),
        ));
    }
    let modified = modified_unix_ns(&meta);
    let url = format!("s3://{bucket}/{key}");
    let sha256 = match known_sha256(options, file, size_bytes, modified) {
        Some(sum) => sum,
        None => {
            let sum = sha256_of(file).await.map_err(|e| named(e.to_string()))?;
            remember_sha256(options, file, size_bytes, modified, &sum);
            sum
        }
    };
    if cancel.is_cancelled() {
        return Err(CloudError::Cancelled);
    }
    let region = clients.region.clone();
    let progress = Progress {
        name: url.clone(),
        total_bytes: size_bytes,
        started: Instant::now(),
        base_bytes: 0,
        sink,
    };

    // Already there?
    match clients
        .s3
        .head_object()
        .bucket(&bucket)
        .key(key)
        .send()
        .await
    {
        Ok(head) => {
            let same_size = head.content_length() == i64::try_from(size_bytes).ok();
            let same_sum = head
                .metadata()
                .and_then(|m| m.get(SHA256_METADATA_KEY))
                .is_some_and(|s| *s == sha256);
            if same_size && same_sum {
                return Ok(Uploaded {
                    bucket,
                    key: key.to_owned(),
                    size_bytes,
                    sha256,
                    outcome: UploadOutcome::AlreadyThere,
                });
            }
            sink(JobEvent::Warning {
                message: format!("{url} exists with other content; replacing it"),
            });
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {}
        Err(e) => {
            return Err(explain(
                &e,
                &Context {
                    doing: &format!("checking {url}"),
                    permission: &format!("s3:GetObject on arn:aws:s3:::{bucket}/{key}"),
                    bucket: Some(&bucket),
                    region: &region,
                },
            ));
        }
    }

    let part_size = part_size_for(size_bytes, options.part_size_bytes);
    let put_perm = format!("s3:PutObject on arn:aws:s3:::{bucket}/{key}");
    let put_cx = |doing: &str| -> String { format!("{doing} {url}") };
    if size_bytes <= part_size {
        // One request; nothing to resume.
        let body = ByteStream::from_path(file)
            .await
            .map_err(|e| named(e.to_string()))?;
        let send = clients
            .s3
            .put_object()
            .bucket(&bucket)
            .key(key)
            .content_type(content_type(file))
            .metadata(SHA256_METADATA_KEY, &sha256)
            .body(body)
            .send();
        let result = tokio::select! {
            r = send => r,
            () = cancelled(cancel) => return Err(CloudError::Cancelled),
        };
        result.map_err(|e| {
            explain(
                &e,
                &Context {
                    doing: &put_cx("uploading"),
                    permission: &put_perm,
                    bucket: Some(&bucket),
                    region: &region,
                },
            )
        })?;
        progress.report(size_bytes);
        return Ok(Uploaded {
            bucket,
            key: key.to_owned(),
            size_bytes,
            sha256,
            outcome: UploadOutcome::Uploaded {
                parts: 1,
                resumed_parts: 0,
            },
        });
    }

    let records_dir = options.records_dir.as_deref().ok_or_else(|| {
        CloudError::new(
            "no config folder to keep the upload record in (set HOME or VODKIT_CONFIG_DIR)",
        )
    })?;
    let record_file = record_path(records_dir, clients, &bucket, key);
    let wanted = Record {
        bucket: bucket.clone(),
        key: key.to_owned(),
        upload_id: String::new(),
        file: file.to_owned(),
        size_bytes,
        modified_unix_ns: modified,
        sha256: sha256.clone(),
        part_size_bytes: part_size,
        parts: Vec::new(),
    };
    let mut earlier = match load_record(&record_file) {
        Some(old) if old.same_upload_as(&wanted) => Some(old),
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
        };
        match run.send(record).await {
            Ok(outcome) => {
                let _ = std::fs::remove_file(&record_file);
                return Ok(Uploaded {
                    bucket,
                    key: key.to_owned(),
                    size_bytes,
                    sha256,
                    outcome,
                });
            }
            Err(Stop::Gone) if resuming => {
                // Expired or aborted elsewhere: the parts sent earlier are lost.
                sink(JobEvent::Warning {
                    message: format!(
                        "the interrupted upload of {url} is no longer on S3; starting again"
                    ),
                });
                let _ = std::fs::remove_file(&record_file);
            }
            Err(Stop::Gone) => {
                let _ = std::fs::remove_file(&record_file);
                return Err(CloudError::new(format!(
                    "S3 lost the multipart upload of {url} while it ran (aborted by a lifecycle rule \
                     or another tool?); run it again"
                )));
            }
            Err(Stop::Error(e)) => return Err(e),
        }
    }
}

/// Why sending the parts stopped.
enum Stop {
    /// The multipart upload does not exist (any more).
    Gone,
    /// Cancelled or failed.
    Error(CloudError),
}

fn is_gone<E: aws_sdk_s3::error::ProvideErrorMetadata>(
    e: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> bool {
    e.as_service_error()
        .and_then(aws_sdk_s3::error::ProvideErrorMetadata::code)
        == Some("NoSuchUpload")
}

async fn create(clients: &Clients, wanted: &Record, file: &Path) -> Result<String, CloudError> {
    let url = format!("s3://{}/{}", wanted.bucket, wanted.key);
    let created = clients
        .s3
        .create_multipart_upload()
        .bucket(&wanted.bucket)
        .key(&wanted.key)
        .content_type(content_type(file))
        .metadata(SHA256_METADATA_KEY, &wanted.sha256)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .map_err(|e| {
            explain(
                &e,
                &Context {
                    doing: &format!("starting the upload of {url}"),
                    permission: &format!(
                        "s3:PutObject on arn:aws:s3:::{}/{}",
                        wanted.bucket, wanted.key
                    ),
                    bucket: Some(&wanted.bucket),
                    region: &clients.region,
                },
            )
        })?;
    created
        .upload_id()
        .map(str::to_owned)
        .ok_or_else(|| CloudError::new(format!("S3 gave no upload id for {url}")))
}

/// One pass over the parts of a recorded multipart upload.
struct Run<'a> {
    clients: &'a Clients,
    record_file: &'a Path,
    options: &'a UploadOptions,
    sink: &'a EventSink,
    cancel: &'a CancelToken,
    url: &'a str,
}

impl Run<'_> {
    /// Sends the parts the record does not hold, several at once, recording each as S3
    /// acknowledges it, then completes the upload.
    async fn send(&self, mut record: Record) -> Result<UploadOutcome, Stop> {
        let clients = self.clients;
        let all_parts = parts_of(record.size_bytes, record.part_size_bytes);
        let resumed_parts = record.parts.len() as u32;
        let resumed_bytes: u64 = all_parts
            .iter()
            .filter(|p| record.has(p.number))
            .map(|p| p.len)
            .sum();
        let mut completed_bytes = resumed_bytes;
        let mut in_flight_parts: Vec<(i32, u64, Arc<AtomicU64>)> = Vec::new();
        let progress = Progress {
            name: self.url.to_owned(),
            total_bytes: record.size_bytes,
            started: Instant::now(),
            base_bytes: resumed_bytes,
            sink: self.sink,
        };
        progress.report(resumed_bytes);
        let mut todo = all_parts
            .iter()
            .filter(|p| !record.has(p.number))
            .copied()
            .collect::<Vec<_>>()
            .into_iter();
        let mut tasks: JoinSet<Result<RecordedPart, (i32, Stop)>> = JoinSet::new();
        let in_flight = self.options.parts_in_flight.max(1);
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            while tasks.len() < in_flight {
                let Some(part) = todo.next() else { break };
                let sent = Arc::new(AtomicU64::new(0));
                in_flight_parts.push((part.number, part.len, Arc::clone(&sent)));
                tasks.spawn(send_part(clients.clone(), record.clone(), part, sent));
            }
            let sent_now = |completed: u64, parts: &[(i32, u64, Arc<AtomicU64>)]| {
                completed
                    + parts
                        .iter()
                        .map(|(_, len, sent)| sent.load(Ordering::Relaxed).min(*len))
                        .sum::<u64>()
            };
            if tasks.is_empty() {
                break;
            }
            tokio::select! {
                joined = tasks.join_next() => match joined {
                    Some(Ok(Ok(part))) => {
                        if let Some(i) = in_flight_parts.iter().position(|p| p.0 == part.number) {
                            completed_bytes += in_flight_parts.swap_remove(i).1;
                        }
                        record.parts.push(part);
                        save_record(self.record_file, &record).map_err(Stop::Error)?;
                        progress.report(sent_now(completed_bytes, &in_flight_parts));
                    }
                    Some(Ok(Err((_, Stop::Gone)))) => {
                        tasks.abort_all();
                        return Err(Stop::Gone);
                    }
                    Some(Ok(Err((number, Stop::Error(e))))) => {
                        tasks.abort_all();
                        return Err(Stop::Error(CloudError::new(format!(
                            "{e}. Part {number} of {} failed after {} attempts; {} parts are on S3 \
                             and the upload continues from there when you run it again",
                            all_parts.len(),
                            super::clients::MAX_ATTEMPTS,
                            record.parts.len()
                        ))));
                    }
                    Some(Err(e)) => {
                        tasks.abort_all();
                        return Err(Stop::Error(CloudError::new(format!("upload task failed: {e}"))));
                    }
                    None => {}
                },
                _ = tick.tick() => {
                    if self.cancel.is_cancelled() {
                        tasks.abort_all();
                        while tasks.join_next().await.is_some() {}
                        abort(clients, &record).await.map_err(Stop::Error)?;
                        let _ = std::fs::remove_file(self.record_file);
                        return Err(Stop::Error(CloudError::Cancelled));
                    }
                    progress.report(sent_now(completed_bytes, &in_flight_parts));
                }
            }
        }

        // The file must not have changed under us.
        let changed = std::fs::metadata(&record.file).map_or(true, |m| {
            m.len() != record.size_bytes || modified_unix_ns(&m) != record.modified_unix_ns
        });
        if changed {
            abort(clients, &record).await.map_err(Stop::Error)?;
            let _ = std::fs::remove_file(self.record_file);
            return Err(Stop::Error(CloudError::new(format!(
                "{}: the file changed while it was uploading; the upload was aborted, run it again",
                record.file.display()
            ))));
        }
        let mut parts: Vec<CompletedPart> = record
            .parts
            .iter()
            .map(|p| {
                CompletedPart::builder()
                    .part_number(p.number)
                    .e_tag(&p.e_tag)
                    .set_checksum_crc32(p.checksum_crc32.clone())
                    .build()
            })
            .collect();
        parts.sort_by_key(|p| p.part_number());
        clients
            .s3
            .complete_multipart_upload()
            .bucket(&record.bucket)
            .key(&record.key)
            .upload_id(&record.upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                if is_gone(&e) {
                    return Stop::Gone;
                }
                Stop::Error(explain(
                    &e,
                    &Context {
                        doing: &format!("finishing the upload of {}", self.url),
                        permission: &format!(
                            "s3:PutObject on arn:aws:s3:::{}/{}",
                            record.bucket, record.key
                        ),
                        bucket: Some(&record.bucket),
                        region: &clients.region,
                    },
                ))
            })?;
        progress.report(record.size_bytes);
        Ok(UploadOutcome::Uploaded {
            parts: all_parts.len() as u32,
            resumed_parts,
        })
    }
}

/// Resolves once the token is cancelled (checked every 100 ms).
pub(crate) async fn cancelled(cancel: &CancelToken) {
    while !cancel.is_cancelled() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn send_part(
    clients: Clients,
    record: Record,
    part: Part,
    sent: Arc<AtomicU64>,
) -> Result<RecordedPart, (i32, Stop)> {
    let fail = |e: String| (part.number, Stop::Error(CloudError::new(e)));
    let body = counted_part(&record.file, part.offset, part.len, sent)
        .await
        .map_err(|e| fail(format!("{}: {e}", record.file.display())))?;
    let out = clients
        .s3
        .upload_part()
        .bucket(&record.bucket)
        .key(&record.key)
        .upload_id(&record.upload_id)
        .part_number(part.number)
        .content_length(i64::try_from(part.len).unwrap_or(i64::MAX))
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            if is_gone(&e) {
                return (part.number, Stop::Gone);
            }
            (
                part.number,
                Stop::Error(explain(
                    &e,
                    &Context {
                        doing: &format!(
                            "uploading part {} of s3://{}/{}",
                            part.number, record.bucket, record.key
                        ),
                        permission: &format!(
                            "s3:PutObject on arn:aws:s3:::{}/{}",
                            record.bucket, record.key
                        ),
                        bucket: Some(&record.bucket),
                        region: &clients.region,
                    },
                )),
            )
        })?;
    Ok(RecordedPart {
        number: part.number,
        e_tag: out.e_tag().unwrap_or_default().to_owned(),
        checksum_crc32: out.checksum_crc32().map(str::to_owned),
    })
}

async fn abort(clients: &Clients, record: &Record) -> Result<(), CloudError> {
    clients
        .s3
        .abort_multipart_upload()
        .bucket(&record.bucket)
        .key(&record.key)
        .upload_id(&record.upload_id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            explain(
                &e,
                &Context {
                    doing: &format!(
                        "aborting the upload of s3://{}/{} (delete it with `aws s3api abort-multipart-upload`)",
                        record.bucket, record.key
                    ),
                    permission: &format!(
                        "s3:AbortMultipartUpload on arn:aws:s3:::{}/{}",
                        record.bucket, record.key
                    ),
                    bucket: Some(&record.bucket),
                    region: &clients.region,
                },
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_sizes_respect_s3_limits() {
        const MIB: u64 = 1024 * 1024;
        assert_eq!(part_size_for(100 * MIB, 16 * MIB), 16 * MIB);
        assert_eq!(part_size_for(100 * MIB, MIB), 5 * MIB);
        // 200 GiB in 16 MiB parts would be 12,800 parts: raised to 21 MiB.
        let big = 200 * 1024 * MIB;
        let size = part_size_for(big, 16 * MIB);
        assert!(big.div_ceil(size) <= MAX_PARTS);
        assert_eq!(size % MIB, 0);
    }

    #[test]
    fn parts_cover_the_file_exactly() {
        let parts = parts_of(12, 5);
        assert_eq!(
            parts
                .iter()
                .map(|p| (p.number, p.offset, p.len))
                .collect::<Vec<_>>(),
            vec![(1, 0, 5), (2, 5, 5), (3, 10, 2)]
        );
        assert!(parts_of(0, 5).is_empty());
    }

    #[test]
    fn checksums_are_remembered_while_the_file_is_unchanged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.mov");
        std::fs::write(&file, b"video").expect("write");
        let options = UploadOptions {
            records_dir: Some(dir.path().join("uploads")),
            ..UploadOptions::default()
        };
        assert_eq!(known_sha256(&options, &file, 5, 42), None);
        remember_sha256(&options, &file, 5, 42, "abc");
        assert_eq!(known_sha256(&options, &file, 5, 42).as_deref(), Some("abc"));
        assert_eq!(known_sha256(&options, &file, 6, 42), None, "size changed");
        assert_eq!(known_sha256(&options, &file, 5, 43), None, "modified since");
        remember_sha256(&options, &file, 5, 43, "def");
        assert_eq!(known_sha256(&options, &file, 5, 43).as_deref(), Some("def"));
        assert_eq!(
            known_sha256(&options, &file, 5, 42),
            None,
            "one entry per file"
        );
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type(Path::new("a.MOV")), "video/quicktime");
        assert_eq!(content_type(Path::new("a.mp4")), "video/mp4");
        assert_eq!(content_type(Path::new("a")), "application/octet-stream");
    }
}
