//! The Files view: the files added (dropped, picked, given on the command line), their
//! selection (click, Ctrl/Shift-click, arrows, Esc), the toolbar that starts jobs, the
//! inspector (probe, stills, plan, per-title fit, size and range) and, below, the queue.

use std::path::PathBuf;

use egui::{Color32, RichText};

use super::app::{Tab, VodkitApp};
use super::inspector::{fit_plot, plan_view, probe_view, stills_strip};
use super::queue_view::JobState;
use super::settings::Backend;
use super::worker::{Analysis, UiEvent};
use crate::plan::Plan;
use crate::preset::Preset;
use crate::preset::store::Origin;
use crate::probe::MediaInfo;
use crate::units::{clock, human_bytes};

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
    /// The file's name.
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }
}

fn path_of_last(files: &[FileItem]) -> PathBuf {
    files.last().map(|f| f.path.clone()).unwrap_or_default()
}

/// The sizes offered next to the size field (messengers, mail, a generous share).
pub const TARGET_CHOICES: [(&str, u64); 3] = [
    ("8 MB", 8_000_000),
    ("25 MB", 25_000_000),
    ("100 MB", 100_000_000),
];

const RED: Color32 = Color32::from_rgb(200, 60, 60);

/// A file list row: name, duration, picture, file size, and (state, colour, why).
type FileRow = (
    String,
    String,
    String,
    String,
    (String, Option<Color32>, Option<String>),
);

impl VodkitApp {
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
            if self.selected.is_none()
                || self.select_on_add.as_ref() == Some(&path_of_last(&self.files))
            {
                self.selected = Some(self.files.len() - 1);
                self.marked.clear();
                self.select_on_add = None;
            }
        }
    }

    /// Probe results, stills and found files.
    pub(super) fn on_file_event(&mut self, ctx: &egui::Context, event: UiEvent) {
        match event {
            UiEvent::Probed(path, result) => {
                if let Some(f) = self.files.iter_mut().find(|f| f.path == path) {
                    f.status = match result {
                        Ok(info) => FileStatus::Ready(info),
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
            _ => {}
        }
    }

    /// The selected files: the focused one and those Ctrl/Shift-clicked, in list order.
    pub fn selection(&self) -> Vec<usize> {
        let mut all: Vec<usize> = self.marked.clone();
        all.extend(self.selected);
        all.sort_unstable();
        all.dedup();
        all.retain(|&i| i < self.files.len());
        all
    }

    /// Removes the selected files from the list (not from disk).
    pub(super) fn remove_selected_files(&mut self) {
        let mut picked = self.selection();
        picked.reverse();
        for i in picked {
            self.files.remove(i);
        }
        self.selected = None;
        self.marked.clear();
    }

    /// Up/Down move the focus through the list.
    pub(super) fn arrow_keys(&mut self, ctx: &egui::Context) {
        let (up, down) = ctx.input(|i| {
            (
                i.key_pressed(egui::Key::ArrowUp),
                i.key_pressed(egui::Key::ArrowDown),
            )
        });
        if self.files.is_empty() || !(up || down) {
            return;
        }
        let last = self.files.len() - 1;
        self.selected = Some(match (self.selected, up) {
            (None, true) => last,
            (None, false) => 0,
            (Some(i), true) => i.saturating_sub(1),
            (Some(i), false) => (i + 1).min(last),
        });
        self.marked.clear();
    }

    /// The Files view: toolbar, file list, inspector (or a job's quality) and the queue.
    pub(super) fn files_view(&mut self, ui: &mut egui::Ui) {
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar(ui));
        egui::Panel::bottom("queue")
            .resizable(true)
            .default_size(200.0)
            .min_size(80.0)
            .show(ui, |ui| self.queue_list(ui, false));
        egui::Panel::left("files")
            .resizable(true)
            .default_size(430.0)
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
            ui.radio_value(&mut self.settings.backend, Backend::Local, "Local");
            ui.radio_value(&mut self.settings.backend, Backend::Cloud, "Cloud")
                .on_hover_text(
                    "Uploads the source to S3 and transcodes it on AWS MediaConvert with the same preset (set up in Settings)",
                );
            if self.settings.backend == Backend::Cloud {
                let label = ui.label("Template");
                ui.add(
                    egui::TextEdit::singleline(&mut self.cloud_template)
                        .hint_text("the preset's own job")
                        .desired_width(150.0),
                )
                .labelled_by(label.id)
                .on_hover_text(
                    "Run a MediaConvert job template instead of the preset's own job (vodkit cloud template push PRESET makes vodkit-PRESET)",
                );
            }
            ui.separator();
            self.size_field(ui);
            ui.checkbox(&mut self.redo, "Redo").on_hover_text(
                "Encode again the versions an earlier run made from the same source and settings (otherwise they are skipped)",
            );
            let picked = self.selection();
            let (label, tip) = if picked.is_empty() {
                (
                    format!("Start all ({})", self.files.len()),
                    "Ctrl+Enter: queue every file in the list".to_owned(),
                )
            } else {
                (
                    format!("Start ({})", picked.len()),
                    "Ctrl+Enter: queue the selected files (Esc clears the selection)".to_owned(),
                )
            };
            if ui
                .add_enabled(
                    !self.files.is_empty(),
                    egui::Button::new(RichText::new(label).strong()),
                )
                .on_hover_text(tip)
                .clicked()
            {
                self.start();
            }
        });
        ui.horizontal(|ui| {
            ui.label(RichText::new("Output folder").weak());
            let shown = self.settings.output_dir.display().to_string();
            ui.add(egui::Label::new(RichText::new(&shown).monospace()).truncate())
                .on_hover_text(&shown);
            if ui.small_button("Change…").clicked() {
                self.worker.pick_output();
            }
        });
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

    /// What the list says of a file: its latest job's state, else whether it could be read.
    fn file_state(
        f: &FileItem,
        latest: &std::collections::HashMap<&std::path::Path, &super::queue_view::JobItem>,
    ) -> (String, Option<Color32>, Option<String>) {
        if let Some(job) = latest.get(f.path.as_path()) {
            return match &job.state {
                JobState::Queued => ("queued".to_owned(), None, None),
                JobState::Running => (
                    format!("encoding {:.0} %", job.overall * 100.0),
                    Some(Color32::from_rgb(60, 120, 200)),
                    None,
                ),
                JobState::Done(_) => (
                    "done".to_owned(),
                    Some(Color32::from_rgb(60, 160, 60)),
                    None,
                ),
                JobState::Failed(e) => ("failed".to_owned(), Some(RED), Some(e.clone())),
                JobState::Cancelled => ("cancelled".to_owned(), None, None),
                JobState::Elsewhere(pid) => (format!("running in process {pid}"), None, None),
            };
        }
        match &f.status {
            FileStatus::Probing => ("reading…".to_owned(), None, None),
            FileStatus::Ready(_) => ("ready".to_owned(), None, None),
            FileStatus::Failed(e) => ("cannot read".to_owned(), Some(RED), Some(e.clone())),
        }
    }

    fn file_list(&mut self, ui: &mut egui::Ui) {
        ui.heading(format!("Files ({})", self.files.len()));
        if self.files.is_empty() {
            ui.add_space(30.0);
            ui.vertical_centered(|ui| {
                ui.label(RichText::new("No videos yet").strong());
                ui.label("Drag videos or folders here, or use Add files… (Ctrl+O).");
                ui.label(
                    RichText::new(
                        "Vodkit reads each file, shows what it holds and what the preset will make, then encodes in the background.",
                    )
                    .weak(),
                );
            });
            return;
        }
        let (ctrl, shift) = ui.input(|i| (i.modifiers.command, i.modifiers.shift));
        let mut clicked: Option<usize> = None;
        // Each file's latest job, found once per frame (not a search per file).
        let latest: std::collections::HashMap<&std::path::Path, &super::queue_view::JobItem> =
            self.jobs.iter().map(|j| (j.source.as_path(), j)).collect();
        let rows: Vec<FileRow> = self
            .files
            .iter()
            .map(|f| {
                let (duration, picture, size) = match &f.status {
                    FileStatus::Ready(info) => (
                        info.duration_secs.map_or_else(|| "?".to_owned(), clock),
                        info.video().map_or_else(
                            || "sound only".to_owned(),
                            |(_, v)| format!("{}x{}", v.display_width, v.display_height),
                        ),
                        human_bytes(info.size_bytes),
                    ),
                    _ => (String::new(), String::new(), String::new()),
                };
                (
                    f.name(),
                    duration,
                    picture,
                    size,
                    Self::file_state(f, &latest),
                )
            })
            .collect();
        let picked = self.selection();
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
        egui_extras::TableBuilder::new(ui)
            .id_salt("file-table")
            .striped(true)
            .resizable(true)
            .auto_shrink([false, false])
            .column(egui_extras::Column::remainder().at_least(110.0).clip(true))
            .column(egui_extras::Column::auto().at_least(50.0))
            .column(egui_extras::Column::auto().at_least(70.0))
            .column(egui_extras::Column::auto().at_least(60.0))
            .column(egui_extras::Column::auto().at_least(70.0))
            .header(20.0, |mut h| {
                for (title, tip) in [
                    ("Name", "Ctrl-click adds a file to the selection, Shift-click a range; Esc clears it"),
                    ("Duration", ""),
                    ("Picture", "Width x height as shown (rotation applied)"),
                    ("File size", ""),
                    ("Status", ""),
                ] {
                    h.col(|ui| {
                        let r = ui.strong(title);
                        if !tip.is_empty() {
                            r.on_hover_text(tip);
                        }
                    });
                }
            })
            .body(|body| {
                // Only the rows in view are laid out (a folder of thousands stays smooth).
                body.rows(22.0, rows.len(), |mut row| {
                    let i = row.index();
                    let (name, duration, picture, size, (state, color, why)) = &rows[i];
                    row.col(|ui| {
                        if ui.selectable_label(picked.contains(&i), name).clicked() {
                            clicked = Some(i);
                        }
                    });
                    row.col(|ui| {
                        ui.label(duration);
                    });
                    row.col(|ui| {
                        ui.label(picture);
                    });
                    row.col(|ui| {
                        ui.label(size);
                    });
                    row.col(|ui| {
                        let text = match color {
                            Some(c) => RichText::new(state).color(*c),
                            None => RichText::new(state),
                        };
                        let r = ui.label(text);
                        if let Some(why) = why {
                            r.on_hover_text(why);
                        }
                    });
                });
            });
        if let Some(i) = clicked {
            self.click_file(i, ctrl, shift);
        }
        if !picked.is_empty()
            && ui
                .button(format!("Remove from list ({}) (Delete)", picked.len()))
                .clicked()
        {
            self.remove_selected_files();
        }
    }

    /// A click on a file: alone selects it (again: deselects), Ctrl adds or removes it,
    /// Shift adds the range from the focused file.
    pub fn click_file(&mut self, i: usize, ctrl: bool, shift: bool) {
        if shift && let Some(from) = self.selected {
            let (a, b) = (from.min(i), from.max(i));
            self.marked.extend(a..=b);
            self.marked.sort_unstable();
            self.marked.dedup();
            self.selected = Some(i);
        } else if ctrl {
            if self.selected == Some(i) {
                self.selected = self.marked.pop();
            } else if let Some(k) = self.marked.iter().position(|&m| m == i) {
                self.marked.remove(k);
            } else {
                if let Some(s) = self.selected {
                    self.marked.push(s);
                }
                self.selected = Some(i);
            }
        } else {
            let alone = self.marked.is_empty();
            self.marked.clear();
            self.selected = if alone && self.selected == Some(i) {
                None
            } else {
                Some(i)
            };
        }
        self.tab = Tab::File;
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
                ui.label(RichText::new(format!("Cannot read this file: {e}")).color(RED));
            }
            FileStatus::Ready(info) => {
                let info = info.as_ref();
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        // The preset's plan, made once a frame: the crop it makes is drawn
                        // on the whole pictures, and the plan is shown below.
                        let fixed = self.preset().map(|p| (p, crate::plan::plan(info, p)));
                        let crop = fixed
                            .as_ref()
                            .and_then(|(_, f)| f.as_ref().ok())
                            .and_then(|p| p.transform.crop);
                        stills_strip(ui, file, info, range, crop.as_ref());
                        probe_view(ui, info);
                        ui.separator();
                        if let Some((preset, fixed)) = fixed {
                            self.plan_section(ui, file, preset, fixed, ask, forget, *range);
                        }
                    });
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_section(
        &self,
        ui: &mut egui::Ui,
        file: &FileItem,
        preset: &Preset,
        fixed: Result<Plan, crate::plan::PlanError>,
        ask: &mut Option<Analysis>,
        forget: &mut bool,
        range: Option<(f64, f64)>,
    ) {
        let analysed = match &file.analysed {
            // Made with this preset as it is now (not before an edit).
            Some((made_with, result)) if **made_with == *preset => Some(result),
            _ => None,
        };
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
        let packaged = preset.packaging.hls || preset.packaging.dash;
        if self.settings.backend == Backend::Cloud {
            let shown = match (analysed, &fixed) {
                (Some(Ok(plan)), _) | (_, Ok(plan)) => Some(plan.clone()),
                _ => None,
            };
            // Cloud jobs encode the whole file (a range applies to local encodes only).
            if let Some(plan) = shown {
                let template = self.cloud_template.trim();
                if template.is_empty() {
                    let region = crate::cloud::cost::pricing_region(&self.settings.cloud);
                    let estimate = crate::cloud::cost::estimate_plan(
                        &plan,
                        preset,
                        &region,
                        self.prices.as_ref(),
                    );
                    super::inspector::cost_view(ui, &estimate);
                } else {
                    // What would stop this file running the template, said before Start.
                    match crate::cloud::submit::template_fits(
                        &plan,
                        template,
                        self.settings.cloud.max_cost_usd,
                    ) {
                        Ok(()) => {
                            ui.label(format!("Runs the job template {template} (not priced)"))
                        }
                        Err(e) => ui.label(RichText::new(e).color(RED)),
                    };
                }
            }
        }
        match (analysed, fixed) {
            (Some(Ok(plan)), _) => {
                plan_view(ui, plan, range, packaged);
                if let Some(fit) = &plan.per_title {
                    fit_plot(ui, fit);
                }
            }
            (_, Ok(plan)) => plan_view(ui, &plan, range, packaged),
            (_, Err(e)) => {
                ui.label(RichText::new(e.to_string()).color(RED));
            }
        }
    }
}
