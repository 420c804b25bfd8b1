//! A job's work, the same from the command line, the app and watch folders: what a job asks
//! for ([`JobSpec`], kept as JSON in its queue row), running it on the local or cloud backend,
//! and writing what happened into the library ([`crate::catalog`]): the queue row's state and
//! history, the cloud job's status as it changes, and the title once made.
//!
//! A job claimed again after a crash resumes: the local resume record skips finished rungs, an
//! upload resumes from its record, and a MediaConvert job already created is followed again
//! instead of being submitted twice.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::catalog::cloud_jobs::CloudJobRecord;
use crate::catalog::queue::{JobKind, NewJob, Outcome, QueuedJob};
use crate::cloud::CloudSettings;
use crate::job::{CancelToken, EventSink, JobEvent, Summary};
use crate::local;
use crate::plan::Plan;
use crate::preset::Preset;

/// What a job asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    /// Where it runs.
    pub kind: JobKind,
    /// The source file.
    pub source: PathBuf,
    /// The preset, as it was when the job was queued (a later edit does not change it).
    pub preset: Preset,
    /// The output folder (cloud: where Download puts the outputs).
    pub out_dir: PathBuf,
    /// Redo rungs an earlier run made.
    #[serde(default)]
    pub force: bool,
    /// A plan made beforehand (the app's inspector fitted or estimated it).
    #[serde(default)]
    pub plan: Option<Plan>,
    /// Per-title fitting over the preset's.
    #[serde(default)]
    pub fit: local::per_title::FitChoice,
    /// One MP4 of this size instead of the ladder (local only).
    #[serde(default)]
    pub target: Option<local::target_size::Target>,
    /// Only this part of the source, seconds (local only).
    #[serde(default)]
    pub range: (Option<f64>, Option<f64>),
    /// Predict the encode's time first (local only).
    #[serde(default)]
    pub estimate: bool,
    /// The cloud settings (cloud jobs).
    #[serde(default)]
    pub cloud: Option<CloudSettings>,
    /// The MediaConvert job template the cloud job runs (`cloud submit --template`).
    #[serde(default)]
    pub template: Option<String>,
}

impl JobSpec {
    /// A local job with the preset's own choices.
    pub fn local(source: &Path, preset: &Preset, out_dir: &Path) -> Self {
        Self {
            kind: JobKind::Local,
            source: source.to_owned(),
            preset: preset.clone(),
            out_dir: out_dir.to_owned(),
            force: false,
            plan: None,
            fit: local::per_title::FitChoice::default(),
            target: None,
            range: (None, None),
            estimate: false,
            cloud: None,
            template: None,
        }
    }

    /// The queue row for this job (absolute paths, so a row means the same from any folder).
    pub fn new_job(&self) -> NewJob {
        NewJob {
            kind: self.kind,
            source: absolute(&self.source),
            preset: self.preset.name.clone(),
            out_dir: absolute(&self.out_dir),
            spec_json: serde_json::to_string(self).unwrap_or_default(),
        }
    }

    /// The spec a queue row holds.
    pub fn of_row(job: &QueuedJob) -> Result<Self, String> {
        serde_json::from_str(&job.spec_json).map_err(|e| {
            format!(
                "{}: the queued job cannot be read by this Vodkit ({e}); remove it and queue the file again",
                job.source.display()
            )
        })
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

fn named(file: &Path, e: String) -> String {
    if e.contains(&*file.to_string_lossy()) {
        e
    } else {
        format!("{}: {e}", file.display())
    }
}

/// A local job: probe, plan (fitted, trimmed, estimated as asked), encode; or a target-size
/// encode. Errors name the source.
pub fn run_local(
    spec: &JobSpec,
    sink: &EventSink,
    cancel: &CancelToken,
) -> Result<Summary, String> {
    let file = &spec.source;
    let info = crate::probe::probe(file).map_err(|e| named(file, e.to_string()))?;
    let preset = &spec.preset;
    let (start, end) = spec.range;
    if let Some(target) = spec.target {
        // Samples, the statistics and the first pass go to a private folder, removed after.
        let work = local::per_title::Scratch::new("target-size");
        return local::target_size::plan(&info, preset, target, spec.range, &work, cancel)
            .and_then(|plan| {
                local::target_size::encode(
                    &info,
                    preset,
                    &plan,
                    target,
                    &spec.out_dir,
                    sink,
                    cancel,
                )
            })
            .map_err(|e| named(file, e));
    }
    let mut plan = match &spec.plan {
        Some(p) => p.clone(),
        None => local::per_title::plan_for(&info, preset, &spec.fit, sink, cancel)
            .map_err(|e| named(file, e))?,
    };
    crate::plan::trim(&mut plan, start, end).map_err(|e| named(file, e))?;
    if spec.estimate {
        let work = local::per_title::Scratch::new("estimate");
        let timed = local::estimate::encode_time(&info, preset, &plan, &work, cancel);
        timed.map_err(|e| named(file, e))?.apply(&mut plan);
    }
    local::encode_with(
        &info,
        preset,
        &plan,
        &spec.out_dir,
        sink,
        cancel,
        spec.force,
    )
    .map_err(|e| named(file, e.to_string()))
}

/// A cloud job: submitted and followed, or (`attach`: created by an earlier process, as the
/// library recorded it) followed again. Following again needs neither the source nor its
/// checksum when the spec kept its plan and the record its output folder: a source moved
/// after submitting does not stop its job being followed. `uploaded` hears of the source's
/// upload (sent or found already there). Errors name the source.
pub fn run_cloud(
    spec: &JobSpec,
    attach: Option<&crate::catalog::cloud_jobs::CloudJobRecord>,
    uploaded: &dyn Fn(&crate::cloud::upload::Uploaded),
    sink: &EventSink,
    cancel: &CancelToken,
) -> Result<Summary, String> {
    use crate::cloud::{Clients, CloudError};
    let file = &spec.source;
    let mut settings = spec
        .cloud
        .clone()
        .ok_or_else(|| named(file, "the cloud job has no cloud settings".to_owned()))?;
    // The cost limit in the Cloud settings now applies to jobs queued before it was set (and
    // a raised one to a Retry); the job's own (--max-cost) when none is set.
    if let Some(limit) = crate::cloud::CloudSettings::saved().max_cost_usd {
        settings.max_cost_usd = Some(limit);
    }
    let plan = match &spec.plan {
        Some(p) => p.clone(),
        None => {
            let info = crate::probe::probe(file).map_err(|e| named(file, e.to_string()))?;
            local::per_title::plan_for(&info, &spec.preset, &spec.fit, sink, cancel)
                .map_err(|e| named(file, e))?
        }
    };
    let rt = Clients::runtime().map_err(|e| e.to_string())?;
    let done = rt.block_on(async {
        let clients = Clients::connect(&settings).await?;
        let options = crate::cloud::submit::SubmitOptions {
            template: spec.template.clone(),
            ..crate::cloud::submit::SubmitOptions::default()
        };
        match attach {
            Some(record) => {
                crate::cloud::submit::reattach(
                    &clients,
                    &plan,
                    &record.service_id,
                    record.output_url.as_deref(),
                    &options,
                    sink,
                    cancel,
                )
                .await
            }
            None => {
                crate::cloud::submit::submit(&clients, &plan, &spec.preset, &options, sink, cancel)
                    .await
                    .and_then(|d| {
                        uploaded(&d.source);
                        d.summary
                            .ok_or_else(|| CloudError::new("the job was not followed".to_owned()))
                    })
            }
        }
    });
    match done {
        Ok(summary) => Ok(summary),
        Err(CloudError::Cancelled) => Ok(Summary {
            source: plan.source,
            out_dir: PathBuf::new(),
            made: Vec::new(),
            skipped: Vec::new(),
            failed: Vec::new(),
            cancelled: true,
            wall_secs: 0.0,
        }),
        Err(e) => Err(named(file, e.to_string())),
    }
}

/// How a job ended, in the queue's words.
pub fn outcome_of(result: &Result<Summary, String>) -> Outcome {
    match result {
        Ok(s) if s.cancelled => Outcome::Cancelled,
        Ok(s) if s.failed.is_empty() => Outcome::Done(Some(s.out_dir.clone())),
        Ok(s) => {
            let list: Vec<String> = s.failed.iter().map(|(r, e)| format!("{r}: {e}")).collect();
            Outcome::Failed(
                format!(
                    "{}: {} rung(s) failed: {}",
                    s.source.display(),
                    list.len(),
                    list.join("; ")
                ),
                Some(s.out_dir.clone()),
            )
        }
        Err(e) => Outcome::Failed(e.clone(), None),
    }
}

/// Runs a job the catalog holds (claimed by this process): the events go to `sink` and the
/// cloud job's status into the catalog as it changes; at the end the row is finished and a
/// local title recorded in the library. `catalog_path`: the database (each job thread opens
/// its own connection).
pub fn run_row(
    catalog_path: &Path,
    job: &QueuedJob,
    sink: &EventSink,
    cancel: &CancelToken,
) -> Result<Summary, String> {
    let catalog = Catalog::open(catalog_path).map_err(|e| e.to_string())?;
    let spec = JobSpec::of_row(job);
    let result = match spec {
        Err(e) => Err(e),
        Ok(spec) => match spec.kind {
            JobKind::Local => run_local(&spec, sink, cancel),
            JobKind::Cloud => {
                let earlier = catalog.cloud_job_of(job.id).ok().flatten();
                let attach = earlier
                    .as_ref()
                    .filter(|c| !c.is_final() || c.status == "COMPLETE");
                let catalog = Arc::new(Mutex::new(catalog));
                let recorder = recording_sink(&catalog, job.id, spec.cloud.as_ref(), sink);
                let source = job.source.clone();
                let record_upload =
                    |u: &crate::cloud::upload::Uploaded| record_uploaded(&catalog, &source, u);
                let result = run_cloud(&spec, attach, &record_upload, &recorder, cancel);
                // A cancelled job is cancelled on MediaConvert too: say so, so a retry submits
                // anew instead of following the cancelled one.
                if matches!(&result, Ok(s) if s.cancelled)
                    && let Ok(c) = catalog.lock()
                    && let Ok(Some(mut record)) = c.cloud_job_of(job.id)
                    && !record.is_final()
                {
                    record.status = "CANCELED".to_owned();
                    let _ = c.record_cloud_job(&record, None);
                }
                let guard = catalog.lock().map_err(|e| e.to_string())?;
                return finish(&guard, job, result);
            }
        },
    };
    finish(&catalog, job, result)
}

fn finish(
    catalog: &Catalog,
    job: &QueuedJob,
    result: Result<Summary, String>,
) -> Result<Summary, String> {
    let outcome = outcome_of(&result);
    if let Ok(s) = &result
        && job.kind == JobKind::Local
        && s.out_dir.join("manifest.json").is_file()
        && let Err(e) = catalog.record_title(&s.out_dir, Some(&job.source))
    {
        eprintln!("vodkit: {e}");
    }
    match catalog.finish(job.id, std::process::id(), &outcome) {
        Ok(true) => {}
        Ok(false) => eprintln!(
            "vodkit: {}: the queue row of this job was changed by another process while it ran; its end is not recorded",
            job.source.display()
        ),
        Err(e) => eprintln!("vodkit: {e}"),
    }
    result
}

/// A job run outside the queue's runner (`vodkit cloud submit`) but kept in the library like
/// any other: a row claimed by this process, the cloud job's status, upload and outputs as
/// they come, and the row finished at the end. A job submitted without being followed
/// (`--no-wait`) stays `running`; once this process is gone the app or `vodkit queue run`
/// takes it up again and follows it by its id.
pub struct Tracked {
    catalog: Arc<Mutex<Catalog>>,
    row: i64,
    source: PathBuf,
    settings: Option<CloudSettings>,
}

impl Tracked {
    /// Records the job (`None`, with the reason on stderr, when the library is unavailable).
    pub fn start(spec: &JobSpec) -> Option<Self> {
        let catalog = Catalog::open_default()
            .map_err(|e| eprintln!("vodkit: {e} (the job is not kept in the library)"))
            .ok()?;
        let row = catalog
            .enqueue_claimed(&spec.new_job(), std::process::id())
            .map_err(|e| eprintln!("vodkit: {e}"))
            .ok()?
            .id;
        Some(Self {
            catalog: Arc::new(Mutex::new(catalog)),
            row,
            source: spec.source.clone(),
            settings: spec.cloud.clone(),
        })
    }

    /// `sink`, also writing the cloud job's states and outputs into the library.
    pub fn sink(&self, sink: &EventSink) -> EventSink {
        recording_sink(&self.catalog, self.row, self.settings.as_ref(), sink)
    }

    /// The source is in S3.
    pub fn uploaded(&self, u: &crate::cloud::upload::Uploaded) {
        record_uploaded(&self.catalog, &self.source, u);
    }

    /// MediaConvert accepted the job (known before any status arrives).
    pub fn created(&self, service_id: &str, output_url: &str) {
        if let Ok(c) = self.catalog.lock() {
            let record = CloudJobRecord {
                service_id: service_id.to_owned(),
                region: self
                    .settings
                    .as_ref()
                    .map(|s| s.region.clone())
                    .filter(|r| !r.is_empty()),
                job_id: Some(self.row),
                status: "SUBMITTED".to_owned(),
                percent: 0,
                output_url: Some(output_url.to_owned()),
                outputs: Vec::new(),
                updated_secs: 0,
            };
            if let Err(e) = c.record_cloud_job(&record, None) {
                eprintln!("vodkit: {e}");
            }
        }
    }

    /// The job ended here (followed to its end, failed or cancelled).
    pub fn finish(&self, result: &Result<Summary, String>) {
        if let Ok(c) = self.catalog.lock()
            && let Err(e) = c.finish(self.row, std::process::id(), &outcome_of(result))
        {
            eprintln!("vodkit: {e}");
        }
    }
}

/// An upload into the library: the object, its checksum and size.
fn record_uploaded(catalog: &Mutex<Catalog>, source: &Path, u: &crate::cloud::upload::Uploaded) {
    if let Ok(c) = catalog.lock()
        && let Err(e) = c.record_upload(
            source,
            &u.bucket,
            &u.key,
            u.crc64nvme.as_deref(),
            u.size_bytes,
        )
    {
        eprintln!("vodkit: {e}");
    }
}

/// A sink that also writes the cloud job's status into the catalog when it changes.
fn recording_sink(
    catalog: &Arc<Mutex<Catalog>>,
    row: i64,
    settings: Option<&CloudSettings>,
    sink: &EventSink,
) -> EventSink {
    let (catalog, sink) = (Arc::clone(catalog), Arc::clone(sink));
    let region = settings.map(|s| s.region.clone()).filter(|r| !r.is_empty());
    let outputs = Mutex::new(Vec::<String>::new());
    Arc::new(move |event: JobEvent| {
        if let JobEvent::Output { path, .. } = &event
            && let Ok(mut o) = outputs.lock()
        {
            o.push(path.to_string_lossy().into_owned());
        }
        if let JobEvent::CloudJob {
            job_id,
            status,
            percent,
            output_url,
            ..
        } = &event
            && let Ok(c) = catalog.lock()
        {
            let record = CloudJobRecord {
                service_id: job_id.clone(),
                region: region.clone(),
                job_id: Some(row),
                status: status.clone(),
                percent: *percent,
                output_url: output_url.clone(),
                outputs: Vec::new(),
                updated_secs: 0,
            };
            if let Err(e) = c.record_cloud_job(&record, None) {
                eprintln!("vodkit: {e}");
            }
        }
        if let JobEvent::Finished { summary } = &event
            && let Ok(c) = catalog.lock()
            && let Ok(Some(mut record)) = c.cloud_job_of(row)
        {
            record.output_url = Some(summary.out_dir.to_string_lossy().into_owned());
            let listed = outputs.lock().map(|o| o.clone()).unwrap_or_default();
            let _ = c.record_cloud_job(&record, Some(&listed));
        }
        sink(event);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_survives_its_queue_row() {
        let preset = crate::preset::store::builtin("phone-share").expect("built-in");
        let mut spec = JobSpec::local(Path::new("/v/a.mov"), &preset, Path::new("/out"));
        spec.target = Some(local::target_size::Target { bytes: 25_000_000 });
        spec.range = (Some(2.0), None);
        let c = Catalog::in_memory().expect("db");
        let id = c.enqueue(&spec.new_job()).expect("row");
        let row = c.job(id).expect("query").expect("row");
        assert_eq!(JobSpec::of_row(&row).expect("read back"), spec);
        assert_eq!(row.preset, "phone-share");
    }
}
