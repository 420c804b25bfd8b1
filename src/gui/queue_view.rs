//! The queue: jobs started here and those the library kept from earlier sessions (a crash's
//! interrupted jobs come back first, a cloud job submitted before a restart is followed again).
//! Every job is a library row before it starts; the app runs `jobs at once` of them, in order,
//! unless paused. The view shows each job's progress, where its files went and their size.

use std::path::PathBuf;
use std::time::Instant;

use egui::{Color32, RichText};

use super::app::{Tab, View, VodkitApp};
use super::files_view::FileStatus;
use super::quality_tab::QualityTab;
use super::settings::Backend;
use super::worker::{CloudDownload, UiEvent};
use crate::catalog::queue::{JobKind, QueueState, QueuedJob};
use crate::job::{CancelToken, JobEvent, RungProgress, Stage, Summary};
use crate::plan::Plan;
use crate::runner::JobSpec;
use crate::units::{clock, human_bytes};

const RED: Color32 = Color32::from_rgb(200, 60, 60);

/// Where a job is.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// Waiting for a free slot.
    Queued,
    /// Running.
    Running,
    /// Finished: what was made.
    Done(Summary),
    /// Cancelled.
    Cancelled,
    /// Failed: why.
    Failed(String),
    /// Another Vodkit process (the command line, another window) runs it.
    Elsewhere(u32),
}

impl JobState {
    /// Done, failed or cancelled.
    pub fn is_finished(&self) -> bool {
        matches!(self, Self::Done(_) | Self::Cancelled | Self::Failed(_))
    }
}

/// A job's library row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// Being written.
    Pending,
    /// This row.
    Saved(i64),
    /// The library is unavailable: the job runs without a row.
    Unsaved,
}

impl Row {
    fn id(self) -> Option<i64> {
        match self {
            Self::Saved(id) => Some(id),
            _ => None,
        }
    }
}

/// A job in the queue.
pub struct JobItem {
    /// Id for events.
    pub id: u64,
    /// Its library row.
    pub row: Row,
    /// The source.
    pub source: PathBuf,
    /// What it does.
    pub spec: JobSpec,
    /// Current stage.
    pub stage: Option<Stage>,
    /// Per-rung progress.
    pub rungs: Vec<RungProgress>,
    /// 0-1.
    pub overall: f64,
    /// State.
    pub state: JobState,
    cancel: CancelToken,
    show_details: bool,
    /// The latest cloud state in words (upload bytes, MediaConvert status).
    pub cloud_status: String,
    /// The rungs' measured quality (as they finish, then all of them from the manifest).
    pub quality: Vec<crate::quality::RungQuality>,
    /// The plan the job followed (from its manifest), for the Quality tab.
    plan: Option<Plan>,
    /// Files written, with their sizes.
    pub outputs: Vec<(PathBuf, u64)>,
    /// When it started running here.
    started: Option<Instant>,
    /// Loaded from the library (a job of an earlier session).
    pub earlier: bool,
}

impl JobItem {
    fn new(id: u64, row: Row, spec: JobSpec, state: JobState) -> Self {
        Self {
            id,
            row,
            source: spec.source.clone(),
            spec,
            stage: None,
            rungs: Vec::new(),
            overall: 0.0,
            state,
            cancel: CancelToken::new(),
            show_details: false,
            cloud_status: String::new(),
            quality: Vec::new(),
            plan: None,
            outputs: Vec::new(),
            started: None,
            earlier: false,
        }
    }

    fn name(&self) -> String {
        self.source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Seconds left for this job as its rungs report (the slowest rung), if known.
    fn eta_secs(&self) -> Option<f64> {
        self.rungs
            .iter()
            .filter_map(|r| r.eta_secs)
            .fold(None, |m: Option<f64>, e| Some(m.map_or(e, |m| m.max(e))))
    }
}

/// A queue row as the app shows it (`None` only if no built-in preset exists to stand in for
/// a row whose own preset cannot be read).
fn item_of_row(id: u64, row: &QueuedJob) -> Option<JobItem> {
    let (spec, unreadable) = match JobSpec::of_row(row) {
        Ok(s) => (s, None),
        Err(e) => {
            let preset = crate::preset::store::builtins().into_iter().next()?;
            (JobSpec::local(&row.source, &preset, &row.out_dir), Some(e))
        }
    };
    let summary = |dir: PathBuf| Summary {
        source: row.source.clone(),
        out_dir: dir,
        made: Vec::new(),
        skipped: Vec::new(),
        failed: Vec::new(),
        cancelled: false,
        wall_secs: match (row.started_secs, row.finished_secs) {
            (Some(a), Some(b)) => (b - a) as f64,
            _ => 0.0,
        },
    };
    let state = match (unreadable, row.state) {
        (Some(e), _) => JobState::Failed(e),
        (None, QueueState::Queued) => JobState::Queued,
        (None, QueueState::Running) => JobState::Elsewhere(row.owner_pid.unwrap_or(0)),
        (None, QueueState::Done) => JobState::Done(summary(
            row.title_dir.clone().unwrap_or_else(|| row.out_dir.clone()),
        )),
        (None, QueueState::Failed) => JobState::Failed(row.error.clone().unwrap_or_default()),
        (None, QueueState::Cancelled) => JobState::Cancelled,
    };
    let mut item = JobItem::new(id, Row::Saved(row.id), spec, state);
    item.earlier = true;
    if matches!(item.state, JobState::Done(_)) {
        item.overall = 1.0;
    }
    Some(item)
}

impl VodkitApp {
    /// Asks the library for the queue it kept (at start).
    pub(super) fn load_queue(&self) {
        self.worker.with_catalog(|c| {
            let c = c?;
            let recovered = c.recover().map(|r| r.len()).unwrap_or(0);
            let jobs = c.jobs().ok()?;
            Some(UiEvent::QueueLoaded(
                jobs,
                c.is_paused().unwrap_or(false),
                recovered,
            ))
        });
    }

    /// Reads the queue again every few seconds: the command line, a watch or another window
    /// change it too (new jobs, jobs they finished, a pause).
    pub(super) fn poll_queue(&mut self, ctx: &egui::Context) {
        const EVERY: std::time::Duration = std::time::Duration::from_secs(3);
        if self.queue_read.elapsed() >= EVERY {
            self.read_queue();
        }
        ctx.request_repaint_after(EVERY);
    }

    fn read_queue(&mut self) {
        self.queue_read = Instant::now();
        self.worker.with_catalog(|c| {
            let c = c?;
            let jobs = c.jobs().ok()?;
            Some(UiEvent::QueueLoaded(
                jobs,
                c.is_paused().unwrap_or(false),
                0,
            ))
        });
    }

    /// Queues the selected files, or every file when none is selected; says what it did and
    /// why a file was not queued.
    pub fn start(&mut self) {
        let Some(preset) = self.preset().cloned() else {
            self.status = "no preset to encode with".to_owned();
            return;
        };
        let cloud = if self.settings.backend == Backend::Cloud {
            let c = self.settings.cloud.clone();
            if let Err(e) = crate::cloud::JobTarget::from_settings(&c) {
                self.status = super::settings_view::in_app_words(&e.to_string());
                self.switch_to(View::Settings);
                return;
            }
            Some(c)
        } else {
            None
        };
        self.status_copy = None;
        let mut picked = self.selection();
        if picked.is_empty() {
            picked = (0..self.files.len()).collect();
        }
        let (mut queued, mut already, mut reading) = (0, 0, 0);
        let mut unreadable: Vec<String> = Vec::new();
        for i in picked {
            let file = &self.files[i];
            match &file.status {
                FileStatus::Ready(_) => {}
                FileStatus::Probing => {
                    reading += 1;
                    continue;
                }
                FileStatus::Failed(e) => {
                    unreadable.push(format!("{}: {e}", file.name()));
                    continue;
                }
            }
            // The same file is not queued twice while a job for it waits or runs.
            if self.jobs.iter().any(|j| {
                j.source == file.path && matches!(j.state, JobState::Queued | JobState::Running)
            }) {
                already += 1;
                continue;
            }
            let spec = JobSpec {
                kind: if cloud.is_some() {
                    JobKind::Cloud
                } else {
                    JobKind::Local
                },
                force: self.redo,
                plan: match &file.analysed {
                    Some((made_with, Ok(plan))) if **made_with == preset => Some(plan.clone()),
                    _ => None,
                },
                target: self
                    .target_bytes
                    .filter(|_| cloud.is_none())
                    .map(|bytes| crate::local::target_size::Target { bytes }),
                range: file
                    .range
                    .filter(|_| cloud.is_none())
                    .map_or((None, None), |(a, b)| (Some(a), Some(b))),
                cloud: cloud.clone(),
                template: cloud
                    .as_ref()
                    .map(|_| self.cloud_template.trim().to_owned())
                    .filter(|t| !t.is_empty()),
                ..JobSpec::local(&file.path, &preset, &self.settings.output_dir)
            };
            self.enqueue(spec);
            queued += 1;
        }
        let mut parts = Vec::new();
        match queued {
            0 => {}
            1 => parts.push("1 job queued".to_owned()),
            n => parts.push(format!("{n} jobs queued")),
        }
        if already > 0 {
            parts.push(format!("{already} already in the queue"));
        }
        if reading > 0 {
            parts.push(format!(
                "{reading} still being read (start again in a moment)"
            ));
        }
        if !unreadable.is_empty() {
            parts.push(format!("cannot encode {}", unreadable.join("; ")));
        }
        self.status = if parts.is_empty() {
            "nothing to start: add a file first".to_owned()
        } else if queued == 0 && already == 1 && parts.len() == 1 {
            "that file is already queued".to_owned()
        } else {
            parts.join(", ")
        };
        if cloud.is_some()
            && (self.target_bytes.is_some() || self.files.iter().any(|f| f.range.is_some()))
        {
            self.status.push_str(
                "; the cloud encodes whole files with the preset's ladder (Fit to size and ranges are for local jobs)",
            );
        }
        self.launch();
    }

    /// Adds a job: a library row first, then it waits its turn.
    fn enqueue(&mut self, spec: JobSpec) {
        let id = self.next_job;
        self.next_job += 1;
        let new_job = spec.new_job();
        self.jobs
            .push(JobItem::new(id, Row::Pending, spec, JobState::Queued));
        self.queue.push_back(id);
        self.worker.with_catalog(move |c| {
            let row = match c.map(|c| c.enqueue(&new_job)) {
                Some(Ok(row)) => Ok(row),
                Some(Err(e)) => Err(format!("{e}; the job runs, but is not saved in the queue")),
                None => Err(String::new()),
            };
            Some(UiEvent::Enqueued(id, row))
        });
    }

    /// Starts queued jobs while slots are free (in queue order; none while paused).
    pub(super) fn launch(&mut self) {
        if self.paused {
            return;
        }
        let running = self
            .jobs
            .iter()
            .filter(|j| j.state == JobState::Running)
            .count();
        let mut free = self.settings.jobs_at_once.max(1).saturating_sub(running);
        while free > 0 {
            let Some(&id) = self.queue.front() else {
                break;
            };
            let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) else {
                self.queue.pop_front();
                continue;
            };
            if job.state != JobState::Queued {
                self.queue.pop_front();
                continue;
            }
            if job.row == Row::Pending {
                // Its row is being written; it starts when the library answers.
                break;
            }
            self.queue.pop_front();
            job.state = JobState::Running;
            job.started = Some(Instant::now());
            // Run in this session: part of the current batch, whenever it was queued.
            job.earlier = false;
            self.worker
                .run_job(job.id, job.row.id(), job.spec.clone(), job.cancel.clone());
            free -= 1;
        }
    }

    /// Cancels a job (a queued one never starts).
    pub fn cancel(&mut self, id: u64) {
        if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
            job.cancel.cancel();
            if job.state == JobState::Queued {
                job.state = JobState::Cancelled;
                if let Some(row) = job.row.id() {
                    self.worker.with_catalog(move |c| {
                        c.map(|c| c.cancel_queued(row));
                        None
                    });
                }
            }
        }
    }

    /// Events of jobs: queue rows, progress, ends.
    pub(super) fn on_job_event(&mut self, event: UiEvent) {
        match event {
            UiEvent::QueueLoaded(rows, paused, recovered) => {
                match self.pause_sent {
                    Some(sent) if sent != paused => {}
                    _ => {
                        self.pause_sent = None;
                        self.paused = paused;
                    }
                }
                self.reconcile(&rows);
                if recovered > 0 {
                    self.status = format!(
                        "{recovered} job(s) were interrupted when Vodkit last closed; they run again first, skipping what was finished"
                    );
                }
                self.launch();
            }
            UiEvent::QueueChanged => self.read_queue(),
            UiEvent::JobTaken(id) => {
                if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
                    job.state = JobState::Elsewhere(0);
                }
                self.read_queue();
                self.launch();
            }
            UiEvent::Enqueued(id, row) => {
                let row = match row {
                    Ok(row) => Some(row),
                    Err(e) => {
                        if !e.is_empty() {
                            self.status = e;
                        }
                        None
                    }
                };
                if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
                    job.row = row.map_or(Row::Unsaved, Row::Saved);
                    if job.state == JobState::Cancelled
                        && let Some(row) = row
                    {
                        self.worker.with_catalog(move |c| {
                            c.map(|c| c.cancel_queued(row));
                            None
                        });
                    }
                }
                self.launch();
            }
            UiEvent::Qualities(id, measured, plan) => {
                if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
                    job.quality = measured;
                    job.plan = Some(*plan);
                }
            }
            UiEvent::Job(id, event) => self.on_progress(id, event),
            UiEvent::JobEnded(id, result) => {
                if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
                    let name = job.name();
                    job.rungs.clear();
                    job.state = match result {
                        Ok(s) if s.cancelled => JobState::Cancelled,
                        Ok(s) if !s.failed.is_empty() => JobState::Failed(
                            s.failed
                                .iter()
                                .map(|(r, e)| format!("{r}: {e}"))
                                .collect::<Vec<_>>()
                                .join("\n"),
                        ),
                        Ok(s) => {
                            job.overall = 1.0;
                            let bytes: u64 = job.outputs.iter().map(|(_, b)| b).sum();
                            self.status = format!(
                                "{name}: done in {}, {} in {}",
                                clock(s.wall_secs),
                                human_bytes(bytes),
                                s.out_dir.display()
                            );
                            self.status_copy = Some(s.out_dir.display().to_string());
                            JobState::Done(s)
                        }
                        Err(e) => {
                            let e = if job.spec.kind == JobKind::Cloud {
                                super::settings_view::in_app_words(&e)
                            } else {
                                e
                            };
                            self.status = e.lines().next().unwrap_or_default().to_owned();
                            self.status_copy = None;
                            JobState::Failed(e)
                        }
                    };
                }
                if self.view == View::Library {
                    self.refresh_library();
                }
                self.launch();
            }
            _ => {}
        }
    }

    /// Brings the app's queue in line with the library's rows: new rows (another process's
    /// jobs, at most 200 finished ones in all) are added; jobs this app does not run take
    /// the row's state (started, finished or cancelled elsewhere).
    fn reconcile(&mut self, rows: &[QueuedJob]) {
        let me = std::process::id();
        let mut finished_shown = self
            .jobs
            .iter()
            .filter(|j| j.earlier && j.state.is_finished())
            .count();
        for row in rows {
            if let Some(job) = self.jobs.iter_mut().find(|j| j.row == Row::Saved(row.id)) {
                if job.state == JobState::Running {
                    continue;
                }
                let theirs = match row.state {
                    QueueState::Running if row.owner_pid != Some(me) => {
                        Some(JobState::Elsewhere(row.owner_pid.unwrap_or(0)))
                    }
                    QueueState::Queued if matches!(job.state, JobState::Elsewhere(_)) => {
                        Some(JobState::Queued)
                    }
                    QueueState::Done | QueueState::Failed | QueueState::Cancelled
                        if !job.state.is_finished() =>
                    {
                        item_of_row(job.id, row).map(|i| i.state)
                    }
                    _ => None,
                };
                if let Some(state) = theirs {
                    if state == JobState::Queued && !self.queue.contains(&job.id) {
                        self.queue.push_back(job.id);
                    }
                    if state != JobState::Queued {
                        self.queue.retain(|&q| q != job.id);
                    }
                    if matches!(state, JobState::Done(_)) {
                        job.overall = 1.0;
                    }
                    job.state = state;
                }
                continue;
            }
            if row.state.is_finished() {
                if finished_shown >= 200 {
                    continue;
                }
                finished_shown += 1;
            }
            let id = self.next_job;
            let Some(item) = item_of_row(id, row) else {
                continue;
            };
            self.next_job += 1;
            if item.state == JobState::Queued {
                self.queue.push_back(id);
            }
            self.jobs.push(item);
        }
    }

    fn on_progress(&mut self, id: u64, event: JobEvent) {
        let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) else {
            return;
        };
        match event {
            JobEvent::Stage { stage } => job.stage = Some(stage),
            JobEvent::Progress { rungs, overall } => {
                job.rungs = rungs;
                job.overall = overall;
            }
            JobEvent::Output { path, size_bytes } => job.outputs.push((path, size_bytes)),
            JobEvent::Warning { message } => {
                self.status = message;
                self.status_copy = None;
            }
            JobEvent::Quality { quality } => job.quality.push(*quality),
            JobEvent::Transfer {
                done_bytes,
                total_bytes,
                bytes_per_sec,
                ..
            } => {
                job.overall = done_bytes as f64 / total_bytes.max(1) as f64;
                job.cloud_status = format!(
                    "uploaded {} of {} ({}/s)",
                    human_bytes(done_bytes),
                    human_bytes(total_bytes),
                    human_bytes(bytes_per_sec as u64)
                );
            }
            JobEvent::CloudJob {
                job_id,
                status,
                phase,
                percent,
                ..
            } => {
                job.cloud_status = format!(
                    "MediaConvert job {job_id}: {status}{} {percent}%",
                    phase.map(|p| format!(" ({p})")).unwrap_or_default()
                );
            }
            _ => {}
        }
    }

    /// Jobs in the current batch: every job not finished in an earlier session.
    pub(super) fn batch_total(&self) -> usize {
        self.jobs
            .iter()
            .filter(|j| !(j.earlier && j.state.is_finished()))
            .count()
    }

    /// Finished jobs of the current batch.
    pub(super) fn batch_done(&self) -> usize {
        self.jobs
            .iter()
            .filter(|j| !j.earlier && j.state.is_finished())
            .count()
    }

    /// "3 of 35 done, about 4:10 left" with a bar, while a batch runs.
    pub(super) fn overall_progress(&self, ui: &mut egui::Ui) {
        let total = self.batch_total();
        let done = self.batch_done();
        if total == 0 || done == total {
            if self.paused {
                ui.label(RichText::new("queue paused").color(Color32::from_rgb(200, 140, 30)));
            }
            return;
        }
        let running: Vec<&JobItem> = self
            .jobs
            .iter()
            .filter(|j| j.state == JobState::Running)
            .collect();
        let share = (done as f64 + running.iter().map(|j| j.overall).sum::<f64>()) / total as f64;
        let finished: Vec<f64> = self
            .jobs
            .iter()
            .filter_map(|j| match &j.state {
                JobState::Done(s) if !j.earlier => Some(s.wall_secs),
                _ => None,
            })
            .collect();
        let queued = self
            .jobs
            .iter()
            .filter(|j| j.state == JobState::Queued)
            .count();
        let eta = {
            let now: Option<f64> = running.iter().map(|j| j.eta_secs()).sum();
            let mean = (!finished.is_empty())
                .then(|| finished.iter().sum::<f64>() / finished.len() as f64);
            match (now, mean, queued) {
                (Some(n), _, 0) => Some(n),
                (Some(n), Some(m), q) => {
                    Some(n + m * q as f64 / self.settings.jobs_at_once.max(1) as f64)
                }
                _ => None,
            }
        };
        let text = match eta {
            Some(e) => format!("{done} of {total} done, about {} left", clock(e)),
            None => format!("{done} of {total} done"),
        };
        ui.add(
            egui::ProgressBar::new(share as f32)
                .desired_width(160.0)
                .text(text),
        );
        if self.paused {
            ui.label(RichText::new("paused").color(Color32::from_rgb(200, 140, 30)));
        }
    }

    /// The Queue view: controls and every job.
    pub(super) fn queue_view(&mut self, ui: &mut egui::Ui) {
        self.queue_list(ui, true);
    }

    /// The list of jobs with their controls; `full`: the Queue view (earlier sessions' jobs
    /// too), else the Files view's panel (this session's and unfinished ones).
    pub(super) fn queue_list(&mut self, ui: &mut egui::Ui, full: bool) {
        let mut cancel = None;
        let mut open = None;
        let mut play: Option<PathBuf> = None;
        let mut download = None;
        let mut show_quality: Option<u64> = None;
        let mut moved: Option<(u64, i64)> = None;
        let mut retry: Option<u64> = None;
        ui.horizontal(|ui| {
            ui.heading("Jobs");
            let active = self.jobs.iter().any(|j| !j.state.is_finished());
            if ui
                .add_enabled(active, egui::Button::new("Cancel all"))
                .clicked()
            {
                let ids: Vec<u64> = self
                    .jobs
                    .iter()
                    .filter(|j| !j.state.is_finished())
                    .map(|j| j.id)
                    .collect();
                let n = ids.len();
                for id in ids {
                    self.cancel(id);
                }
                self.status = format!("cancelled {n} job(s)");
            }
            let label = if self.paused {
                "Resume queue"
            } else {
                "Pause queue"
            };
            if ui
                .button(label)
                .on_hover_text("While paused no new job starts; running ones go on")
                .clicked()
            {
                self.paused = !self.paused;
                let paused = self.paused;
                self.pause_sent = Some(paused);
                self.worker.with_catalog(move |c| {
                    let c = c?;
                    let _ = c.set_paused(paused);
                    let jobs = c.jobs().ok()?;
                    Some(UiEvent::QueueLoaded(
                        jobs,
                        c.is_paused().unwrap_or(paused),
                        0,
                    ))
                });
                self.launch();
            }
            if ui.button("Remove finished").clicked() {
                self.jobs.retain(|j| !j.state.is_finished());
                self.worker.with_catalog(|c| {
                    c.map(|c| c.clear_jobs(false, true));
                    None
                });
            }
            if !full && ui.link("All jobs…").clicked() {
                self.switch_to(View::Queue);
            }
        });
        if self.jobs.is_empty() {
            ui.label(RichText::new("No jobs yet: select files and press Start.").weak());
            return;
        }
        let queued: Vec<u64> = self.queue.iter().copied().collect();
        // Shown in the order they run: running, then queued in queue order, then the rest.
        let rank = |j: &JobItem| match j.state {
            JobState::Running | JobState::Elsewhere(_) => (0, 0),
            JobState::Queued => (
                1,
                queued.iter().position(|&q| q == j.id).unwrap_or(usize::MAX),
            ),
            _ => (2, 0),
        };
        let mut order: Vec<usize> = (0..self.jobs.len())
            .filter(|&i| full || !(self.jobs[i].earlier && self.jobs[i].state.is_finished()))
            .collect();
        order.sort_by_key(|&i| rank(&self.jobs[i]));
        // Only the rows in view are laid out: a long history scrolls at full frame rate.
        let keys: Vec<u64> = order.iter().map(|&i| self.jobs[i].id).collect();
        let salt = if full { "queue-view" } else { "queue-panel" };
        let jobs = &mut self.jobs;
        self.queue_rows[usize::from(full)].show(ui, salt, &keys, 30.0, |ui, k| {
                    let job = &mut jobs[order[k]];
                    let name = job.name();
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(&name).strong())
                            .on_hover_text(job.source.display().to_string());
                        let kind = if job.spec.kind == JobKind::Cloud { "cloud, " } else { "" };
                        let state = match &job.state {
                            JobState::Queued => "queued".to_owned(),
                            JobState::Running => job.stage.map_or_else(
                                || "starting".to_owned(),
                                |s| format!("{s:?}").to_lowercase(),
                            ),
                            JobState::Done(s) if s.wall_secs > 0.0 => {
                                format!("done in {}", clock(s.wall_secs))
                            }
                            JobState::Done(_) => "done".to_owned(),
                            JobState::Cancelled => "cancelled".to_owned(),
                            JobState::Failed(_) => "failed".to_owned(),
                            JobState::Elsewhere(pid) => format!("running in Vodkit process {pid}"),
                        };
                        ui.label(format!("{kind}{} · {state}", job.spec.preset.name));
                        ui.add(
                            egui::ProgressBar::new(job.overall as f32)
                                .desired_width(160.0)
                                .show_percentage(),
                        );
                        match &job.state {
                            JobState::Queued => {
                                if queued.contains(&job.id) {
                                    if ui.small_button("Earlier").on_hover_text("Move up the queue").clicked() {
                                        moved = Some((job.id, -1));
                                    }
                                    if ui.small_button("Later").on_hover_text("Move down the queue").clicked() {
                                        moved = Some((job.id, 1));
                                    }
                                }
                                if ui.button(format!("Cancel {name}")).clicked() {
                                    cancel = Some(job.id);
                                }
                            }
                            JobState::Running => {
                                if ui.button(format!("Cancel {name}")).clicked() {
                                    cancel = Some(job.id);
                                }
                            }
                            JobState::Done(s) if job.spec.kind == JobKind::Cloud => {
                                if ui
                                    .button("Download")
                                    .on_hover_text(
                                        "Fetch the rungs, stills and SMIL into the output folder",
                                    )
                                    .clicked()
                                {
                                    download = Some(CloudDownload {
                                        settings: job.spec.cloud.clone().unwrap_or_default(),
                                        url: s.out_dir.display().to_string(),
                                        out_dir: job.spec.out_dir.clone(),
                                        source: s.source.clone(),
                                        preset: job.spec.preset.clone(),
                                        plan: job.spec.plan.clone(),
                                        fit: job.spec.fit,
                                        wall_secs: s.wall_secs,
                                    });
                                }
                                ui.label(format!("in {}", s.out_dir.display()));
                                if ui.small_button("Copy URL").clicked() {
                                    ui.ctx().copy_text(s.out_dir.display().to_string());
                                }
                            }
                            JobState::Done(s) => {
                                if ui.button("Open folder").clicked() {
                                    open = Some(s.out_dir.clone());
                                }
                                let packaged = job.spec.preset.packaging.hls
                                    || job.spec.preset.packaging.dash;
                                if packaged
                                    && ui
                                        .button("Play")
                                        .on_hover_text(
                                            "HLS and DASH in your browser, served by vodkit serve",
                                        )
                                        .clicked()
                                {
                                    play = Some(s.out_dir.clone());
                                }
                                if !job.quality.is_empty()
                                    && ui
                                        .button("Quality")
                                        .on_hover_text(
                                            "VMAF, SSIM and PSNR of every rung, plots and a before/after view",
                                        )
                                        .clicked()
                                {
                                    show_quality = Some(job.id);
                                }
                                if ui
                                    .small_button("Copy path")
                                    .on_hover_text(s.out_dir.display().to_string())
                                    .clicked()
                                {
                                    ui.ctx().copy_text(s.out_dir.display().to_string());
                                }
                            }
                            JobState::Failed(e) => {
                                ui.label(
                                    RichText::new(e.lines().next().unwrap_or("")).color(RED),
                                );
                                ui.toggle_value(&mut job.show_details, "details");
                                if job.row.id().is_some() && ui.button("Retry").clicked() {
                                    retry = Some(job.id);
                                }
                            }
                            JobState::Cancelled => {
                                if job.row.id().is_some() && ui.button("Retry").clicked() {
                                    retry = Some(job.id);
                                }
                            }
                            JobState::Elsewhere(_) => {}
                        }
                    });
                    if let JobState::Done(s) = &job.state
                        && job.spec.kind == JobKind::Local
                    {
                        finished_files(ui, job, s);
                    }
                    if job.state == JobState::Running && !job.cloud_status.is_empty() {
                        ui.horizontal(|ui| {
                            ui.add_space(16.0);
                            ui.label(&job.cloud_status);
                        });
                    }
                    if job.state == JobState::Running {
                        rung_rows(ui, &job.rungs);
                    }
                    if let (JobState::Failed(e), true) = (&job.state, job.show_details) {
                        ui.add(egui::Label::new(RichText::new(e).monospace()).wrap());
                    }
        });
        if let Some(id) = cancel {
            self.cancel(id);
        }
        if let Some((id, by)) = moved {
            self.move_job(id, by);
        }
        if let Some(id) = retry {
            self.retry(id);
        }
        if let Some(id) = show_quality {
            self.open_quality(id);
        }
        if let Some(dir) = open {
            self.worker.open_folder(dir);
        }
        if let Some(d) = download {
            self.status = format!("downloading {} to {}…", d.url, d.out_dir.display());
            self.worker.cloud_download(d);
        }
        if let Some(title_dir) = play
            && let (Some(root), Some(title)) = (title_dir.parent(), title_dir.file_name())
        {
            self.worker
                .play(root.to_owned(), title.to_string_lossy().into_owned());
        }
    }

    /// Moves a queued job `by` places among the queued ones (and its library row).
    fn move_job(&mut self, id: u64, by: i64) {
        let Some(at) = self.queue.iter().position(|&j| j == id) else {
            return;
        };
        let to = (at as i64 + by).clamp(0, self.queue.len() as i64 - 1) as usize;
        if to == at {
            return;
        }
        let moved = self.queue.remove(at);
        if let Some(moved) = moved {
            self.queue.insert(to, moved);
        }
        if let Some(row) = self
            .jobs
            .iter()
            .find(|j| j.id == id)
            .and_then(|j| j.row.id())
        {
            self.worker.with_catalog(move |c| {
                c.map(|c| c.move_job(row, by));
                None
            });
        }
    }

    /// Queues a failed or cancelled job again (it starts once the library has it queued).
    fn retry(&mut self, id: u64) {
        let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) else {
            return;
        };
        let Some(row) = job.row.id() else {
            return;
        };
        job.state = JobState::Queued;
        job.row = Row::Pending;
        job.cancel = CancelToken::new();
        job.overall = 0.0;
        job.outputs.clear();
        job.earlier = false;
        self.queue.push_back(id);
        self.worker.with_catalog(move |c| {
            let requeued = match c.map(|c| c.requeue(row)) {
                Some(Ok(true)) => Ok(row),
                Some(Ok(false)) => {
                    Err("that job is not finished any more (see the queue)".to_owned())
                }
                Some(Err(e)) => Err(e.to_string()),
                None => Err(String::new()),
            };
            Some(UiEvent::Enqueued(id, requeued))
        });
    }

    /// Opens the Quality tab on a finished job.
    pub fn open_quality(&mut self, id: u64) {
        let Some(job) = self.jobs.iter().find(|j| j.id == id) else {
            return;
        };
        let JobState::Done(summary) = &job.state else {
            return;
        };
        let Some(plan) = job.plan.clone() else {
            self.status = format!("{}: its plan is not known yet", job.name());
            return;
        };
        self.quality = Some(QualityTab::new(
            id,
            plan,
            summary.out_dir.clone(),
            job.quality.clone(),
        ));
        self.view = View::Files;
        self.tab = Tab::Quality;
    }

    /// Opens the Quality tab on a title folder made earlier (its `manifest.json`), with its
    /// source among `sources` when given (the manifest names it by file name only), and shows
    /// the first still's pictures.
    pub fn open_title_quality(
        &mut self,
        dir: &std::path::Path,
        sources: &[PathBuf],
    ) -> Result<(), String> {
        let manifest: crate::local::Manifest = std::fs::read(dir.join("manifest.json"))
            .map_err(|e| format!("{}: no manifest.json ({e})", dir.display()))
            .and_then(|b| {
                serde_json::from_slice(&b)
                    .map_err(|e| format!("{}/manifest.json: {e}", dir.display()))
            })?;
        let rungs: Vec<crate::quality::RungQuality> = manifest
            .rungs
            .into_iter()
            .filter_map(|r| r.quality)
            .collect();
        if rungs.is_empty() {
            return Err(format!(
                "{}: no rung was measured (encode with --quality, or a preset with [quality] measure = true)",
                dir.display()
            ));
        }
        let mut plan = manifest.plan;
        if let Some(source) = sources
            .iter()
            .find(|s| s.file_name() == plan.source.file_name())
        {
            plan.source.clone_from(source);
        }
        let mut tab = QualityTab::new(0, plan, dir.to_owned(), rungs);
        tab.request(&self.worker);
        self.quality = Some(tab);
        self.view = View::Files;
        self.tab = Tab::Quality;
        Ok(())
    }
}

/// A finished local job's folder and files with their sizes.
fn finished_files(ui: &mut egui::Ui, job: &JobItem, s: &Summary) {
    let media: Vec<&(PathBuf, u64)> = job
        .outputs
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "mp4"))
        .collect();
    let total: u64 = job.outputs.iter().map(|(_, b)| b).sum();
    ui.horizontal_wrapped(|ui| {
        ui.add_space(16.0);
        if job.outputs.is_empty() {
            ui.label(RichText::new(format!("in {}", s.out_dir.display())).weak());
            return;
        }
        ui.label(
            RichText::new(format!(
                "{} in {}:",
                human_bytes(total),
                s.out_dir.display()
            ))
            .weak(),
        );
        for (p, b) in media {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            ui.label(format!("{name} {}", human_bytes(*b)))
                .on_hover_text(p.display().to_string());
        }
    });
}

/// Running rungs: frames, speed and time left; a finished rung says so.
fn rung_rows(ui: &mut egui::Ui, rungs: &[RungProgress]) {
    for r in rungs {
        ui.horizontal(|ui| {
            ui.add_space(16.0);
            ui.label(format!("{:>6}", r.rung));
            let share = r.frames_done as f32 / r.frames_total.max(1) as f32;
            ui.add(
                egui::ProgressBar::new(share)
                    .desired_width(180.0)
                    .text(format!("{}/{}", r.frames_done, r.frames_total)),
            );
            let finished = r.frames_total > 0 && r.frames_done >= r.frames_total;
            if finished {
                ui.label("done");
            } else {
                ui.label(format!(
                    "{:.0} fps, {:.2}x real time, {}",
                    r.fps,
                    r.speed,
                    r.eta_secs.map_or_else(
                        || "time left unknown".to_owned(),
                        |e| format!("{} left", clock(e))
                    )
                ));
            }
        });
    }
}
