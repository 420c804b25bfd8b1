//! MediaConvert jobs: creating one from the request [`super::create_job_request`] builds,
//! following it (GetJob every few seconds) into the same progress events the local backend
//! emits, cancelling it, and listing jobs.
//!
//! The request is sent by the SDK's client (signing, endpoint resolution, retries, error
//! parsing) with the body set to [`super::wire::to_wire`] of the request: that JSON is the one
//! source of truth for `vodkit cloud job-json`, the console and what Vodkit submits, so the three
//! cannot drift apart.

use std::time::{Duration, Instant};

use aws_sdk_mediaconvert::types::{Job, JobStatus, Order};
use aws_smithy_types::body::SdkBody;
use serde::Serialize;
use serde_json::Value;

use super::clients::Clients;
use super::errors::On;
use super::{CloudError, wire};
use crate::job::{CancelToken, EventSink, JobEvent, RungProgress};
use crate::plan::Plan;

/// A token that makes a retried CreateJob idempotent (MediaConvert's `clientRequestToken`).
fn request_token() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("vodkit-{nanos:x}-{:x}", std::process::id())
}

/// Creates a job from a CreateJob request (API member names) and returns its id.
pub async fn create_job(clients: &Clients, request: &Value) -> Result<String, CloudError> {
    let role = request["Role"].as_str().unwrap_or_default().to_owned();
    let mut body = wire::to_wire(request);
    body["clientRequestToken"] = Value::String(request_token());
    let bytes = bytes::Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
    let out = clients
        .mediaconvert
        .create_job()
        .role(role)
        .customize()
        .mutate_request(move |req| {
            req.headers_mut()
                .insert("content-length", bytes.len().to_string());
            req.headers_mut().insert("content-type", "application/json");
            *req.body_mut() = SdkBody::from(bytes.clone());
        })
        .send()
        .await
        .map_err(|e| {
            clients.explain(
                &e,
                "creating the MediaConvert job",
                On::MediaConvert("mediaconvert:CreateJob and iam:PassRole on the job's role"),
            )
        })?;
    out.job()
        .and_then(Job::id)
        .map(str::to_owned)
        .ok_or_else(|| CloudError::new("MediaConvert accepted the job but gave no job id"))
}

/// One job, as `vodkit cloud status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRow {
    /// Job id.
    pub id: String,
    /// `SUBMITTED`, `PROGRESSING`, `COMPLETE`, `CANCELED` or `ERROR`.
    pub status: String,
    /// `PROBING`, `TRANSCODING` or `UPLOADING` while it runs.
    pub phase: Option<String>,
    /// Percent complete.
    pub percent: u32,
    /// When it was created (RFC 3339).
    pub created_at: Option<String>,
    /// The title (from the user metadata Vodkit sets), or the input.
    pub title: String,
    /// MediaConvert's error code and message, for failed jobs.
    pub error: Option<String>,
    /// Where the outputs go (`s3://...` destinations of its output groups).
    pub destinations: Vec<String>,
}

impl JobRow {
    fn of(job: &Job) -> Self {
        let status = job.status().map_or("UNKNOWN", JobStatus::as_str).to_owned();
        let percent = if status == "COMPLETE" {
            100
        } else {
            job.job_percent_complete().unwrap_or(0).clamp(0, 100) as u32
        };
        let title = job
            .user_metadata()
            .and_then(|m| m.get("title").cloned())
            .or_else(|| {
                job.settings()
                    .and_then(|s| s.inputs().first())
                    .and_then(|i| i.file_input())
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        let error = (status == "ERROR").then(|| {
            format!(
                "error {}: {}",
                job.error_code().unwrap_or(0),
                job.error_message().unwrap_or("no message")
            )
        });
        let destinations = job
            .settings()
            .map(|s| {
                s.output_groups()
                    .iter()
                    .filter_map(|g| g.output_group_settings())
                    .filter_map(|s| s.file_group_settings())
                    .filter_map(|f| f.destination())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Self {
            id: job.id().unwrap_or_default().to_owned(),
            status,
            phase: job.current_phase().map(|p| p.as_str().to_owned()),
            percent,
            created_at: job
                .created_at()
                .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
            title,
            error,
            destinations,
        }
    }
}

/// One job by id.
pub async fn get_job(clients: &Clients, id: &str) -> Result<JobRow, CloudError> {
    let out = clients
        .mediaconvert
        .get_job()
        .id(id)
        .send()
        .await
        .map_err(|e| {
            clients.explain(
                &e,
                &format!("reading MediaConvert job {id}"),
                On::MediaConvert("mediaconvert:GetJob"),
            )
        })?;
    out.job()
        .map(JobRow::of)
        .ok_or_else(|| CloudError::new(format!("MediaConvert returned no job for {id}")))
}

/// The most recent jobs, newest first.
pub async fn list_jobs(clients: &Clients, max: i32) -> Result<Vec<JobRow>, CloudError> {
    let out = clients
        .mediaconvert
        .list_jobs()
        .max_results(max.clamp(1, 20))
        .order(Order::Descending)
        .send()
        .await
        .map_err(|e| {
            clients.explain(
                &e,
                "listing MediaConvert jobs",
                On::MediaConvert("mediaconvert:ListJobs"),
            )
        })?;
    Ok(out.jobs().iter().map(JobRow::of).collect())
}

/// Asks MediaConvert to cancel a job.
pub async fn cancel_job(clients: &Clients, id: &str) -> Result<(), CloudError> {
    clients
        .mediaconvert
        .cancel_job()
        .id(id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            clients.explain(
                &e,
                &format!("cancelling MediaConvert job {id}"),
                On::MediaConvert("mediaconvert:CancelJob"),
            )
        })
}

/// Progress of every rung from the job's percent complete (MediaConvert reports one figure).
fn rung_progress(plan: &Plan, percent: u32, eta_secs: Option<f64>) -> Vec<RungProgress> {
    plan.made_rungs()
        .map(|r| {
            let total = (plan.duration_secs * r.frame_rate.fps()).round().max(1.0) as u64;
            RungProgress {
                rung: r.name.clone(),
                frames_done: total * u64::from(percent) / 100,
                frames_total: total,
                fps: 0.0,
                speed: 0.0,
                eta_secs,
            }
        })
        .collect()
}

/// Follows a job until it ends: a [`JobEvent::CloudJob`] whenever its status or phase changes
/// and a [`JobEvent::Progress`] on every poll. Cancelling the token cancels the job.
/// Returns the job once complete; an error says why it failed or that it was cancelled.
pub async fn follow(
    clients: &Clients,
    id: &str,
    plan: &Plan,
    poll: Duration,
    sink: &EventSink,
    cancel: &CancelToken,
) -> Result<JobRow, CloudError> {
    let started = Instant::now();
    let mut last: Option<(String, Option<String>, u32)> = None;
    let mut first_progress: Option<(Instant, u32)> = None;
    loop {
        if cancel.is_cancelled() {
            cancel_job(clients, id).await?;
            return Err(CloudError::Cancelled);
        }
        let job = get_job(clients, id).await?;
        let state = (job.status.clone(), job.phase.clone(), job.percent);
        if last.as_ref() != Some(&state) {
            sink(JobEvent::CloudJob {
                job_id: id.to_owned(),
                status: job.status.clone(),
                phase: job.phase.clone(),
                percent: job.percent,
                output_url: None,
            });
            last = Some(state);
        }
        if job.percent > 0 && first_progress.is_none() {
            first_progress = Some((Instant::now(), job.percent));
        }
        let eta_secs = first_progress.and_then(|(t0, p0)| {
            let gained = f64::from(job.percent.saturating_sub(p0));
            (gained > 0.0).then(|| {
                t0.elapsed().as_secs_f64() / gained * f64::from(100 - job.percent.min(100))
            })
        });
        sink(JobEvent::Progress {
            rungs: rung_progress(plan, job.percent, eta_secs),
            overall: f64::from(job.percent) / 100.0,
        });
        match job.status.as_str() {
            "COMPLETE" => return Ok(job),
            "ERROR" => {
                return Err(CloudError::new(format!(
                    "MediaConvert job {id} failed after {:.0} s: {} (see \
                     https://docs.aws.amazon.com/mediaconvert/latest/ug/mediaconvert_error_codes.html)",
                    started.elapsed().as_secs_f64(),
                    job.error.unwrap_or_default()
                )));
            }
            "CANCELED" => {
                return Err(CloudError::new(format!(
                    "MediaConvert job {id} was cancelled outside Vodkit"
                )));
            }
            _ => {}
        }
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            () = cancel.cancelled() => {}
        }
    }
}
