//! `vodkit plan FILE... --preset NAME [--json]`: what a preset would make from each file.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::Output;
use crate::plan::{Plan, RungStatus, plan};
use crate::preset::store::Store;
use crate::probe::probe;
use crate::units::{clock, human_bitrate, human_bytes};

/// Plans every file with one preset. Returns the number of files that could not be planned.
pub fn run(files: &[PathBuf], preset_name: &str, out: &mut Output) -> usize {
    let preset = match Store::open().find(preset_name) {
        Ok(entry) => entry.preset,
        Err(e) => {
            eprintln!("vodkit: {e}");
            return files.len().max(1);
        }
    };
    let mut failed = 0;
    for file in files {
        let result = probe(file)
            .map_err(|e| e.to_string())
            .and_then(|info| plan(&info, &preset).map_err(|e| e.to_string()));
        match result {
            Ok(p) if out.json => out.json_line(&p),
            Ok(p) => out.text(&describe(&p)),
            Err(message) => {
                failed += 1;
                out.error(file, &message);
            }
        }
    }
    failed
}

/// A plan as a table: one line per rung, then audio, stills, the total and warnings.
pub fn describe(p: &Plan) -> String {
    let mut out = String::new();
    let _ = write!(out, "{} -> {}", p.source.display(), p.preset);
    if let Some((w, h)) = p.source_display {
        let _ = write!(out, " (source {w}x{h}");
        if let Some(rate) = p.source_frame_rate {
            let _ = write!(out, ", {rate} fps");
        }
        if let Some(bps) = p.source_video_bitrate_bps {
            let _ = write!(out, ", video {}", human_bitrate(bps));
        }
        let _ = write!(out, ", {})", clock(p.duration_secs));
    }
    out.push('\n');
    if !p.rungs.is_empty() {
        let _ = writeln!(
            out,
            "  {:<9} {:<10} {:<14} {:<6} {:<11} {:<7} {:<8} {:>10}",
            "rung", "size", "codec", "level", "max rate", "fps", "status", "est. size"
        );
    }
    for r in &p.rungs {
        let status = match r.status {
            RungStatus::Kept => "kept",
            RungStatus::Resized => "resized",
            RungStatus::Capped => "capped",
            RungStatus::Dropped => "dropped",
        };
        let name = if r.is_made() {
            r.name.clone()
        } else {
            format!("#{}", r.preset_index + 1)
        };
        let _ = writeln!(
            out,
            "  {:<9} {:<10} {:<14} {:<6} {:<11} {:<7} {:<8} {:>10}",
            name,
            format!("{}x{}", r.width, r.height),
            format!("{} {}", r.codec, r.profile),
            r.level,
            human_bitrate(r.max_bitrate_bps),
            r.frame_rate.to_string(),
            status,
            if r.is_made() {
                human_bytes(r.estimated_bytes)
            } else {
                "-".to_owned()
            },
        );
        for why in &r.reasons {
            let _ = writeln!(out, "            {why}");
        }
    }
    match &p.audio {
        Some(a) => {
            let _ = write!(
                out,
                "  audio: AAC-LC {}, {} Hz, {} ch",
                human_bitrate(a.bitrate_bps),
                a.sample_rate_hz,
                a.channels
            );
            if let Some(remix) = &a.remix {
                let _ = write!(out, " ({remix})");
            }
            out.push('\n');
        }
        None => out.push_str("  audio: none\n"),
    }
    if let Some(s) = &p.stills {
        let times: Vec<String> = s.times_secs.iter().map(|t| format!("{t:.1}s")).collect();
        let _ = writeln!(
            out,
            "  stills: {} x {}x{} {} at {}",
            s.times_secs.len(),
            s.width,
            s.height,
            s.format,
            times.join(", ")
        );
    }
    let _ = writeln!(out, "  estimated total: {}", human_bytes(p.estimated_bytes));
    for w in &p.warnings {
        let _ = writeln!(out, "  ! {w}");
    }
    out
}
