//! How `vodkit encode` shows a job's events: on a terminal, one progress bar per rung under a
//! line per source (indicatif); elsewhere (logs, pipes) a line per second; with `--json`, every
//! event as a JSON line.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Output;
use crate::job::{EventSink, JobEvent, Stage};
use crate::units::human_bytes;

/// Shared by every job of one command, so bars of parallel jobs stack.
pub struct View {
    bars: Option<MultiProgress>,
    json: bool,
}

impl View {
    /// Bars when stderr is a terminal and JSON is off.
    pub fn new(json: bool) -> Self {
        let bars = (!json && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self { bars, json }
    }

    /// Prints a line without tearing the bars.
    pub fn line(&self, text: &str) {
        match &self.bars {
            Some(m) => {
                let _ = m.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    /// The event sink of one source.
    pub fn sink(self: &Arc<Self>, title: &str) -> EventSink {
        let view = Arc::clone(self);
        let title = title.to_owned();
        let state = Mutex::new(State {
            bars: HashMap::new(),
            last_line: Instant::now() - Duration::from_secs(10),
        });
        Arc::new(move |event: JobEvent| {
            if view.json {
                Output { json: true }.json_line(&event);
                return;
            }
            if let Ok(mut s) = state.lock() {
                view.render(&title, &mut s, &event);
            }
        })
    }

    fn render(&self, title: &str, s: &mut State, event: &JobEvent) {
        match event {
            JobEvent::Started { rungs, .. } => {
                if let Some(m) = &self.bars {
                    let style = ProgressStyle::with_template(
                        "{prefix:>16} [{bar:32.cyan/blue}] {pos:>6}/{len:6} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
                    for r in rungs {
                        let bar = m.add(ProgressBar::new(1));
                        bar.set_style(style.clone());
                        bar.set_prefix(format!("{title} {r}"));
                        s.bars.insert(r.clone(), bar);
                    }
                }
            }
            JobEvent::Progress { rungs, overall } => {
                if self.bars.is_some() {
                    for r in rungs {
                        if let Some(bar) = s.bars.get(&r.rung) {
                            bar.set_length(r.frames_total);
                            bar.set_position(r.frames_done);
                            bar.set_message(format!(
                                "{:>4.0} fps {:>5.2}x ETA {}",
                                r.fps,
                                r.speed,
                                r.eta_secs
                                    .map_or_else(|| "-".to_owned(), |e| format!("{e:.0}s"))
                            ));
                        }
                    }
                } else if s.last_line.elapsed() >= Duration::from_secs(1) || *overall >= 1.0 {
                    s.last_line = Instant::now();
                    let parts: Vec<String> = rungs
                        .iter()
                        .map(|r| {
                            format!(
                                "{} {}/{} {:.0}fps",
                                r.rung, r.frames_done, r.frames_total, r.fps
                            )
                        })
                        .collect();
                    let eta = rungs.iter().filter_map(|r| r.eta_secs).fold(0.0, f64::max);
                    self.line(&format!(
                        "{title}: {:>3.0}% | {} | ETA {eta:.0}s",
                        overall * 100.0,
                        parts.join(" | ")
                    ));
                }
            }
            JobEvent::Output { path, size_bytes } => {
                self.line(&format!(
                    "{title}: wrote {} ({})",
                    path.display(),
                    human_bytes(*size_bytes)
                ));
            }
            JobEvent::Skipped { rung, path } => {
                self.line(&format!(
                    "{title}: {rung} skipped: already made from the same source and settings ({}); --force redoes it",
                    path.display()
                ));
            }
            JobEvent::Warning { message } => self.line(&format!("{title}: warning: {message}")),
            JobEvent::Quality { quality: q } => self.line(&format!(
                "{title}: {} VMAF {:.2} (harmonic {:.2}, 1% low {:.2}, min {:.2}), SSIM {:.4}, PSNR {:.2} dB",
                q.rung,
                q.vmaf.mean,
                q.vmaf.harmonic_mean,
                q.vmaf.low_1pct,
                q.vmaf.min,
                q.ssim_mean,
                q.psnr_y_mean
            )),
            JobEvent::RungFailed { rung, error } => {
                if let Some(bar) = s.bars.get(rung) {
                    bar.abandon_with_message(format!("failed: {error}"));
                }
                self.line(&format!("{title}: {rung} failed: {error}"));
            }
            JobEvent::Finished { summary } => {
                for bar in s.bars.values() {
                    bar.finish_and_clear();
                }
                self.line(&format!(
                    "{title}: {} in {:.1}s: {} made, {} skipped, {} failed -> {}",
                    if summary.cancelled {
                        "cancelled"
                    } else {
                        "done"
                    },
                    summary.wall_secs,
                    summary.made.len(),
                    summary.skipped.len(),
                    summary.failed.len(),
                    summary.out_dir.display()
                ));
            }
            JobEvent::Stage { stage } => {
                if matches!(stage, Stage::Upload | Stage::Transcode) {
                    self.line(&format!("{title}: {}", stage_name(*stage)));
                }
            }
            JobEvent::Transfer {
                name,
                done_bytes,
                total_bytes,
                bytes_per_sec,
            } => {
                if let Some(m) = &self.bars {
                    let bar = s.bars.entry(name.clone()).or_insert_with(|| {
                        let bar = m.add(ProgressBar::new(*total_bytes));
                        bar.set_style(
                            ProgressStyle::with_template(
                                "{prefix:>16} [{bar:32.cyan/blue}] {bytes:>10}/{total_bytes:10} {binary_bytes_per_sec} ETA {eta}",
                            )
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                        );
                        bar.set_prefix(format!("{title} upload"));
                        bar
                    });
                    bar.set_length(*total_bytes);
                    bar.set_position(*done_bytes);
                } else if s.last_line.elapsed() >= Duration::from_secs(1)
                    || done_bytes == total_bytes
                {
                    s.last_line = Instant::now();
                    self.line(&format!(
                        "{title}: {name} {:>3.0}% {} of {} at {}/s",
                        *done_bytes as f64 * 100.0 / (*total_bytes).max(1) as f64,
                        human_bytes(*done_bytes),
                        human_bytes(*total_bytes),
                        human_bytes(*bytes_per_sec as u64)
                    ));
                }
            }
            JobEvent::CloudJob {
                job_id,
                status,
                phase,
                percent,
                ..
            } => {
                let phase = phase
                    .as_deref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default();
                self.line(&format!(
                    "{title}: MediaConvert job {job_id}: {status}{phase} {percent}%"
                ));
            }
        }
    }
}

struct State {
    bars: HashMap<String, ProgressBar>,
    last_line: Instant,
}

fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Probe => "probing",
        Stage::Encode => "encoding",
        Stage::Stills => "taking stills",
        Stage::Package => "packaging",
        Stage::Upload => "uploading the source",
        Stage::Transcode => "transcoding on MediaConvert",
        Stage::Quality => "measuring quality",
        Stage::Fit => "fitting the ladder to the source (encoding scored samples)",
        Stage::Loudness => "measuring the audio's loudness",
    }
}
