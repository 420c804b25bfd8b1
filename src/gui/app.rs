//! The app's state and its one frame of UI: the file list with its drop zone, the inspector
//! (probe info, stills, the plan), the toolbar (backend, preset, output folder, start) and the
//! queue. Slow work goes to the [`Worker`]; the UI only drains its events.

use std::collections::VecDeque;
use std::path::PathBuf;

use egui::{Color32, RichText};

use super::editor::PresetEditor;
use super::quality_tab::QualityTab;
use super::settings::{Backend, Settings};
use super::worker::{Analysis, CloudDownload, JobSetup, UiEvent, Worker};
use crate::job::{CancelToken, JobEvent, RungProgress, Stage, Summary};
use crate::plan::{Plan, RungStatus};
use crate::preset::Preset;
use crate::preset::store::{Entry, Origin, Store};
use crate::probe::MediaInfo;
use crate::units::{clock, human_bitrate, human_bytes};

/// What is known of a file in the list.
pub enum FileStatus {
    /// Being probed.
    Probing,
    /// Probed.
    Ready(Box<MediaInfo>),
    /// Cannot be read: why.
    Failed(String),
}

/// A file in the list.
pub struct FileItem {
    /// The file.
    pub path: PathBuf,
    /// Probe state.
    pub status: FileStatus,
    /// Stills as textures, once loaded.
    pub stills: Vec<egui::TextureHandle>,
    /// The part to encode (start, end seconds), set on the stills strip; `None`: all of it.
    pub range: Option<(f64, f64)>,
    /// A plan fitted per title or estimated in the inspector, with the preset it was made
    /// with (used by jobs started with that preset).
    pub analysed: Option<(Box<Preset>, Result<Plan, String>)>,
    /// An analysis is running.
    pub analysing: bool,
}

impl FileItem {
    fn name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }
}

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
}

/// A job in the queue.
pub struct JobItem {
    /// Id for events.
    pub id: u64,
    /// The source.
    pub source: PathBuf,
    /// Its probe.
    info: MediaInfo,
    /// The preset.
    preset: Preset,
    /// The output folder.
    out_dir: PathBuf,
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
    /// Cloud settings when the job runs on MediaConvert; `None` for local jobs.
    cloud: Option<crate::cloud::CloudSettings>,
    /// How it encodes beyond the preset (redo, fitted plan, target size, range).
    setup: JobSetup,
    /// The latest cloud state in words (upload bytes, MediaConvert status).
    pub cloud_status: String,
    /// The rungs' measured quality (as they finish, then all of them from the manifest).
    pub quality: Vec<crate::quality::RungQuality>,
}

/// What the central panel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// The selected file: probe, stills, plan.
    File,
    /// A finished job's quality.
    Quality,
}

/// The whole app.
pub struct VodkitApp {
    worker: Worker,
    /// Files in the list.
    pub files: Vec<FileItem>,
    /// The selected file.
    pub selected: Option<usize>,
    /// Remembered settings.
    pub settings: Settings,
    /// Presets to choose from.
    pub presets: Vec<Entry>,
    /// The queue.
    pub jobs: Vec<JobItem>,
    next_job: u64,
    /// The status line.
    pub status: String,
    /// Redo rungs an earlier run already made (the command line's `--force`), for jobs
    /// started while it is on.
    pub redo: bool,
    editor: Option<PresetEditor>,
    show_cloud: bool,
    /// The last connection test: `None` while one runs.
    cloud_check: Option<Vec<crate::cloud::check::CheckLine>>,
    saved_settings: Settings,
    /// Settings changed but not saved yet, and since when they have been unchanged.
    pending_settings: Option<(Settings, std::time::Instant)>,
    queue: VecDeque<u64>,
    /// The central panel's tab.
    pub tab: Tab,
    /// The Quality tab, once a job's quality was opened.
    pub quality: Option<QualityTab>,
    /// Local jobs make one MP4 of this size (bytes) instead of the ladder.
    pub target_bytes: Option<u64>,
    /// The size field's text.
    pub target_text: String,
}

/// The sizes offered next to the size field (messengers, mail, a generous share).
pub const TARGET_CHOICES: [(&str, u64); 3] = [
    ("8 MB", 8_000_000),
    ("25 MB", 25_000_000),
    ("100 MB", 100_000_000),
];

impl VodkitApp {
    /// A new app; `wake` is called from worker threads when there is news for the UI.
    pub fn new(settings: Settings, wake: impl Fn() + Send + Sync + 'static) -> Self {
        let (presets, broken) = Store::open().list();
        let status = broken
            .first()
            .map(|b| format!("preset {} skipped: {}", b.path.display(), b.error))
            .unwrap_or_default();
        Self {
            worker: Worker::new(wake),
            files: Vec::new(),
            selected: None,
            saved_settings: settings.clone(),
            pending_settings: None,
            settings,
            presets,
            jobs: Vec::new(),
            next_job: 1,
            status,
            redo: false,
            editor: None,
            show_cloud: false,
            cloud_check: Some(Vec::new()),
            queue: VecDeque::new(),
            tab: Tab::File,
            quality: None,
            target_bytes: None,
            target_text: String::new(),
        }
    }

    /// Adds dropped or picked paths. Folders are scanned and files checked in the background
    /// (the UI thread never touches the disk); the files arrive as [`UiEvent::Found`].
    pub fn add_paths(&mut self, paths: Vec<PathBuf>) {
        if !paths.is_empty() {
            self.worker.expand(paths);
        }
    }

    /// Lists files (already expanded) and starts probing them; duplicates are ignored.
    fn add_files(&mut self, files: Vec<PathBuf>) {
        for path in files {
            if self.files.iter().any(|f| f.path == path) {
                continue;
            }
            self.worker.probe(path.clone());
            self.files.push(FileItem {
                path,
                status: FileStatus::Probing,
                stills: Vec::new(),
                range: None,
                analysed: None,
                analysing: false,
            });
            if self.selected.is_none() {
                self.selected = Some(self.files.len() - 1);
            }
        }
    }

    fn preset(&self) -> Option<&Preset> {
        self.presets
            .iter()
            .map(|e| &e.preset)
            .find(|p| p.name == self.settings.preset)
            .or_else(|| self.presets.first().map(|e| &e.preset))
    }

    /// Queues the selected file, or every ready file when none is selected.
    pub fn start(&mut self) {
        let Some(preset) = self.preset().cloned() else {
            self.status = "no preset to encode with".to_owned();
            return;
        };
        let cloud = if self.settings.backend == Backend::Cloud {
            let c = self.settings.cloud.clone();
            if let Err(e) = crate::cloud::JobTarget::from_settings(&c) {
                self.status = e.to_string();
                self.show_cloud = true;
                return;
            }
            Some(c)
        } else {
            None
        };
        let picked: Vec<usize> = match self.selected {
            Some(i) => vec![i],
            None => (0..self.files.len()).collect(),
        };
        let mut queued = 0;
        let mut already = 0;
        for i in picked {
            let FileStatus::Ready(info) = &self.files[i].status else {
                continue;
            };
            // The same file is not queued twice while a job for it waits or runs.
            let path = &self.files[i].path;
            if self.jobs.iter().any(|j| {
                j.source == *path && matches!(j.state, JobState::Queued | JobState::Running)
            }) {
                already += 1;
                continue;
            }
            let id = self.next_job;
            self.next_job += 1;
            self.jobs.push(JobItem {
                id,
                source: self.files[i].path.clone(),
                info: (**info).clone(),
                preset: preset.clone(),
                out_dir: self.settings.output_dir.clone(),
                stage: None,
                rungs: Vec::new(),
                overall: 0.0,
                state: JobState::Queued,
                cancel: CancelToken::new(),
                show_details: false,
                cloud: cloud.clone(),
                setup: JobSetup {
                    force: self.redo,
                    plan: match &self.files[i].analysed {
                        Some((made_with, Ok(plan))) if **made_with == preset => Some(plan.clone()),
                        _ => None,
                    },
                    target: self
                        .target_bytes
                        .filter(|_| cloud.is_none())
                        .map(|bytes| crate::local::target_size::Target { bytes }),
                    range: self.files[i]
                        .range
                        .map_or((None, None), |(a, b)| (Some(a), Some(b))),
                },
                cloud_status: String::new(),
                quality: Vec::new(),
            });
            self.queue.push_back(id);
            queued += 1;
        }
        self.status = match (queued, already) {
            (0, 0) => "nothing ready to start: add a file and wait for it to be read".to_owned(),
            (0, 1) => "that file is already queued".to_owned(),
            (0, n) => format!("those {n} files are already queued"),
            (1, 0) => "1 job queued".to_owned(),
            (n, 0) => format!("{n} jobs queued"),
            (n, k) => format!("{n} jobs queued ({k} already in the queue)"),
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

    /// Starts queued jobs while slots are free.
    fn launch(&mut self) {
        let running = self
            .jobs
            .iter()
            .filter(|j| j.state == JobState::Running)
            .count();
        let mut free = self.settings.jobs_at_once.max(1).saturating_sub(running);
        while free > 0 {
            let Some(id) = self.queue.pop_front() else {
                break;
            };
            let Some(job) = self
                .jobs
                .iter_mut()
                .find(|j| j.id == id && j.state == JobState::Queued)
            else {
                continue;
            };
            job.state = JobState::Running;
            match &job.cloud {
                Some(cloud) => self.worker.cloud_job(
                    job.id,
                    job.info.clone(),
                    job.preset.clone(),
                    cloud.clone(),
                    job.cancel.clone(),
                    job.setup.plan.clone(),
                ),
                None => self.worker.encode(
                    job.id,
                    job.info.clone(),
                    job.preset.clone(),
                    job.out_dir.clone(),
                    job.cancel.clone(),
                    job.setup.clone(),
                ),
            }
            free -= 1;
        }
    }

    /// Cancels a job (a queued one never starts).
    pub fn cancel(&mut self, id: u64) {
        if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
            job.cancel.cancel();
            if job.state == JobState::Queued {
                job.state = JobState::Cancelled;
            }
        }
    }

    /// Drains the worker's events. Never blocks.
    fn drain(&mut self, ctx: &egui::Context) {
        while let Ok(event) = self.worker.inbox.try_recv() {
            match event {
                UiEvent::Probed(path, result) => {
                    if let Some(f) = self.files.iter_mut().find(|f| f.path == path) {
                        f.status = match result {
                            Ok(info) => FileStatus::Ready(Box::new(info)),
                            Err(e) => FileStatus::Failed(e),
                        };
                    }
                }
                UiEvent::Stills(path, images) => {
                    if let Some(f) = self.files.iter_mut().find(|f| f.path == path) {
                        f.stills = images
                            .into_iter()
                            .enumerate()
                            .map(|(i, (w, h, px))| {
                                let image = egui::ColorImage::from_rgba_unmultiplied([w, h], &px);
                                ctx.load_texture(
                                    format!("{}#{i}", path.display()),
                                    image,
                                    egui::TextureOptions::LINEAR,
                                )
                            })
                            .collect();
                    }
                }
                UiEvent::Found(paths) => self.add_files(paths),
                UiEvent::Analysed(path, preset, result) => {
                    if let Some(f) = self.files.iter_mut().find(|f| f.path == path) {
                        f.analysing = false;
                        if let Err(e) = &result {
                            self.status = format!("{}: {e}", path.display());
                        }
                        f.analysed = Some((preset, result.map(|p| *p)));
                    }
                }
                UiEvent::OutputPicked(dir) => self.settings.output_dir = dir,
                UiEvent::Status(s) => self.status = s,
                UiEvent::CloudCheck(lines) => self.cloud_check = Some(lines),
                UiEvent::Qualities(id, measured) => {
                    if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
                        job.quality = measured;
                    }
                }
                UiEvent::FramePair(id, pair) => {
                    if let Some(tab) = self.quality.as_mut().filter(|t| t.job == id) {
                        tab.received(ctx, &self.worker, pair);
                    }
                }
                UiEvent::Presets(list) => self.presets = list,
                UiEvent::Job(id, event) => {
                    if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
                        match event {
                            JobEvent::Stage { stage } => job.stage = Some(stage),
                            JobEvent::Progress { rungs, overall } => {
                                job.rungs = rungs;
                                job.overall = overall;
                            }
                            JobEvent::Warning { message } => self.status = message,
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
                            } => {
                                job.cloud_status = format!(
                                    "MediaConvert job {job_id}: {status}{} {percent}%",
                                    phase.map(|p| format!(" ({p})")).unwrap_or_default()
                                );
                            }
                            _ => {}
                        }
                    }
                }
                UiEvent::JobEnded(id, result) => {
                    if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
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
                                JobState::Done(s)
                            }
                            Err(e) => JobState::Failed(e),
                        };
                    }
                    self.launch();
                }
            }
        }
    }

    /// One frame of the whole app.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.drain(&ctx);
        self.keyboard(&ctx);
        self.drop_zone(&ctx);
        if self.jobs.iter().any(|j| j.state == JobState::Running) {
            // Progress arrives from workers; keep the bars moving smoothly meanwhile.
            ctx.request_repaint_after(std::time::Duration::from_millis(250));
        }

        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar(ui));
        egui::Panel::bottom("queue")
            .resizable(true)
            .default_size(220.0)
            .show(ui, |ui| self.queue_view(ui));
        egui::Panel::left("files")
            .resizable(true)
            .default_size(420.0)
            .show(ui, |ui| self.file_list(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            if self.quality.is_some() {
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut self.tab, Tab::File, "File");
                    let title = self
                        .quality
                        .as_ref()
                        .map(|q| format!("Quality: {}", q.title))
                        .unwrap_or_default();
                    ui.selectable_value(&mut self.tab, Tab::Quality, title);
                });
                ui.separator();
            }
            match (self.tab, self.quality.as_mut()) {
                (Tab::Quality, Some(tab)) => {
                    let stills = self
                        .files
                        .iter()
                        .find(|f| f.path == tab.source())
                        .map_or(&[][..], |f| &f.stills[..]);
                    tab.show(ui, &self.worker, stills);
                }
                _ => self.inspector(ui),
            }
        });

        if let Some(editor) = &mut self.editor {
            let mut open = true;
            if let Some(action) = editor.window(&ctx, &mut open) {
                super::editor::apply(action, &self.worker);
            }
            if !open {
                self.editor = None;
            }
        }
        if self.show_cloud {
            self.cloud_window(&ctx);
        }
        self.save_settings_when_settled(&ctx);
    }

    /// Saves the settings once they have stopped changing for a second, so dragging the window
    /// edge or a value writes the file once, not every frame.
    fn save_settings_when_settled(&mut self, ctx: &egui::Context) {
        const SETTLE: std::time::Duration = std::time::Duration::from_secs(1);
        if self.settings == self.saved_settings {
            self.pending_settings = None;
            return;
        }
        match &self.pending_settings {
            Some((pending, since)) if *pending == self.settings => {
                if since.elapsed() >= SETTLE {
                    self.settings.save_in_background();
                    self.saved_settings = self.settings.clone();
                    self.pending_settings = None;
                } else {
                    ctx.request_repaint_after(SETTLE);
                }
            }
            _ => {
                self.pending_settings = Some((self.settings.clone(), std::time::Instant::now()));
                ctx.request_repaint_after(SETTLE);
            }
        }
    }

    fn keyboard(&mut self, ctx: &egui::Context) {
        let (open, start, delete, escape) = ctx.input(|i| {
            (
                i.modifiers.command && i.key_pressed(egui::Key::O),
                i.modifiers.command && i.key_pressed(egui::Key::Enter),
                i.key_pressed(egui::Key::Delete),
                i.key_pressed(egui::Key::Escape),
            )
        });
        if open {
            self.worker.pick(false);
        }
        if start {
            self.start();
        }
        if delete
            && !ctx.egui_wants_keyboard_input()
            && let Some(i) = self.selected.take()
            && i < self.files.len()
        {
            self.files.remove(i);
        }
        if escape {
            self.editor = None;
            self.show_cloud = false;
        }
    }

    fn drop_zone(&mut self, ctx: &egui::Context) {
        let (hovering, dropped) = ctx.input(|i| {
            (
                !i.raw.hovered_files.is_empty(),
                i.raw
                    .dropped_files
                    .iter()
                    .map(|f| f.path().to_owned())
                    .collect::<Vec<_>>(),
            )
        });
        if !dropped.is_empty() {
            self.add_paths(dropped);
        }
        if hovering {
            let painter = ctx.layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::unique("drop"),
            ));
            let rect = ctx.content_rect();
            painter.rect_filled(rect, 8.0, Color32::from_rgba_unmultiplied(40, 110, 200, 60));
            painter.rect_stroke(
                rect.shrink(4.0),
                8.0,
                egui::Stroke::new(3.0, Color32::from_rgb(40, 110, 200)),
                egui::StrokeKind::Inside,
            );
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "Drop videos or folders to add them",
                egui::FontId::proportional(24.0),
                ctx.global_style().visuals.strong_text_color(),
            );
        }
    }

    fn toolbar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            if ui.button("Add files…").on_hover_text("Ctrl+O").clicked() {
                self.worker.pick(false);
            }
            if ui.button("Add folder…").clicked() {
                self.worker.pick(true);
            }
            ui.separator();
            ui.label("Backend:");
            ui.radio_value(&mut self.settings.backend, Backend::Local, "Local");
            ui.radio_value(
                &mut self.settings.backend,
                Backend::Cloud,
                "Cloud: AWS MediaConvert",
            )
            .on_hover_text(
                "Uploads the source to S3 and transcodes it on MediaConvert with the same preset",
            );
            if ui.button("Cloud settings…").clicked() {
                self.show_cloud = true;
            }
            ui.separator();
            let current = self.preset().map(|p| p.name.clone()).unwrap_or_default();
            egui::ComboBox::from_label("Preset")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for e in &self.presets {
                        let label = match e.origin {
                            Origin::Builtin => e.preset.name.clone(),
                            Origin::User(_) => format!("{} (yours)", e.preset.name),
                        };
                        ui.selectable_value(
                            &mut self.settings.preset,
                            e.preset.name.clone(),
                            label,
                        )
                        .on_hover_text(&e.preset.description);
                    }
                });
            if ui.button("Edit presets…").clicked() {
                self.editor = Some(PresetEditor::new(self.preset().cloned().unwrap_or_else(
                    || {
                        crate::preset::store::builtins()
                            .into_iter()
                            .next()
                            .unwrap_or_else(|| self.presets[0].preset.clone())
                    },
                )));
            }
            ui.separator();
            ui.label("Output:");
            ui.label(RichText::new(self.settings.output_dir.display().to_string()).monospace());
            if ui.button("Choose…").clicked() {
                self.worker.pick_output();
            }
            ui.separator();
            ui.add(
                egui::DragValue::new(&mut self.settings.jobs_at_once)
                    .range(1..=8)
                    .prefix("jobs at once: "),
            );
            self.size_field(ui);
            let ready = self
                .files
                .iter()
                .any(|f| matches!(f.status, FileStatus::Ready(_)));
            if ui
                .add_enabled(ready, egui::Button::new(RichText::new("Start").strong()))
                .on_hover_text("Ctrl+Enter: the selected file, or all files when none is selected")
                .clicked()
            {
                self.start();
            }
            ui.checkbox(&mut self.redo, "Redo").on_hover_text(
                "Encode again the rungs an earlier run made from the same source and settings (otherwise they are skipped)",
            );
        });
        if !self.status.is_empty() {
            ui.label(RichText::new(&self.status).weak());
        }
    }

    /// "Fit to size": none (the preset's ladder), a built-in choice or a size typed in.
    fn size_field(&mut self, ui: &mut egui::Ui) {
        let shown = self
            .target_bytes
            .map_or_else(|| "no limit".to_owned(), crate::units::decimal_bytes);
        egui::ComboBox::from_label("Fit to size")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(self.target_bytes.is_none(), "no limit")
                    .clicked()
                {
                    self.target_bytes = None;
                    self.target_text.clear();
                }
                for (label, bytes) in TARGET_CHOICES {
                    if ui
                        .selectable_label(self.target_bytes == Some(bytes), label)
                        .clicked()
                    {
                        self.target_bytes = Some(bytes);
                        label.clone_into(&mut self.target_text);
                    }
                }
            });
        let edit = ui
            .add(
                egui::TextEdit::singleline(&mut self.target_text)
                    .desired_width(70.0)
                    .hint_text("e.g. 50MB"),
            )
            .on_hover_text(
                "One MP4 that lands between 95 and 100 % of this size (sound included), made in two passes at the picture size that looks best; local backend",
            );
        // Read when typing ends (Enter or leaving the field), not at every keystroke: "25"
        // on the way to "25MB" is not a target. A size that cannot be read clears it.
        if edit.lost_focus() {
            let text = self.target_text.trim();
            if text.is_empty() {
                self.target_bytes = None;
            } else {
                match crate::plan::target_size::parse_size(text) {
                    Ok(bytes) => self.target_bytes = Some(bytes),
                    Err(e) => {
                        self.target_bytes = None;
                        self.status = e;
                    }
                }
            }
        }
    }

    fn file_list(&mut self, ui: &mut egui::Ui) {
        ui.heading(format!("Files ({})", self.files.len()));
        if self.files.is_empty() {
            ui.add_space(40.0);
            ui.vertical_centered(|ui| {
                ui.label("Drag videos or folders here, or use Add files… (Ctrl+O)");
            });
            return;
        }
        let mut remove = None;
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new("file-grid")
                    .striped(true)
                    .num_columns(6)
                    .show(ui, |ui| {
                        for h in ["Name", "Duration", "Size", "Codec", "File size", "Status"] {
                            ui.label(RichText::new(h).strong());
                        }
                        ui.end_row();
                        for (i, f) in self.files.iter().enumerate() {
                            let selected = self.selected == Some(i);
                            if ui.selectable_label(selected, f.name()).clicked() {
                                self.selected = if selected { None } else { Some(i) };
                            }
                            match &f.status {
                                FileStatus::Probing => {
                                    ui.label("");
                                    ui.label("");
                                    ui.label("");
                                    ui.label("");
                                    ui.horizontal(|ui| {
                                        ui.spinner();
                                        ui.label("reading");
                                    });
                                }
                                FileStatus::Ready(info) => {
                                    ui.label(
                                        info.duration_secs.map_or_else(|| "?".to_owned(), clock),
                                    );
                                    ui.label(info.video().map_or_else(
                                        || "audio".to_owned(),
                                        |(_, v)| {
                                            format!("{}x{}", v.display_width, v.display_height)
                                        },
                                    ));
                                    ui.label(info.video().map_or_else(
                                        || {
                                            info.audio()
                                                .map_or_else(String::new, |(s, _)| s.codec.clone())
                                        },
                                        |(s, _)| s.codec.clone(),
                                    ));
                                    ui.label(human_bytes(info.size_bytes));
                                    ui.label("ready");
                                }
                                FileStatus::Failed(e) => {
                                    ui.label("");
                                    ui.label("");
                                    ui.label("");
                                    ui.label("");
                                    ui.label(
                                        RichText::new("cannot read")
                                            .color(Color32::from_rgb(200, 60, 60)),
                                    )
                                    .on_hover_text(e);
                                }
                            }
                            ui.end_row();
                        }
                    });
            });
        if let Some(i) = self.selected
            && ui.button("Remove selected (Delete)").clicked()
        {
            remove = Some(i);
        }
        if let Some(i) = remove {
            self.files.remove(i);
            self.selected = None;
        }
    }

    fn inspector(&mut self, ui: &mut egui::Ui) {
        let mut ask: Option<Analysis> = None;
        let mut forget = false;
        let mut range = self
            .selected
            .and_then(|i| self.files.get(i))
            .and_then(|f| f.range);
        self.inspect(ui, &mut ask, &mut forget, &mut range);
        let Some(i) = self.selected.filter(|&i| i < self.files.len()) else {
            return;
        };
        self.files[i].range = range;
        if forget {
            self.files[i].analysed = None;
        }
        if let (Some(what), FileStatus::Ready(info), Some(preset)) =
            (ask, &self.files[i].status, self.preset().cloned())
        {
            let info = (**info).clone();
            self.files[i].analysing = true;
            self.worker.analyse(info, preset, what);
        }
    }

    fn inspect(
        &self,
        ui: &mut egui::Ui,
        ask: &mut Option<Analysis>,
        forget: &mut bool,
        range: &mut Option<(f64, f64)>,
    ) {
        let Some(file) = self.selected.and_then(|i| self.files.get(i)) else {
            ui.label("Select a file to see what it holds and what the preset will make of it.");
            return;
        };
        ui.heading(file.path.display().to_string());
        match &file.status {
            FileStatus::Probing => {
                ui.spinner();
            }
            FileStatus::Failed(e) => {
                ui.label(
                    RichText::new(format!("Cannot read this file: {e}"))
                        .color(Color32::from_rgb(200, 60, 60)),
                );
            }
            FileStatus::Ready(info) => {
                let info = info.as_ref();
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        stills_strip(ui, file, info, range);
                        probe_view(ui, info);
                        ui.separator();
                        if let Some(preset) = self.preset() {
                            let analysed = match &file.analysed {
                                // Made with this preset as it is now (not before an edit).
                                Some((made_with, result)) if **made_with == *preset => Some(result),
                                _ => None,
                            };
                            let fixed = crate::plan::plan(info, preset);
                            ui.horizontal(|ui| {
                                let busy = file.analysing;
                                if ui
                                    .add_enabled(!busy, egui::Button::new("Fit per title"))
                                    .on_hover_text("Encode samples at every size and quality point, score them with VMAF and fit the ladder to this source (a minute or more)")
                                    .clicked()
                                {
                                    *ask = Some(Analysis::Fit);
                                }
                                if ui
                                    .add_enabled(!busy, egui::Button::new("Estimate"))
                                    .on_hover_text("Encode a timed 4 s sample with this plan: predicted encode time, sizes and (when the preset measures) VMAF")
                                    .clicked()
                                {
                                    let base = match analysed {
                                        Some(Ok(p)) => Some(p.clone()),
                                        _ => fixed.as_ref().ok().cloned(),
                                    };
                                    *ask = base.map(|p| Analysis::Estimate(Box::new(p)));
                                }
                                if busy {
                                    ui.spinner();
                                    ui.label("working in the background…");
                                }
                                if analysed.is_some() && !busy && ui.button("Back to the preset's plan").clicked() {
                                    *forget = true;
                                }
                            });
                            match (analysed, fixed) {
                                (Some(Ok(plan)), _) => {
                                    plan_view(ui, plan, *range);
                                    if let Some(fit) = &plan.per_title {
                                        fit_plot(ui, fit);
                                    }
                                }
                                (_, Ok(plan)) => plan_view(ui, &plan, *range),
                                (_, Err(e)) => {
                                    ui.label(
                                        RichText::new(e.to_string())
                                            .color(Color32::from_rgb(200, 60, 60)),
                                    );
                                }
                            }
                        }
                    });
            }
        }
    }

    fn queue_view(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("Queue");
            let running = self
                .jobs
                .iter()
                .any(|j| matches!(j.state, JobState::Running | JobState::Queued));
            if ui
                .add_enabled(running, egui::Button::new("Cancel all"))
                .clicked()
            {
                let ids: Vec<u64> = self.jobs.iter().map(|j| j.id).collect();
                for id in ids {
                    self.cancel(id);
                }
            }
            if ui.button("Remove finished").clicked() {
                self.jobs
                    .retain(|j| matches!(j.state, JobState::Running | JobState::Queued));
            }
        });
        let mut cancel = None;
        let mut open = None;
        let mut play: Option<PathBuf> = None;
        let mut download = None;
        let mut show_quality: Option<u64> = None;
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for job in &mut self.jobs {
                    let name = job
                        .source
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(&name).strong());
                        let state = match &job.state {
                            JobState::Queued => "queued".to_owned(),
                            JobState::Running => job.stage.map_or_else(
                                || "starting".to_owned(),
                                |s| format!("{s:?}").to_lowercase(),
                            ),
                            JobState::Done(s) => format!("done in {:.1} s", s.wall_secs),
                            JobState::Cancelled => "cancelled".to_owned(),
                            JobState::Failed(_) => "failed".to_owned(),
                        };
                        ui.label(state);
                        ui.add(
                            egui::ProgressBar::new(job.overall as f32)
                                .desired_width(200.0)
                                .show_percentage(),
                        );
                        match &job.state {
                            JobState::Running | JobState::Queued => {
                                if ui.button(format!("Cancel {name}")).clicked() {
                                    cancel = Some(job.id);
                                }
                            }
                            JobState::Done(s) if job.cloud.is_some() => {
                                if ui
                                    .button("Download")
                                    .on_hover_text(
                                        "Fetch the rungs, stills and SMIL into the output folder",
                                    )
                                    .clicked()
                                {
                                    download = Some(CloudDownload {
                                        settings: job.cloud.clone().unwrap_or_default(),
                                        url: s.out_dir.display().to_string(),
                                        out_dir: job.out_dir.clone(),
                                        source: s.source.clone(),
                                        preset: job.preset.name.clone(),
                                    });
                                }
                                ui.label(format!(
                                    "{} rungs in {}",
                                    s.made.len(),
                                    s.out_dir.display()
                                ));
                            }
                            JobState::Done(s) => {
                                if ui.button("Open folder").clicked() {
                                    open = Some(s.out_dir.clone());
                                }
                                let packaged =
                                    job.preset.packaging.hls || job.preset.packaging.dash;
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
                                ui.label(format!(
                                    "{} made, {} skipped",
                                    s.made.len(),
                                    s.skipped.len()
                                ));
                            }
                            JobState::Failed(e) => {
                                ui.label(
                                    RichText::new(e.lines().next().unwrap_or(""))
                                        .color(Color32::from_rgb(200, 60, 60)),
                                );
                                ui.toggle_value(&mut job.show_details, "details");
                            }
                            JobState::Cancelled => {}
                        }
                    });
                    if job.state == JobState::Running && !job.cloud_status.is_empty() {
                        ui.horizontal(|ui| {
                            ui.add_space(16.0);
                            ui.label(&job.cloud_status);
                        });
                    }
                    if job.state == JobState::Running {
                        for r in &job.rungs {
                            ui.horizontal(|ui| {
                                ui.add_space(16.0);
                                ui.label(format!("{:>6}", r.rung));
                                let share = r.frames_done as f32 / r.frames_total.max(1) as f32;
                                ui.add(
                                    egui::ProgressBar::new(share)
                                        .desired_width(180.0)
                                        .text(format!("{}/{}", r.frames_done, r.frames_total)),
                                );
                                ui.label(format!(
                                    "{:.0} fps, {:.2}x, ETA {}",
                                    r.fps,
                                    r.speed,
                                    r.eta_secs
                                        .map_or_else(|| "-".to_owned(), |e| format!("{e:.0} s"))
                                ));
                            });
                        }
                    }
                    if let (JobState::Failed(e), true) = (&job.state, job.show_details) {
                        ui.label(RichText::new(e).monospace());
                    }
                }
            });
        if let Some(id) = cancel {
            self.cancel(id);
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
        self.tab = Tab::Quality;
        Ok(())
    }

    /// Opens the Quality tab on a finished job.
    pub fn open_quality(&mut self, id: u64) {
        let Some(job) = self.jobs.iter().find(|j| j.id == id) else {
            return;
        };
        let JobState::Done(summary) = &job.state else {
            return;
        };
        match crate::plan::plan(&job.info, &job.preset) {
            Ok(plan) => {
                self.quality = Some(QualityTab::new(
                    id,
                    plan,
                    summary.out_dir.clone(),
                    job.quality.clone(),
                ));
                self.tab = Tab::Quality;
            }
            Err(e) => self.status = format!("quality: {e}"),
        }
    }

    fn cloud_window(&mut self, ctx: &egui::Context) {
        let mut open = true;
        egui::Window::new("Cloud settings").open(&mut open).show(ctx, |ui| {
            ui.label("AWS S3 + Elemental MediaConvert. Credentials come from the AWS credential chain (environment, profile, SSO, instance role); Vodkit never stores them.");
            let c = &mut self.settings.cloud;
            egui::Grid::new("cloud").num_columns(2).show(ui, |ui| {
                for (label, value) in [
                    ("AWS profile", &mut c.profile),
                    ("Region", &mut c.region),
                    ("Bucket", &mut c.bucket),
                    ("Key prefix", &mut c.prefix),
                    ("MediaConvert role ARN", &mut c.role_arn),
                    ("Queue ARN (optional)", &mut c.queue),
                    ("S3 endpoint URL (optional)", &mut c.endpoint),
                    ("MediaConvert endpoint URL (optional)", &mut c.mediaconvert_endpoint),
                ] {
                    let name = ui.label(label);
                    ui.add(egui::TextEdit::singleline(value).desired_width(320.0)).labelled_by(name.id);
                    ui.end_row();
                }
            });
            ui.horizontal(|ui| {
                let testing = self.cloud_check.is_none();
                if ui
                    .add_enabled(!testing, egui::Button::new("Test connection"))
                    .on_hover_text("Checks the credentials, the bucket (read and write), MediaConvert and the role")
                    .clicked()
                {
                    self.cloud_check = None;
                    self.worker.cloud_check(self.settings.cloud.clone());
                }
                if testing {
                    ui.spinner();
                    ui.label("testing…");
                }
            });
            if let Some(lines) = &self.cloud_check {
                egui::Grid::new("cloud-check").num_columns(3).show(ui, |ui| {
                    for l in lines {
                        ui.label(if l.ok {
                            RichText::new("ok").color(Color32::from_rgb(40, 150, 60))
                        } else {
                            RichText::new("FAIL").color(Color32::from_rgb(200, 60, 60))
                        });
                        ui.label(&l.what);
                        ui.label(&l.detail);
                        ui.end_row();
                    }
                });
            }
        });
        self.show_cloud = open;
    }
}

fn probe_view(ui: &mut egui::Ui, info: &MediaInfo) {
    egui::Grid::new("probe").num_columns(2).show(ui, |ui| {
        let mut row = |k: &str, v: String| {
            ui.label(RichText::new(k).weak());
            ui.label(v);
            ui.end_row();
        };
        row(
            "Container",
            info.container_long
                .clone()
                .unwrap_or_else(|| info.container.clone()),
        );
        row(
            "Duration",
            info.duration_secs
                .map_or_else(|| "unknown".to_owned(), clock),
        );
        row("Size", human_bytes(info.size_bytes));
        row(
            "Bitrate",
            info.bitrate_bps
                .map_or_else(|| "unknown".to_owned(), human_bitrate),
        );
        if let Some(t) = &info.creation_time {
            row("Recorded", t.clone());
        }
        if let Some(l) = &info.location {
            row("Location", l.clone());
        }
        if let Some((s, v)) = info.video() {
            row(
                "Video",
                format!(
                    "{} {} {}x{}{}, {:.3} fps{}",
                    s.codec,
                    s.profile.clone().unwrap_or_default(),
                    v.width,
                    v.height,
                    if v.rotation_deg != 0 {
                        format!(" (shown {}x{})", v.display_width, v.display_height)
                    } else {
                        String::new()
                    },
                    v.avg_frame_rate.unwrap_or(0.0),
                    if v.variable_frame_rate {
                        " variable"
                    } else {
                        ""
                    }
                ),
            );
            row(
                "Colour",
                format!(
                    "{} {}-bit {}",
                    v.pixel_format.clone().unwrap_or_default(),
                    v.bit_depth.unwrap_or(8),
                    v.color_transfer.clone().unwrap_or_default()
                ),
            );
        }
        if let Some((s, a)) = info.audio() {
            row(
                "Audio",
                format!(
                    "{} {} Hz {}{}",
                    s.codec,
                    a.sample_rate_hz,
                    a.channel_layout
                        .clone()
                        .unwrap_or_else(|| format!("{} ch", a.channels)),
                    s.language
                        .as_ref()
                        .map_or_else(String::new, |l| format!(" [{l}]"))
                ),
            );
        }
    });
    for w in &info.warnings {
        ui.label(RichText::new(format!("Note: {w}")).color(Color32::from_rgb(200, 140, 30)));
    }
}

fn plan_view(ui: &mut egui::Ui, plan: &Plan, range: Option<(f64, f64)>) {
    // The part chosen on the stills strip, as the job will encode it.
    let mut trimmed;
    let mut plan = plan;
    if let Some((a, b)) = range {
        trimmed = plan.clone();
        match crate::plan::trim(&mut trimmed, Some(a), Some(b)) {
            Ok(()) => plan = &trimmed,
            Err(e) => {
                ui.label(RichText::new(e).color(Color32::from_rgb(200, 60, 60)));
            }
        }
    }
    let fitted = if plan.per_title.is_some() {
        ", fitted per title"
    } else {
        ""
    };
    ui.label(RichText::new(format!("Plan with {}{fitted}", plan.preset)).strong());
    if let Some(t) = plan.trim {
        ui.label(format!(
            "Part: {} to {} ({})",
            clock(t.start_secs),
            clock(t.end_secs),
            clock(plan.duration_secs)
        ));
    }
    let predicted = plan.rungs.iter().any(|r| r.predicted_vmaf.is_some());
    egui::Grid::new("plan")
        .striped(true)
        .num_columns(if predicted { 8 } else { 7 })
        .show(ui, |ui| {
            for h in [
                "Rung", "Size", "Codec", "Max rate", "fps", "Status", "Estimate",
            ] {
                ui.label(RichText::new(h).strong());
            }
            if predicted {
                ui.label(RichText::new("Est. VMAF").strong());
            }
            ui.end_row();
            for r in &plan.rungs {
                let (status, color) = match r.status {
                    RungStatus::Kept => ("kept", Color32::from_rgb(60, 160, 60)),
                    RungStatus::Resized => ("resized", Color32::from_rgb(60, 120, 200)),
                    RungStatus::Capped => ("capped", Color32::from_rgb(200, 140, 30)),
                    RungStatus::Dropped => ("dropped", Color32::GRAY),
                };
                ui.label(if r.is_made() {
                    r.name.clone()
                } else {
                    format!("#{}", r.preset_index + 1)
                });
                ui.label(format!("{}x{}", r.width, r.height));
                ui.label(format!("{} {} {}", r.codec, r.profile, r.level));
                ui.label(human_bitrate(r.max_bitrate_bps));
                ui.label(r.frame_rate.to_string());
                ui.label(RichText::new(status).color(color))
                    .on_hover_text(r.reasons.join("\n"));
                ui.label(if r.is_made() {
                    human_bytes(r.estimated_bytes)
                } else {
                    "-".to_owned()
                });
                if predicted {
                    ui.label(
                        r.predicted_vmaf
                            .filter(|_| r.is_made())
                            .map_or_else(|| "-".to_owned(), |v| format!("{v:.1}")),
                    );
                }
                ui.end_row();
                for why in &r.reasons {
                    ui.label("");
                    ui.label(RichText::new(why).weak().small());
                    ui.end_row();
                }
            }
        });
    if let Some(a) = &plan.audio {
        ui.label(format!(
            "Audio: AAC-LC {}, {} Hz, {} ch{}",
            human_bitrate(a.bitrate_bps),
            a.sample_rate_hz,
            a.channels,
            a.remix
                .as_ref()
                .map_or_else(String::new, |r| format!(" ({r})"))
        ));
    }
    ui.label(format!(
        "Estimated total: {}{}",
        human_bytes(plan.estimated_bytes),
        plan.predicted_encode_secs
            .map_or_else(String::new, |t| format!(
                "; local encode about {} on this machine",
                clock(t)
            ))
    ));
    for w in &plan.warnings {
        ui.label(RichText::new(format!("Note: {w}")).color(Color32::from_rgb(200, 140, 30)));
    }
}

/// The stills strip with the part to encode under it: two handles (start, end); stills
/// outside the part are dimmed.
fn stills_strip(
    ui: &mut egui::Ui,
    file: &FileItem,
    info: &MediaInfo,
    range: &mut Option<(f64, f64)>,
) {
    let duration = info.duration_secs.unwrap_or(0.0);
    if !file.stills.is_empty() {
        let count = file.stills.len() as f64;
        ui.horizontal(|ui| {
            for (k, t) in file.stills.iter().enumerate() {
                // The stills are taken at the middle of equal parts of the source.
                let at = duration * (k as f64 + 0.5) / count;
                let inside = range.is_none_or(|(a, b)| at >= a && at <= b);
                let tint = if inside {
                    Color32::WHITE
                } else {
                    Color32::from_gray(70)
                };
                ui.add(egui::Image::new(t).max_height(90.0).tint(tint));
            }
        });
    }
    if duration <= 0.0 {
        return;
    }
    let (mut start, mut end) = range.unwrap_or((0.0, duration));
    ui.horizontal(|ui| {
        ui.label("Encode from");
        ui.add(
            egui::Slider::new(&mut start, 0.0..=duration)
                .custom_formatter(|v, _| clock(v))
                .text("start"),
        );
        ui.label("to");
        ui.add(
            egui::Slider::new(&mut end, 0.0..=duration)
                .custom_formatter(|v, _| clock(v))
                .text("end"),
        );
        if range.is_some() && ui.button("Whole file").clicked() {
            start = 0.0;
            end = duration;
        }
    });
    if end <= start {
        end = (start + 1.0).min(duration);
        start = start.min(end - 0.1).max(0.0);
    }
    *range = if start <= 0.0 && end >= duration {
        None
    } else {
        Some((start, end))
    };
}

/// The per-title curves: one line per allowed size (bitrate on a log scale), the fitted
/// rungs as large points, the target as a line.
fn fit_plot(ui: &mut egui::Ui, fit: &crate::plan::per_title::FitRecord) {
    use egui_plot::{HLine, Legend, Line, Plot, PlotPoints, Points};
    ui.label(
        RichText::new(format!(
            "Per-title fit from {:.0} s of samples: VMAF against log10 of the bitrate (kb/s)",
            fit.sampled_secs
        ))
        .strong(),
    );
    Plot::new("per-title-curves")
        .height(220.0)
        .legend(Legend::default())
        .x_axis_label("log10 kb/s")
        .y_axis_label("VMAF")
        .show(ui, |plot| {
            plot.hline(HLine::new(
                format!("target {:.0}", fit.target_vmaf),
                fit.target_vmaf,
            ));
            for c in &fit.curves {
                let mut pts: Vec<[f64; 2]> = c
                    .points
                    .iter()
                    .map(|p| [(p.bitrate_bps / 1000.0).log10(), p.vmaf])
                    .collect();
                pts.sort_by(|a, b| a[0].total_cmp(&b[0]));
                let name = format!("{}x{}", c.width, c.height);
                plot.line(Line::new(name.clone(), PlotPoints::from(pts)));
            }
            let chosen: Vec<[f64; 2]> = fit
                .fitted
                .iter()
                .map(|f| [(f.bitrate_bps / 1000.0).log10(), f.predicted_vmaf])
                .collect();
            plot.points(Points::new("fitted rungs", PlotPoints::from(chosen)).radius(6.0));
        });
}
