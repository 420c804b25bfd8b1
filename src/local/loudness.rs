//! Loudness normalisation's first pass: every output audio track of a plan that asks for a
//! loudness is decoded once, through the same filters as its encode (rate, channels, time
//! zero, trim), and measured with FFmpeg's `ebur128` (ITU-R BS.1770: integrated loudness with
//! its gates, true peak at 4x oversampling). The plan then carries what was measured and the
//! gain the encode applies (see [`crate::plan::Loudness::filters`]), so the audio is still
//! encoded once for every rung.

use ffmpeg_next::{format, frame};

use super::source::{audio_filter_spec, build_graph};
use crate::av::{self, ffmpeg};
use crate::job::CancelToken;
use crate::plan::{Plan, PlannedAudio};

/// What a track measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// Integrated loudness, LUFS (`-inf` or very low for silence).
    pub integrated_lufs: f64,
    /// True peak, dBTP.
    pub true_peak_dbtp: f64,
}

struct Track {
    index: usize,
    decoder: ffmpeg::decoder::Audio,
    graph: ffmpeg::filter::Graph,
    zero_pts: i64,
    end_pts: Option<i64>,
    last: Option<Measured>,
}

impl Track {
    fn open(input: &format::context::Input, a: &PlannedAudio, plan: &Plan) -> Result<Self, String> {
        let super::source::AudioDecoding {
            index,
            decoder,
            time_base: tb,
            buffer_args: args,
        } = super::source::open_audio_decoder(input, a)?;
        let spec = format!(
            "{},ebur128=peak=true:metadata=1",
            audio_filter_spec(a, plan, false)
        );
        let graph = build_graph("abuffer", &args, "abuffersink", &spec, |_| {})?;
        let in_tb = |secs: f64| {
            (secs * f64::from(tb.denominator()) / f64::from(tb.numerator().max(1))).round() as i64
        };
        Ok(Self {
            index,
            decoder,
            graph,
            zero_pts: in_tb(plan.timeline.zero_secs),
            end_pts: plan.trim.map(|_| in_tb(plan.duration_secs)),
            last: None,
        })
    }

    fn pump(&mut self) -> Result<(), String> {
        let mut decoded = frame::Audio::empty();
        loop {
            match self.decoder.receive_frame(&mut decoded) {
                Ok(()) => {
                    let ts = decoded.timestamp().map(|t| t - self.zero_pts);
                    if let (Some(pts), Some(end)) = (ts, self.end_pts)
                        && pts >= end
                    {
                        continue;
                    }
                    decoded.set_pts(ts);
                    self.graph
                        .get("in")
                        .ok_or("the loudness graph lost its input")?
                        .source()
                        .add(&decoded)
                        .map_err(|e| format!("loudness filters: {e}"))?;
                    self.pull()?;
                }
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                    return Ok(());
                }
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(ffmpeg::Error::InvalidData) => continue,
                Err(e) => return Err(format!("decoding audio: {e}")),
            }
        }
    }

    /// Reads the running measurement off every frame out of the meter.
    fn pull(&mut self) -> Result<(), String> {
        let mut sink = self
            .graph
            .get("out")
            .ok_or("the loudness graph lost its output")?;
        loop {
            let mut out = frame::Audio::empty();
            match sink.sink().frame(&mut out) {
                Ok(()) => {
                    let meta = out.metadata();
                    let read = |k: &str| meta.get(k).and_then(|v| v.trim().parse::<f64>().ok());
                    if let (Some(i), Some(peak)) =
                        (read("lavfi.r128.I"), read("lavfi.r128.true_peak"))
                    {
                        self.last = Some(Measured {
                            integrated_lufs: i,
                            true_peak_dbtp: 20.0 * peak.max(1e-10).log10(),
                        });
                    }
                }
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                    return Ok(());
                }
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(e) => return Err(format!("loudness filters: {e}")),
            }
        }
    }

    fn finish(&mut self) -> Result<Option<Measured>, String> {
        let _ = self.decoder.send_eof();
        self.pump()?;
        self.graph
            .get("in")
            .ok_or("the loudness graph lost its input")?
            .source()
            .flush()
            .map_err(|e| format!("loudness filters: {e}"))?;
        self.pull()?;
        Ok(self.last)
    }
}

/// Measures every track of `plan` that asks for a loudness and sets its gain. A track that
/// is silent keeps its level (and says so). Returns without change when no track asks.
pub fn measure(plan: &mut Plan, cancel: &CancelToken) -> Result<(), String> {
    let wanted: Vec<usize> = plan
        .audio
        .iter()
        .chain(&plan.extra_audio)
        .enumerate()
        .filter(|(_, a)| a.loudness.is_some_and(|l| l.gain_db.is_none()))
        .map(|(k, _)| k)
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    av::init();
    let source = plan.source.clone();
    let named = |e: String| format!("measuring the loudness of {}: {e}", source.display());
    let mut input = format::input(&plan.source).map_err(|e| named(e.to_string()))?;
    let tracks: Vec<&PlannedAudio> = plan.audio.iter().chain(&plan.extra_audio).collect();
    let mut meters = wanted
        .iter()
        .map(|&k| Track::open(&input, tracks[k], plan).map(|t| (k, t)))
        .collect::<Result<Vec<_>, String>>()
        .map_err(named)?;
    loop {
        if cancel.is_cancelled() {
            return Ok(());
        }
        match av::read_packet(&mut input) {
            Ok(packet) => {
                for (_, m) in meters
                    .iter_mut()
                    .filter(|(_, m)| m.index == packet.stream())
                {
                    let _ = m.decoder.send_packet(&packet);
                    m.pump().map_err(named)?;
                }
            }
            Err(ffmpeg::Error::Eof) => break,
            Err(ffmpeg::Error::InvalidData) => {}
            Err(e) => return Err(named(format!("reading: {e}"))),
        }
    }
    for (k, meter) in &mut meters {
        let measured = meter.finish().map_err(named)?;
        let track = if *k == 0 && plan.audio.is_some() {
            plan.audio.as_mut()
        } else {
            let extra = *k - usize::from(plan.audio.is_some());
            plan.extra_audio.get_mut(extra)
        };
        if let Some(l) = track.and_then(|t| t.loudness.as_mut()) {
            match measured {
                Some(m) => {
                    // BS.1770's absolute gate: anything quieter is silence.
                    l.measured_lufs = Some(m.integrated_lufs.max(-70.0));
                    l.measured_true_peak_dbtp = Some(m.true_peak_dbtp);
                    l.gain_db = l.gain_for(m.integrated_lufs);
                }
                None => l.measured_lufs = Some(-70.0),
            }
        }
    }
    Ok(())
}
