//! The Presets view: every preset (built-in and yours) on the left, the editor of a copy of
//! the chosen one on the right. A preset saved under a new name becomes the one in use.

use egui::RichText;

use super::app::VodkitApp;
use super::editor::{Action, PresetEditor};
use crate::preset::store::Origin;

impl VodkitApp {
    /// The Presets view.
    pub(super) fn presets_view(&mut self, ui: &mut egui::Ui) {
        let mut pick = None;
        egui::Panel::left("preset-list")
            .resizable(true)
            .default_size(220.0)
            .show(ui, |ui| {
                ui.heading("Presets");
                egui::ScrollArea::vertical().show(ui, |ui| {
                    for e in &self.presets {
                        let label = match e.origin {
                            Origin::Builtin => e.preset.name.clone(),
                            Origin::User(_) => format!("{} (yours)", e.preset.name),
                        };
                        let editing = self
                            .editor
                            .as_ref()
                            .is_some_and(|ed| ed.preset.name == e.preset.name);
                        if ui
                            .selectable_label(editing, label)
                            .on_hover_text(&e.preset.description)
                            .clicked()
                        {
                            pick = Some(e.preset.clone());
                        }
                    }
                });
                ui.label(
                    RichText::new(
                        "Built-in presets cannot be changed: edit one and Save as… your own.",
                    )
                    .weak(),
                );
            });
        if let Some(p) = pick {
            self.editor = Some(PresetEditor::new(p));
        }
        let yours: Vec<String> = self
            .presets
            .iter()
            .filter(|e| matches!(e.origin, Origin::User(_)))
            .map(|e| e.preset.name.clone())
            .collect();
        if let Some(editor) = &mut self.editor {
            editor.yours = yours;
        }
        let mut action = None;
        egui::CentralPanel::default().show(ui, |ui| match &mut self.editor {
            Some(editor) => action = editor.show(ui),
            None => {
                ui.label("Choose a preset on the left to edit a copy of it.");
            }
        });
        if let Some(action) = action {
            if let Action::Save(p) = &action {
                // The preset saved is the one used from now on.
                self.settings.preset.clone_from(&p.name);
            }
            self.worker.preset_action(action);
        }
    }
}
