//! The Quality tab of a finished job: the rate-quality plot (bitrate against mean VMAF, one
//! point per rung) and VMAF over time per rung drawn live with egui_plot, the table of numbers,
//! and a before/after viewer: a time picked on the stills strip or the slider, the source and a
//! rung's picture side by side or under a split line, fitted or at 100 %, with that picture's
//! VMAF. Pictures are decoded by the worker; this only shows them.

use std::path::PathBuf;

use egui::{Color32, RichText};
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use super::worker::Worker;
use crate::plan::Plan;
use crate::quality::RungQuality;
use crate::quality::viewer::FramePair;

/// Line and point colours, one per rung (the report's palette).
const PALETTE: [Color32; 8] = [
    Color32::from_rgb(31, 119, 180),
    Color32::from_rgb(255, 127, 14),
    Color32::from_rgb(44, 160, 44),
    Color32::from_rgb(214, 39, 40),
    Color32::from_rgb(148, 103, 189),
    Color32::from_rgb(140, 86, 75),
    Color32::from_rgb(227, 119, 194),
    Color32::from_rgb(23, 190, 207),
];

/// How the two pictures are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Source left, rung right.
    SideBySide,
    /// One picture, source left of a movable line and the rung right of it.
    Split,
}

/// The viewer's pictures, once decoded.
struct Shown {
    pair: FramePair,
    rung: String,
    source: egui::TextureHandle,
    encoded: egui::TextureHandle,
}

/// A finished job's quality.
pub struct QualityTab {
    /// The job it belongs to.
    pub job: u64,
    /// The title's name.
    pub title: String,
    /// The plan the job followed (how the source is read).
    plan: Plan,
    /// The title folder.
    dir: PathBuf,
    /// Measured rungs, lowest bitrate first.
    pub rungs: Vec<RungQuality>,
    /// The rung shown in the viewer (index into `rungs`).
    pub viewer_rung: usize,
    /// The instant to show, seconds.
    pub time_secs: f64,
    /// Side by side or split.
    pub layout: Layout,
    /// Where the split line is, 0-1 of the width.
    pub split_at: f32,
    /// 100 % instead of fitted.
    pub actual_size: bool,
    /// A decode is running.
    pub loading: bool,
    /// The rung index of the running decode (the answer is labelled with it).
    in_flight: Option<usize>,
    /// The choice changed while a decode ran: ask again when it answers.
    again: bool,
    shown: Option<Shown>,
    /// The last decode's error.
    pub error: Option<String>,
}

impl QualityTab {
    /// The tab for a title's measured rungs (`job` 0 for a title opened from disk).
    pub fn new(job: u64, plan: Plan, dir: PathBuf, mut rungs: Vec<RungQuality>) -> Self {
        rungs.sort_by_key(|r| r.bitrate_bps);
        let title = dir
            .file_name()
            .map_or_else(|| plan.title.clone(), |n| n.to_string_lossy().into_owned());
        let time_secs = plan
            .stills
            .as_ref()
            .and_then(|s| s.times_secs.first().copied())
            .unwrap_or(0.0);
        Self {
            job,
            title,
            plan,
            dir,
            viewer_rung: rungs.len().saturating_sub(1),
            rungs,
            time_secs,
            layout: Layout::SideBySide,
            split_at: 0.5,
            actual_size: false,
            loading: false,
            in_flight: None,
            again: false,
            shown: None,
            error: None,
        }
    }

    /// The source the rungs were made from.
    pub fn source(&self) -> &std::path::Path {
        &self.plan.source
    }

    /// Asks the worker for the pictures at the chosen time and rung.
    pub fn request(&mut self, worker: &Worker) {
        let Some(r) = self.rungs.get(self.viewer_rung) else {
            return;
        };
        if !self.plan.source.is_file() {
            self.error = Some(format!(
                "the source {} is not known here: open the title with its source (vodkit gui --quality DIR SOURCE)",
                self.plan.source.display()
            ));
            return;
        }
        self.loading = true;
        self.in_flight = Some(self.viewer_rung);
        self.error = None;
        worker.frame_pair(
            self.job,
            self.plan.clone(),
            self.dir.join(&r.file),
            r.fps,
            self.time_secs,
        );
    }

    /// The worker's answer (asks again when the choice changed meanwhile).
    pub fn received(
        &mut self,
        ctx: &egui::Context,
        worker: &Worker,
        pair: Result<FramePair, String>,
    ) {
        self.loading = false;
        let asked = self.in_flight.take().unwrap_or(self.viewer_rung);
        match pair {
            Ok(pair) => {
                let load = |name: &str, px: &[u8]| {
                    ctx.load_texture(
                        format!("quality-{}-{name}", self.job),
                        egui::ColorImage::from_rgba_unmultiplied([pair.width, pair.height], px),
                        egui::TextureOptions::LINEAR,
                    )
                };
                let source = load("source", &pair.source_rgba);
                let encoded = load("rung", &pair.rung_rgba);
                let rung = self
                    .rungs
                    .get(asked)
                    .map(|r| r.rung.clone())
                    .unwrap_or_default();
                self.shown = Some(Shown {
                    pair,
                    rung,
                    source,
                    encoded,
                });
            }
            Err(e) => self.error = Some(e),
        }
        if std::mem::take(&mut self.again) {
            self.request(worker);
        }
    }

    /// The whole tab. `stills` are the source's thumbnails, if the app has them.
    pub fn show(&mut self, ui: &mut egui::Ui, worker: &Worker, stills: &[egui::TextureHandle]) {
        ui.heading(format!("Quality of {}", self.title));
        if let Some(r) = self.rungs.first() {
            ui.label(format!(
                "VMAF {} at {}x{} (rungs upscaled bicubic), SSIM and PSNR of luma; {} of {} frames scored",
                r.model, r.reference_width, r.reference_height, r.frames_scored, r.frames
            ));
        }
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                self.table(ui);
                ui.separator();
                ui.columns(2, |cols| {
                    self.rate_quality_plot(&mut cols[0]);
                    self.over_time_plot(&mut cols[1]);
                });
                ui.separator();
                self.viewer(ui, worker, stills);
            });
    }

    fn table(&self, ui: &mut egui::Ui) {
        egui::Grid::new("quality-table")
            .striped(true)
            .num_columns(11)
            .show(ui, |ui| {
                for h in [
                    "rung", "size", "kb/s", "bits/px", "VMAF", "harmonic", "1 % low", "min",
                    "SSIM", "PSNR-Y", "PSNR-YUV",
                ] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for r in &self.rungs {
                    ui.label(&r.rung);
                    ui.label(format!("{}x{}", r.width, r.height));
                    ui.label(format!("{:.0}", r.bitrate_bps as f64 / 1000.0));
                    ui.label(format!("{:.3}", r.bits_per_pixel));
                    ui.label(format!("{:.2}", r.vmaf.mean));
                    ui.label(format!("{:.2}", r.vmaf.harmonic_mean));
                    ui.label(format!("{:.2}", r.vmaf.low_1pct));
                    ui.label(format!("{:.2}", r.vmaf.min));
                    ui.label(format!("{:.4}", r.ssim_mean));
                    ui.label(format!("{:.2}", r.psnr_y_mean));
                    ui.label(format!("{:.2}", r.psnr_yuv_mean));
                    ui.end_row();
                }
            });
    }

    fn rate_quality_plot(&self, ui: &mut egui::Ui) {
        ui.label(RichText::new("Rate-quality: mean VMAF per rung").strong());
        let points: Vec<[f64; 2]> = self
            .rungs
            .iter()
            .map(|r| [r.bitrate_bps as f64 / 1000.0, r.vmaf.mean])
            .collect();
        Plot::new("rate-quality")
            .height(200.0)
            .x_axis_label("video bitrate (kb/s)")
            .y_axis_label("VMAF")
            .include_y(100.0)
            .legend(Legend::default())
            .show(ui, |plot| {
                plot.line(
                    Line::new("curve", PlotPoints::from(points.clone())).color(Color32::GRAY),
                );
                for (i, (r, p)) in self.rungs.iter().zip(&points).enumerate() {
                    plot.points(
                        Points::new(r.rung.clone(), vec![*p])
                            .radius(5.0)
                            .color(PALETTE[i % PALETTE.len()]),
                    );
                }
            });
    }

    fn over_time_plot(&self, ui: &mut egui::Ui) {
        ui.label(RichText::new("VMAF over time (mean of each 2 s segment)").strong());
        Plot::new("vmaf-over-time")
            .height(200.0)
            .x_axis_label("time (s)")
            .y_axis_label("VMAF")
            .include_y(100.0)
            .legend(Legend::default())
            .show(ui, |plot| {
                for (i, r) in self.rungs.iter().enumerate() {
                    // Each segment's mean at the segment's middle.
                    let steps: Vec<[f64; 2]> = r
                        .segment_vmaf
                        .iter()
                        .enumerate()
                        .map(|(k, &v)| [(k as f64 + 0.5) * r.segment_secs, v])
                        .collect();
                    plot.line(
                        Line::new(r.rung.clone(), PlotPoints::from(steps))
                            .color(PALETTE[i % PALETTE.len()]),
                    );
                }
            });
    }

    fn viewer(&mut self, ui: &mut egui::Ui, worker: &Worker, stills: &[egui::TextureHandle]) {
        ui.label(RichText::new("Before / after").strong());
        let mut want = false;
        // The stills strip: click one to see that instant.
        let times: Vec<f64> = self
            .plan
            .stills
            .as_ref()
            .map(|s| s.times_secs.clone())
            .unwrap_or_default();
        if !stills.is_empty() {
            ui.horizontal(|ui| {
                for (texture, &t) in stills.iter().zip(&times) {
                    let picked = (self.time_secs - t).abs() < 1e-6;
                    let button = egui::Button::image(egui::Image::new(texture).max_height(60.0))
                        .selected(picked);
                    if ui.add(button).on_hover_text(format!("{t:.1} s")).clicked() {
                        self.time_secs = t;
                        want = true;
                    }
                }
            });
        }
        ui.horizontal(|ui| {
            ui.label("Time");
            let end = self.plan.duration_secs.max(0.0);
            if ui
                .add(egui::Slider::new(&mut self.time_secs, 0.0..=end).suffix(" s"))
                .drag_stopped()
            {
                want = true;
            }
            let current = self
                .rungs
                .get(self.viewer_rung)
                .map(|r| r.rung.clone())
                .unwrap_or_default();
            egui::ComboBox::from_label("Rung")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for (i, r) in self.rungs.iter().enumerate() {
                        if ui
                            .selectable_value(&mut self.viewer_rung, i, &r.rung)
                            .clicked()
                        {
                            want = true;
                        }
                    }
                });
            ui.selectable_value(&mut self.layout, Layout::SideBySide, "Side by side");
            ui.selectable_value(&mut self.layout, Layout::Split, "Split");
            ui.checkbox(&mut self.actual_size, "100 %");
            if ui.button("Show").clicked() {
                want = true;
            }
            if self.loading {
                ui.spinner();
            }
        });
        if want {
            if self.loading {
                self.again = true;
            } else {
                self.request(worker);
            }
        }
        if let Some(e) = &self.error {
            ui.label(RichText::new(e).color(Color32::from_rgb(200, 60, 60)));
        }
        let Some(shown) = &self.shown else {
            ui.label("Pick a still or a time, and a rung, to compare the pictures.");
            return;
        };
        ui.label(format!(
            "{} at {:.2} s: VMAF {:.2} (this picture), PSNR-Y {:.2} dB, SSIM {:.4}",
            shown.rung, shown.pair.time_secs, shown.pair.vmaf, shown.pair.psnr_y, shown.pair.ssim
        ));
        let native = egui::vec2(shown.pair.width as f32, shown.pair.height as f32);
        let size = |available: f32| {
            if self.actual_size {
                native
            } else {
                native * (available / native.x).min(1.0)
            }
        };
        match self.layout {
            Layout::SideBySide => {
                egui::ScrollArea::horizontal().show(ui, |ui| {
                    let each = size((ui.available_width() - 8.0) / 2.0);
                    ui.horizontal(|ui| {
                        ui.vertical(|ui| {
                            ui.label("source (prepared)");
                            ui.add(egui::Image::new(&shown.source).fit_to_exact_size(each));
                        });
                        ui.vertical(|ui| {
                            ui.label(format!("{} (upscaled)", shown.rung));
                            ui.add(egui::Image::new(&shown.encoded).fit_to_exact_size(each));
                        });
                    });
                });
            }
            Layout::Split => {
                ui.add(egui::Slider::new(&mut self.split_at, 0.0..=1.0).text("split line"));
                egui::ScrollArea::horizontal().show(ui, |ui| {
                    let size = size(ui.available_width());
                    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
                    let x = rect.left() + rect.width() * self.split_at;
                    let left = egui::Rect::from_min_max(rect.min, egui::pos2(x, rect.bottom()));
                    let right = egui::Rect::from_min_max(egui::pos2(x, rect.top()), rect.max);
                    let uv = |a: f32, b: f32| {
                        egui::Rect::from_min_max(egui::pos2(a, 0.0), egui::pos2(b, 1.0))
                    };
                    let painter = ui.painter();
                    painter.image(
                        shown.source.id(),
                        left,
                        uv(0.0, self.split_at),
                        Color32::WHITE,
                    );
                    painter.image(
                        shown.encoded.id(),
                        right,
                        uv(self.split_at, 1.0),
                        Color32::WHITE,
                    );
                    painter.line_segment(
                        [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
                        egui::Stroke::new(2.0, Color32::YELLOW),
                    );
                });
            }
        }
    }
}
