//! What both backends share: the events a job reports while it runs, and the token that
//! cancels it. Front ends (GUI, CLI) only render these events.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

/// Cancels a running job. Cloning shares the flag; cancelling any clone cancels the job.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the job to stop as soon as it can (within a second).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Resolves once cancelled (checked every 100 ms), for async work to race against.
    pub async fn cancelled(&self) {
        while !self.is_cancelled() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Stages of a job, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Reading what the source holds.
    Probe,
    /// Encoding the rungs.
    Encode,
    /// Taking the stills.
    Stills,
    /// Making HLS and DASH.
    Package,
    /// Sending the source to the cloud.
    Upload,
    /// Waiting for the cloud transcoder.
    Transcode,
    /// Measuring the rungs' quality (VMAF, SSIM, PSNR).
    Quality,
    /// Encoding samples to fit the ladder to the source (per-title, target size).
    Fit,
    /// Measuring the audio's loudness before normalising it.
    Loudness,
}

/// Progress of one rung.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RungProgress {
    /// Rung name (`720p`).
    pub rung: String,
    /// Frames encoded so far.
    pub frames_done: u64,
    /// Frames expected in all.
    pub frames_total: u64,
    /// Frames per second over the last interval.
    pub fps: f64,
    /// Seconds of video encoded per second of wall time.
    pub speed: f64,
    /// Estimated seconds left, when it can be told.
    pub eta_secs: Option<f64>,
}

/// Something a job reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum JobEvent {
    /// The job started on a source.
    Started {
        /// The source.
        source: PathBuf,
        /// Rungs to make (skipped ones not included).
        rungs: Vec<String>,
    },
    /// The job moved to another stage.
    Stage {
        /// The new stage.
        stage: Stage,
    },
    /// Progress of every running rung, at least four times a second.
    Progress {
        /// One entry per rung being made.
        rungs: Vec<RungProgress>,
        /// Share of the whole job done, 0-1.
        overall: f64,
    },
    /// A finished output file.
    Output {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size_bytes: u64,
    },
    /// A rung that was already complete and identical, from an earlier run.
    Skipped {
        /// The rung.
        rung: String,
        /// Its file.
        path: PathBuf,
    },
    /// Something worth knowing that does not stop the job.
    Warning {
        /// In words.
        message: String,
    },
    /// A rung failed; the others go on.
    RungFailed {
        /// The rung.
        rung: String,
        /// Why, in words.
        error: String,
    },
    /// Bytes sent to or fetched from the cloud, at most five times a second.
    Transfer {
        /// What moves (`s3://bucket/key`).
        name: String,
        /// Bytes done, including those an interrupted earlier run sent.
        done_bytes: u64,
        /// Bytes in all.
        total_bytes: u64,
        /// Bytes per second in this run.
        bytes_per_sec: f64,
    },
    /// A cloud job's state as the cloud service reports it (sent when it changes).
    CloudJob {
        /// The service's job id.
        job_id: String,
        /// `SUBMITTED`, `PROGRESSING`, `COMPLETE`, `CANCELED` or `ERROR`.
        status: String,
        /// `PROBING`, `TRANSCODING` or `UPLOADING`, while it runs.
        phase: Option<String>,
        /// Percent complete, 0-100.
        percent: u32,
        /// Where its outputs go (`s3://.../outputs/<title>-<run>/`), said when the job is
        /// created so a later process can follow it without the source.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output_url: Option<String>,
    },
    /// A rung's quality, measured.
    Quality {
        /// VMAF, SSIM, PSNR and the rest.
        quality: Box<crate::quality::RungQuality>,
    },
    /// The job ended.
    Finished {
        /// What was made, and what failed.
        summary: Summary,
    },
}

/// The end of a job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The source.
    pub source: PathBuf,
    /// Where its outputs are.
    pub out_dir: PathBuf,
    /// Rungs made in this run.
    pub made: Vec<String>,
    /// Rungs skipped because an earlier run made them.
    pub skipped: Vec<String>,
    /// Rungs that failed, with the reason.
    pub failed: Vec<(String, String)>,
    /// True when the job was cancelled (nothing unfinished is left looking finished).
    pub cancelled: bool,
    /// Wall time in seconds.
    pub wall_secs: f64,
}

/// Where a job sends its events. Called from worker threads; must not block for long.
pub type EventSink = Arc<dyn Fn(JobEvent) + Send + Sync>;
