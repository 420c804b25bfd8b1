//! A cloud job from start to end, reporting the same events as a local encode: upload the
//! source (skipped when already there), create the MediaConvert job built from the plan, follow
//! it, and on completion list the outputs and write `index.smil` next to them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::clients::Clients;
use super::outputs::{Object, list_objects, parse_s3_url, put_smil, rung_key, smil_for};
use super::upload::{UploadOptions, Uploaded, off_thread, source_sha256, upload};
use super::{CloudError, JobTarget, create_job_request, mediaconvert};
use crate::job::{CancelToken, EventSink, JobEvent, Stage, Summary};
use crate::plan::Plan;
use crate::preset::Preset;

/// How a cloud job runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmitOptions {
    /// Upload tuning.
    pub upload: UploadOptions,
    /// How often to ask MediaConvert for progress.
    pub poll: Duration,
    /// Follow the job to its end (false: return once it is created).
    pub wait: bool,
    /// Refuse to submit when the estimated MediaConvert cost is above this many USD.
    pub max_cost_usd: Option<f64>,
    /// Run this MediaConvert job template (its outputs) instead of the preset's own job; the
    /// preset still plans what the job makes, for following and downloading it.
    pub template: Option<String>,
}

impl Default for SubmitOptions {
    fn default() -> Self {
        Self {
            upload: UploadOptions::default(),
            poll: Duration::from_secs(5),
            wait: true,
            max_cost_usd: None,
            template: None,
        }
    }
}

/// What a cloud job did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Submitted {
    /// The uploaded source.
    pub source: Uploaded,
    /// The MediaConvert job id.
    pub job_id: String,
    /// Where the outputs go (`s3://bucket/prefix/outputs/<title>-<run>/`, see [`super::JobPlace`]).
    pub output_url: String,
    /// The outputs found once the job completed (empty when not followed).
    pub outputs: Vec<String>,
    /// The end of the job, when it was followed.
    pub summary: Option<Summary>,
}

/// Puts each subtitle track's WebVTT (cues placed as the local encode places them) where the
/// job's caption selectors read it (see [`super::job_spec::caption_url`]).
async fn put_captions(
    clients: &Clients,
    plan: &Plan,
    place: &super::JobPlace,
) -> Result<(), CloudError> {
    if plan.subtitles.is_empty() {
        return Ok(());
    }
    // Reading the source's subtitle streams demuxes the file: off the async threads.
    let owned = plan.clone();
    let tracks = tokio::task::spawn_blocking(move || crate::subtitles::outputs::cues(&owned))
        .await
        .map_err(|e| CloudError::new(format!("reading subtitles: {e}")))?
        .map_err(|e| CloudError::new(format!("{}: subtitles: {e}", plan.source.display())))?;
    for (track, cues) in &tracks {
        let url = super::job_spec::caption_url(place, plan, track);
        let (bucket, key) =
            parse_s3_url(&url).ok_or_else(|| CloudError::new(format!("bad subtitle URL {url}")))?;
        clients
            .s3
            .put_object()
            .bucket(&bucket)
            .key(&key)
            .content_type("text/vtt; charset=utf-8")
            .body(crate::subtitles::vtt::write(cues).into_bytes().into())
            .send()
            .await
            .map_err(|e| {
                clients.explain(
                    &e,
                    &format!("writing the {} subtitles to {url}", track.name),
                    super::errors::On::Object("s3:PutObject", &bucket, &key),
                )
            })?;
    }
    Ok(())
}

/// Whether a source may run the job template `name`: one the template makes as planned (see
/// [`super::templates::unfit_for_template`]), and no cost limit (the template's outputs are
/// priced nowhere: the estimate is the preset's job, which a template may have been edited
/// away from).
pub fn template_fits(plan: &Plan, name: &str, limit_usd: Option<f64>) -> Result<(), String> {
    if limit_usd.is_some() {
        return Err(format!(
            "a cost limit is set (--max-cost or the Cloud settings) and the job template '{name}' cannot be priced (its outputs are the template's, not the preset's); submit with --preset, or without a limit"
        ));
    }
    let why = super::templates::unfit_for_template(plan);
    if why.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the job template '{name}' would not make this file as planned: {}; submit it with --preset (Vodkit's own job sets these per source)",
            why.join("; ")
        ))
    }
}

/// What refuses a source before anything is uploaded or recorded: a job template it cannot
/// run ([`template_fits`]), and a cost limit that its estimate in `region` is above or that
/// cannot be checked. The message names the source.
pub fn check_before_submit(
    plan: &Plan,
    preset: &Preset,
    template: Option<&str>,
    limit_usd: Option<f64>,
    region: &str,
) -> Result<(), String> {
    let source = plan.source.display().to_string();
    if let Some(name) = template {
        template_fits(plan, name, limit_usd).map_err(|e| format!("{source}: {e}"))?;
    }
    if let Some(limit) = limit_usd {
        let snapshot = crate::cloud::prices::load();
        let estimate = crate::cloud::cost::estimate_plan(plan, preset, region, snapshot.as_ref());
        crate::cloud::cost::check_limit(&estimate, &source, limit)?;
    }
    Ok(())
}

/// Runs a plan on MediaConvert. See the module documentation.
pub async fn submit(
    clients: &Clients,
    plan: &Plan,
    preset: &Preset,
    options: &SubmitOptions,
    sink: &EventSink,
    cancel: &CancelToken,
) -> Result<Submitted, CloudError> {
    let started = Instant::now();
    let named = |e: String| CloudError::new(format!("{}: {e}", plan.source.display()));
    if plan.made_rungs().next().is_none() {
        return Err(named(format!(
            "preset '{}' makes no video rungs from this file; the cloud backend runs video presets",
            preset.name
        )));
    }
    let target = JobTarget::from_settings(&clients.settings)?;
    // Checked before anything is uploaded: the template (that this source comes out of it as
    // planned; that it is there) and the cost limit.
    check_before_submit(
        plan,
        preset,
        options.template.as_deref(),
        options.max_cost_usd.or(clients.settings.max_cost_usd),
        &clients.region,
    )
    .map_err(CloudError::new)?;
    let template = match &options.template {
        Some(name) => Some((
            name.clone(),
            super::templates::template_groups(clients, name).await?,
        )),
        None => None,
    };
    sink(JobEvent::Started {
        source: plan.source.clone(),
        rungs: plan.made_rungs().map(|r| r.name.clone()).collect(),
    });
    sink(JobEvent::Stage {
        stage: Stage::Upload,
    });
    // The keys are made from the source's content as the upload found it (see `JobPlace`).
    let source = upload(clients, &plan.source, &options.upload, sink, cancel)
        .await
        .map_err(|e| match e {
            CloudError::Cancelled => e,
            CloudError::Failed(m) if m.starts_with(&plan.source.display().to_string()) => {
                CloudError::Failed(m)
            }
            CloudError::Failed(m) => named(m),
        })?;
    let place = match &template {
        Some((name, _)) => target.place_for_template(plan, &source.content_id, name),
        None => target.place(plan, &source.content_id),
    };
    put_captions(clients, plan, &place).await?;
    if cancel.is_cancelled() {
        return Err(CloudError::Cancelled);
    }
    sink(JobEvent::Stage {
        stage: Stage::Transcode,
    });
    let mut request = create_job_request(plan, preset, &target, &place);
    if let Some((name, groups)) = &template {
        request = super::templates::job_from_template(&request, name, groups, &place.output_url)
            .map_err(named)?;
    }
    let job_id = mediaconvert::create_job(clients, &request).await?;
    // Said at once, before any poll: whoever records jobs (the library) knows the id even if
    // this process dies now, so the job is followed again, never submitted twice, and where
    // its outputs go, so following it again needs neither the source nor its checksum.
    sink(JobEvent::CloudJob {
        job_id: job_id.clone(),
        status: "SUBMITTED".to_owned(),
        phase: None,
        percent: 0,
        output_url: Some(place.output_url.clone()),
    });
    let output_url = place.output_url;
    let mut submitted = Submitted {
        source,
        job_id: job_id.clone(),
        output_url: output_url.clone(),
        outputs: Vec::new(),
        summary: None,
    };
    if !options.wait {
        return Ok(submitted);
    }
    let (outputs, summary) = follow_to_end(
        clients,
        plan,
        &job_id,
        &output_url,
        options,
        sink,
        cancel,
        started,
    )
    .await?;
    submitted.outputs = outputs;
    submitted.summary = Some(summary);
    Ok(submitted)
}

/// Follows a job submitted earlier (by a process that ended: the app closed, a crash) to its
/// end, with the same events and outputs as [`submit`]. The output folder is the one recorded
/// at submit (`output_url`), else (a job an earlier Vodkit submitted) found again from the source's
/// SHA-256 and the plan (see
/// [`super::JobPlace`]).
#[allow(clippy::too_many_arguments)]
pub async fn reattach(
    clients: &Clients,
    plan: &Plan,
    job_id: &str,
    output_url: Option<&str>,
    options: &SubmitOptions,
    sink: &EventSink,
    cancel: &CancelToken,
) -> Result<Summary, CloudError> {
    let started = Instant::now();
    let target = JobTarget::from_settings(&clients.settings)?;
    sink(JobEvent::Started {
        source: plan.source.clone(),
        rungs: plan.made_rungs().map(|r| r.name.clone()).collect(),
    });
    sink(JobEvent::Stage {
        stage: Stage::Transcode,
    });
    // The output folder as recorded at submit; worked out again (from the source's SHA-256)
    // only for a record without it.
    let output_url = match output_url {
        Some(url) => url.to_owned(),
        None => {
            // Only jobs an earlier Vodkit submitted lack it; they named the folder from
            // the source's whole SHA-256.
            let (source, upload) = (plan.source.clone(), options.upload.clone());
            let sha256 = off_thread(move || source_sha256(&upload, &source)).await?;
            target.place(plan, &sha256).output_url
        }
    };
    let (_, summary) = follow_to_end(
        clients,
        plan,
        job_id,
        &output_url,
        options,
        sink,
        cancel,
        started,
    )
    .await?;
    Ok(summary)
}

/// Follows a created job to its end, lists its outputs, writes the SMIL and reports every
/// output and the summary.
#[allow(clippy::too_many_arguments)]
async fn follow_to_end(
    clients: &Clients,
    plan: &Plan,
    job_id: &str,
    output_url: &str,
    options: &SubmitOptions,
    sink: &EventSink,
    cancel: &CancelToken,
    started: Instant,
) -> Result<(Vec<String>, Summary), CloudError> {
    mediaconvert::follow(clients, job_id, plan, options.poll, sink, cancel).await?;

    let (bucket, dir_key) = parse_s3_url(output_url)
        .ok_or_else(|| CloudError::new(format!("bad output URL {output_url}")))?;
    let objects = list_objects(clients, &bucket, &dir_key).await?;
    let mut summary = Summary {
        source: plan.source.clone(),
        out_dir: PathBuf::from(output_url),
        made: Vec::new(),
        skipped: Vec::new(),
        failed: Vec::new(),
        cancelled: false,
        wall_secs: 0.0,
    };
    if plan.automated_abr {
        // MediaConvert chose the renditions: the package is its manifests (no MP4 rungs for
        // a SMIL).
        for name in ["index.m3u8", "index.mpd"] {
            let key = format!("{dir_key}{name}");
            if objects.iter().any(|o| o.key == key) {
                summary.made.push(name.to_owned());
            }
        }
        if summary.made.is_empty() {
            let error = format!(
                "neither index.m3u8 nor index.mpd is among the job's outputs in s3://{bucket}/{dir_key}"
            );
            sink(JobEvent::RungFailed {
                rung: "automated ABR".to_owned(),
                error: error.clone(),
            });
            summary.failed.push(("automated ABR".to_owned(), error));
        }
        let outputs = report_outputs(&bucket, objects.iter(), sink);
        summary.wall_secs = started.elapsed().as_secs_f64();
        sink(JobEvent::Finished {
            summary: summary.clone(),
        });
        return Ok((outputs, summary));
    }
    let smil = smil_for(plan, &dir_key, &objects).map_err(CloudError::new)?;
    let smil_key = put_smil(clients, &bucket, &dir_key, smil.clone()).await?;
    for r in plan.made_rungs() {
        let key = rung_key(&dir_key, &plan.title, &r.name);
        match objects.iter().find(|o| o.key == key) {
            Some(_) => summary.made.push(r.name.clone()),
            None => {
                let error = format!("s3://{bucket}/{key} is not among the job's outputs");
                sink(JobEvent::RungFailed {
                    rung: r.name.clone(),
                    error: error.clone(),
                });
                summary.failed.push((r.name.clone(), error));
            }
        }
    }
    let smil_object = Object {
        key: smil_key.clone(),
        size_bytes: smil.len() as u64,
    };
    let listed = objects
        .iter()
        .filter(|o| o.key != smil_key)
        .chain(std::iter::once(&smil_object));
    let outputs = report_outputs(&bucket, listed, sink);
    summary.wall_secs = started.elapsed().as_secs_f64();
    sink(JobEvent::Finished {
        summary: summary.clone(),
    });
    Ok((outputs, summary))
}

/// Reports each output object (not the bucket check's leftovers) and returns their URLs.
fn report_outputs<'a>(
    bucket: &str,
    objects: impl Iterator<Item = &'a Object>,
    sink: &EventSink,
) -> Vec<String> {
    let mut outputs = Vec::new();
    for o in objects {
        if o.key.ends_with(".vodkit-check") {
            continue;
        }
        let url = format!("s3://{bucket}/{}", o.key);
        sink(JobEvent::Output {
            path: PathBuf::from(&url),
            size_bytes: o.size_bytes,
        });
        outputs.push(url);
    }
    outputs
}
