//! `vodkit cloud ...`: the cloud backend from a shell: check, upload, submit, status, cancel,
//! download and job-json. Every command takes the same AWS options; settings saved by the app
//! are the defaults.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::progress_view::View;
use super::{Output, cancel_on_ctrl_c};
use crate::cloud::submit::{SubmitOptions, Submitted, submit};
use crate::cloud::upload::{UploadOptions, UploadOutcome, upload};
use crate::cloud::{Clients, CloudError, CloudSettings, JobTarget, create_job_request};
use crate::preset::store::Store;
use crate::probe::probe;
use crate::units::human_bytes;

/// Where and as whom: each option overrides the app's saved Cloud settings.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// S3 bucket for the sources and outputs.
    #[arg(long, global = true)]
    bucket: Option<String>,
    /// Key prefix inside the bucket (sources go to PREFIX/inputs/, outputs to PREFIX/outputs/).
    #[arg(long, global = true)]
    prefix: Option<String>,
    /// IAM role ARN MediaConvert assumes.
    #[arg(long, global = true)]
    role: Option<String>,
    /// MediaConvert queue ARN (default queue when absent).
    #[arg(long, global = true)]
    queue: Option<String>,
    /// AWS region (default: the profile's or AWS_REGION).
    #[arg(long, global = true)]
    region: Option<String>,
    /// AWS profile (default: AWS_PROFILE or `default`).
    #[arg(long, global = true)]
    profile: Option<String>,
    /// S3-compatible endpoint (MinIO, ...); path-style addressing is used. AWS_ENDPOINT_URL works too.
    #[arg(long, global = true)]
    endpoint_url: Option<String>,
    /// MediaConvert endpoint URL (default: the region's).
    #[arg(long, global = true)]
    mediaconvert_endpoint_url: Option<String>,
    /// Print JSON lines instead of text.
    #[arg(long, global = true)]
    json: bool,
}

impl AwsArgs {
    fn settings(&self) -> CloudSettings {
        let mut s = CloudSettings::saved();
        let set = |field: &mut String, value: &Option<String>| {
            if let Some(v) = value {
                v.clone_into(field);
            }
        };
        set(&mut s.bucket, &self.bucket);
        set(&mut s.prefix, &self.prefix);
        set(&mut s.role_arn, &self.role);
        set(&mut s.queue, &self.queue);
        set(&mut s.region, &self.region);
        set(&mut s.profile, &self.profile);
        set(&mut s.endpoint, &self.endpoint_url);
        set(
            &mut s.mediaconvert_endpoint,
            &self.mediaconvert_endpoint_url,
        );
        s
    }
}

/// Cloud commands.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Check credentials, the bucket (reachable, writable), MediaConvert and the role.
    #[command(after_help = "Example:\n  vodkit cloud check --bucket my-vod --region eu-west-1")]
    Check,
    /// Upload sources to s3://BUCKET/PREFIX/inputs/ (multipart, resumable, skipped when there).
    #[command(
        after_help = "An interrupted upload continues where it stopped when the same command runs again.\n\nExample:\n  vodkit cloud upload *.mov --bucket my-vod --prefix vod"
    )]
    Upload {
        /// Source files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Part size in MiB (at least 5).
        #[arg(long, default_value_t = 16)]
        part_size_mib: u64,
        /// Parts sent at once.
        #[arg(long, default_value_t = 4)]
        parts_in_flight: usize,
    },
    /// Upload sources and transcode them on MediaConvert with a preset.
    #[command(
        after_help = "Outputs go to s3://BUCKET/PREFIX/outputs/<title>-<run>/ with index.smil next to the rungs\n(<run>: 10 hex digits from the source's content fingerprint and the preset, so same-named sources never share a folder).\nCtrl-C cancels the upload or the MediaConvert job.\n\nExamples:\n  vodkit cloud submit movie.mov --preset web-ladder --bucket my-vod \\\n    --role arn:aws:iam::123456789012:role/MediaConvertRole\n  vodkit cloud submit *.mov --preset web-ladder --no-wait\n  vodkit cloud submit movie.mov --template vodkit-web-ladder"
    )]
    Submit {
        /// Source files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Preset name or path to a .toml file (with --template vodkit-PRESET: PRESET).
        #[arg(long, short, required_unless_present = "template")]
        preset: Option<String>,
        /// Run this MediaConvert job template (`vodkit cloud template push` makes
        /// vodkit-PRESET): its outputs, with the source and destinations from here.
        #[arg(long, value_name = "NAME", conflicts_with = "per_title")]
        template: Option<String>,
        /// Return once the job is created instead of following it.
        #[arg(long)]
        no_wait: bool,
        /// Seconds between progress requests to MediaConvert.
        #[arg(long, default_value_t = 5.0)]
        poll_secs: f64,
        /// Download the outputs into DIR/<title>/ when the job completes.
        #[arg(long)]
        download: Option<PathBuf>,
        /// Sources uploaded and followed at once.
        #[arg(long, default_value_t = 4)]
        jobs: usize,
        /// Refuse a source whose estimated MediaConvert cost is above this many US dollars
        /// (priced from the price snapshot; see `vodkit cloud prices`), per source.
        #[arg(long, value_name = "USD", value_parser = parse_usd)]
        max_cost: Option<f64>,
        #[command(flatten)]
        fit: super::FitArgs,
    },
    /// List recent jobs, or show one.
    #[command(
        after_help = "Examples:\n  vodkit cloud status\n  vodkit cloud status 1700000000000-abc123"
    )]
    Status {
        /// A job id.
        job: Option<String>,
        /// How many recent jobs to list (at most 20).
        #[arg(long, default_value_t = 20)]
        max: i32,
    },
    /// Cancel a job.
    #[command(after_help = "Example:\n  vodkit cloud cancel 1700000000000-abc123")]
    Cancel {
        /// The job id.
        job: String,
    },
    /// Download a job's outputs (rungs, stills, index.smil).
    #[command(
        after_help = "Example:\n  vodkit cloud download 1700000000000-abc123 --out ladders/movie"
    )]
    Download {
        /// The job id.
        job: String,
        /// Folder to write into.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// MediaConvert job templates made from presets, for other tools to start jobs with.
    #[command(
        subcommand,
        after_help = "Examples:\n  vodkit cloud template push web-ladder --region eu-west-1\n  vodkit cloud template list\n  vodkit cloud template json web-ladder > template.json"
    )]
    Template(TemplateAction),
    /// Print the MediaConvert CreateJob request for a file, as `aws mediaconvert create-job
    /// --cli-input-json` and the console's job JSON take it.
    #[command(
        after_help = "Example:\n  vodkit cloud job-json movie.mov --preset web-ladder --bucket my-vod \\\n    --role arn:aws:iam::123456789012:role/MediaConvertRole > job.json\n  aws mediaconvert create-job --cli-input-json file://job.json"
    )]
    JobJson {
        /// The source file (probed locally to fit the preset).
        file: PathBuf,
        /// Preset name or path to a .toml file.
        #[arg(long, short)]
        preset: String,
        /// Print the job's estimated cost (per output and in total) instead of the request.
        #[arg(long)]
        cost: bool,
        #[command(flatten)]
        fit: super::FitArgs,
    },
    /// Show the MediaConvert price snapshot estimates use, or make a new one from AWS's
    /// public Price List offer file.
    #[command(
        after_help = "The snapshot keeps, for the main regions, the on-demand price of an output minute per\nbilling class (tier, codec, resolution band, passes, frame-rate band) and S3 Standard storage,\ndated with the offer file's publication date. It is written to the data folder.\n\nExamples:\n  vodkit cloud prices\n  vodkit cloud prices --refresh\n  vodkit cloud prices --refresh --offer-file index.json --s3-offer-file s3-us-east-1.json"
    )]
    Prices {
        /// Download the current offer files (MediaConvert, and S3 for each main region) and
        /// write a new snapshot.
        #[arg(long)]
        refresh: bool,
        /// Make the snapshot from this MediaConvert offer file instead of downloading it.
        #[arg(long, requires = "refresh")]
        offer_file: Option<PathBuf>,
        /// S3 regional offer files to read storage prices from (with --offer-file).
        #[arg(long, requires = "offer_file")]
        s3_offer_file: Vec<PathBuf>,
    },
}

/// Job template commands.
#[derive(Debug, Subcommand)]
pub enum TemplateAction {
    /// Create the template `vodkit-PRESET` from a preset, or update it when it exists.
    Push {
        /// Preset name or path to a .toml file.
        preset: String,
    },
    /// List the account's job templates in the region.
    List,
    /// Print the CreateJobTemplate request for a preset (offline).
    Json {
        /// Preset name or path to a .toml file.
        preset: String,
    },
}

fn template_request_for(
    preset: &str,
    settings: &CloudSettings,
) -> Result<serde_json::Value, String> {
    let entry = Store::open().find(preset).map_err(|e| e.to_string())?;
    let queue = (!settings.queue.trim().is_empty()).then_some(settings.queue.trim());
    crate::cloud::templates::template_request(&entry.preset, queue)
}

fn template(
    action: TemplateAction,
    rt: &tokio::runtime::Runtime,
    clients: &Clients,
    settings: &CloudSettings,
    out: &Output,
) -> usize {
    use crate::cloud::templates::{Pushed, list, push};
    match action {
        TemplateAction::Json { .. } => 0,
        TemplateAction::Push { preset } => {
            let result = template_request_for(&preset, settings).and_then(|request| {
                let pushed = rt
                    .block_on(push(clients, &request))
                    .map_err(|e| e.to_string())?;
                Ok((
                    request["Name"].as_str().unwrap_or_default().to_owned(),
                    pushed,
                ))
            });
            match result {
                Ok((name, pushed)) => {
                    let what = match pushed {
                        Pushed::Created => "created",
                        Pushed::Updated => "updated",
                    };
                    if out.json {
                        out.json_line(&serde_json::json!({ "template": name, "result": what }));
                    } else {
                        out.text(&format!(
                            "job template {name} {what} from preset {preset}\n"
                        ));
                    }
                    0
                }
                Err(e) => {
                    eprintln!("vodkit: {e}");
                    1
                }
            }
        }
        TemplateAction::List => match rt.block_on(list(clients)) {
            Ok(rows) => {
                for r in &rows {
                    if out.json {
                        out.json_line(r);
                    } else {
                        out.text(&format!(
                            "{}  {}\n",
                            r.name,
                            r.description.as_deref().unwrap_or("")
                        ));
                    }
                }
                if rows.is_empty() && !out.json {
                    out.text("no job templates (vodkit cloud template push PRESET makes one)\n");
                }
                0
            }
            Err(e) => {
                eprintln!("vodkit: {e}");
                1
            }
        },
    }
}

fn connect(rt: &tokio::runtime::Runtime, settings: &CloudSettings) -> Result<Clients, CloudError> {
    rt.block_on(Clients::connect(settings))
}

/// Runs a cloud command. Returns the number of failures.
pub fn run(action: Action, aws: &AwsArgs) -> usize {
    let out = Output { json: aws.json };
    let settings = aws.settings();
    if let Action::JobJson {
        file,
        preset,
        fit,
        cost,
    } = &action
    {
        return job_json(file, preset, &fit.choice(), *cost, &settings, &out);
    }
    if let Action::Prices {
        refresh,
        offer_file,
        s3_offer_file,
    } = &action
    {
        return prices(*refresh, offer_file.as_deref(), s3_offer_file, &out);
    }
    if let Action::Template(TemplateAction::Json { preset }) = &action {
        return match template_request_for(preset, &settings) {
            Ok(request) => {
                out.text(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&request).unwrap_or_default()
                ));
                0
            }
            Err(e) => {
                eprintln!("vodkit: {e}");
                1
            }
        };
    }
    let rt = match Clients::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vodkit: {e}");
            return 1;
        }
    };
    let clients = match connect(&rt, &settings) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vodkit: {e}");
            return 1;
        }
    };
    match action {
        Action::JobJson { .. } | Action::Prices { .. } => 0,
        Action::Template(t) => template(t, &rt, &clients, &settings, &out),
        Action::Check => {
            let lines = rt.block_on(crate::cloud::check::check(&clients));
            let failed = lines.iter().filter(|l| !l.ok).count();
            for l in &lines {
                if out.json {
                    out.json_line(l);
                } else {
                    out.text(&format!(
                        "{:<4} {}: {}\n",
                        if l.ok { "ok" } else { "FAIL" },
                        l.what,
                        l.detail
                    ));
                }
            }
            failed
        }
        Action::Upload {
            files,
            part_size_mib,
            parts_in_flight,
        } => {
            let options = UploadOptions {
                part_size_bytes: part_size_mib.saturating_mul(1024 * 1024),
                parts_in_flight,
                ..UploadOptions::default()
            };
            let cancel = cancel_on_ctrl_c();
            let view = Arc::new(View::new(aws.json));
            let mut failed = 0;
            for file in &files {
                if cancel.is_cancelled() {
                    break;
                }
                let result = check_source(file).and_then(|()| {
                    let sink = view.sink(&file_name(file));
                    rt.block_on(upload(&clients, file, &options, &sink, &cancel))
                });
                match result {
                    Ok(u) => {
                        if out.json {
                            out.json_line(&u);
                        } else {
                            let how = match u.outcome {
                                UploadOutcome::AlreadyThere => {
                                    "already there (same size and CRC-64/NVME), skipped".to_owned()
                                }
                                UploadOutcome::Uploaded {
                                    parts,
                                    resumed_parts: 0,
                                } => format!("uploaded in {parts} part(s)"),
                                UploadOutcome::Uploaded {
                                    parts,
                                    resumed_parts,
                                } => format!(
                                    "uploaded in {parts} parts, resuming after {resumed_parts} sent earlier"
                                ),
                            };
                            out.text(&format!(
                                "{} -> {} ({}): {how}\n",
                                file.display(),
                                u.url(),
                                human_bytes(u.size_bytes)
                            ));
                        }
                    }
                    Err(e) => {
                        failed += 1;
                        report_error(&out, file, &e);
                    }
                }
            }
            failed
        }
        Action::Submit {
            files,
            preset,
            template,
            no_wait,
            poll_secs,
            download,
            jobs,
            max_cost,
            fit,
        } => {
            // A template made by `template push` names its preset; another needs --preset
            // (what plans the outputs to follow and download).
            let Some(preset) = preset.or_else(|| {
                template
                    .as_deref()
                    .and_then(|t| t.strip_prefix("vodkit-"))
                    .map(str::to_owned)
            }) else {
                eprintln!(
                    "vodkit: the job template {} was not made from a preset (vodkit-PRESET); name the preset that plans its outputs with --preset",
                    template.as_deref().unwrap_or_default()
                );
                return files.len().max(1);
            };
            let preset = match Store::open().find(&preset) {
                Ok(e) => e.preset,
                Err(e) => {
                    eprintln!("vodkit: {e}");
                    return files.len().max(1);
                }
            };
            let options = SubmitOptions {
                upload: UploadOptions::default(),
                poll: Duration::from_secs_f64(poll_secs.clamp(0.01, 600.0)),
                wait: !no_wait,
                max_cost_usd: max_cost,
                template,
            };
            let cancel = cancel_on_ctrl_c();
            let view = Arc::new(View::new(aws.json));
            let run = SubmitRun {
                rt: &rt,
                clients: &clients,
                preset: &preset,
                fit: fit.choice(),
                options: &options,
                download: download.as_deref(),
                view: &view,
                cancel: &cancel,
                out: &out,
            };
            run.all(&files, jobs)
        }
        Action::Status { job, max } => {
            let rows = match &job {
                Some(id) => rt
                    .block_on(crate::cloud::mediaconvert::get_job(&clients, id))
                    .map(|r| vec![r]),
                None => rt.block_on(crate::cloud::mediaconvert::list_jobs(&clients, max)),
            };
            match rows {
                Ok(rows) => {
                    for r in &rows {
                        if out.json {
                            out.json_line(r);
                        } else {
                            out.text(&format!(
                                "{:<28} {:<11} {:>3}% {:<12} {:<20} {}{}\n",
                                r.id,
                                r.status,
                                r.percent,
                                r.phase.as_deref().unwrap_or("-"),
                                r.created_at.as_deref().unwrap_or("-"),
                                r.title,
                                r.error
                                    .as_deref()
                                    .map(|e| format!("  ({e})"))
                                    .unwrap_or_default()
                            ));
                        }
                    }
                    if rows.is_empty() && !out.json {
                        out.text("no MediaConvert jobs in this region\n");
                    }
                    0
                }
                Err(e) => {
                    eprintln!("vodkit: {e}");
                    1
                }
            }
        }
        Action::Cancel { job } => {
            match rt.block_on(crate::cloud::mediaconvert::cancel_job(&clients, &job)) {
                Ok(()) => {
                    out.text(&format!("cancelled MediaConvert job {job}\n"));
                    0
                }
                Err(e) => {
                    eprintln!("vodkit: {e}");
                    1
                }
            }
        }
        Action::Download { job, out: dir } => {
            let cancel = cancel_on_ctrl_c();
            let view = Arc::new(View::new(aws.json));
            let sink = view.sink(&job);
            let result = rt.block_on(async {
                let row = crate::cloud::mediaconvert::get_job(&clients, &job).await?;
                if row.status != "COMPLETE" {
                    return Err(CloudError::new(format!(
                        "job {job} is {} ({}%); download it once it is COMPLETE",
                        row.status, row.percent
                    )));
                }
                crate::cloud::outputs::download(&clients, &row.destinations, &dir, &sink, &cancel)
                    .await
            });
            match result {
                Ok(files) => {
                    if !out.json {
                        out.text(&format!("{} files in {}\n", files.len(), dir.display()));
                    }
                    0
                }
                Err(e) => {
                    eprintln!("vodkit: {e}");
                    1
                }
            }
        }
    }
}

/// `vodkit cloud submit` over many files: `jobs` at a time, each uploaded, submitted, followed
/// and (with `--download`) fetched; results print in the order the files were given.
struct SubmitRun<'a> {
    rt: &'a tokio::runtime::Runtime,
    clients: &'a Clients,
    preset: &'a crate::preset::Preset,
    fit: crate::local::per_title::FitChoice,
    options: &'a SubmitOptions,
    download: Option<&'a Path>,
    view: &'a Arc<View>,
    cancel: &'a crate::job::CancelToken,
    out: &'a Output,
}

impl SubmitRun<'_> {
    fn all(&self, files: &[PathBuf], jobs: usize) -> usize {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<std::sync::Mutex<Option<Result<Submitted, CloudError>>>> =
            files.iter().map(|_| std::sync::Mutex::new(None)).collect();
        // Same-named sources (two phones' IMG_0001) get their own input key and outputs.
        let stems: Vec<String> = files
            .iter()
            .map(|f| {
                f.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect();
        let titles = crate::local::titles::unique_in_batch(&stems);
        std::thread::scope(|scope| {
            for _ in 0..jobs.clamp(1, 16).min(files.len()) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(file) = files.get(i) else { return };
                        if self.cancel.is_cancelled() {
                            return;
                        }
                        let r = self.one(file, &titles[i]);
                        if let Ok(mut slot) = results[i].lock() {
                            *slot = Some(r);
                        }
                    }
                });
            }
        });
        let mut failed = 0;
        for (file, slot) in files.iter().zip(results) {
            let Some(result) = slot.into_inner().ok().flatten() else {
                continue;
            };
            match result {
                Ok(done) => self.print(file, &done),
                Err(e) => {
                    failed += 1;
                    report_error(self.out, file, &e);
                }
            }
        }
        failed
    }

    fn one(&self, file: &Path, title: &str) -> Result<Submitted, CloudError> {
        let info = probe(file).map_err(|e| CloudError::new(e.to_string()))?;
        let view_sink = self.view.sink(title);
        let mut p = crate::local::per_title::plan_for(
            &info,
            self.preset,
            &self.fit,
            &view_sink,
            self.cancel,
        )
        .map_err(|e| CloudError::new(format!("{}: {e}", file.display())))?;
        title.clone_into(&mut p.title);
        // Priced before anything is recorded or uploaded: a refused source leaves no job row
        // (which a later Retry would run without the limit).
        let limit = self
            .options
            .max_cost_usd
            .or(self.clients.settings.max_cost_usd);
        crate::cloud::submit::check_before_submit(
            &p,
            self.preset,
            self.options.template.as_deref(),
            limit,
            &self.clients.region,
        )
        .map_err(CloudError::new)?;
        // Kept in the library like any job: the app shows it, and a job not followed here
        // (--no-wait) is followed by the app or `vodkit queue run` once this process ends.
        let spec = crate::runner::JobSpec {
            kind: crate::catalog::queue::JobKind::Cloud,
            plan: Some(p.clone()),
            // The limit and the template travel with the job: a Retry or a later `queue run`
            // keeps them.
            cloud: Some(CloudSettings {
                max_cost_usd: limit,
                ..self.clients.settings.clone()
            }),
            template: self.options.template.clone(),
            ..crate::runner::JobSpec::local(
                file,
                self.preset,
                self.download.unwrap_or_else(|| Path::new(".")),
            )
        };
        let tracked = crate::runner::Tracked::start(&spec);
        let sink = tracked
            .as_ref()
            .map_or_else(|| Arc::clone(&view_sink), |t| t.sink(&view_sink));
        let done = self.rt.block_on(submit(
            self.clients,
            &p,
            self.preset,
            self.options,
            &sink,
            self.cancel,
        ));
        if let Some(t) = &tracked {
            match &done {
                Ok(d) => {
                    t.uploaded(&d.source);
                    match &d.summary {
                        Some(summary) => t.finish(&Ok(summary.clone())),
                        // Not followed here: the row stays running for a later runner.
                        None => t.created(&d.job_id, &d.output_url),
                    }
                }
                Err(CloudError::Cancelled) => t.finish(&Ok(crate::job::Summary {
                    source: file.to_owned(),
                    out_dir: PathBuf::new(),
                    made: Vec::new(),
                    skipped: Vec::new(),
                    failed: Vec::new(),
                    cancelled: true,
                    wall_secs: 0.0,
                })),
                Err(e) => t.finish(&Err(e.to_string())),
            }
        }
        let done = done?;
        if let Some(dir) = self.download
            && done.summary.is_some()
        {
            // The local folder follows the local encodes' rule: another source's folder of the
            // same name is never written into.
            let owner = crate::local::titles::Owner::new(file, &self.preset.name);
            let claim = crate::local::titles::Claim::take(dir, &p.title, &owner)
                .map_err(|e| CloudError::new(format!("{}: {e}", file.display())))?;
            self.rt.block_on(crate::cloud::outputs::download(
                self.clients,
                std::slice::from_ref(&done.output_url),
                &claim.dir,
                &view_sink,
                self.cancel,
            ))?;
            // A title like a local encode's: a manifest and a library record.
            let library = crate::dirs::catalog_file();
            let wall_secs = done.summary.as_ref().map(|s| s.wall_secs);
            match crate::cloud::downloaded::record(
                library.as_deref(),
                &claim.dir,
                file,
                &info,
                self.preset,
                &p,
                wall_secs,
            ) {
                Ok((_, None)) => {}
                Ok((_, Some(why))) | Err(why) => {
                    eprintln!(
                        "vodkit: {}: downloaded; not added to the library: {why}",
                        file.display()
                    );
                }
            }
        }
        Ok(done)
    }

    fn print(&self, file: &Path, done: &Submitted) {
        if self.out.json {
            self.out.json_line(done);
        } else if done.summary.is_none() {
            self.out.text(&format!(
                "{}: MediaConvert job {} created; follow it with `vodkit cloud status {}`\n",
                file.display(),
                done.job_id,
                done.job_id
            ));
        } else {
            self.out.text(&format!(
                "{}: job {} complete; {} outputs in {}\n",
                file.display(),
                done.job_id,
                done.outputs.len(),
                done.output_url
            ));
        }
    }
}

fn file_name(file: &Path) -> String {
    file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Refuses what is not a readable video before anything is sent.
fn check_source(file: &Path) -> Result<(), CloudError> {
    probe(file)
        .map(|_| ())
        .map_err(|e| CloudError::new(e.to_string()))
}

fn report_error(out: &Output, file: &Path, e: &CloudError) {
    let text = match e {
        CloudError::Cancelled => format!("{}: cancelled", file.display()),
        CloudError::Failed(m) => m.clone(),
    };
    out.error(file, &text);
}

fn job_json(
    file: &Path,
    preset: &str,
    fit: &crate::local::per_title::FitChoice,
    cost: bool,
    settings: &CloudSettings,
    out: &Output,
) -> usize {
    let result = Store::open()
        .find(preset)
        .map_err(|e| e.to_string())
        .and_then(|entry| {
            let info = probe(file).map_err(|e| e.to_string())?;
            let quiet: crate::job::EventSink = Arc::new(|_| {});
            let p = crate::local::per_title::plan_for(
                &info,
                &entry.preset,
                fit,
                &quiet,
                &cancel_on_ctrl_c(),
            )?;
            if cost {
                let region = crate::cloud::cost::pricing_region(settings);
                let snapshot = crate::cloud::prices::load();
                let e = crate::cloud::cost::estimate_plan(
                    &p,
                    &entry.preset,
                    &region,
                    snapshot.as_ref(),
                );
                return Ok(if out.json {
                    serde_json::to_value(&e).unwrap_or_default()
                } else {
                    serde_json::Value::String(format!("{}: {}", file.display(), e.describe()))
                });
            }
            let target = JobTarget::from_settings(settings).map_err(|e| e.to_string())?;
            let fingerprint =
                crate::cloud::upload::source_fingerprint(file).map_err(|e| e.to_string())?;
            let place = target.place(&p, &fingerprint);
            Ok(create_job_request(&p, &entry.preset, &target, &place))
        });
    match result {
        Ok(serde_json::Value::String(text)) => {
            out.text(&text);
            0
        }
        Ok(value) if cost => {
            out.json_line(&value);
            0
        }
        Ok(request) => {
            out.text(&format!(
                "{}\n",
                serde_json::to_string_pretty(&request).unwrap_or_default()
            ));
            0
        }
        Err(e) => {
            out.error(file, &e);
            1
        }
    }
}

/// `vodkit cloud prices`: shows the snapshot, or makes a new one.
fn prices(refresh: bool, offer: Option<&Path>, s3_offers: &[PathBuf], out: &Output) -> usize {
    use crate::cloud::prices::{
        MAIN_REGIONS, OFFER_URL, fetch, load, s3_offer_url, snapshot_file, snapshot_from_offer,
        write_snapshot,
    };
    if !refresh {
        return match load() {
            Some(s) => {
                if out.json {
                    out.json_line(&s);
                } else {
                    let mut text = format!(
                        "MediaConvert on-demand prices published {} ({}), USD per output minute:\n",
                        s.published, s.source
                    );
                    for (region, p) in &s.regions {
                        let storage = p
                            .s3_standard_gb_month_usd
                            .map_or(String::new(), |g| format!(", S3 Standard ${g}/GB-month"));
                        text.push_str(&format!(
                            "  {region}: {} classes{storage}\n",
                            p.minute_usd.len()
                        ));
                    }
                    out.text(&text);
                }
                0
            }
            None => {
                // A snapshot that is there but cannot be used says why.
                match snapshot_file()
                    .filter(|p| p.is_file())
                    .map(|p| crate::cloud::prices::read_snapshot(&p))
                {
                    Some(Err(e)) => eprintln!("vodkit: {e}"),
                    _ => eprintln!(
                        "vodkit: no MediaConvert price snapshot yet; run `vodkit cloud prices --refresh` while online (it reads {OFFER_URL})"
                    ),
                }
                1
            }
        };
    }
    let Some(target) = snapshot_file() else {
        eprintln!("vodkit: no data folder to keep the price snapshot in (set VODKIT_DATA_DIR)");
        return 1;
    };
    let scratch = tempfile_dir();
    let made = (|| {
        let (offer, s3): (PathBuf, Vec<PathBuf>) = match offer {
            Some(o) => (o.to_owned(), s3_offers.to_vec()),
            None => {
                let o = scratch.join("mediaconvert.json");
                fetch(OFFER_URL, &o)?;
                let mut s3 = Vec::new();
                for region in MAIN_REGIONS {
                    let f = scratch.join(format!("s3-{region}.json"));
                    fetch(&s3_offer_url(region), &f)?;
                    s3.push(f);
                }
                (o, s3)
            }
        };
        let mut snapshot = snapshot_from_offer(&offer, &s3)?;
        if offer.starts_with(&scratch) {
            OFFER_URL.clone_into(&mut snapshot.source);
        }
        Ok::<_, crate::cloud::prices::PriceError>(snapshot)
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    match made.map_err(|e| e.to_string()).and_then(|s| {
        write_snapshot(&s, &target)
            .map(|()| s)
            .map_err(|e| format!("{}: {e}", target.display()))
    }) {
        Ok(s) => {
            let classes: usize = s.regions.values().map(|r| r.minute_usd.len()).sum();
            out.text(&format!(
                "price snapshot of {} written to {}: {} regions, {classes} prices\n",
                s.published,
                target.display(),
                s.regions.len()
            ));
            0
        }
        Err(e) => {
            eprintln!("vodkit: {e}");
            1
        }
    }
}

/// A dollar amount: a finite number, 0 or more.
fn parse_usd(text: &str) -> Result<f64, String> {
    match text.trim().trim_start_matches('$').parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "'{text}' is not an amount of dollars (0 or more, like 2.50)"
        )),
    }
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vodkit-prices-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}
