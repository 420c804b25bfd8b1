//! The local backend: one decode of the source feeds every rung of a [`Plan`] (each rung its
//! own scaler, encoder and muxer on its own thread, fed through bounded channels), the audio
//! is encoded once, stills are taken by seeking to keyframes, and a `manifest.json` records
//! what was made. Re-running skips rungs already complete and identical.

mod encoder_options;
pub mod estimate;
pub mod loudness;
pub(crate) mod manifest;
pub mod per_title;
pub mod progress;
pub mod rung;
pub mod samples;
pub mod source;
pub mod stills;
pub mod target_size;
pub mod titles;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use encoder_options::crf;
pub use manifest::{Manifest, ManifestRung, Prediction};
pub use source::video_filter_spec;

use crate::job::{CancelToken, EventSink, JobEvent, Stage, Summary};
use crate::plan::Plan;
use crate::preset::{Container, Preset};
use crate::probe::MediaInfo;

/// Frames in flight per rung: enough to keep encoders busy, small enough to keep memory flat.
const CHANNEL_FRAMES: usize = 8;
/// How often progress is reported (at least four times a second).
const PROGRESS_INTERVAL: Duration = Duration::from_millis(200);

/// Why a local encode could not run at all (rung failures are in the summary instead).
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The output folder cannot be created or written.
    #[error("cannot write to {path}: {reason}")]
    Output {
        /// The folder.
        path: PathBuf,
        /// The OS error.
        reason: String,
    },
    /// The title folder is being written by another job, or cannot be made.
    #[error("{reason}")]
    Title {
        /// Which folder and why, in words.
        reason: String,
    },
    /// The source could not be opened or decoded.
    #[error("{path}: {reason}")]
    Source {
        /// The source.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
}

/// What scoring during the encode measured on a rung, summed up.
fn quality_of(
    path: &Path,
    r: &crate::plan::PlannedRung,
    m: &crate::quality::meter::Measured,
) -> Result<crate::quality::RungQuality, String> {
    let off = m.missed + m.unmatched;
    if off > 2 + m.frames / 500 {
        return Err(format!(
            "{off} pictures did not line up ({} compared, {} missing, {} extra)",
            m.frames, m.missed, m.unmatched
        ));
    }
    let info = crate::probe::probe_output(path).ok();
    let bitrate_bps = info
        .as_ref()
        .and_then(|i| i.video_bitrate_bps().or(i.bitrate_bps))
        .unwrap_or(0);
    crate::quality::stats::summarize(
        &crate::quality::stats::RungFacts {
            rung: r.name.clone(),
            file: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            width: r.width,
            height: r.height,
            fps: r.frame_rate.fps(),
            bitrate_bps,
        },
        &m.scores,
        m.frames,
        m.every,
        m.reference_size,
        m.model,
        crate::quality::stats::SEGMENT_SECS,
    )
    .ok_or_else(|| "no picture was scored".to_owned())
}

/// Writes a file whole or not at all: to `.name.part` beside it (the rungs' own
/// [`rung::temporary_path`]), then renamed over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = rung::temporary_path(path);
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("writing {}: {e}", path.display())
        })
}

/// The file of one rung: `<title>_<name>.mp4` (or `<title>.m4a` for audio only).
pub fn rung_file(plan: &Plan, rung_name: Option<&str>) -> String {
    match rung_name {
        Some(name) => format!("{}_{name}.mp4", plan.title),
        None => format!("{}.m4a", plan.title),
    }
}

/// Rung files in a title folder (`<title>_*.mp4`, `<title>.m4a`) that the plan does not make.
fn stale_rungs(dir: &Path, plan: &Plan) -> Vec<String> {
    let mut wanted: Vec<String> = plan
        .made_rungs()
        .map(|r| rung_file(plan, Some(&r.name)))
        .collect();
    if plan.rungs.is_empty() {
        wanted.push(rung_file(plan, None));
    }
    let prefix = format!("{}_", plan.title);
    let audio = rung_file(plan, None);
    let mut stale: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| (n.starts_with(&prefix) && n.ends_with(".mp4")) || *n == audio)
        .filter(|n| !wanted.contains(n))
        .collect();
    stale.sort();
    stale
}

/// Encoder threads for a rung: the encoders run side by side, so a rung that carries a small
/// share of the pixels gets one thread (less overhead), and the big ones let the encoder
/// spread over the cores (they set the pace of the whole ladder).
fn encoder_threads(rung: &crate::plan::PlannedRung, plan: &Plan) -> usize {
    let load = |r: &crate::plan::PlannedRung| {
        f64::from(r.width) * f64::from(r.height) * r.frame_rate.fps()
    };
    let total: f64 = plan.made_rungs().map(load).sum();
    if total > 0.0 && load(rung) / total < SMALL_RUNG_SHARE {
        1
    } else {
        0
    }
}

/// Below this share of the ladder's pixels per second, a rung's encoder runs on one thread.
const SMALL_RUNG_SHARE: f64 = 0.3;

/// Encodes a plan into `out_dir/<title>/`. Reports events through `events`; returns the
/// summary (also sent as the last event). Rungs an earlier run made from the same source and
/// settings are skipped.
pub fn encode(
    info: &MediaInfo,
    preset: &Preset,
    plan: &Plan,
    out_dir: &Path,
    events: &EventSink,
    cancel: &CancelToken,
) -> Result<Summary, EncodeError> {
    encode_with(info, preset, plan, out_dir, events, cancel, false)
}

/// [`encode`], with `force` redoing rungs an earlier run already made.
pub fn encode_with(
    info: &MediaInfo,
    preset: &Preset,
    plan: &Plan,
    out_dir: &Path,
    events: &EventSink,
    cancel: &CancelToken,
    force: bool,
) -> Result<Summary, EncodeError> {
    let started = Instant::now();
    // The title folder: this source's own (same-named sources get `-2`, another preset gets
    // `-<preset>`), locked against other jobs until this one ends.
    let claim = titles::Claim::take(
        out_dir,
        &plan.title,
        &titles::Owner::new(&plan.source, &plan.preset),
    )
    .map_err(|reason| EncodeError::Title { reason })?;
    let plan = &Plan {
        title: claim.title.clone(),
        ..plan.clone()
    };
    let dir = claim.dir.clone();
    let mut done = manifest::DoneRecord::load(&dir);

    // What to make, and what an earlier run already made.
    struct Todo {
        name: String,
        path: PathBuf,
        rung: Option<crate::plan::PlannedRung>,
        key: serde_json::Value,
    }
    let mut todo = Vec::new();
    let mut skipped = Vec::new();
    let targets: Vec<Option<&crate::plan::PlannedRung>> = if preset.container == Container::M4a {
        vec![None]
    } else {
        plan.made_rungs().map(Some).collect()
    };
    for r in targets {
        let name = r.map_or_else(|| "audio".to_owned(), |r| r.name.clone());
        let file = rung_file(plan, r.map(|r| r.name.as_str()));
        let path = dir.join(&file);
        let key = manifest::fingerprint(info, preset, plan, r);
        if !force && done.is_complete(&file, &key, &path) {
            events(JobEvent::Skipped {
                rung: name.clone(),
                path: path.clone(),
            });
            skipped.push(name);
        } else {
            todo.push(Todo {
                name,
                path,
                rung: r.cloned(),
                key,
            });
        }
    }
    events(JobEvent::Started {
        source: plan.source.clone(),
        rungs: todo.iter().map(|t| t.name.clone()).collect(),
    });
    // Loudness normalisation: a first pass over the audio measures each track, and the plan
    // the encode follows (and the manifest records) carries the gain.
    let measured_plan;
    let wants_loudness = plan
        .audio_tracks()
        .any(|a| a.loudness.is_some_and(|l| l.gain_db.is_none()));
    let plan = if !todo.is_empty() && wants_loudness {
        events(JobEvent::Stage {
            stage: crate::job::Stage::Loudness,
        });
        let mut p = plan.clone();
        loudness::measure(&mut p, cancel).map_err(|reason| EncodeError::Source {
            path: plan.source.clone(),
            reason,
        })?;
        measured_plan = p;
        &measured_plan
    } else {
        plan
    };

    // Stills come from the encode's own decoded pictures when there is an encode.
    let mut tap = plan
        .stills
        .as_ref()
        .filter(|_| !todo.is_empty() && plan.source_display.is_some())
        .map(|s| stills::Tap::new(plan, s, &dir.join("stills")));
    let mut made = Vec::new();
    let mut failed = Vec::new();
    let mut measured: Vec<crate::quality::RungQuality> = Vec::new();
    let todo_was_empty = todo.is_empty();
    // Subtitle cues, read once: muxed into every rung (mov_text) and written as WebVTT. A
    // track that cannot be read stops the job before anything is encoded (rungs made without
    // it would be skipped as done on the next run).
    let text_tracks = if plan.subtitles.is_empty() {
        Vec::new()
    } else {
        crate::subtitles::outputs::cues(plan).map_err(|e| EncodeError::Source {
            path: plan.source.clone(),
            reason: format!("subtitles: {e}"),
        })?
    };
    let text_in: Arc<Vec<rung::TextIn>> = Arc::new(
        text_tracks
            .iter()
            .filter(|(t, _)| t.is_text())
            .map(|(t, cues)| rung::TextIn {
                language: t
                    .language
                    .as_deref()
                    .and_then(crate::subtitles::languages::find)
                    .map_or_else(|| "und".to_owned(), |l| l.three.to_owned()),
                name: t.name.clone(),
                default: t.default,
                forced: t.forced,
                samples: crate::subtitles::tx3g::samples(cues, plan.duration_secs),
                end_secs: plan.duration_secs,
            })
            .collect(),
    );
    if !todo_was_empty {
        events(JobEvent::Stage {
            stage: Stage::Encode,
        });
        // A burned-in track: its cues as SubRip for libass, in a private folder removed after.
        let burn_dir = per_title::Scratch::new("burn");
        let burn_file = match text_tracks.iter().find(|(t, _)| t.burned) {
            Some((_, cues)) => {
                let file = burn_dir.join("cues.srt");
                std::fs::create_dir_all(&*burn_dir)
                    .and_then(|()| std::fs::write(&file, crate::subtitles::srt::write(cues)))
                    .map_err(|e| EncodeError::Output {
                        path: file.clone(),
                        reason: e.to_string(),
                    })?;
                Some(file)
            }
            None => None,
        };
        let mut src =
            source::Source::open_burning(plan, burn_file.as_deref()).map_err(|reason| {
                EncodeError::Source {
                    path: plan.source.clone(),
                    reason,
                }
            })?;
        let audio_in = src.audio_in(plan);
        let metadata: Vec<(String, String)> = if preset.metadata.keep_phone_metadata {
            [
                ("creation_time", &info.creation_time),
                ("location", &info.location),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_owned(), v.clone())))
            .chain(info.tags.iter().cloned())
            .collect()
        } else {
            Vec::new()
        };
        let chapters = Arc::new(plan.chapters.clone());
        let counters: Vec<Arc<AtomicU64>> =
            todo.iter().map(|_| Arc::new(AtomicU64::new(0))).collect();
        let totals: Vec<u64> = todo
            .iter()
            .map(|t| match &t.rung {
                Some(r) => (plan.duration_secs * r.frame_rate.fps()).round().max(1.0) as u64,
                None => 1,
            })
            .collect();
        let grid = plan.keyframes.unwrap_or_else(|| {
            let rate = plan
                .source_frame_rate
                .unwrap_or(crate::plan::FrameRate { num: 25, den: 1 });
            let steps: Vec<u32> = plan.made_rungs().map(|r| r.frame_step).collect();
            crate::timing::KeyframeGrid::new(rate.num, rate.den, preset.video.gop_secs, &steps)
        });
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for (t, counter) in todo.iter().zip(&counters) {
            let (tx, rx) = std::sync::mpsc::sync_channel(CHANNEL_FRAMES);
            senders.push(Some(tx));
            let job = rung::RungJob {
                path: t.path.clone(),
                video: t.rung.clone().map(|r| rung::VideoOut {
                    threads: encoder_threads(&r, plan),
                    score_every: preset.quality.measure.then_some(preset.quality.every),
                    rung: r,
                    settings: preset.video.clone(),
                    grid,
                }),
                audio: audio_in.clone(),
                metadata: metadata.clone(),
                chapters: Arc::clone(&chapters),
                subtitles: Arc::clone(&text_in),
                frames_done: Arc::clone(counter),
            };
            let cancel = cancel.clone();
            let handle = std::thread::Builder::new()
                .name(format!("vodkit-rung-{}", t.name))
                .spawn(move || rung::run(job, rx, &cancel))
                .map_err(|e| EncodeError::Output {
                    path: dir.clone(),
                    reason: format!("cannot start a worker thread: {e}"),
                })?;
            handles.push(handle);
        }

        let mut fanout = source::Fanout { senders };
        let meter = progress::Meter::new(
            todo.iter()
                .zip(&counters)
                .zip(&totals)
                .map(|((t, done), &total)| progress::Counted {
                    name: t.name.clone(),
                    done: Arc::clone(done),
                    total,
                    fps: t.rung.as_ref().map_or(1.0, |r| r.frame_rate.fps()),
                })
                .collect(),
        );
        // A reporter ticks while the source is read and while the encoders flush.
        let running = AtomicBool::new(true);
        let (run_result, outcomes) = std::thread::scope(|scope| {
            let reporter = std::thread::Builder::new()
                .name("vodkit-progress".to_owned())
                .spawn_scoped(scope, || {
                    let mut meter = meter;
                    while running.load(Ordering::Relaxed) {
                        std::thread::sleep(PROGRESS_INTERVAL);
                        if !cancel.is_cancelled() {
                            events(meter.reading());
                        }
                    }
                    meter
                });
            let run_result = src.run(&mut fanout, cancel, tap.as_mut());
            drop(fanout); // hang up: workers flush and finish
            let outcomes: Vec<Result<rung::Rendered, String>> = handles
                .into_iter()
                // A worker that panicked is a bug; report it as that rung's failure.
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("the worker thread crashed".to_owned()))
                })
                .collect();
            running.store(false, Ordering::Relaxed);
            if let Ok(Ok(mut meter)) = reporter.map(|r| r.join())
                && !cancel.is_cancelled()
            {
                events(meter.reading());
            }
            (run_result, outcomes)
        });
        if let Err(reason) = run_result {
            // The source failed part-way: nothing is complete; workers already removed their files.
            for (t, outcome) in todo.iter().zip(&outcomes) {
                if let Ok(r) = outcome {
                    let _ = std::fs::remove_file(&r.path);
                }
                failed.push((t.name.clone(), reason.clone()));
            }
            return Err(EncodeError::Source {
                path: plan.source.clone(),
                reason,
            });
        }
        for (t, outcome) in todo.iter().zip(outcomes) {
            match outcome {
                Ok(rendered) if !cancel.is_cancelled() => {
                    let path = rendered.path;
                    let size_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                    if let Some(file) = path.file_name() {
                        done.mark(&file.to_string_lossy(), t.key.clone());
                        done.save(&dir);
                    }
                    match (rendered.measured, &t.rung) {
                        (Some(Ok(m)), Some(r)) => match quality_of(&path, r, &m) {
                            Ok(q) => {
                                events(JobEvent::Quality {
                                    quality: Box::new(q.clone()),
                                });
                                measured.push(q);
                            }
                            Err(e) => events(JobEvent::Warning {
                                message: format!("{}: quality not measured: {e}", t.name),
                            }),
                        },
                        (Some(Err(e)), _) => events(JobEvent::Warning {
                            message: format!("{}: quality not measured: {e}", t.name),
                        }),
                        _ => {}
                    }
                    events(JobEvent::Output { path, size_bytes });
                    made.push(t.name.clone());
                }
                Ok(rendered) => {
                    let path = rendered.path;
                    // Cancelled after this rung finished writing: it is whole, but the job
                    // was not; keep nothing that looks finished from a cancelled run.
                    let _ = std::fs::remove_file(path);
                }
                Err(error) if cancel.is_cancelled() => drop(error),
                Err(error) => {
                    events(JobEvent::RungFailed {
                        rung: t.name.clone(),
                        error: error.clone(),
                    });
                    failed.push((t.name.clone(), error));
                }
            }
        }
    }

    let cancelled = cancel.is_cancelled();
    let mut still_paths = Vec::new();
    if !cancelled && let Some(s) = &plan.stills {
        events(JobEvent::Stage {
            stage: Stage::Stills,
        });
        let tapped = tap.filter(|t| t.error.is_none() && t.paths.len() == s.times_secs.len());
        // Without an encode (every rung already done) or if the tap fell short, seek for them.
        let taken = match tapped {
            Some(t) => Ok(t.paths),
            None => stills::take(plan, s, &dir.join("stills"), cancel),
        };
        match taken {
            Ok(paths) => {
                for p in &paths {
                    let size_bytes = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                    events(JobEvent::Output {
                        path: p.clone(),
                        size_bytes,
                    });
                }
                still_paths = paths;
            }
            Err(e) => events(JobEvent::Warning {
                message: format!("stills: {e}"),
            }),
        }
    }
    if !cancelled {
        // The subtitle tracks as WebVTT files; one that cannot be written fails like a rung
        // (the title is not presented as whole).
        match crate::subtitles::outputs::write(&dir, &text_tracks) {
            Ok(files) => {
                for (path, _) in files {
                    let size_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                    events(JobEvent::Output { path, size_bytes });
                }
            }
            Err(error) => {
                events(JobEvent::RungFailed {
                    rung: "subtitles".to_owned(),
                    error: error.clone(),
                });
                failed.push(("subtitles".to_owned(), error));
            }
        }
    }
    if !cancelled {
        // Rungs an earlier encode of this title made and this plan does not: removed, so the
        // folder, its manifest, the packaged output and `serve` agree.
        for stale in stale_rungs(&dir, plan) {
            let _ = std::fs::remove_file(dir.join(&stale));
            events(JobEvent::Warning {
                message: format!(
                    "removed {stale}: an earlier encode's rung that this plan does not make"
                ),
            });
        }
        let kept: Vec<String> = skipped
            .iter()
            .map(|name| {
                let rung = (name != "audio").then_some(name.as_str());
                rung_file(plan, rung)
            })
            .collect();
        let made = manifest::Made {
            stills: &still_paths,
            measured: &measured,
            kept: &kept,
            wall_secs: (!todo_was_empty).then(|| started.elapsed().as_secs_f64()),
        };
        match manifest::write(&dir, info, preset, plan, &made) {
            Ok((path, written)) => {
                if preset.quality.measure {
                    let unmeasured: Vec<&str> = written
                        .rungs
                        .iter()
                        .filter(|r| r.quality.is_none() && kept.contains(&r.file))
                        .map(|r| r.name.as_str())
                        .collect();
                    if !unmeasured.is_empty() {
                        events(JobEvent::Warning {
                            message: format!(
                                "quality not measured for {} (made by an earlier run without measuring); --force remakes and measures them, or score them with vodkit quality",
                                unmeasured.join(", ")
                            ),
                        });
                    }
                }
                let report = dir.join("quality.html");
                for path in [path, report] {
                    if let Ok(meta) = std::fs::metadata(&path) {
                        events(JobEvent::Output {
                            path,
                            size_bytes: meta.len(),
                        });
                    }
                }
            }
            Err(e) => events(JobEvent::Warning {
                message: format!("manifest: {e}"),
            }),
        }
    }
    // Package when the preset asks for it and every rung is there.
    let packages = preset.packaging.hls || preset.packaging.dash;
    if !cancelled && packages && failed.is_empty() && !plan.rungs.is_empty() {
        events(JobEvent::Stage {
            stage: Stage::Package,
        });
        match crate::package::package(&dir) {
            Ok(p) => {
                for name in ["index.m3u8", "index.mpd", "index.smil"] {
                    let path = dir.join(name);
                    if let Ok(meta) = std::fs::metadata(&path) {
                        events(JobEvent::Output {
                            path,
                            size_bytes: meta.len(),
                        });
                    }
                }
                // The packaging target: HLS + DASH media within 1.05x the MP4 rungs.
                if p.media_bytes as f64 > 1.05 * p.mp4_bytes as f64 {
                    events(JobEvent::Warning {
                        message: format!(
                            "packaged media is {:.2}x the MP4 rungs",
                            p.media_bytes as f64 / p.mp4_bytes.max(1) as f64
                        ),
                    });
                }
            }
            Err(e) => failed.push(("package".to_owned(), e.to_string())),
        }
    }
    let summary = Summary {
        source: plan.source.clone(),
        out_dir: dir,
        made,
        skipped,
        failed,
        cancelled,
        wall_secs: started.elapsed().as_secs_f64(),
    };
    events(JobEvent::Finished {
        summary: summary.clone(),
    });
    Ok(summary)
}
