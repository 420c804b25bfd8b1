//! The inspector's drawings: what a file holds (probe), what the preset will make of it (the
//! plan, with words a non-specialist reads), the stills strip with the part to encode, and the
//! per-title curves. Pure drawing: the state is the Files view's.

use egui::{Color32, RichText};

use super::files_view::FileItem;
use crate::plan::{Plan, RungStatus};
use crate::probe::MediaInfo;
use crate::units::{clock, human_bitrate, human_bytes};

/// The container in everyday words: FFmpeg names every ISO-BMFF file "QuickTime / MOV"; the
/// file's own name says whether it is an MP4.
pub fn container_words(info: &MediaInfo) -> String {
    let ext = info
        .path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if info.container.starts_with("mov,mp4") {
        return match ext.as_str() {
            "mp4" | "m4v" => "MP4".to_owned(),
            "mov" | "qt" => "QuickTime (MOV)".to_owned(),
            "3gp" | "3g2" => "3GP (phone)".to_owned(),
            _ => "MP4 / QuickTime".to_owned(),
        };
    }
    info.container_long
        .clone()
        .unwrap_or_else(|| info.container.clone())
}

/// An ISO 6709 location (`+48.8584+002.2945+035.000/`) as `48.8584° N, 2.2945° E`.
pub fn location_words(iso: &str) -> Option<String> {
    let body = iso.trim().trim_end_matches('/');
    // Split before each sign after the first character.
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in body.char_indices().skip(1) {
        if c == '+' || c == '-' {
            parts.push(&body[start..i]);
            start = i;
        }
    }
    parts.push(&body[start..]);
    let lat: f64 = parts.first()?.parse().ok()?;
    let lon: f64 = parts.get(1)?.parse().ok()?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    let ns = if lat >= 0.0 { "N" } else { "S" };
    let ew = if lon >= 0.0 { "E" } else { "W" };
    Some(format!("{:.4}° {ns}, {:.4}° {ew}", lat.abs(), lon.abs()))
}

/// A recording date as tags hold it, or `None` when it is the zero date cameras write when
/// their clock was never set.
pub fn recorded_words(tag: &str) -> Option<String> {
    if tag.starts_with("1970-01-01") || tag.starts_with("1904-01-01") || tag.trim().is_empty() {
        return None;
    }
    Some(
        tag.replacen('T', " ", 1)
            .trim_end_matches(".000000Z")
            .replace('Z', " UTC"),
    )
}

pub fn probe_view(ui: &mut egui::Ui, info: &MediaInfo) {
    egui::Grid::new("probe").num_columns(2).show(ui, |ui| {
        let mut row = |k: &str, v: String| {
            ui.label(RichText::new(k).weak());
            ui.label(v);
            ui.end_row();
        };
        row("Container", container_words(info));
        row(
            "Duration",
            info.duration_secs
                .map_or_else(|| "unknown".to_owned(), clock),
        );
        row("File size", human_bytes(info.size_bytes));
        row(
            "Bitrate",
            info.bitrate_bps
                .map_or_else(|| "unknown".to_owned(), human_bitrate),
        );
        if let Some(t) = info.creation_time.as_deref().and_then(recorded_words) {
            row("Recorded", t);
        }
        if let Some(l) = &info.location {
            row("Location", location_words(l).unwrap_or_else(|| l.clone()));
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
            if let Some(b) = &v.black_borders {
                row(
                    "Borders",
                    format!("black, {}", b.describe(v.width, v.height)),
                );
            }
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

/// `packaged`: the preset writes HLS/DASH too (the folder holds the media twice).
pub fn plan_view(ui: &mut egui::Ui, plan: &Plan, range: Option<(f64, f64)>, packaged: bool) {
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
    // Sizes read from encodes of this source (a timed sample, a per-title fit, a target size)
    // rather than the typical-content guess, which is shown as a range up to the caps.
    let measured = plan.predicted_encode_secs.is_some()
        || plan.per_title.is_some()
        || plan.rungs.iter().any(|r| r.two_pass.is_some());
    egui::Grid::new("plan")
        .striped(true)
        .num_columns(if predicted { 8 } else { 7 })
        .show(ui, |ui| {
            for (h, tip) in [
                ("Version", "One file of the ladder (a \"rung\"): players pick the one the connection allows"),
                ("Picture", "Width x height in pixels"),
                ("Codec", "Video format, profile and level"),
                ("Max bitrate", "The most this version may use: its quality setting holds the picture steady and this caps it (QVBR-like)"),
                ("fps", "Frames per second"),
                ("Status", "What the preset's rung became for this source: kept, resized, capped or dropped (hover for why)"),
                ("Est. size", "Predicted file size of this version: a range (typical to busy content) until Estimate or a fit measures this source"),
            ] {
                ui.label(RichText::new(h).strong()).on_hover_text(tip);
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
                    format!("{}p", r.height)
                });
                ui.label(format!("{}x{}", r.width, r.height));
                ui.label(format!("{} {} {}", r.codec, r.profile, r.level));
                ui.label(human_bitrate(r.max_bitrate_bps));
                ui.label(r.frame_rate.to_string());
                ui.label(RichText::new(status).color(color))
                    .on_hover_text(r.reasons.join("\n"));
                if r.is_made() && plan.duration_secs <= 0.0 {
                    ui.label("unknown")
                        .on_hover_text("The source does not say how long it is");
                } else if r.is_made() {
                    let most = human_bytes(plan.most_bytes_of(r));
                    if r.two_pass.is_some() {
                        ui.label(human_bytes(r.estimated_bytes))
                            .on_hover_text("The size asked for: two passes reach it within a few percent");
                    } else if measured {
                        ui.label(format!("about {}", human_bytes(r.estimated_bytes)))
                            .on_hover_text(format!("From encoding samples of this source; at most {most}"));
                    } else {
                        ui.label(format!(
                            "{} to {most}",
                            human_bytes(r.estimated_bytes)
                        ))
                        .on_hover_text(
                            "Typical content to busy content (sport, noise, confetti) at this version's cap; Estimate measures this source",
                        );
                    }
                } else {
                    ui.label("-");
                }
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
                    ui.label(RichText::new(why).weak());
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
    if !plan.extra_audio.is_empty() {
        let names: Vec<String> = plan
            .extra_audio
            .iter()
            .map(|a| {
                let language = a
                    .language
                    .as_deref()
                    .and_then(crate::subtitles::languages::find)
                    .map_or("another language", |l| l.name);
                match &a.title {
                    Some(t) => format!("{language} ({t})"),
                    None => language.to_owned(),
                }
            })
            .collect();
        ui.label(format!("More sound tracks: {}", names.join("; ")))
            .on_hover_text("Encoded once each, like the first, and carried by every version");
    }
    if !plan.subtitles.is_empty() {
        let names: Vec<String> = plan
            .subtitles
            .iter()
            .map(|t| {
                let from = match &t.origin {
                    crate::subtitles::Origin::Embedded { .. } => "in the file",
                    crate::subtitles::Origin::Sidecar { .. } => "file beside it",
                };
                format!(
                    "{}{} ({from})",
                    t.name,
                    if t.default { ", shown first" } else { "" }
                )
            })
            .collect();
        ui.label(format!("Subtitles: {}", names.join("; ")))
            .on_hover_text("Each becomes a WebVTT file beside the versions and a subtitle choice in HLS and DASH players");
    }
    let packaged = packaged && plan.rungs.iter().any(|r| r.is_made());
    let (mp4s, folder) = if plan.duration_secs <= 0.0 {
        (
            "unknown (the source does not say how long it is)".to_owned(),
            "an unknown amount".to_owned(),
        )
    } else if measured || plan.rungs.is_empty() {
        (
            format!("about {}", human_bytes(plan.estimated_bytes)),
            format!(
                "about {}",
                human_bytes(plan.estimated_bytes.saturating_mul(2))
            ),
        )
    } else {
        (
            format!(
                "{} to {} (typical to busy content; Estimate measures this source)",
                human_bytes(plan.estimated_bytes),
                human_bytes(plan.most_bytes())
            ),
            format!(
                "{} to {}",
                human_bytes(plan.estimated_bytes.saturating_mul(2)),
                human_bytes(plan.most_bytes().saturating_mul(2))
            ),
        )
    };
    ui.label(format!(
        "Estimated MP4s: {mp4s}{}{}",
        if packaged {
            format!(
                "; the folder holds {folder} with the HLS/DASH segments (a second copy of the media) and stills"
            )
        } else {
            String::new()
        },
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
pub fn stills_strip(
    ui: &mut egui::Ui,
    file: &FileItem,
    info: &MediaInfo,
    range: &mut Option<(f64, f64)>,
    crop: Option<&crate::probe::borders::Borders>,
) {
    let duration = info.duration_secs.unwrap_or(0.0);
    // The crop as fractions of the shown still (left, top, right, bottom).
    let frame = crop.zip(info.video()).map(|(b, (_, v))| {
        let (w, h) = (v.width.max(1) as f32, v.height.max(1) as f32);
        let (l, r) = (b.left as f32 / w, b.right as f32 / w);
        let (t, bo) = (b.top as f32 / h, b.bottom as f32 / h);
        match v.rotation_deg {
            90 => (bo, l, t, r),
            180 => (r, bo, l, t),
            270 => (t, r, bo, l),
            _ => (l, t, r, bo),
        }
    });
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
                let shown = ui.add(egui::Image::new(t).max_height(90.0).tint(tint));
                if let Some((l, t, r, b)) = frame {
                    // What the rungs keep, outlined; the bars outside it are cropped.
                    let full = shown.rect;
                    let kept = egui::Rect::from_min_max(
                        full.lerp_inside(egui::vec2(l, t)),
                        full.lerp_inside(egui::vec2(1.0 - r, 1.0 - b)),
                    );
                    ui.painter().rect_stroke(
                        kept,
                        0.0,
                        egui::Stroke::new(1.5, Color32::from_rgb(255, 200, 40)),
                        egui::StrokeKind::Inside,
                    );
                }
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
pub fn fit_plot(ui: &mut egui::Ui, fit: &crate::plan::per_title::FitRecord) {
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

/// The Cloud plan's price: every output's billed minutes and cost, the total and the date of
/// the prices.
pub fn cost_view(ui: &mut egui::Ui, e: &crate::cloud::cost::CostEstimate) {
    let total = match (e.total_usd, &e.prices_published) {
        (Some(t), Some(_)) if t < 1.0 => format!("${t:.4}"),
        (Some(t), Some(_)) => format!("${t:.2}"),
        _ => "unknown".to_owned(),
    };
    egui::CollapsingHeader::new(
        RichText::new(format!("Cloud cost: {total} in {}", e.region)).strong(),
    )
    .id_salt("cloud-cost")
    .default_open(true)
    .show(ui, |ui| {
        let tier = match &e.professional_because {
            Some(why) => format!("{:?} tier ({why})", e.tier),
            None => format!("{:?} tier", e.tier),
        };
        ui.label(format!("{tier}, {} s billed per output", e.billed_secs));
        egui::Grid::new("cloud-cost-grid")
            .striped(true)
            .show(ui, |ui| {
                for h in ["Group", "Output", "Billed as", "Minutes", "USD"] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for o in &e.outputs {
                    ui.label(&o.group);
                    ui.label(if o.count > 1 {
                        format!("{} x{}", o.output, o.count)
                    } else {
                        o.output.clone()
                    });
                    ui.label(&o.class_text);
                    ui.label(format!("{:.2}", o.minutes));
                    ui.label(o.usd.map_or("no price".into(), |u| format!("{u:.4}")));
                    ui.end_row();
                }
            });
        match &e.prices_published {
            Some(date) if e.total_usd.is_some() => {
                ui.label(format!(
                    "On-demand prices as published {date}, before volume discounts."
                ));
            }
            Some(date) => {
                ui.label(
                    RichText::new(format!(
                        "The {date} price snapshot has no price for {} in {}.",
                        e.unpriced.join(", "),
                        e.region
                    ))
                    .color(Color32::from_rgb(200, 140, 40)),
                );
            }
            None => {
                ui.label(
                    RichText::new(
                        "No MediaConvert price snapshot: run `vodkit cloud prices --refresh` while online.",
                    )
                    .color(Color32::from_rgb(200, 140, 40)),
                );
            }
        }
        let stored = human_bytes(e.stored_bytes);
        ui.label(match e.storage_usd_per_month {
            Some(usd) => format!("S3 storage: {stored}, ${usd:.3} a month (Standard)"),
            None => format!("S3 storage: {stored}"),
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_read_as_words() {
        assert_eq!(
            location_words("+48.8584+002.2945/").as_deref(),
            Some("48.8584° N, 2.2945° E")
        );
        assert_eq!(
            location_words("-33.8688+151.2093+058.000/").as_deref(),
            Some("33.8688° S, 151.2093° E")
        );
        assert_eq!(location_words("garbage"), None);
        assert_eq!(recorded_words("1970-01-01T00:00:00.000000Z"), None);
        assert_eq!(
            recorded_words("2026-07-14T18:03:11.000000Z").as_deref(),
            Some("2026-07-14 18:03:11")
        );
    }
}
