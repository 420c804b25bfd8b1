//! `quality.html`: a self-contained report (no scripts, no fonts or files fetched) with the
//! rate-quality plot (bitrate against mean VMAF, one point per rung), VMAF over time per rung
//! (the mean of each 2 s segment), both as inline SVG drawn with plotters, and the table of
//! numbers.

use plotters::prelude::*;

use super::RungQuality;

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

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The whole report for a title (`title`: what the heading names).
pub fn html(title: &str, rungs: &[RungQuality]) -> Result<String, String> {
    let rate = rate_quality_svg(rungs)?;
    let time = vmaf_over_time_svg(rungs)?;
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
<p>VMAF ({models}; each rung upscaled with bicubic to the reference), SSIM and PSNR of luma,
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
        let page = html("a <clip>", &rungs).expect("html");
        assert!(page.contains("Quality of a &lt;clip&gt;"));
        assert_eq!(page.matches("<svg").count(), 2);
        let rate = rate_quality_svg(&rungs).expect("svg");
        assert_eq!(rate.matches("<circle").count(), 2, "{rate}");
        assert!(rate.contains("720p (93.5)"));
        let time = vmaf_over_time_svg(&rungs).expect("svg");
        assert!(time.contains("360p") && time.contains("720p"));
        assert!(!page.contains("<script"), "self-contained, no scripts");
    }
}
