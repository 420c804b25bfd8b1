//! The preset editor: the rung table and the main settings of a preset, checked as you type
//! (the same validation the command line uses, shown inline), saved as a user preset, deleted,
//! imported and exported. Saving and file dialogs run in the background.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

use egui::{Color32, RichText};

pub use super::worker::PresetAction as Action;
use crate::preset::{Codec, Crop, CropMode, Denoise, HdrMode, Preset, Profile, Rung, validate};

/// The editor's state: a copy of a preset being changed.
pub struct PresetEditor {
    /// The preset as edited.
    pub preset: Preset,
    /// The name the preset had when editing began.
    original: String,
    /// Save as…: the new name and description being typed.
    save_as: Option<(String, String)>,
    /// The names of the user's presets (saving under one replaces it).
    pub yours: Vec<String>,
    /// Number fields as typed, by field name, with the value they last matched: text that is
    /// not a number stays on screen with its problem named instead of silently reverting.
    typed: HashMap<String, (String, String)>,
}

/// A number field drawn as text: what the user types stays; text that reads as a number is
/// written to `value` at once (the preset's own check then names a value out of range, with
/// the command line's words), anything else becomes a named problem that blocks saving until
/// it is fixed.
fn number_field<T>(
    ui: &mut egui::Ui,
    typed: &mut HashMap<String, (String, String)>,
    name: &str,
    value: &mut T,
    problems: &mut Vec<String>,
) -> egui::Response
where
    T: Copy + Display + FromStr,
{
    let now = value.to_string();
    let entry = typed
        .entry(name.to_owned())
        .or_insert_with(|| (now.clone(), now.clone()));
    if entry.1 != now {
        // Changed elsewhere (a rung removed, a preset loaded): show the new value.
        *entry = (now.clone(), now);
    }
    let response = ui.add(egui::TextEdit::singleline(&mut entry.0).desired_width(64.0));
    response.widget_info(|| {
        let mut info = egui::WidgetInfo::text_edit(ui.is_enabled(), "", entry.0.as_str(), "");
        info.label = Some(name.to_owned());
        info
    });
    let text = entry.0.trim();
    match text.parse::<T>() {
        Ok(v) => {
            if response.changed() {
                *value = v;
                entry.1 = v.to_string();
            }
        }
        Err(_) if text.is_empty() => problems.push(format!("{name} is empty")),
        Err(_) if text.starts_with('-') => {
            problems.push(format!("{name}: {text} must be 0 or more"));
        }
        Err(_) if text.parse::<f64>().is_ok() => {
            problems.push(format!("{name}: {text} is too large or not a whole number"));
        }
        Err(_) => problems.push(format!("{name}: '{text}' is not a number")),
    }
    response
}

/// A comma-separated list of language codes (`en, fr`), kept as typed; the preset's own check
/// names a code it does not know.
fn list_field(
    ui: &mut egui::Ui,
    typed: &mut HashMap<String, (String, String)>,
    name: &str,
    value: &mut Vec<String>,
    hint: &str,
) {
    let now = value.join(", ");
    let entry = typed
        .entry(name.to_owned())
        .or_insert_with(|| (now.clone(), now.clone()));
    if entry.1 != now {
        *entry = (now.clone(), now);
    }
    let response = ui.add(
        egui::TextEdit::singleline(&mut entry.0)
            .desired_width(90.0)
            .hint_text(hint),
    );
    response.widget_info(|| {
        let mut info = egui::WidgetInfo::text_edit(ui.is_enabled(), "", entry.0.as_str(), "");
        info.label = Some(name.to_owned());
        info
    });
    if response.changed() {
        *value = entry
            .0
            .split([',', ' '])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        entry.1 = value.join(", ");
    }
}

impl PresetEditor {
    /// Edits a copy of `preset`.
    pub fn new(preset: Preset) -> Self {
        Self {
            original: preset.name.clone(),
            preset,
            save_as: None,
            yours: Vec::new(),
            typed: HashMap::new(),
        }
    }

    /// Draws the editor; returns what the user asked for.
    pub fn show(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| self.contents(ui))
            .inner
    }

    fn contents(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        let p = &mut self.preset;
        let mut action = None;
        ui.heading(format!("Editing a copy of '{}'", self.original));
        ui.horizontal(|ui| {
            let label = ui.label("Name");
            ui.text_edit_singleline(&mut p.name).labelled_by(label.id);
            let label = ui.label("Description");
            ui.add(egui::TextEdit::singleline(&mut p.description).desired_width(300.0))
                .labelled_by(label.id);
        });
        let typed = &mut self.typed;
        let mut unreadable = Vec::new();
        ui.horizontal(|ui| {
            ui.label("Quality (1-10)");
            number_field(
                ui,
                typed,
                "quality",
                &mut p.video.quality_level,
                &mut unreadable,
            )
            .on_hover_text("8 is the reference; each step is about 10% more or fewer bits");
            ui.label("GOP (s)");
            number_field(ui, typed, "GOP", &mut p.video.gop_secs, &mut unreadable)
                .on_hover_text("Seconds between keyframes (and between segments): 2 is the norm");
            ui.label("Audio (kb/s)");
            let mut audio_kbps = p.audio.bitrate_bps / 1000;
            number_field(ui, typed, "audio", &mut audio_kbps, &mut unreadable).on_hover_text(
                "Sound bitrate, kilobits per second (AAC, encoded once for every rung)",
            );
            if audio_kbps != p.audio.bitrate_bps / 1000 {
                p.audio.bitrate_bps = audio_kbps.saturating_mul(1000);
            }
            ui.checkbox(&mut p.packaging.hls, "HLS");
            ui.checkbox(&mut p.packaging.dash, "DASH");
        });
        ui.horizontal(|ui| {
            ui.label("Audio languages");
            list_field(ui, typed, "audio languages", &mut p.audio.languages, "all");
            ui.checkbox(&mut p.audio.surround, "Keep 5.1")
                .on_hover_text("A 5.1 track beside the stereo one when the source has 5.1");
            ui.checkbox(&mut p.subtitles.keep, "Subtitles")
                .on_hover_text("The source's text subtitles and sidecar files (movie.en.srt)");
            ui.label("Subtitle languages");
            list_field(
                ui,
                typed,
                "subtitle languages",
                &mut p.subtitles.languages,
                "all",
            );
            ui.label("Burn in");
            let mut burn: Vec<String> = p.subtitles.burn.clone().into_iter().collect();
            list_field(ui, typed, "burn in", &mut burn, "none");
            p.subtitles.burn = burn.into_iter().next();
            ui.label("HDR");
            egui::ComboBox::from_id_salt("hdr")
                .selected_text(match p.video.hdr {
                    HdrMode::Tonemap => "Tone-map to SDR",
                    HdrMode::Keep => "Keep (H.265, AV1)",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut p.video.hdr, HdrMode::Tonemap, "Tone-map to SDR");
                    ui.selectable_value(&mut p.video.hdr, HdrMode::Keep, "Keep (H.265, AV1)");
                })
                .response
                .on_hover_text(
                    "HDR sources: keep PQ/HLG on H.265 and AV1 rungs (H.264 rungs stay SDR)",
                )
                .widget_info(|| named_combo("HDR sources"));
            ui.label("Borders");
            let crop_words = match p.video.crop {
                Crop::Mode(CropMode::Auto) => "Crop black bars".to_owned(),
                Crop::Mode(CropMode::None) => "Keep every pixel".to_owned(),
                Crop::Manual(b) => format!(
                    "Crop {} {} {} {} (top, bottom, left, right)",
                    b.top, b.bottom, b.left, b.right
                ),
            };
            egui::ComboBox::from_id_salt("crop")
                .selected_text(crop_words)
                .show_ui(ui, |ui| {
                    ui.selectable_value(
                        &mut p.video.crop,
                        Crop::Mode(CropMode::Auto),
                        "Crop black bars",
                    );
                    ui.selectable_value(
                        &mut p.video.crop,
                        Crop::Mode(CropMode::None),
                        "Keep every pixel",
                    );
                })
                .response
                .on_hover_text(
                    "Letterbox and pillarbox bars found across the source are cropped before scaling (a manual crop is set in the preset file)",
                )
                .widget_info(|| named_combo("Black borders"));
            ui.label("Denoise");
            let words = |d: Denoise| match d {
                Denoise::Off => "Off",
                Denoise::Light => "Light",
                Denoise::Medium => "Medium",
                Denoise::Strong => "Strong (slow)",
            };
            egui::ComboBox::from_id_salt("denoise")
                .selected_text(words(p.video.denoise))
                .show_ui(ui, |ui| {
                    for d in [Denoise::Off, Denoise::Light, Denoise::Medium, Denoise::Strong] {
                        ui.selectable_value(&mut p.video.denoise, d, words(d));
                    }
                })
                .response
                .on_hover_text(
                    "Noise reduction before scaling, for grainy or noisy sources: fewer bits spent on noise",
                )
                .widget_info(|| named_combo("Denoise strength"));
            ui.checkbox(&mut p.video.deblock, "Deblock").on_hover_text(
                "Soften the block edges of an over-compressed source before scaling",
            );
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
                    "Max bitrate (kb/s)",
                    "",
                ] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for (i, r) in p.rungs.iter_mut().enumerate() {
                    ui.label(format!("{}", i + 1));
                    number_field(
                        ui,
                        typed,
                        &format!("rung {} width", i + 1),
                        &mut r.width,
                        &mut unreadable,
                    )
                    .on_hover_text(format!("rung {} width", i + 1));
                    number_field(
                        ui,
                        typed,
                        &format!("rung {} height", i + 1),
                        &mut r.height,
                        &mut unreadable,
                    )
                    .on_hover_text(format!("rung {} height", i + 1));
                    egui::ComboBox::from_id_salt(("codec", i))
                        .selected_text(r.codec.to_string())
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut r.codec, Codec::H264, "H.264");
                            ui.selectable_value(&mut r.codec, Codec::H265, "H.265");
                            ui.selectable_value(&mut r.codec, Codec::Av1, "AV1");
                        })
                        .response
                        .widget_info(|| named_combo(&format!("rung {} codec", i + 1)));
                    let choices: &[Profile] = match r.codec {
                        Codec::H264 => &[Profile::Baseline, Profile::Main, Profile::High],
                        // H.265 and AV1 rungs are Main (4:2:0); a profile left from H.264
                        // follows the codec.
                        Codec::H265 | Codec::Av1 => &[Profile::Main],
                    };
                    let mut profile = r.profile();
                    if !choices.contains(&profile) {
                        profile = Profile::Main;
                    }
                    egui::ComboBox::from_id_salt(("profile", i))
                        .selected_text(profile.to_string())
                        .show_ui(ui, |ui| {
                            for &choice in choices {
                                ui.selectable_value(&mut profile, choice, choice.to_string());
                            }
                        })
                        .response
                        .widget_info(|| named_combo(&format!("rung {} profile", i + 1)));
                    r.profile = Some(profile);
                    ui.add(egui::TextEdit::singleline(&mut r.level).desired_width(48.0))
                        .on_hover_text(format!("rung {} level", i + 1));
                    let mut kbps = r.max_bitrate_bps / 1000;
                    number_field(
                        ui,
                        typed,
                        &format!("rung {} max bitrate", i + 1),
                        &mut kbps,
                        &mut unreadable,
                    )
                    .on_hover_text(format!(
                        "rung {} max bitrate: the most this size may use, kilobits per second",
                        i + 1
                    ));
                    if kbps != r.max_bitrate_bps / 1000 {
                        r.max_bitrate_bps = kbps.saturating_mul(1000);
                    }
                    if ui.button(format!("Remove rung {}", i + 1)).clicked() {
                        remove = Some(i);
                    }
                    ui.end_row();
                }
            });
        if let Some(i) = remove {
            p.rungs.remove(i);
            // Later rungs moved up: their fields show their own values again.
            typed.retain(|name, _| !name.starts_with("rung "));
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
        // What cannot be read as typed comes first: the preset below still holds the last
        // readable value, so its own check would miss it.
        let problems: Vec<String> = unreadable
            .into_iter()
            .chain(validate(p).iter().map(ToString::to_string))
            .collect();
        ui.separator();
        if problems.is_empty() {
            ui.label(RichText::new("Valid: ready to save").color(Color32::from_rgb(60, 160, 60)));
        } else {
            for problem in &problems {
                ui.label(RichText::new(problem).color(Color32::from_rgb(200, 60, 60)));
            }
        }
        if let Some((name, description)) = &mut self.save_as {
            let mut done = None;
            ui.group(|ui| {
                ui.horizontal(|ui| {
                    let label = ui.label("Save as");
                    ui.add(egui::TextEdit::singleline(name).hint_text("my-ladder"))
                        .labelled_by(label.id);
                    let label = ui.label("described as");
                    ui.add(egui::TextEdit::singleline(description).desired_width(300.0))
                        .labelled_by(label.id);
                });
                let clash = crate::preset::store::builtins()
                    .iter()
                    .any(|b| b.name == name.trim());
                if clash {
                    ui.label(
                        RichText::new("That is a built-in preset's name: choose another")
                            .color(Color32::from_rgb(200, 60, 60)),
                    );
                } else if self.yours.iter().any(|n| n == name.trim()) {
                    ui.label(
                        RichText::new("Saving replaces your preset of that name")
                            .color(Color32::from_rgb(200, 140, 30)),
                    );
                }
                ui.horizontal(|ui| {
                    // The settings must still be valid: a field may have changed since.
                    let ok = !name.trim().is_empty() && !clash && problems.is_empty();
                    if ui.add_enabled(ok, egui::Button::new("Save")).clicked() {
                        done = Some(true);
                    }
                    if ui.button("Cancel").clicked() {
                        done = Some(false);
                    }
                });
            });
            match done {
                Some(true) => {
                    p.name = name.trim().to_owned();
                    p.description = description.trim().to_owned();
                    action = Some(Action::Save(p.clone()));
                    self.original.clone_from(&p.name);
                    self.save_as = None;
                }
                Some(false) => self.save_as = None,
                None => {}
            }
            return action;
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled(problems.is_empty(), egui::Button::new("Save as…"))
                .on_hover_text(
                    "Save these settings as one of your presets, under a name you choose",
                )
                .clicked()
            {
                let builtin = crate::preset::store::builtins()
                    .iter()
                    .any(|b| b.name == p.name);
                let name = if builtin {
                    format!("{}-mine", p.name)
                } else {
                    p.name.clone()
                };
                let description = if builtin {
                    format!("Based on {}: {}", p.name, p.description)
                } else {
                    p.description.clone()
                };
                self.save_as = Some((name, description));
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
