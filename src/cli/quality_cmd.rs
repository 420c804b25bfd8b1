//! `vodkit quality SOURCE RUNG... [--every N] [--html FILE] [--dump-y4m DIR] [--json]`: VMAF, SSIM and PSNR of
//! rung files against their source, as a table, JSON lines or an HTML report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::progress_view::View;
use super::{Output, cancel_on_ctrl_c};
use crate::job::EventSink;
use crate::quality::{RungQuality, compare, report};

/// Scores the rungs; returns 1 when scoring failed, else 0.
pub fn run(
    source: &Path,
    rungs: &[PathBuf],
    every: u32,
    html: Option<&Path>,
    dump_y4m: Option<&Path>,
    out: &Output,
) -> usize {
    let cancel = cancel_on_ctrl_c();
    // Progress on stderr (bars on a terminal); with --json, stdout carries the results only.
    let sink: EventSink = if out.json {
        Arc::new(|_| {})
    } else {
        let title = source
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let bars = Arc::new(View::new(false)).sink(&title);
        // The table below gives the results; the bars only the progress.
        Arc::new(move |e| {
            if !matches!(e, crate::job::JobEvent::Quality { .. }) {
                bars(e);
            }
        })
    };
    let options = compare::Options {
        every,
        dump_y4m: dump_y4m.map(Path::to_owned),
        ..compare::Options::default()
    };
    let scored = match compare::score_files(source, rungs, &options, &sink, &cancel) {
        Ok(s) => s,
        Err(e) => {
            out.error(source, &e);
            return 1;
        }
    };
    if out.json {
        for q in &scored {
            out.json_line(q);
        }
    } else {
        out.text(&table(&scored));
    }
    if let Some(path) = html {
        let title = source
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let written = report::html(&title, &scored, None)
            .and_then(|page| crate::local::write_atomically(path, page.as_bytes()));
        if let Err(e) = written {
            out.error(
                path,
                &format!("{}: cannot write the report: {e}", path.display()),
            );
            return 1;
        }
        if !out.json {
            out.text(&format!("report: {}\n", path.display()));
        }
    }
    0
}

/// The numbers as an aligned table, one rung per line, lowest bitrate first.
pub fn table(scored: &[RungQuality]) -> String {
    let mut rows: Vec<&RungQuality> = scored.iter().collect();
    rows.sort_by_key(|q| q.bitrate_bps);
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{:<10} {:>9} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8}",
        "rung",
        "size",
        "kb/s",
        "bpp",
        "VMAF",
        "harm.",
        "1% low",
        "min",
        "SSIM",
        "PSNR-Y",
        "PSNR-YUV"
    );
    for q in rows {
        let _ = writeln!(
            t,
            "{:<10} {:>9} {:>9.0} {:>7.3} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>7.4} {:>7.2} {:>8.2}",
            q.rung,
            format!("{}x{}", q.width, q.height),
            q.bitrate_bps as f64 / 1000.0,
            q.bits_per_pixel,
            q.vmaf.mean,
            q.vmaf.harmonic_mean,
            q.vmaf.low_1pct,
            q.vmaf.min,
            q.ssim_mean,
            q.psnr_y_mean,
            q.psnr_yuv_mean
        );
    }
    if let Some(q) = scored.first() {
        let _ = writeln!(
            t,
            "VMAF model {} at {}x{} (rungs upscaled bicubic); {} of {} frames scored{}",
            q.model,
            q.reference_width,
            q.reference_height,
            q.frames_scored,
            q.frames,
            if q.every > 1 {
                format!(" (every {})", q.every)
            } else {
                String::new()
            }
        );
    }
    t
}
