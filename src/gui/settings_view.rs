//! The Settings view: where files go, how many jobs run at once, the cloud account (with a
//! connection test whose answers wrap in the window) and the watched folders.

use egui::{Color32, RichText};

use super::app::VodkitApp;
use super::settings::Backend;
use super::worker::UiEvent;
use crate::catalog::queue::JobKind;

/// A cloud message in the app's words: the command line's flags become the Settings fields
/// that hold the same value.
pub fn in_app_words(message: &str) -> String {
    let mut m = message.to_owned();
    for (flag, field) in [
        ("--region", "Region (Settings)"),
        ("--profile", "AWS profile (Settings)"),
        ("--role", "MediaConvert role ARN (Settings)"),
        ("--bucket", "Bucket (Settings)"),
        ("--prefix", "Key prefix (Settings)"),
        ("--endpoint-url", "S3 endpoint URL (Settings)"),
    ] {
        m = m.replace(&format!("pass {flag}"), &format!("set {field} to"));
        m = m.replace(&format!("fix {flag}"), &format!("fix {field}"));
        m = m.replace(flag, field);
    }
    m.replace(" or set it in the app's Cloud settings", "")
        .replace(" (or set it in the Cloud settings)", "")
}

impl VodkitApp {
    /// Asks the library for the watched folders.
    pub(super) fn refresh_watches(&self) {
        self.worker
            .with_catalog(|c| c?.watches().ok().map(UiEvent::Watches));
    }

    /// The Settings view.
    pub(super) fn settings_view(&mut self, ui: &mut egui::Ui) {
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.heading("Output");
                ui.horizontal_wrapped(|ui| {
                    ui.label("Output folder");
                    ui.label(
                        RichText::new(self.settings.output_dir.display().to_string()).monospace(),
                    );
                    if ui.button("Change…").clicked() {
                        self.worker.pick_output();
                    }
                    if ui.button("Open").clicked() {
                        self.worker.open_folder(self.settings.output_dir.clone());
                    }
                });
                ui.horizontal(|ui| {
                    let label = ui.label("Jobs at once");
                    ui.add(egui::Slider::new(&mut self.settings.jobs_at_once, 1..=8))
                        .labelled_by(label.id)
                        .on_hover_text(
                            "Files encoded side by side; each already uses every core, so more than 2 rarely helps",
                        );
                });
                ui.horizontal(|ui| {
                    ui.label("Run jobs");
                    ui.radio_value(&mut self.settings.backend, Backend::Local, "on this computer");
                    ui.radio_value(
                        &mut self.settings.backend,
                        Backend::Cloud,
                        "in the cloud (AWS MediaConvert)",
                    );
                });
                if let Some(db) = crate::dirs::catalog_file() {
                    ui.label(
                        RichText::new(format!("The library and queue are kept in {}", db.display()))
                            .weak(),
                    );
                }
                ui.separator();
                self.cloud_settings(ui);
                ui.separator();
                self.watch_settings(ui);
            });
    }

    fn cloud_settings(&mut self, ui: &mut egui::Ui) {
        ui.heading("Cloud: AWS S3 + Elemental MediaConvert");
        ui.add(
            egui::Label::new(
                "Credentials come from the AWS credential chain (environment, ~/.aws profile, SSO, instance role); Vodkit never stores them. Fill in the bucket and the role MediaConvert uses; the rest is optional.",
            )
            .wrap(),
        );
        let c = &mut self.settings.cloud;
        egui::Grid::new("cloud").num_columns(2).show(ui, |ui| {
            for (label, value, hint) in [
                ("AWS profile", &mut c.profile, "default"),
                ("Region", &mut c.region, "eu-west-1"),
                ("Bucket", &mut c.bucket, "my-videos"),
                ("Key prefix", &mut c.prefix, "vodkit/"),
                (
                    "MediaConvert role ARN",
                    &mut c.role_arn,
                    "arn:aws:iam::123456789012:role/MediaConvertRole",
                ),
                (
                    "Queue ARN (optional)",
                    &mut c.queue,
                    "arn:aws:mediaconvert:eu-west-1:123456789012:queues/Default",
                ),
                (
                    "S3 endpoint URL (optional)",
                    &mut c.endpoint,
                    "https://s3.example.com",
                ),
                (
                    "MediaConvert endpoint URL (optional)",
                    &mut c.mediaconvert_endpoint,
                    "found automatically",
                ),
            ] {
                let name = ui.label(label);
                ui.add(
                    egui::TextEdit::singleline(value)
                        .hint_text(hint)
                        .desired_width(380.0),
                )
                .labelled_by(name.id);
                ui.end_row();
            }
            // A limit on what one source may cost, checked before anything is uploaded.
            let mut limited = c.max_cost_usd.is_some();
            ui.label("Cost limit per source");
            ui.horizontal(|ui| {
                if ui
                    .checkbox(&mut limited, "Refuse jobs estimated above")
                    .changed()
                {
                    c.max_cost_usd = limited.then_some(c.max_cost_usd.unwrap_or(10.0));
                }
                if let Some(usd) = c.max_cost_usd.as_mut() {
                    ui.add(
                        egui::DragValue::new(usd)
                            .range(0.0..=100_000.0)
                            .speed(0.5)
                            .prefix("$")
                            .max_decimals(2),
                    )
                    .on_hover_text(
                        "From the MediaConvert price snapshot (vodkit cloud prices); a job that cannot be priced is refused too",
                    );
                }
            });
            ui.end_row();
        });
        ui.horizontal(|ui| {
            let testing = self.cloud_check.is_none();
            if ui
                .add_enabled(!testing, egui::Button::new("Test connection"))
                .on_hover_text(
                    "Checks the credentials, the bucket (read and write), MediaConvert and the role",
                )
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
            egui::Grid::new("cloud-check")
                .num_columns(3)
                .show(ui, |ui| {
                    for l in lines {
                        ui.label(if l.ok {
                            RichText::new("ok").color(Color32::from_rgb(40, 150, 60))
                        } else {
                            RichText::new("FAIL").color(Color32::from_rgb(200, 60, 60))
                        });
                        ui.label(&l.what);
                        ui.add(egui::Label::new(&l.detail).wrap());
                        ui.end_row();
                    }
                });
        }
    }

    fn watch_settings(&mut self, ui: &mut egui::Ui) {
        ui.heading("Watched folders");
        ui.add(
            egui::Label::new(
                "Videos that land in a watched folder are queued with its preset once they stop growing (a copy in progress is never encoded half-written), and only once: a file with the same content is skipped. `vodkit watch` on the command line uses the same list.",
            )
            .wrap(),
        );
        let mut remove = None;
        if self.watches.is_empty() {
            ui.label(RichText::new("No folder is watched.").weak());
        }
        for w in &self.watches {
            ui.horizontal(|ui| {
                ui.label(RichText::new(w.dir.display().to_string()).monospace());
                ui.label(format!("with {} into {}", w.preset, w.out_dir.display()));
                if ui.small_button("Stop watching").clicked() {
                    remove = Some(w.id);
                }
            });
        }
        if let Some(id) = remove {
            self.worker.with_catalog(move |c| {
                let c = c?;
                let _ = c.remove_watch(id);
                c.watches().ok().map(UiEvent::Watches)
            });
            self.worker.restart_watching();
        }
        let preset = self.settings.preset.clone();
        let out = self.settings.output_dir.clone();
        if ui
            .button("Watch a folder…")
            .on_hover_text(format!(
                "Pick a folder; its videos get the preset '{preset}' and go to {}",
                out.display()
            ))
            .clicked()
        {
            self.worker.pick_watch_folder(preset, out, JobKind::Local);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::in_app_words;

    #[test]
    fn flags_become_settings_fields() {
        assert_eq!(
            in_app_words(
                "no S3 bucket set: pass --bucket NAME or set it in the app's Cloud settings"
            ),
            "no S3 bucket set: set Bucket (Settings) to NAME"
        );
        assert_eq!(
            in_app_words(
                "bucket 'v' is in region eu-west-1, not us-east-1: pass --region eu-west-1 (or set it in the Cloud settings)"
            ),
            "bucket 'v' is in region eu-west-1, not us-east-1: set Region (Settings) to eu-west-1"
        );
    }
}
