//! `vodkit probe FILE... [--json]`: what each file holds, for people or as JSON lines.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::Output;
use crate::probe::{MediaInfo, StreamKind, probe};
use crate::units::{clock, human_bitrate, human_bytes};

/// Probes every file; a file that fails is reported and the others still run.
/// Returns the number of files that failed.
pub fn run(files: &[PathBuf], out: &mut Output) -> usize {
    let mut failed = 0;
    for file in files {
        match probe(file) {
            Ok(info) => {
                if out.json {
                    out.json_line(&info);
                } else {
                    out.text(&describe(&info));
                }
            }
            Err(e) => {
                failed += 1;
                out.error(file, &e.to_string());
            }
        }
    }
    failed
}

/// Formats a probe result as a few aligned lines: the file, then one line per stream, then
/// the warnings.
pub fn describe(info: &MediaInfo) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", info.path.display());
    let container = info.container_long.as_deref().unwrap_or(&info.container);
    let _ = writeln!(
        out,
        "  {container}, {}, {}, {}",
        info.duration_secs
            .map_or_else(|| "duration unknown".to_owned(), clock),
        human_bytes(info.size_bytes),
        info.bitrate_bps
            .map_or_else(|| "bitrate unknown".to_owned(), human_bitrate),
    );
    if let Some(created) = &info.creation_time {
        let _ = writeln!(out, "  recorded {created}");
    }
    if let Some(location) = &info.location {
        let _ = writeln!(out, "  location {location}");
    }
    for s in &info.streams {
        let mut line = format!("  #{} {:?}: {}", s.index, s.kind, s.codec).to_lowercase();
        if let Some(p) = &s.profile {
            let _ = write!(line, " ({p}");
            if let Some(level) = s.video.as_ref().and_then(|v| v.level.as_ref()) {
                let _ = write!(line, " @ L{level}");
            }
            line.push(')');
        }
        if let Some(v) = &s.video {
            let _ = write!(line, ", {}x{}", v.width, v.height);
            if v.sample_aspect_ratio != "1:1" {
                let _ = write!(
                    line,
                    " SAR {} DAR {}",
                    v.sample_aspect_ratio, v.display_aspect_ratio
                );
            }
            if v.rotation_deg != 0 {
                let _ = write!(
                    line,
                    ", rotated {}° (shows as {}x{})",
                    v.rotation_deg, v.display_width, v.display_height
                );
            }
            if let Some(fps) = v.avg_frame_rate {
                let _ = write!(line, ", {fps:.3} fps");
                if v.variable_frame_rate {
                    line.push_str(" (variable)");
                }
            }
            if let Some(pf) = &v.pixel_format {
                let _ = write!(line, ", {pf}");
            }
            if let (Some(p), Some(t)) = (&v.color_primaries, &v.color_transfer) {
                let _ = write!(line, ", {p}/{t}");
            }
            if let Some(hdr) = &v.hdr {
                let _ = write!(line, ", HDR {hdr}");
                // What an HDR rung passes on (hdr = "keep").
                if let Some(m) = v.hdr_metadata.mastering_display {
                    let _ = write!(line, " (mastered at {:.0} nits", m.max_nits());
                    match v.hdr_metadata.content_light {
                        Some(c) => {
                            let _ = write!(line, ", MaxCLL {} MaxFALL {})", c.max_cll, c.max_fall);
                        }
                        None => line.push(')'),
                    }
                }
            }
            if v.interlaced {
                let _ = write!(line, ", interlaced {}", v.field_order);
            }
            if let Some(b) = &v.black_borders {
                let _ = write!(line, ", black borders {}", b.describe(v.width, v.height));
            }
        }
        if let Some(a) = &s.audio {
            let _ = write!(
                line,
                ", {} Hz, {}",
                a.sample_rate_hz,
                a.channel_layout
                    .clone()
                    .unwrap_or_else(|| format!("{} channels", a.channels))
            );
        }
        if let Some(bps) = s.bitrate_bps {
            let _ = write!(line, ", {}", human_bitrate(bps));
        }
        if let Some(lang) = &s.language {
            let _ = write!(line, " [{lang}]");
        }
        if s.kind == StreamKind::Attachment && s.codec != "ttf" {
            line.push_str(" (attached picture)");
        }
        let _ = writeln!(out, "{line}");
    }
    for w in &info.warnings {
        let _ = writeln!(out, "  ! {w}");
    }
    out
}
