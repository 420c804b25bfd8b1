//! The app's shell: the state every view shares, the view switcher, the worker's events drained
//! at the start of each frame (the UI thread never blocks or touches the disk), keyboard
//! shortcuts, drag and drop, the window title with progress, and settings saved once settled.
//!
//! Each view lives in its own module with the state it owns: [`super::files_view`] (files and
//! the inspector), [`super::queue_view`], [`super::library_view`], [`super::presets_view`],
//! [`super::settings_view`].

use std::collections::VecDeque;
use std::path::PathBuf;

use egui::{Color32, RichText};

use super::editor::PresetEditor;
use super::files_view::FileItem;
use super::library_view::LibraryView;
use super::quality_tab::QualityTab;
use super::queue_view::JobItem;
use super::settings::Settings;
use super::worker::{UiEvent, Worker};
use crate::preset::Preset;
use crate::preset::store::{Entry, Store};

pub use super::files_view::FileStatus;
pub use super::queue_view::JobState;

/// What the central panel shows in the Files view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// The selected file: probe, stills, plan.
    File,
    /// A finished job's quality.
    Quality,
}

/// The app's views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum View {
    /// Files added, the inspector and the queue's progress.
    Files,
    /// Every job, from any session.
    Queue,
    /// What was made.
    Library,
    /// The preset editor.
    Presets,
    /// Output folder, jobs at once, cloud, watch folders.
    Settings,
}

/// The whole app.
pub struct VodkitApp {
    pub(super) worker: Worker,
    /// The view shown.
    pub view: View,
    /// Files in the list.
    pub files: Vec<FileItem>,
    /// The file the inspector shows (the focus of the selection).
    pub selected: Option<usize>,
    /// Files selected besides the focused one (Ctrl/Shift-click).
    pub marked: Vec<usize>,
    /// A file to select when it arrives in the list (Library: Encode again).
    pub(super) select_on_add: Option<PathBuf>,
    /// Remembered settings.
    pub settings: Settings,
    /// Presets to choose from.
    pub presets: Vec<Entry>,
    /// The queue (this session's jobs and those the library kept from earlier ones).
    pub jobs: Vec<JobItem>,
    pub(super) next_job: u64,
    /// The status line.
    pub status: String,
    /// A path or URL that goes with the status (shown with a Copy button).
    pub status_copy: Option<String>,
    /// Redo rungs an earlier run already made (the command line's `--force`).
    pub redo: bool,
    pub(super) editor: Option<PresetEditor>,
    /// The last connection test: `None` while one runs.
    pub(super) cloud_check: Option<Vec<crate::cloud::check::CheckLine>>,
    saved_settings: Settings,
    /// Settings changed but not saved yet, and since when they have been unchanged.
    pending_settings: Option<(Settings, std::time::Instant)>,
    pub(super) queue: VecDeque<u64>,
    /// No queued job starts while paused.
    pub paused: bool,
    /// A pause or resume sent to the library and not yet read back (reads of the queue taken
    /// before it do not undo it).
    pub(super) pause_sent: Option<bool>,
    /// The job lists' remembered row heights (only rows in view are laid out): the Files
    /// view's panel, then the Queue view (their widths differ).
    pub(super) queue_rows: [super::virtual_list::RowHeights<u64>; 2],
    /// The Files view's central tab.
    pub tab: Tab,
    /// The Quality tab, once a job's quality was opened.
    pub quality: Option<QualityTab>,
    /// Cloud jobs run this MediaConvert job template (`vodkit cloud template push` makes
    /// vodkit-PRESET); empty: the preset's own job.
    pub cloud_template: String,
    /// Local jobs make one MP4 of this size (bytes) instead of the ladder.
    pub target_bytes: Option<u64>,
    /// The size field's text.
    pub target_text: String,
    /// The Library view.
    pub library: LibraryView,
    /// Watched folders.
    pub watches: Vec<crate::catalog::watch::WatchFolder>,
    /// The window title last sent, and since when jobs have been running.
    title: String,
    busy_since: Option<std::time::Instant>,
    /// When the queue was last read from the library (other processes change it too).
    pub(super) queue_read: std::time::Instant,
    /// MediaConvert prices the Cloud plan is estimated with (read once, a few KB).
    pub(super) prices: Option<crate::cloud::prices::PriceSnapshot>,
}

impl VodkitApp {
    /// A new app; `wake` is called from worker threads when there is news for the UI. The
    /// queue the library kept (jobs of earlier sessions, those a crash interrupted) comes back
    /// in the background.
    pub fn new(settings: Settings, wake: impl Fn() + Send + Sync + 'static) -> Self {
        Self::with_library(settings, crate::dirs::catalog_file(), wake)
    }

    /// An app keeping its queue and library in `catalog` (tests give each app its own).
    pub fn with_library(
        settings: Settings,
        catalog: Option<PathBuf>,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        let (presets, broken) = Store::open().list();
        let status = broken
            .first()
            .map(|b| format!("preset {} skipped: {}", b.path.display(), b.error))
            .unwrap_or_default();
        let app = Self {
            worker: Worker::new(wake, catalog),
            view: View::Files,
            files: Vec::new(),
            selected: None,
            marked: Vec::new(),
            select_on_add: None,
            saved_settings: settings.clone(),
            pending_settings: None,
            settings,
            presets,
            jobs: Vec::new(),
            next_job: 1,
            status,
            status_copy: None,
            redo: false,
            cloud_template: String::new(),
            editor: None,
            cloud_check: Some(Vec::new()),
            queue: VecDeque::new(),
            paused: false,
            pause_sent: None,
            queue_rows: Default::default(),
            tab: Tab::File,
            quality: None,
            target_bytes: None,
            target_text: String::new(),
            library: LibraryView::default(),
            watches: Vec::new(),
            title: String::new(),
            busy_since: None,
            queue_read: std::time::Instant::now(),
            prices: crate::cloud::prices::load(),
        };
        app.load_queue();
        app.worker.restart_watching();
        app
    }

    /// The preset chosen in the toolbar.
    pub(super) fn preset(&self) -> Option<&Preset> {
        self.presets
            .iter()
            .map(|e| &e.preset)
            .find(|p| p.name == self.settings.preset)
            .or_else(|| self.presets.first().map(|e| &e.preset))
    }

    /// Drains the worker's events. Never blocks.
    fn drain(&mut self, ctx: &egui::Context) {
        while let Ok(event) = self.worker.inbox.try_recv() {
            match event {
                UiEvent::Probed(..) | UiEvent::Stills(..) | UiEvent::Found(_) => {
                    self.on_file_event(ctx, event);
                }
                UiEvent::Analysed(path, preset, result) => {
                    if let Some(f) = self.files.iter_mut().find(|f| f.path == path) {
                        f.analysing = false;
                        if let Err(e) = &result {
                            self.status = format!("{}: {e}", path.display());
                            self.status_copy = None;
                        }
                        f.analysed = Some((preset, result.map(|p| *p)));
                    }
                }
                UiEvent::OutputPicked(dir) => self.settings.output_dir = dir,
                UiEvent::Status(s) => {
                    self.status_copy = None;
                    self.status = s;
                }
                UiEvent::Failure(s, copy) => {
                    self.status = s;
                    self.status_copy = copy;
                }
                UiEvent::CloudCheck(lines) => self.cloud_check = Some(lines),
                UiEvent::FramePair(id, pair) => {
                    if let Some(tab) = self.quality.as_mut().filter(|t| t.job == id) {
                        tab.received(ctx, &self.worker, pair);
                    }
                }
                UiEvent::Presets(list) => self.presets = list,
                UiEvent::Library(titles) => self.library.received(titles),
                UiEvent::Watches(list) => {
                    let changed = list != self.watches;
                    self.watches = list;
                    if changed {
                        self.worker.restart_watching();
                    }
                }
                UiEvent::QueueLoaded(..)
                | UiEvent::QueueChanged
                | UiEvent::JobTaken(_)
                | UiEvent::Enqueued(..)
                | UiEvent::Job(..)
                | UiEvent::JobEnded(..)
                | UiEvent::Qualities(..) => self.on_job_event(event),
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
        self.window_title(&ctx);
        self.poll_queue(&ctx);

        egui::Panel::top("views").show(ui, |ui| self.view_bar(ui));
        match self.view {
            View::Files => self.files_view(ui),
            View::Queue => {
                egui::CentralPanel::default().show(ui, |ui| self.queue_view(ui));
            }
            View::Library => {
                egui::CentralPanel::default().show(ui, |ui| self.library_view(ui));
            }
            View::Presets => {
                egui::CentralPanel::default().show(ui, |ui| self.presets_view(ui));
            }
            View::Settings => {
                egui::CentralPanel::default().show(ui, |ui| self.settings_view(ui));
            }
        }
        self.save_settings_when_settled(&ctx);
    }

    /// The view switcher, the overall progress and the status line.
    fn view_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let active = self.jobs.iter().filter(|j| !j.state.is_finished()).count();
            let queue = if active > 0 {
                format!("Queue ({active})")
            } else {
                "Queue".to_owned()
            };
            for (view, label, tip) in [
                (
                    View::Files,
                    "Files".to_owned(),
                    "Add videos, inspect them and start jobs",
                ),
                (
                    View::Queue,
                    queue,
                    "Every job, from this session and earlier ones",
                ),
                (View::Library, "Library".to_owned(), "What Vodkit made"),
                (
                    View::Presets,
                    "Presets".to_owned(),
                    "Edit, save, import and export presets",
                ),
                (
                    View::Settings,
                    "Settings".to_owned(),
                    "Output folder, jobs at once, cloud, watch folders",
                ),
            ] {
                if ui
                    .selectable_label(self.view == view, label)
                    .on_hover_text(tip)
                    .clicked()
                {
                    self.switch_to(view);
                }
            }
            ui.separator();
            self.overall_progress(ui);
        });
        if !self.status.is_empty() {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(&self.status).color(ui.visuals().strong_text_color()));
                if let Some(copy) = &self.status_copy
                    && ui
                        .button("Copy")
                        .on_hover_text(format!("Copy {copy}"))
                        .clicked()
                {
                    ui.ctx().copy_text(copy.clone());
                }
            });
        }
    }

    /// Shows a view, asking for what it needs from the library.
    pub fn switch_to(&mut self, view: View) {
        self.view = view;
        match view {
            View::Library => self.refresh_library(),
            View::Settings => self.refresh_watches(),
            View::Presets if self.editor.is_none() => {
                let preset = self
                    .preset()
                    .cloned()
                    .or_else(|| crate::preset::store::builtins().into_iter().next());
                self.editor = preset.map(PresetEditor::new);
            }
            _ => {}
        }
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

    /// The window title says how far the queue is; when a batch that ran for a while ends,
    /// the window asks for attention.
    fn window_title(&mut self, ctx: &egui::Context) {
        let total = self.batch_total();
        let done = self.batch_done();
        let busy = done < total;
        let title = if busy {
            format!("Vodkit: {done} of {total} done")
        } else {
            "Vodkit".to_owned()
        };
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        match (busy, self.busy_since) {
            (true, None) => self.busy_since = Some(std::time::Instant::now()),
            (false, Some(since)) => {
                self.busy_since = None;
                if since.elapsed() >= std::time::Duration::from_secs(20) {
                    ctx.send_viewport_cmd(egui::ViewportCommand::RequestUserAttention(
                        egui::UserAttentionType::Informational,
                    ));
                    self.status = format!("all {total} jobs ended");
                }
            }
            _ => {}
        }
    }

    fn keyboard(&mut self, ctx: &egui::Context) {
        let typing = ctx.egui_wants_keyboard_input();
        let (open, start, delete, escape, nav) = ctx.input(|i| {
            let nav = if i.modifiers.command {
                [
                    (egui::Key::Num1, View::Files),
                    (egui::Key::Num2, View::Queue),
                    (egui::Key::Num3, View::Library),
                    (egui::Key::Num4, View::Presets),
                    (egui::Key::Num5, View::Settings),
                ]
                .into_iter()
                .find(|(k, _)| i.key_pressed(*k))
                .map(|(_, v)| v)
            } else {
                None
            };
            (
                i.modifiers.command && i.key_pressed(egui::Key::O),
                i.modifiers.command && i.key_pressed(egui::Key::Enter),
                i.key_pressed(egui::Key::Delete),
                i.key_pressed(egui::Key::Escape),
                nav,
            )
        });
        if let Some(view) = nav {
            self.switch_to(view);
        }
        if open {
            self.worker.pick(false);
        }
        if start && self.view == View::Files {
            self.start();
        }
        if delete && !typing && self.view == View::Files {
            self.remove_selected_files();
        }
        if escape {
            if self.library.confirm_delete.is_some() {
                self.library.confirm_delete = None;
            } else if self.view == View::Files && !typing {
                self.selected = None;
                self.marked.clear();
            }
        }
        if self.view == View::Files && !typing {
            self.arrow_keys(ctx);
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
                    .collect::<Vec<PathBuf>>(),
            )
        });
        if !dropped.is_empty() {
            self.view = View::Files;
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
}
