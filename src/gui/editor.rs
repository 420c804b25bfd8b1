//! The preset editor: the rung table and the main settings of a preset, checked as you type
//! (the same validation the command line uses, shown inline), saved as a user preset, deleted,
//! imported and exported. Saving and file dialogs run in the background.

use egui::{Color32, RichText};

use super::worker::Worker;
use crate::preset::{Codec, Preset, Profile, Rung, validate};

/// What the editor asks the app to do.
pub enum Action {
    /// Save as a user preset (replacing one of the same name).
    Save(Preset),
    /// Delete the user preset of this name.
    Delete(String),
    /// Import a preset file chosen in a dialog.
    Import,
    /// Export this preset to a file chosen in a dialog.
    Export(Preset),
}

/// The editor's state: a copy of a preset being changed.
pub struct PresetEditor {
    /// The preset as edited.
    pub preset: Preset,
}

impl PresetEditor {
    /// Edits a copy of `preset`.
    pub fn new(preset: Preset) -> Self {
        Self { preset }
    }

    /// Draws the editor window; returns what the user asked for.
    pub fn window(&mut self, ctx: &egui::Context, open: &mut bool) -> Option<Action> {
        let mut action = None;
        egui::Window::new("Preset editor")
            .open(open)
            .default_width(720.0)
            .show(ctx, |ui| {
                action = self.contents(ui);
            });
        action
    }

    fn contents(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        let p = &mut self.preset;
        let mut action = None;
        ui.horizontal(|ui| {
            let label = ui.label("Name");
            ui.text_edit_singleline(&mut p.name).labelled_by(label.id);
            let label = ui.label("Description");
            ui.add(egui::TextEdit::singleline(&mut p.description).desired_width(300.0))
                .labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            ui.add(
                egui::DragValue::new(&mut p.video.quality_level)
                    .range(1..=10)
                    .prefix("quality "),
            );
            ui.add(
                egui::DragValue::new(&mut p.video.gop_secs)
                    .speed(0.5)
                    .prefix("GOP ")
                    .suffix(" s"),
            );
            ui.add(
                egui::DragValue::new(&mut p.audio.bitrate_bps)
                    .speed(1000)
                    .prefix("audio ")
                    .suffix(" b/s"),
            );
            ui.checkbox(&mut p.packaging.hls, "HLS");
            ui.checkbox(&mut p.packaging.dash, "DASH");
        });
        ui.separator();
        let mut remove = None;
        egui::Grid::new("rungs")
            .striped(true)
            .num_columns(8)
            .show(ui, |ui| {
                for h in [
                    "#",
                    "Width",
                    "Height",
                    "Codec",
                    "Profile",
                    "Level",
                    "Max bitrate (b/s)",
                    "",
                ] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for (i, r) in p.rungs.iter_mut().enumerate() {
                    ui.label(format!("{}", i + 1));
                    ui.add(egui::DragValue::new(&mut r.width).range(0..=10_000))
                        .on_hover_text(format!("rung {} width", i + 1));
                    ui.add(egui::DragValue::new(&mut r.height).range(0..=10_000))
                        .on_hover_text(format!("rung {} height", i + 1));
                    egui::ComboBox::from_id_salt(("codec", i))
                        .selected_text(r.codec.to_string())
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut r.codec, Codec::H264, "H.264");
                            ui.selectable_value(&mut r.codec, Codec::H265, "H.265");
                        })
                        .response
                        .widget_info(|| named_combo(&format!("rung {} codec", i + 1)));
                    let mut profile = r.profile();
                    egui::ComboBox::from_id_salt(("profile", i))
                        .selected_text(profile.to_string())
                        .show_ui(ui, |ui| {
                            for choice in [Profile::Baseline, Profile::Main, Profile::High] {
                                ui.selectable_value(&mut profile, choice, choice.to_string());
                            }
                        })
                        .response
                        .widget_info(|| named_combo(&format!("rung {} profile", i + 1)));
                    r.profile = Some(profile);
                    ui.add(egui::TextEdit::singleline(&mut r.level).desired_width(48.0))
                        .on_hover_text(format!("rung {} level", i + 1));
                    ui.add(egui::DragValue::new(&mut r.max_bitrate_bps).speed(10_000))
                        .on_hover_text(format!("rung {} max bitrate", i + 1));
                    if ui.button(format!("Remove rung {}", i + 1)).clicked() {
                        remove = Some(i);
                    }
                    ui.end_row();
                }
            });
        if let Some(i) = remove {
            p.rungs.remove(i);
        }
        if ui.button("Add rung").clicked() {
            p.rungs.push(Rung {
                width: 1280,
                height: 720,
                codec: Codec::H264,
                profile: Some(Profile::High),
                level: "auto".to_owned(),
                max_bitrate_bps: 3_500_000,
                frame_rate: None,
            });
        }
        let problems = validate(p);
        ui.separator();
        if problems.is_empty() {
            ui.label(RichText::new("Valid: ready to save").color(Color32::from_rgb(60, 160, 60)));
        } else {
            for problem in &problems {
                ui.label(RichText::new(problem.to_string()).color(Color32::from_rgb(200, 60, 60)));
            }
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled(problems.is_empty(), egui::Button::new("Save as…"))
                .clicked()
            {
                action = Some(Action::Save(p.clone()));
            }
            if ui
                .button("Delete")
                .on_hover_text("Delete your preset of this name")
                .clicked()
            {
                action = Some(Action::Delete(p.name.clone()));
            }
            if ui.button("Import…").clicked() {
                action = Some(Action::Import);
            }
            if ui
                .add_enabled(problems.is_empty(), egui::Button::new("Export…"))
                .clicked()
            {
                action = Some(Action::Export(p.clone()));
            }
        });
        action
    }
}

/// Accessibility info naming a combo box that has no visible label of its own.
fn named_combo(name: &str) -> egui::WidgetInfo {
    egui::WidgetInfo::labeled(egui::accesskit::Role::ComboBox, true, name)
}

/// Carries out an editor action in the background.
pub fn apply(action: Action, worker: &Worker) {
    worker.preset_action(action);
}
