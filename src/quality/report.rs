//! `quality.html`: a self-contained report (no scripts, no fonts or files fetched) with the
//! rate-quality plot (bitrate against mean VMAF, one point per rung), VMAF over time per rung
//! (the mean of each 2 s segment), both as inline SVG drawn with plotters, and the table of
//! numbers; for a per-title ladder also the measured rate-quality curve of every allowed size
//! with the fitted rungs on them (bitrate on a log scale, as the fit reads them) and the
//! reasons for each size kept or dropped.

use plotters::prelude::*;

use super::RungQuality;
use crate::plan::per_title::FitRecord;

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The lowest VMAF shown on the axes: 0, or a round value below the worst point.
fn vmaf_floor(values: impl Iterator<Item = f64>) -> f64 {
    let lowest = values.fold(100.0_f64, f64::min);
    ((lowest - 5.0) / 10.0).floor().clamp(0.0, 9.0) * 10.0
}

/// Bitrate (kb/s) against mean VMAF, one labelled point per rung, joined in bitrate order.
pub fn rate_quality_svg(rungs: &[RungQuality]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let max_kbps = rungs
            .iter()
            .map(|r| r.bitrate_bps as f64 / 1000.0)
            .fold(1.0_f64, f64::max)
            * 1.1;
        let floor = vmaf_floor(rungs.iter().map(|r| r.vmaf.mean));
        let mut chart = ChartBuilder::on(&root)
            .caption("Rate-quality: mean VMAF per rung", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..max_kbps, floor..100.0)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("video bitrate (kb/s)")
            .y_desc("VMAF")
            .draw()
            .map_err(|e| e.to_string())?;
        // Each rung keeps its colour of the other plot (its place in `rungs`).
        let mut points: Vec<(f64, f64, &str, usize)> = rungs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    r.bitrate_bps as f64 / 1000.0,
                    r.vmaf.mean,
                    r.rung.as_str(),
                    i,
                )
            })
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|&(x, y, _, _)| (x, y)),
                RGBColor(150, 150, 150),
            ))
            .map_err(|e| e.to_string())?;
        for &(x, y, name, i) in &points {
            let c = colour(i);
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((x, y))
                        + Circle::new((0, 0), 5, c.filled())
                        + Text::new(
                            format!("{name} ({y:.1})"),
                            (8, -14),
                            ("sans-serif", 13).into_font(),
                        ),
                ))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Mean VMAF of every segment over time, one line per rung.
pub fn vmaf_over_time_svg(rungs: &[RungQuality]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let end_secs = rungs
            .iter()
            .map(|r| r.segment_vmaf.len() as f64 * r.segment_secs)
            .fold(1.0_f64, f64::max);
        let floor = vmaf_floor(rungs.iter().flat_map(|r| r.segment_vmaf.iter().copied()));
        let mut chart = ChartBuilder::on(&root)
            .caption("VMAF over time (mean of each segment)", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..end_secs, floor..100.0)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc("VMAF")
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, r) in rungs.iter().enumerate() {
            let c = colour(i);
            // Steps: each segment's mean holds over its whole segment.
            let steps: Vec<(f64, f64)> = r
                .segment_vmaf
                .iter()
                .enumerate()
                .flat_map(|(k, &v)| {
                    let t = k as f64 * r.segment_secs;
                    [(t, v), (t + r.segment_secs, v)]
                })
                .collect();
            chart
                .draw_series(LineSeries::new(steps, c.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(r.rung.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Every allowed size's measured curve (bitrate on a log scale against mean VMAF), the fitted
/// rungs as large points on them, the made rungs' measured scores as rings, and the target.
pub fn per_title_svg(fit: &FitRecord, made: &[RungQuality]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let rates = fit
            .curves
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.bitrate_bps / 1000.0))
            .chain(fit.fitted.iter().map(|f| f.bitrate_bps / 1000.0))
            .chain(made.iter().map(|m| m.bitrate_bps as f64 / 1000.0))
            .filter(|r| r.is_finite() && *r > 0.0);
        let (lo, hi) = rates.fold((f64::MAX, 1.0_f64), |(lo, hi), r| (lo.min(r), hi.max(r)));
        let lo = if lo == f64::MAX { 1.0 } else { lo / 1.3 };
        let floor = vmaf_floor(
            fit.curves
                .iter()
                .flat_map(|c| c.points.iter().map(|p| p.vmaf))
                .chain(made.iter().map(|m| m.vmaf.mean)),
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Per-title fit: measured curves, fitted rungs (filled), made rungs (rings)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((lo..hi * 1.3).log_scale(), floor..100.0)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("video bitrate (kb/s, log scale)")
            .y_desc("VMAF")
            .draw()
            .map_err(|e| e.to_string())?;
        let target = fit.target_vmaf;
        chart
            .draw_series(LineSeries::new(
                [(lo, target), (hi * 1.3, target)],
                RGBColor(180, 180, 180).stroke_width(1),
            ))
            .map_err(|e| e.to_string())?
            .label(format!("target VMAF {target:.0}"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], RGBColor(180, 180, 180)));
        for (i, c) in fit.curves.iter().enumerate() {
            let colour = colour(i);
            let mut pts: Vec<(f64, f64)> = c
                .points
                .iter()
                .map(|p| (p.bitrate_bps / 1000.0, p.vmaf))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(format!("{}x{}", c.width, c.height))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(
                    pts.iter()
                        .map(|&(x, y)| Circle::new((x, y), 3, colour.filled())),
                )
                .map_err(|e| e.to_string())?;
            for f in fit
                .fitted
                .iter()
                .filter(|f| (f.width, f.height) == (c.width, c.height))
            {
                let (x, y) = (f.bitrate_bps / 1000.0, f.predicted_vmaf);
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((x, y))
                            + Circle::new((0, 0), 7, colour.filled())
                            + Text::new(
                                format!("{}p {:.0} kb/s", c.height.min(c.width), x),
                                (9, 6),
                                ("sans-serif", 12).into_font(),
                            ),
                    ))
                    .map_err(|e| e.to_string())?;
            }
            for m in made
                .iter()
                .filter(|m| (m.width, m.height) == (c.width, c.height))
            {
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (m.bitrate_bps as f64 / 1000.0, m.vmaf.mean),
                        9,
                        colour.stroke_width(2),
                    )))
                    .map_err(|e| e.to_string())?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The per-title section: the figure and the kept and dropped sizes with their reasons.
fn per_title_section(fit: &FitRecord, made: &[RungQuality]) -> Result<String, String> {
    let figure = per_title_svg(fit, made)?;
    let mut rows = String::new();
    for f in &fit.fitted {
        rows.push_str(&format!(
            "<tr><td>{}x{}</td><td>{:.0}</td><td>{:.1}</td><td>{}</td></tr>\n",
            f.width,
            f.height,
            f.bitrate_bps / 1000.0,
            f.predicted_vmaf,
            escape(&f.reason)
        ));
    }
    for d in &fit.dropped {
        rows.push_str(&format!(
            "<tr><td>{}x{}</td><td>-</td><td>-</td><td>dropped: {}</td></tr>\n",
            d.width,
            d.height,
            escape(&d.reason)
        ));
    }
    let fitted: f64 = fit.fitted.iter().map(|f| f.bitrate_bps).sum();
    let saved = if fit.fixed_total_bps > 0.0 {
        format!(
            "; total bitrate {:.0} % of the preset's fixed ladder",
            fitted / fit.fixed_total_bps * 100.0
        )
    } else {
        String::new()
    };
    Ok(format!(
        r#"<h2>Per-title ladder</h2>
<p>Fitted from {sampled:.0} s of samples, target VMAF {target:.0}, steps of at least {step:.0}{saved}.</p>
<figure id="per-title">{figure}</figure>
<table>
<tr><th>size</th><th>kb/s</th><th>predicted VMAF</th><th>why</th></tr>
{rows}</table>
"#,
        sampled = fit.sampled_secs,
        target = fit.target_vmaf,
        step = fit.min_vmaf_step,
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The whole report for a title (`title`: what the heading names).
/// With `fit`, the per-title section comes first; without scored rungs the report is that
/// section alone.
pub fn html(title: &str, rungs: &[RungQuality], fit: Option<&FitRecord>) -> Result<String, String> {
    let fit_section = match fit {
        Some(f) => per_title_section(f, rungs)?,
        None => String::new(),
    };
    let (rate, time) = if rungs.is_empty() {
        (String::new(), String::new())
    } else {
        (rate_quality_svg(rungs)?, vmaf_over_time_svg(rungs)?)
    };
    let mut rows = String::new();
    for r in rungs {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}x{}</td><td>{:.0}</td><td>{:.3}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.4}</td><td>{:.2}</td><td>{:.2}</td><td>{}{}</td></tr>\n",
            escape(&r.rung),
            r.width,
            r.height,
            r.bitrate_bps as f64 / 1000.0,
            r.bits_per_pixel,
            r.vmaf.mean,
            r.vmaf.harmonic_mean,
            r.vmaf.low_1pct,
            r.vmaf.min,
            r.ssim_mean,
            r.psnr_y_mean,
            r.psnr_yuv_mean,
            r.frames_scored,
            if r.every > 1 {
                format!(" (every {})", r.every)
            } else {
                String::new()
            },
        ));
    }
    let models: Vec<String> = {
        let mut m: Vec<String> = rungs
            .iter()
            .map(|r| {
                format!(
                    "{} at {}x{}",
                    r.model, r.reference_width, r.reference_height
                )
            })
            .collect();
        m.dedup();
        m
    };
    Ok(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Quality of {title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
figure {{ display: inline-block; margin: 0 1em 1em 0; }}
</style></head><body>
<h1>Quality of {title}</h1>
{fit_section}<p>VMAF ({models}; each rung upscaled with bicubic to the reference), SSIM and PSNR of luma,
PSNR of YUV weighted 6:1:1. Measured by Vodkit {version} with libvmaf {libvmaf}.</p>
<figure id="rate-quality">{rate}</figure>
<figure id="vmaf-over-time">{time}</figure>
<table>
<tr><th>rung</th><th>size</th><th>kb/s</th><th>bits/pixel</th><th>VMAF mean</th><th>harmonic</th><th>1 % low</th><th>min</th><th>SSIM</th><th>PSNR Y</th><th>PSNR YUV</th><th>frames</th></tr>
{rows}</table>
</body></html>
"#,
        title = escape(title),
        models = escape(&models.join(", ")),
        version = env!("CARGO_PKG_VERSION"),
        libvmaf = escape(&super::vmaf::version()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::VmafSummary;

    fn rung(name: &str, kbps: u64, vmaf: f64) -> RungQuality {
        RungQuality {
            rung: name.into(),
            file: format!("t_{name}.mp4"),
            model: "vmaf_v0.6.1".into(),
            reference_width: 1280,
            reference_height: 720,
            width: 640,
            height: 360,
            fps: 30.0,
            frames: 60,
            frames_scored: 60,
            every: 1,
            vmaf: VmafSummary {
                mean: vmaf,
                harmonic_mean: vmaf - 1.0,
                low_1pct: vmaf - 5.0,
                min: vmaf - 8.0,
            },
            ssim_mean: 0.97,
            psnr_y_mean: 38.0,
            psnr_yuv_mean: 40.0,
            bitrate_bps: kbps * 1000,
            bits_per_pixel: 0.1,
            segment_secs: 2.0,
            segment_vmaf: vec![vmaf, vmaf - 2.0],
        }
    }

    #[test]
    fn one_point_per_rung_and_one_line_per_rung() {
        let rungs = [rung("360p", 800, 80.0), rung("720p", 2500, 93.5)];
        let page = html("a <clip>", &rungs, None).expect("html");
        assert!(page.contains("Quality of a &lt;clip&gt;"));
        assert_eq!(page.matches("<svg").count(), 2);
        let rate = rate_quality_svg(&rungs).expect("svg");
        assert_eq!(rate.matches("<circle").count(), 2, "{rate}");
        assert!(rate.contains("720p (93.5)"));
        let time = vmaf_over_time_svg(&rungs).expect("svg");
        assert!(time.contains("360p") && time.contains("720p"));
        assert!(!page.contains("<script"), "self-contained, no scripts");
    }

    #[test]
    fn a_fitted_ladder_draws_every_curve_and_says_why() {
        use crate::plan::per_title::{Dropped, Fitted, RdPoint, SizeCurve};
        let curve = |w: u32, h: u32, pts: &[(f64, f64)]| SizeCurve {
            width: w,
            height: h,
            points: pts
                .iter()
                .map(|&(k, v)| RdPoint {
                    bitrate_bps: k * 1000.0,
                    vmaf: v,
                })
                .collect(),
        };
        let fit = FitRecord {
            target_vmaf: 95.0,
            min_vmaf_step: 3.0,
            curves: vec![
                curve(640, 360, &[(300.0, 70.0), (600.0, 82.0), (1200.0, 88.0)]),
                curve(1280, 720, &[(800.0, 80.0), (1600.0, 91.0), (3200.0, 96.0)]),
            ],
            levels: Vec::new(),
            fitted: vec![Fitted {
                width: 1280,
                height: 720,
                bitrate_bps: 2_700_000.0,
                predicted_vmaf: 95.0,
                reason: "reaches the target VMAF 95".into(),
            }],
            dropped: vec![Dropped {
                width: 640,
                height: 360,
                reason: "VMAF 88.0 is less than 3.0 below".into(),
            }],
            fixed_total_bps: 5_000_000.0,
            sampled_secs: 12.0,
        };
        let made = [rung("720p", 2500, 94.6)];
        let svg = per_title_svg(&fit, &made).expect("svg");
        // Six measured points, one fitted rung, one ring for the made rung.
        assert_eq!(svg.matches("<circle").count(), 8, "{svg}");
        assert!(svg.contains("640x360") && svg.contains("1280x720"));
        assert!(svg.contains("720p 2700 kb/s"));
        let page = html("clip", &made, Some(&fit)).expect("html");
        assert!(page.contains("id=\"per-title\""));
        assert!(page.contains("reaches the target VMAF 95"));
        assert!(page.contains("dropped: VMAF 88.0 is less than 3.0 below"));
        assert!(page.contains("54 % of the preset"), "2.7 of 5 Mb/s");
        let only_fit = html("clip", &[], Some(&fit)).expect("html");
        assert_eq!(
            only_fit.matches("<svg").count(),
            1,
            "no scores: the fit alone"
        );
    }
}
