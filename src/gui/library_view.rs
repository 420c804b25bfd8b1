//! The Library view: every title Vodkit made (from the library database), searched and
//! filtered by preset, state and date, with its folder, size and files; open the folder, play
//! it with `serve`, encode the source again, or delete it (asked first).

use std::path::PathBuf;

use egui::{Color32, RichText};

use super::app::{View, VodkitApp};
use super::worker::UiEvent;
use crate::catalog::titles::{TitleFilter, TitleRecord};
use crate::units::{date_time, human_bytes};

/// Which titles by their files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Presence {
    /// Every title.
    #[default]
    All,
    /// Titles whose files are there.
    Present,
    /// Titles whose folder is gone.
    Missing,
}

/// The Library view's state.
#[derive(Debug, Default)]
pub struct LibraryView {
    /// Words to look for.
    pub search: String,
    /// Only this preset.
    pub preset: Option<String>,
    /// Present, missing or all.
    pub presence: Presence,
    /// Only titles made in the last this many days.
    pub days: Option<u32>,
    /// The titles found.
    pub titles: Vec<TitleRecord>,
    /// A query is running.
    pub loading: bool,
    /// The title a delete waits confirmation for.
    pub confirm_delete: Option<i64>,
    /// Every preset seen in the library (for the filter).
    presets_seen: Vec<String>,
}

impl LibraryView {
    /// The titles of the last query.
    pub fn received(&mut self, titles: Vec<TitleRecord>) {
        self.loading = false;
        for t in &titles {
            if !self.presets_seen.contains(&t.preset) {
                self.presets_seen.push(t.preset.clone());
            }
        }
        self.presets_seen.sort();
        self.titles = titles;
    }

    fn filter(&self) -> TitleFilter {
        TitleFilter {
            text: self.search.clone(),
            preset: self.preset.clone(),
            missing: match self.presence {
                Presence::All => None,
                Presence::Present => Some(false),
                Presence::Missing => Some(true),
            },
            since_secs: self
                .days
                .map(|d| crate::catalog::now_secs() - i64::from(d) * 86_400),
            limit: 0,
        }
    }
}

impl VodkitApp {
    /// Asks the library for the titles matching the view's filter, the files on disk checked
    /// first (when the view opens and jobs end; not at every key typed in the search).
    pub(super) fn refresh_library(&mut self) {
        self.query_library(true);
    }

    fn query_library(&mut self, check_files: bool) {
        self.library.loading = true;
        let filter = self.library.filter();
        self.worker.with_catalog(move |c| {
            let c = c?;
            if check_files {
                let _ = c.mark_missing(None);
            }
            c.titles(&filter).ok().map(UiEvent::Library)
        });
    }

    /// The Library view.
    pub(super) fn library_view(&mut self, ui: &mut egui::Ui) {
        let mut changed = false;
        ui.horizontal_wrapped(|ui| {
            ui.heading("Library");
            let label = ui.label("Search");
            changed |= ui
                .add(
                    egui::TextEdit::singleline(&mut self.library.search)
                        .hint_text("title, source, preset or folder")
                        .desired_width(240.0),
                )
                .labelled_by(label.id)
                .changed();
            let shown = self
                .library
                .preset
                .clone()
                .unwrap_or_else(|| "any preset".to_owned());
            egui::ComboBox::from_label("Preset")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    changed |= ui
                        .selectable_value(&mut self.library.preset, None, "any preset")
                        .changed();
                    for p in self.library.presets_seen.clone() {
                        changed |= ui
                            .selectable_value(&mut self.library.preset, Some(p.clone()), p)
                            .changed();
                    }
                });
            for (value, label) in [
                (Presence::All, "all"),
                (Presence::Present, "on disk"),
                (Presence::Missing, "missing"),
            ] {
                changed |= ui
                    .radio_value(&mut self.library.presence, value, label)
                    .changed();
            }
            let shown = self
                .library
                .days
                .map_or_else(|| "any date".to_owned(), |d| format!("last {d} days"));
            egui::ComboBox::from_label("Made")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for (value, label) in [
                        (None, "any date".to_owned()),
                        (Some(1), "last 1 days".to_owned()),
                        (Some(7), "last 7 days".to_owned()),
                        (Some(30), "last 30 days".to_owned()),
                    ] {
                        changed |= ui
                            .selectable_value(&mut self.library.days, value, label)
                            .changed();
                    }
                });
            if self.library.loading {
                ui.spinner();
            }
        });
        if changed {
            self.query_library(false);
        }
        ui.separator();
        if self.library.titles.is_empty() {
            ui.label(if self.library.search.is_empty() && self.library.preset.is_none() {
                "Nothing made yet: titles appear here as jobs finish (or run `vodkit library rescan FOLDER` to read earlier ones)."
            } else {
                "No title matches."
            });
            return;
        }
        self.confirm_delete(ui);
        let mut action: Option<(LibraryAction, usize)> = None;
        let titles = &self.library.titles;
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
        egui_extras::TableBuilder::new(ui)
            .id_salt("library-table")
            .striped(true)
            .resizable(true)
            .auto_shrink([false, false])
            .column(
                egui_extras::Column::initial(220.0)
                    .at_least(120.0)
                    .clip(true),
            )
            .column(egui_extras::Column::auto().at_least(90.0))
            .column(egui_extras::Column::auto().at_least(110.0))
            .column(egui_extras::Column::auto().at_least(150.0))
            .column(egui_extras::Column::auto().at_least(60.0))
            .column(egui_extras::Column::remainder().at_least(380.0))
            .header(20.0, |mut h| {
                for title in ["Title", "Preset", "Files", "Made", "State", ""] {
                    h.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                // Only the rows in view are laid out: thousands of titles stay smooth.
                body.rows(24.0, titles.len(), |mut row| {
                    let i = row.index();
                    let t = &titles[i];
                    row.col(|ui| {
                        ui.label(RichText::new(&t.title).strong())
                            .on_hover_text(t.dir.display().to_string());
                    });
                    row.col(|ui| {
                        ui.label(&t.preset);
                    });
                    row.col(|ui| {
                        ui.label(format!(
                            "{} · {}",
                            t.renditions.len(),
                            human_bytes(t.total_bytes())
                        ));
                    });
                    row.col(|ui| {
                        ui.label(date_time(t.made_secs).unwrap_or_else(|| "unknown".to_owned()));
                    });
                    row.col(|ui| {
                        if t.missing {
                            ui.label(
                                RichText::new("missing").color(Color32::from_rgb(200, 140, 30)),
                            )
                            .on_hover_text("The folder or its manifest.json is gone");
                        } else {
                            ui.label("on disk");
                        }
                    });
                    row.col(|ui| {
                        ui.horizontal(|ui| {
                            if !t.missing && ui.small_button("Open folder").clicked() {
                                action = Some((LibraryAction::Open, i));
                            }
                            let playable =
                                t.packages.iter().any(|p| !p.missing && p.kind != "smil");
                            if playable && ui.small_button("Play").clicked() {
                                action = Some((LibraryAction::Play, i));
                            }
                            if t.source_path.is_some()
                                && ui
                                    .small_button("Encode again")
                                    .on_hover_text("Adds the source to Files, selected")
                                    .clicked()
                            {
                                action = Some((LibraryAction::Again, i));
                            }
                            if ui.small_button("Copy path").clicked() {
                                ui.ctx().copy_text(t.dir.display().to_string());
                            }
                            if ui.small_button("Delete…").clicked() {
                                action = Some((LibraryAction::Delete, i));
                            }
                        });
                    });
                });
            });
        if let Some((what, i)) = action {
            self.library_action(what, i);
        }
    }

    fn library_action(&mut self, what: LibraryAction, i: usize) {
        let Some(t) = self.library.titles.get(i) else {
            return;
        };
        match what {
            LibraryAction::Open => self.worker.open_folder(t.dir.clone()),
            LibraryAction::Play => {
                if let (Some(root), Some(name)) = (t.dir.parent(), t.dir.file_name()) {
                    self.worker
                        .play(root.to_owned(), name.to_string_lossy().into_owned());
                }
            }
            LibraryAction::Again => {
                if let Some(source) = t.source_path.clone() {
                    let preset = t.preset.clone();
                    if self.presets.iter().any(|e| e.preset.name == preset) {
                        self.settings.preset = preset;
                    }
                    self.select_path_when_added(source.clone());
                    self.add_paths(vec![source]);
                    self.view = View::Files;
                }
            }
            LibraryAction::Delete => self.library.confirm_delete = Some(t.id),
        }
    }

    /// Selects a file now if listed, else as soon as it is added.
    fn select_path_when_added(&mut self, path: PathBuf) {
        self.marked.clear();
        match self.files.iter().position(|f| f.path == path) {
            Some(i) => self.selected = Some(i),
            None => self.select_on_add = Some(path),
        }
    }

    /// "Delete <title>?" with its folder and size: delete the files, only forget, or cancel.
    fn confirm_delete(&mut self, ui: &mut egui::Ui) {
        let Some(id) = self.library.confirm_delete else {
            return;
        };
        let Some(t) = self.library.titles.iter().find(|t| t.id == id).cloned() else {
            self.library.confirm_delete = None;
            return;
        };
        let mut choice = None;
        ui.group(|ui| {
            ui.label(
                RichText::new(format!(
                    "Delete {}? Its folder {} holds {} files ({}).",
                    t.title,
                    t.dir.display(),
                    t.renditions.len(),
                    human_bytes(t.total_bytes())
                ))
                .strong(),
            );
            ui.horizontal(|ui| {
                if ui
                    .button(
                        RichText::new("Delete the folder").color(Color32::from_rgb(200, 60, 60)),
                    )
                    .clicked()
                {
                    choice = Some(true);
                }
                if ui
                    .button("Only forget it")
                    .on_hover_text("Remove it from the library, keep the files")
                    .clicked()
                {
                    choice = Some(false);
                }
                if ui.button("Keep it (Esc)").clicked() {
                    self.library.confirm_delete = None;
                }
            });
        });
        if let Some(delete_files) = choice {
            self.library.confirm_delete = None;
            let dir = t.dir.clone();
            self.worker.with_catalog(move |c| {
                let c = c?;
                // Only a title folder (it holds its manifest) is ever deleted.
                let is_title = dir.join("manifest.json").is_file();
                if delete_files
                    && is_title
                    && let Err(e) = std::fs::remove_dir_all(&dir)
                {
                    return Some(UiEvent::Status(format!(
                        "cannot delete {}: {e}",
                        dir.display()
                    )));
                }
                let _ = c.forget_title(id);
                Some(UiEvent::Status(match (delete_files, is_title) {
                    (true, true) => format!("deleted {}", dir.display()),
                    (true, false) => format!(
                        "forgot {}: its folder was already gone or is not a title folder (nothing deleted)",
                        dir.display()
                    ),
                    (false, _) => format!("forgot {} (its files stay)", dir.display()),
                }))
            });
            self.library.titles.retain(|x| x.id != id);
        }
    }
}

/// What a library row's button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LibraryAction {
    Open,
    Play,
    Again,
    Delete,
}
