//! `vodkit quality SOURCE RUNG...`: scores existing files against their source. The source is
//! read once through the very preparation an encode uses ([`crate::local::source::Source`]);
//! every rung file is decoded on its own thread in step with it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;

use ffmpeg_next::{codec, decoder, format, frame, media};

use super::meter::Meter;
use super::stats::{RungFacts, RungQuality, summarize};
use crate::av::{self, ffmpeg};
use crate::job::{CancelToken, EventSink, JobEvent, Stage};
use crate::local::progress::{Counted, Meter as Progress};
use crate::local::rung::RungMsg;
use crate::local::source::{Fanout, Source};
use crate::plan::Plan;
use crate::probe::{MediaInfo, probe};

/// How scoring runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Score every N-th frame (1: all).
    pub every: u32,
    /// Segment length of the per-segment VMAF, seconds.
    pub segment_secs: f64,
    /// Write the compared pictures of each rung as `<rung>.reference.y4m` and
    /// `<rung>.distorted.y4m` into this folder (for the `vmaf` tool).
    pub dump_y4m: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            every: 1,
            segment_secs: super::stats::SEGMENT_SECS,
            dump_y4m: None,
        }
    }
}

/// A rung file checked and ready to score.
struct RungFile {
    path: PathBuf,
    facts: RungFacts,
    step: u32,
    /// The conversion of its pixels to BT.709 limited range (what the reference is in), read
    /// from its own tags (untagged: SD as BT.601, HD as BT.709, as players do).
    colour: Option<String>,
    /// An HDR rung (PQ or HLG): compared with the source's untouched HDR pictures, as the
    /// encode compares it, not with the tone-mapped ones.
    hdr: bool,
}

/// The plan whose preparation the source gets: the title's own (its `manifest.json`, when the
/// rungs sit in a Vodkit title folder made from this source), else a fresh plan of the source.
fn reference_plan(source: &MediaInfo, rungs: &[PathBuf]) -> Result<Plan, String> {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let want = canonical(&source.path);
    for rung in rungs {
        let Some(dir) = rung.parent() else { continue };
        let Ok(bytes) = std::fs::read(dir.join("manifest.json")) else {
            continue;
        };
        let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            continue;
        };
        let Ok(plan) = serde_json::from_value::<Plan>(manifest["plan"].clone()) else {
            continue;
        };
        // The manifest keeps only the file name of its source (privacy): compare names, and
        // the full path when it is there.
        let same_name = if plan.source.is_absolute() {
            canonical(&plan.source) == want
        } else {
            plan.source.file_name() == source.path.file_name()
        };
        // Two phones' IMG_0001.MOV share a name, not a size.
        let same_size = manifest["source"]["size_bytes"]
            .as_u64()
            .is_none_or(|n| n == source.size_bytes);
        let same = same_name && same_size;
        if !same {
            return Err(format!(
                "{}: its title was made from {}{}, not from {}; give the source it was made from",
                rung.display(),
                plan.source.display(),
                if same_name {
                    " (another file of that name: the sizes differ)"
                } else {
                    ""
                },
                source.path.display()
            ));
        }
        return Ok(Plan {
            source: source.path.clone(),
            ..plan
        });
    }
    let preset = crate::preset::store::builtin("web-ladder")
        .ok_or("the built-in web-ladder preset is missing")?;
    crate::plan::plan(source, &preset).map_err(|e| e.to_string())
}

/// Checks a rung file against the source: it has video, at the source's rate divided by a
/// whole number.
fn rung_file(path: &Path, source_fps: f64, source_secs: f64) -> Result<RungFile, String> {
    let info = crate::probe::probe_output(path).map_err(|e| e.to_string())?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let Some((stream, video)) = info.video() else {
        return Err(format!(
            "{}: has no video (audio only?); only video rungs can be scored",
            path.display()
        ));
    };
    // The stream's own rate (r_frame_rate); the average is skewed by edit lists on short files.
    let fps = video
        .real_frame_rate
        .or(video.avg_frame_rate)
        .filter(|f| *f > 0.0)
        .ok_or_else(|| format!("{}: its frame rate is unknown", path.display()))?;
    let step = (source_fps / fps).round().max(1.0);
    if (source_fps / step - fps).abs() > 0.01 * fps {
        return Err(format!(
            "{}: runs at {fps:.3} fps, which is not the source's {source_fps:.3} fps divided by a whole number; was it made from this source?",
            path.display()
        ));
    }
    let secs = stream
        .duration_secs
        .or(info.duration_secs)
        .unwrap_or(source_secs);
    // A frame or two of difference is rounding at the ends; more is another duration.
    let tolerance = (2.0 / fps).max(0.5);
    if (secs - source_secs).abs() > tolerance {
        return Err(format!(
            "{}: lasts {secs:.2} s but the source lasts {source_secs:.2} s; a rung must cover the whole source (was it made from this source, or cut?)",
            path.display()
        ));
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rung = stem
        .rsplit_once('_')
        .map_or(stem.clone(), |(_, r)| r.to_owned());
    Ok(RungFile {
        path: path.to_owned(),
        facts: RungFacts {
            rung,
            file: name,
            width: video.width,
            height: video.height,
            fps,
            bitrate_bps: info.video_bitrate_bps().unwrap_or(0),
        },
        step: step as u32,
        colour: if video.hdr.is_some() {
            None
        } else {
            crate::plan::ColourIn::of(video).filter()
        },
        hdr: video.hdr.is_some(),
    })
}

/// Decodes a rung file's pictures in display order, converted to BT.709 limited range when
/// its tags say otherwise.
struct RungReader {
    input: format::context::Input,
    index: usize,
    decoder: decoder::Video,
    done: bool,
    colour: Option<String>,
    graph: Option<ffmpeg_next::filter::Graph>,
    /// The stream's time base, seconds per tick.
    tick_secs: f64,
    /// The file's time zero (its earliest stream start), seconds.
    start_secs: f64,
    /// The rung's frame rate.
    fps: f64,
    /// The index the next picture without a timestamp gets.
    next_index: u64,
    /// Packets the decoder refused (each may cost a picture; reported, never silent).
    bad_packets: u64,
}

impl RungReader {
    fn open(path: &Path, colour: Option<String>, fps: f64) -> Result<Self, String> {
        let input =
            format::input(path).map_err(|e| format!("{}: cannot open: {e}", path.display()))?;
        let stream = input
            .streams()
            .best(media::Type::Video)
            .ok_or_else(|| format!("{}: has no video", path.display()))?;
        let index = stream.index();
        let tick_secs = f64::from(stream.time_base());
        let decoder = codec::context::Context::from_parameters(stream.parameters())
            .and_then(|c| c.decoder().video())
            .map_err(|e| format!("{}: cannot decode its video: {e}", path.display()))?;
        // SAFETY: reading a plain field of the open format context.
        let start = unsafe { (*input.as_ptr()).start_time };
        let start_secs = if start == ffmpeg::ffi::AV_NOPTS_VALUE {
            0.0
        } else {
            start as f64 / f64::from(ffmpeg::ffi::AV_TIME_BASE)
        };
        Ok(Self {
            input,
            index,
            decoder,
            done: false,
            colour,
            graph: None,
            tick_secs,
            start_secs,
            fps,
            next_index: 0,
            bad_packets: 0,
        })
    }

    /// `picture` in BT.709 limited range.
    fn converted(&mut self, picture: frame::Video) -> Result<frame::Video, String> {
        let Some(spec) = self.colour.as_deref() else {
            return Ok(picture);
        };
        if self.graph.is_none() {
            self.graph = Some(colour_graph(&picture, spec)?);
        }
        let graph = self.graph.as_mut().ok_or("no colour conversion")?;
        through(graph, &picture)
    }

    /// The next picture with its frame index on the rung's clock (from its timestamp: a
    /// picture the decoder lost does not shift the ones after it), or `None` at the end.
    fn next(&mut self) -> Result<Option<(u64, frame::Video)>, String> {
        let mut picture = frame::Video::empty();
        loop {
            match self.decoder.receive_frame(&mut picture) {
                Ok(()) => {
                    let index = match picture.timestamp() {
                        Some(ts) => {
                            let secs = ts as f64 * self.tick_secs - self.start_secs;
                            (secs * self.fps).round().max(0.0) as u64
                        }
                        None => self.next_index,
                    };
                    self.next_index = index + 1;
                    return self.converted(picture).map(|p| Some((index, p)));
                }
                Err(ffmpeg::Error::Eof) => return Ok(None),
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {}
                Err(e) => return Err(format!("decoding: {e}")),
            }
            if self.done {
                return Ok(None);
            }
            match av::read_packet(&mut self.input) {
                Ok(p) if p.stream() == self.index => {
                    if self.decoder.send_packet(&p).is_err() {
                        self.bad_packets += 1;
                    }
                }
                Ok(_) | Err(ffmpeg::Error::InvalidData) => {}
                Err(ffmpeg::Error::Eof) => {
                    let _ = self.decoder.send_eof();
                    self.done = true;
                }
                Err(e) => return Err(format!("reading: {e}")),
            }
        }
    }
}

/// A filter graph turning pictures like `picture` into BT.709 limited range 4:2:0 with `spec`
/// (a [`crate::plan::ColourIn`] filter).
pub(crate) fn colour_graph(
    picture: &frame::Video,
    spec: &str,
) -> Result<ffmpeg_next::filter::Graph, String> {
    let args = format!(
        "video_size={}x{}:pix_fmt={}:time_base=1/1:pixel_aspect=1/1",
        picture.width(),
        picture.height(),
        crate::local::source::av_pixel_format(picture.format())
    );
    crate::local::source::build_graph(
        "buffer",
        &args,
        "buffersink",
        &format!("{spec},format=yuv420p"),
        |_| {},
    )
}

/// One picture through a one-in, one-out graph.
pub(crate) fn through(
    graph: &mut ffmpeg_next::filter::Graph,
    picture: &frame::Video,
) -> Result<frame::Video, String> {
    let fail = |e: ffmpeg::Error| format!("converting colours: {e}");
    graph
        .get("in")
        .ok_or("no filter input")?
        .source()
        .add(picture)
        .map_err(fail)?;
    let mut out = frame::Video::empty();
    graph
        .get("out")
        .ok_or("no filter output")?
        .sink()
        .frame(&mut out)
        .map_err(fail)?;
    Ok(out)
}

/// Scores one rung file as the source's references arrive.
fn score_rung(
    rung: &RungFile,
    input: &Receiver<RungMsg>,
    options: &Options,
    threads: u32,
    done: &AtomicU64,
    cancel: &CancelToken,
) -> Result<RungQuality, String> {
    let named = |e: String| {
        if e.starts_with(&rung.path.display().to_string()) {
            e
        } else {
            format!("{}: {e}", rung.path.display())
        }
    };
    let mut reader =
        RungReader::open(&rung.path, rung.colour.clone(), rung.facts.fps).map_err(named)?;
    let mut meter: Option<Meter> = None;
    // A picture read ahead of the references (its index is past the newest one).
    let mut ahead: Option<(u64, frame::Video)> = None;
    let mut rung_ended = false;
    for msg in input {
        if cancel.is_cancelled() {
            return Err(named("cancelled".to_owned()));
        }
        let RungMsg::Video {
            sdr,
            hdr,
            index: source_index,
        } = msg
        else {
            continue;
        };
        let reference = match hdr {
            Some(hdr) if rung.hdr => hdr,
            _ => sdr,
        };
        if meter.is_none() {
            let size = (reference.width(), reference.height());
            let mut m = Meter::new(size, rung.step, options.every, threads).map_err(named)?;
            if let Some(dir) = &options.dump_y4m {
                let stem = rung
                    .path
                    .file_stem()
                    .map_or_else(|| "rung".into(), |s| s.to_string_lossy().into_owned());
                m.dump_to(
                    &dir.join(format!("{stem}.reference.y4m")),
                    &dir.join(format!("{stem}.distorted.y4m")),
                    rung.facts.fps,
                )
                .map_err(named)?;
            }
            meter = Some(m);
        }
        let Some(m) = meter.as_mut() else { continue };
        if rung_ended {
            // Nothing more will pair with it: counted, not kept.
            m.missed_reference(source_index);
            continue;
        }
        m.reference(source_index, &reference);
        if !source_index.is_multiple_of(m.step()) {
            continue;
        }
        // Read the rung up to this reference's picture, keeping one picture read ahead.
        let wanted = source_index / m.step();
        loop {
            if ahead.is_none() {
                ahead = reader.next().map_err(named)?;
                if ahead.is_none() {
                    rung_ended = true;
                    break;
                }
            }
            match ahead.take() {
                Some((n, picture)) if n <= wanted => {
                    m.distorted(n, &picture).map_err(named)?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                other => {
                    ahead = other;
                    break;
                }
            }
        }
    }
    if cancel.is_cancelled() {
        return Err(named("cancelled".to_owned()));
    }
    let meter = meter.ok_or_else(|| named("the source gave no pictures".to_owned()))?;
    // Pictures past the source's end count as extra.
    let mut extra = u64::from(ahead.is_some());
    while reader.next().map_err(named)?.is_some() {
        extra += 1;
    }
    let measured = meter.finish().map_err(named)?;
    let off = measured.missed + measured.unmatched + extra;
    // A genuine rung lines up picture for picture (a frame or two may differ at the ends).
    if off > 2 + measured.frames / 500 {
        return Err(named(format!(
            "{} of its pictures do not line up with the source's ({} compared, {} missing, {} extra{}); was it made from this source?",
            off,
            measured.frames,
            measured.missed,
            measured.unmatched + extra,
            if reader.bad_packets > 0 {
                format!(", {} damaged packets", reader.bad_packets)
            } else {
                String::new()
            }
        )));
    }
    let q = summarize(
        &rung.facts,
        &measured.scores,
        measured.frames,
        measured.every,
        measured.reference_size,
        measured.model,
        options.segment_secs,
    )
    .ok_or_else(|| named("no picture could be compared".to_owned()))?;
    // Any encode of the same pictures keeps PSNR-Y far above this; other content does not.
    if q.psnr_y_mean < 12.0 {
        return Err(named(format!(
            "its pictures do not look like the source's (PSNR-Y {:.1} dB, VMAF {:.1}); was it made from this source?",
            q.psnr_y_mean, q.vmaf.mean
        )));
    }
    Ok(q)
}

/// Scores `rungs` against `source`. Every rung is checked before any work starts; an error
/// names the file and the reason.
pub fn score_files(
    source: &Path,
    rungs: &[PathBuf],
    options: &Options,
    events: &EventSink,
    cancel: &CancelToken,
) -> Result<Vec<RungQuality>, String> {
    av::init();
    if rungs.is_empty() {
        return Err("give at least one rung file to score".to_owned());
    }
    let info = probe(source).map_err(|e| e.to_string())?;
    if info.video().is_none() {
        return Err(format!(
            "{}: has no video to compare against",
            source.display()
        ));
    }
    let plan = reference_plan(&info, rungs)?;
    let (Some(rate), true) = (plan.source_frame_rate, plan.duration_secs > 0.0) else {
        return Err(format!(
            "{}: its frame rate or duration is unknown",
            source.display()
        ));
    };
    let files: Vec<RungFile> = rungs
        .iter()
        .map(|r| rung_file(r, rate.fps(), plan.duration_secs))
        .collect::<Result<_, _>>()?;
    events(JobEvent::Stage {
        stage: Stage::Quality,
    });
    let plan_secs = plan.duration_secs;
    // The source is read once, without its audio.
    let mut reading = Plan {
        audio: None,
        extra_audio: Vec::new(),
        ..plan
    };
    // An HDR rung needs the source's HDR pictures: the reading makes them when a rung is HDR.
    let source_hdr = info.video().and_then(|(_, v)| v.hdr.clone());
    if let Some(transfer) = source_hdr
        && files.iter().any(|f| f.hdr)
        && !reading.rungs.iter().any(|r| r.is_made() && r.hdr.is_some())
        && let Some(r) = reading.rungs.iter_mut().find(|r| r.is_made())
    {
        r.hdr = Some(crate::plan::KeptHdr {
            transfer,
            metadata: Default::default(),
        });
    }
    let mut src = Source::open(&reading).map_err(|e| format!("{}: {e}", source.display()))?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
    // libvmaf's own threads do the scoring while this one decodes: the cores shared out.
    let threads = (cores / files.len() as u32).max(1);
    events(JobEvent::Started {
        source: source.to_owned(),
        rungs: files.iter().map(|f| f.facts.rung.clone()).collect(),
    });
    let counters: Vec<Arc<AtomicU64>> = files.iter().map(|_| Arc::default()).collect();
    let meter = Progress::new(
        files
            .iter()
            .zip(&counters)
            .map(|(f, done)| Counted {
                name: f.facts.rung.clone(),
                done: Arc::clone(done),
                total: (plan_secs * f.facts.fps).round().max(1.0) as u64,
                fps: f.facts.fps,
            })
            .collect(),
    );
    let running = AtomicBool::new(true);
    let mut senders = Vec::new();
    let results = std::thread::scope(|scope| {
        let reporter = scope.spawn(|| {
            let mut meter = meter;
            while running.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(250));
                if !cancel.is_cancelled() {
                    events(meter.reading());
                }
            }
            if !cancel.is_cancelled() {
                events(meter.reading());
            }
        });
        let mut handles = Vec::new();
        for (f, done) in files.iter().zip(&counters) {
            let (tx, rx) = std::sync::mpsc::sync_channel(8);
            senders.push(Some(tx));
            let cancel = cancel.clone();
            handles.push(scope.spawn(move || score_rung(f, &rx, options, threads, done, &cancel)));
        }
        let mut fanout = Fanout { senders };
        let read = src.run(&mut fanout, cancel, None);
        drop(fanout);
        let scored: Vec<Result<RungQuality, String>> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a scoring thread crashed".to_owned()))
            })
            .collect();
        running.store(false, Ordering::Relaxed);
        let _ = reporter.join();
        (read, scored)
    });
    let (read, scored) = results;
    read.map_err(|e| format!("{}: {e}", source.display()))?;
    let mut out = Vec::new();
    for q in scored {
        let q = q?;
        events(JobEvent::Quality {
            quality: Box::new(q.clone()),
        });
        out.push(q);
    }
    Ok(out)
}
