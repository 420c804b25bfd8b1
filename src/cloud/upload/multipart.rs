//! Sending the parts of a multipart upload: several in flight, each recorded as S3 acknowledges
//! it, then completing the upload; creating and aborting uploads; S3's part limits.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumType, CompletedMultipartUpload, CompletedPart};
use tokio::task::JoinSet;

use super::super::CloudError;
use super::super::clients::Clients;
use super::super::errors::On;
use super::super::part_body::counted_part;
use super::record::{Record, RecordedPart, changed_since, save_record};
use super::{MIN_PART_SIZE_BYTES, Progress, UploadOptions, UploadOutcome, content_type};
use crate::job::{CancelToken, EventSink};

/// S3's largest part count.
const MAX_PARTS: u64 = 10_000;

/// The part size for a file: the wanted size, at least 5 MiB, raised (in whole MiB) so the file
/// fits in 10,000 parts.
pub fn part_size_for(size_bytes: u64, wanted_bytes: u64) -> u64 {
    const MIB: u64 = 1024 * 1024;
    let needed = size_bytes.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    wanted_bytes.max(MIN_PART_SIZE_BYTES).max(needed)
}

/// One part to send.
#[derive(Debug, Clone, Copy)]
pub(super) struct Part {
    pub(super) number: i32,
    pub(super) offset: u64,
    pub(super) len: u64,
}

pub(super) fn parts_of(size_bytes: u64, part_size_bytes: u64) -> Vec<Part> {
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

/// Why sending the parts stopped.
pub(super) enum Stop {
    /// The multipart upload does not exist (any more).
    Gone,
    /// Completing it found an object written meanwhile at a key it was to create (the
    /// upload is aborted).
    Raced,
    /// Cancelled or failed.
    Error(CloudError),
}

fn is_gone<E: aws_sdk_s3::error::ProvideErrorMetadata>(
    e: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> bool {
    super::s3_code(e) == Some("NoSuchUpload")
}

pub(super) async fn create(
    clients: &Clients,
    wanted: &Record,
    file: &Path,
) -> Result<String, CloudError> {
    let url = format!("s3://{}/{}", wanted.bucket, wanted.key);
    let created = clients
        .s3
        .create_multipart_upload()
        .bucket(&wanted.bucket)
        .key(&wanted.key)
        .content_type(content_type(file))
        // S3 combines the parts' CRC-64/NVMEs into the whole object's (what sameness compares).
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await
        .map_err(|e| {
            clients.explain(
                &e,
                &format!("starting the upload of {url}"),
                On::Object("s3:PutObject", &wanted.bucket, &wanted.key),
            )
        })?;
    created
        .upload_id()
        .map(str::to_owned)
        .ok_or_else(|| CloudError::new(format!("S3 gave no upload id for {url}")))
}

/// What S3 holds of a recorded multipart upload.
pub(super) enum Held {
    /// The parts S3 lists (number, ETag, CRC-64/NVME, size in bytes).
    Parts(Vec<(i32, String, Option<String>, u64)>),
    /// S3 no longer has the upload.
    Gone,
    /// The store does not answer ListParts (some S3-compatible servers): trust the record.
    Unknown(String),
}

/// Asks S3 which parts of the recorded upload it holds (ListParts, every page).
pub(super) async fn held_parts(clients: &Clients, record: &Record) -> Held {
    let mut parts = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let answer = clients
            .s3
            .list_parts()
            .bucket(&record.bucket)
            .key(&record.key)
            .upload_id(&record.upload_id)
            .set_part_number_marker(marker.clone())
            .send()
            .await;
        let page = match answer {
            Ok(page) => page,
            Err(e) if is_gone(&e) => return Held::Gone,
            Err(e) => {
                return Held::Unknown(
                    aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
                );
            }
        };
        for p in page.parts() {
            if let (Some(n), Some(tag)) = (p.part_number(), p.e_tag()) {
                let size = u64::try_from(p.size().unwrap_or(-1)).unwrap_or(u64::MAX);
                parts.push((
                    n,
                    tag.to_owned(),
                    p.checksum_crc64_nvme().map(str::to_owned),
                    size,
                ));
            }
        }
        match (page.is_truncated(), page.next_part_number_marker()) {
            (Some(true), Some(next)) if marker.as_deref() != Some(next) => {
                marker = Some(next.to_owned());
            }
            _ => return Held::Parts(parts),
        }
    }
}

/// The record as S3 sees it: a part counts as sent when S3 lists it at its full size (S3's
/// ETag and checksum win); recorded parts S3 does not hold are sent again. Returns the
/// record and how many recorded parts S3 did not hold.
pub(super) fn reconciled(
    mut record: Record,
    held: &[(i32, String, Option<String>, u64)],
) -> (Record, usize) {
    let expected: std::collections::HashMap<i32, u64> =
        parts_of(record.size_bytes, record.part_size_bytes)
            .into_iter()
            .map(|p| (p.number, p.len))
            .collect();
    let before = std::mem::take(&mut record.parts);
    record.parts = held
        .iter()
        .filter(|(n, _, _, size)| expected.get(n) == Some(size))
        .map(|(n, tag, crc, _)| RecordedPart {
            number: *n,
            e_tag: tag.clone(),
            // A store that lists no checksums keeps the one S3 gave when the part arrived
            // (completing the upload passes it on).
            checksum_crc64nvme: crc.clone().or_else(|| {
                before
                    .iter()
                    .find(|p| p.number == *n && p.e_tag == *tag)
                    .and_then(|p| p.checksum_crc64nvme.clone())
            }),
        })
        .collect();
    let before: Vec<i32> = before.iter().map(|p| p.number).collect();
    let lost = before.iter().filter(|n| !record.has(**n)).count();
    (record, lost)
}

/// One pass over the parts of a recorded multipart upload.
pub(super) struct Run<'a> {
    pub(super) clients: &'a Clients,
    pub(super) record_file: &'a Path,
    pub(super) options: &'a UploadOptions,
    pub(super) sink: &'a EventSink,
    pub(super) cancel: &'a CancelToken,
    pub(super) url: &'a str,
    /// Complete only if no object is at the key (`If-None-Match: *`).
    pub(super) only_if_absent: bool,
}

impl Run<'_> {
    /// Sends the parts the record does not hold, several at once, recording each as S3
    /// acknowledges it, then completes the upload. Returns the object's full CRC-64/NVME as S3
    /// reports it.
    pub(super) async fn send(
        &self,
        mut record: Record,
    ) -> Result<(UploadOutcome, Option<String>), Stop> {
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
                    Some(Ok(Err((_, stop @ (Stop::Gone | Stop::Raced))))) => {
                        tasks.abort_all();
                        return Err(stop);
                    }
                    Some(Ok(Err((number, Stop::Error(e))))) => {
                        tasks.abort_all();
                        return Err(Stop::Error(CloudError::new(format!(
                            "{e}. Part {number} of {} failed after {} attempts; {} parts are on S3 \
                             and the upload continues from there when you run it again",
                            all_parts.len(),
                            super::super::clients::MAX_ATTEMPTS,
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
        if changed_since(&record.file, record.size_bytes, record.modified_unix_ns) {
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
                    .set_checksum_crc64_nvme(p.checksum_crc64nvme.clone())
                    .build()
            })
            .collect();
        parts.sort_by_key(|p| p.part_number());
        let complete = |condition: bool| {
            clients
                .s3
                .complete_multipart_upload()
                .bucket(&record.bucket)
                .key(&record.key)
                .upload_id(&record.upload_id)
                .checksum_type(ChecksumType::FullObject)
                .mpu_object_size(i64::try_from(record.size_bytes).unwrap_or(i64::MAX))
                .set_if_none_match(condition.then(|| "*".to_owned()))
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts.clone()))
                        .build(),
                )
                .send()
        };
        let mut completed = complete(self.only_if_absent).await;
        if self.only_if_absent && completed.as_ref().is_err_and(super::condition_unsupported) {
            (self.sink)(crate::job::JobEvent::Warning {
                message: super::condition_unsupported_warning(self.url),
            });
            completed = complete(false).await;
        }
        if completed.as_ref().is_err_and(super::lost_the_race) {
            // Another upload created the object meanwhile: this one's parts are not needed.
            // An abort that fails leaves them to S3's lifecycle rules; the upload goes on.
            if let Err(e) = abort(clients, &record).await {
                (self.sink)(crate::job::JobEvent::Warning {
                    message: e.to_string(),
                });
            }
            return Err(Stop::Raced);
        }
        let completed = completed.map_err(|e| {
            // A part the record names but S3 does not hold (a store that cannot list parts,
            // a record from before a crash): the record is wrong, and the upload starts
            // again rather than failing on every run.
            let invalid_part = super::s3_code(&e) == Some("InvalidPart");
            if is_gone(&e) || (invalid_part && resumed_parts > 0) {
                return Stop::Gone;
            }
            Stop::Error(clients.explain(
                &e,
                &format!("finishing the upload of {}", self.url),
                On::Object("s3:PutObject", &record.bucket, &record.key),
            ))
        })?;
        progress.report(record.size_bytes);
        Ok((
            UploadOutcome::Uploaded {
                parts: all_parts.len() as u32,
                resumed_parts,
            },
            completed.checksum_crc64_nvme().map(str::to_owned),
        ))
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
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            if is_gone(&e) {
                return (part.number, Stop::Gone);
            }
            (
                part.number,
                Stop::Error(clients.explain(
                    &e,
                    &format!(
                        "uploading part {} of s3://{}/{}",
                        part.number, record.bucket, record.key
                    ),
                    On::Object("s3:PutObject", &record.bucket, &record.key),
                )),
            )
        })?;
    Ok(RecordedPart {
        number: part.number,
        e_tag: out.e_tag().unwrap_or_default().to_owned(),
        checksum_crc64nvme: out.checksum_crc64_nvme().map(str::to_owned),
    })
}

/// Aborts a recorded multipart upload; one S3 no longer has is already gone (`Ok`).
pub(super) async fn abort(clients: &Clients, record: &Record) -> Result<(), CloudError> {
    abort_upload(clients, &record.bucket, &record.key, &record.upload_id).await
}

/// Aborts the multipart upload `upload_id` of `bucket`/`key`; one S3 no longer has is
/// already gone (`Ok`).
pub(super) async fn abort_upload(
    clients: &Clients,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<(), CloudError> {
    let aborted = clients
        .s3
        .abort_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .send()
        .await;
    match aborted {
        Err(e) if is_gone(&e) => Ok(()),
        other => other.map(|_| ()).map_err(|e| {
            clients.explain(
                &e,
                &format!(
                    "aborting the upload of s3://{bucket}/{key} (delete it with `aws s3api abort-multipart-upload`)"
                ),
                On::Object("s3:AbortMultipartUpload", bucket, key),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3s_list_of_parts_corrects_the_record() {
        let mib = 1024 * 1024;
        let record = Record {
            bucket: "b".into(),
            key: "k".into(),
            upload_id: "u".into(),
            file: "f".into(),
            size_bytes: 40 * mib,
            modified_unix_ns: 0,
            fingerprint: String::new(),
            part_size_bytes: 16 * mib,
            // The record names parts 1 and 2; S3 lost 2 and holds 3 (sent just before a kill,
            // never recorded) and a short, torn part 2 upload is not counted.
            parts: vec![
                RecordedPart {
                    number: 1,
                    e_tag: "\"old1\"".into(),
                    checksum_crc64nvme: None,
                },
                RecordedPart {
                    number: 2,
                    e_tag: "\"old2\"".into(),
                    checksum_crc64nvme: None,
                },
            ],
        };
        let held = vec![
            (1, "\"s3-1\"".to_owned(), Some("AAAA".to_owned()), 16 * mib),
            (2, "\"torn\"".to_owned(), None, mib),
            (3, "\"s3-3\"".to_owned(), None, 8 * mib),
        ];
        let (fixed, lost) = reconciled(record, &held);
        let parts: Vec<(i32, &str)> = fixed
            .parts
            .iter()
            .map(|p| (p.number, p.e_tag.as_str()))
            .collect();
        assert_eq!(parts, [(1, "\"s3-1\""), (3, "\"s3-3\"")]);
        assert_eq!(fixed.parts[0].checksum_crc64nvme.as_deref(), Some("AAAA"));
        assert_eq!(lost, 1, "part 2 goes again");
        // A store that lists no checksum: the recorded one stays when the ETag is the same.
        let mut record = fixed.clone();
        record.parts[1].checksum_crc64nvme = Some("CCCC".into());
        let (kept, _) = reconciled(record, &[(3, "\"s3-3\"".to_owned(), None, 8 * mib)]);
        assert_eq!(kept.parts[0].checksum_crc64nvme.as_deref(), Some("CCCC"));
    }

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
}
