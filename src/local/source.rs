//! The source side of a local encode: demux once, decode the video once through one filter
//! graph (deinterlace, square pixels, HDR to SDR or colour to BT.709 limited range, rotation,
//! constant rate, 8-bit 4:2:0), decode and encode the audio once (48 kHz stereo AAC-LC), and
//! hand both to every rung. When rungs keep an HDR source's dynamic range, the same decoded
//! pictures also go through a second graph without tone mapping (10-bit 4:2:0, the source's
//! transfer and colour untouched), and each picture reaches the rungs as an SDR and HDR pair.
//! Both streams are shifted to the plan's time zero on the way in (see [`crate::timing`]): the
//! video's constant-rate sequence and the audio start at zero.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;

use ffmpeg_next::{
    Dictionary, Packet, Rational, codec, decoder, encoder, filter, format, frame, media,
};

use super::rung::{AudioIn, RungMsg};
use crate::av::{self, ffmpeg};
use crate::job::CancelToken;
use crate::plan::{FrameRate, PictureTransform, Plan, PlannedAudio};

/// The filter chain that turns decoded source pictures into upright, square-pixel, progressive,
/// SDR pictures at the source's display size, followed by `tail` (what the caller needs next:
/// constant rate and pixel format for encoding, a thumbnail size for stills).
pub fn picture_filters(
    t: &PictureTransform,
    square: Option<(u32, u32)>,
    tail: &[String],
) -> String {
    let mut chain: Vec<String> = Vec::new();
    if t.deinterlace {
        chain.push("bwdif=mode=send_frame:parity=auto:deint=all".to_owned());
    }
    // Deblocking on the source's own block grid, which starts at its top-left corner (a crop
    // first would move it).
    if t.deblock {
        chain.push("deblock=filter=weak:block=8".to_owned());
    }
    // Black borders next (after deinterlacing, which needs whole fields): every later step
    // works on the picture itself.
    if let Some(b) = &t.crop {
        chain.push(b.filter());
    }
    // Noise reduction at the source's own size, before any scaling spreads it.
    if let Some(f) = t.denoise.filter() {
        chain.push(f.to_owned());
    }
    if let Some((w, h)) = square {
        chain.push(format!("scale={w}:{h}:flags=bicubic"));
    }
    if t.hdr_to_sdr.is_some() {
        chain.push(
            "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv"
                .to_owned(),
        );
    } else if let Some(convert) = t.colour.filter() {
        chain.push(convert);
    }
    match t.rotate_deg {
        90 => chain.push("transpose=clock".to_owned()),
        180 => chain.push("hflip,vflip".to_owned()),
        270 => chain.push("transpose=cclock".to_owned()),
        _ => {}
    }
    chain.extend(tail.iter().cloned());
    chain.join(",")
}

/// The encoding chain: [`picture_filters`], then constant rate from time zero (the first
/// picture is held from zero when the video starts late; the last frame is kept), 8-bit 4:2:0
/// and square pixels.
pub fn video_filter_spec(
    t: &PictureTransform,
    rate: FrameRate,
    square: Option<(u32, u32)>,
) -> String {
    picture_filters(t, square, &encoding_tail(rate, "yuv420p"))
}

/// The chain for HDR rungs: the same steps without tone mapping or colour conversion (the
/// source's PQ or HLG, BT.2020 pictures as they are), 10-bit 4:2:0.
pub fn hdr_filter_spec(
    t: &PictureTransform,
    rate: FrameRate,
    square: Option<(u32, u32)>,
) -> String {
    let untouched = PictureTransform {
        hdr_to_sdr: None,
        colour: crate::plan::ColourIn::default(),
        ..t.clone()
    };
    picture_filters(&untouched, square, &encoding_tail(rate, "yuv420p10le"))
}

fn encoding_tail(rate: FrameRate, pixel_format: &str) -> [String; 3] {
    [
        format!("fps={}/{}:start_time=0:eof_action=pass", rate.num, rate.den),
        format!("format={pixel_format}"),
        "setsar=1".to_owned(),
    ]
}

/// Where decoded material goes: one sender per live rung.
pub struct Fanout {
    /// Senders; `None` once that rung has gone (failed).
    pub senders: Vec<Option<SyncSender<RungMsg>>>,
}

impl Fanout {
    /// Sends to every live rung; a rung that hung up is marked gone.
    fn send(&mut self, make: impl Fn() -> RungMsg) {
        for slot in &mut self.senders {
            if let Some(tx) = slot
                && tx.send(make()).is_err()
            {
                *slot = None;
            }
        }
    }

    /// True while at least one rung still listens.
    fn any_alive(&self) -> bool {
        self.senders.iter().any(Option::is_some)
    }
}

/// The opened source: demuxer, decoders and filters.
pub struct Source {
    input: format::context::Input,
    video: Option<VideoSide>,
    /// The main audio track, then the others (other languages, commentary).
    audios: Vec<AudioSide>,
}

struct VideoSide {
    index: usize,
    decoder: decoder::Video,
    graph: filter::Graph,
    /// The HDR rungs' graph, when there are HDR rungs.
    hdr_graph: Option<filter::Graph>,
    /// Pictures out of each graph not yet paired with the other graph's.
    pending_sdr: VecDeque<frame::Video>,
    pending_hdr: VecDeque<frame::Video>,
    frames_out: u64,
    /// End of the last decoded frame (its pts plus one frame interval), in stream time base,
    /// relative to time zero.
    end_pts: i64,
    last_pts: Option<i64>,
    /// Time zero in the stream's time base: subtracted from every decoded picture's pts.
    zero_pts: i64,
    /// A trimmed output's end, relative to zero in the stream's time base: later pictures are
    /// not used.
    end_limit: Option<i64>,
    /// A picture at or past the end was seen (a trimmed read can stop).
    past_end: bool,
}

struct AudioSide {
    /// Its place among the outputs' audio tracks (0: the main one).
    track: usize,
    index: usize,
    decoder: decoder::Audio,
    graph: filter::Graph,
    encoder: encoder::Audio,
    time_base: Rational,
    /// Time zero in the stream's time base: subtracted from every decoded frame's pts.
    zero_pts: i64,
    /// A trimmed output's end, relative to zero in the stream's time base.
    end_limit: Option<i64>,
    /// A frame at or past the end was seen.
    past_end: bool,
}

impl Source {
    /// Opens the source and sets up the decoders, filters and the audio encoder.
    pub fn open(plan: &Plan) -> Result<Self, String> {
        Self::open_burning(plan, None)
    }

    /// [`Source::open`], with the subtitles of a SubRip file burned into every picture (after
    /// the constant-rate step, so on the outputs' timeline, before any rung's scaling).
    pub fn open_burning(plan: &Plan, burn: Option<&Path>) -> Result<Self, String> {
        av::init();
        let mut input = format::input(&plan.source)
            .map_err(|e| format!("cannot open {}: {e}", plan.source.display()))?;
        // A trimmed read seeks to the keyframe a second before the start (the decoders need
        // the pictures from there; the filters cut exactly), in containers whose index says
        // where keyframes are. MPEG-TS/PS and raw streams are read from the start instead: a
        // seek there lands on any picture and the decoder shows broken ones until a keyframe.
        let indexed = ["mov", "mp4", "matroska", "webm"]
            .iter()
            .any(|f| input.format().name().split(',').any(|n| n == *f));
        if plan.trim.is_some() && indexed {
            let from = plan.timeline.zero_secs - 1.0;
            if from > 0.0 {
                let ts = (from * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
                // A file that cannot seek (fragmented without an index, cue-less WebM) is
                // read from its start instead: the filters cut all the same.
                if input.seek(ts, ..ts + 1).is_err() {
                    let _ = input.seek(0, ..1);
                }
            }
        }
        let video = match (plan.source_frame_rate, plan.source_display) {
            (Some(rate), Some(display)) if !plan.rungs.is_empty() => {
                Some(open_video(&input, plan, rate, display, burn)?)
            }
            _ => None,
        };
        let audios = plan
            .audio
            .iter()
            .chain(&plan.extra_audio)
            .enumerate()
            .map(|(track, a)| open_audio(&input, a, plan, track))
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            input,
            video,
            audios,
        })
    }

    /// The audio tracks every rung muxes, the main one first, with their language and title.
    pub fn audio_in(&self, plan: &Plan) -> Vec<AudioIn> {
        self.audios
            .iter()
            .zip(plan.audio.iter().chain(&plan.extra_audio))
            .map(|(a, planned)| AudioIn {
                parameters: codec::Parameters::from(&a.encoder),
                time_base: a.time_base,
                language: planned
                    .language
                    .as_deref()
                    .and_then(crate::subtitles::languages::find)
                    .map(|l| l.three.to_owned()),
                title: planned.title.clone(),
            })
            .collect()
    }

    /// Reads the whole source once and feeds every rung. Stops early on cancel or when every
    /// rung has gone.
    /// `stills` sees every picture on its way to the rungs.
    pub fn run(
        &mut self,
        fanout: &mut Fanout,
        cancel: &CancelToken,
        mut stills: Option<&mut super::stills::Tap>,
    ) -> Result<(), String> {
        loop {
            if cancel.is_cancelled() || !fanout.any_alive() {
                return Ok(());
            }
            // A trimmed read stops once every stream is past the end.
            if self.video.as_ref().is_none_or(|v| v.past_end)
                && self.audios.iter().all(|a| a.past_end)
                && (self.video.is_some() || !self.audios.is_empty())
            {
                break;
            }
            let packet = match av::read_packet(&mut self.input) {
                Ok(p) => p,
                Err(ffmpeg::Error::Eof) => break,
                Err(ffmpeg::Error::InvalidData) => continue,
                Err(e) => return Err(format!("reading the source: {e}")),
            };
            let stream = packet.stream();
            if let Some(v) = self.video.as_mut().filter(|v| v.index == stream) {
                // A damaged packet is skipped, as players do; the decoder resynchronises.
                if v.decoder.send_packet(&packet).is_ok() {
                    v.pump(fanout, stills.as_deref_mut())?;
                }
            } else {
                // Every track made from this stream (a 5.1 track beside the stereo one decodes
                // the same packets).
                for a in self.audios.iter_mut().filter(|a| a.index == stream) {
                    if a.decoder.send_packet(&packet).is_ok() {
                        a.pump(fanout)?;
                    }
                }
            }
        }
        if let Some(v) = self.video.as_mut() {
            let _ = v.decoder.send_eof();
            v.pump(fanout, stills.as_deref_mut())?;
            // Close at the end of the last frame (not its start), or the constant-rate filter
            // drops it.
            let end = v.end_limit.map_or(v.end_pts, |limit| v.end_pts.min(limit));
            for graph in std::iter::once(&mut v.graph).chain(v.hdr_graph.as_mut()) {
                graph
                    .get("in")
                    .ok_or("the video filter graph lost its input")?
                    .source()
                    .close(end)
                    .map_err(|e| format!("flushing the video filters: {e}"))?;
            }
            v.pull(fanout, stills)?;
            if !v.pending_sdr.is_empty() || !v.pending_hdr.is_empty() {
                return Err(format!(
                    "the SDR and HDR pictures came out {} and {} apart at the end; no rung is finished from them",
                    v.pending_sdr.len(),
                    v.pending_hdr.len()
                ));
            }
        }
        for a in &mut self.audios {
            let _ = a.decoder.send_eof();
            a.pump(fanout)?;
            a.graph
                .get("in")
                .ok_or("the audio filter graph lost its input")?
                .source()
                .flush()
                .map_err(|e| format!("flushing the audio filters: {e}"))?;
            a.pull(fanout)?;
            a.encoder
                .send_eof()
                .map_err(|e| format!("flushing the AAC encoder: {e}"))?;
            a.drain(fanout)?;
        }
        Ok(())
    }
}

fn open_video(
    input: &format::context::Input,
    plan: &Plan,
    rate: FrameRate,
    display: (u32, u32),
    burn: Option<&Path>,
) -> Result<VideoSide, String> {
    let stream = input
        .streams()
        .best(media::Type::Video)
        .ok_or_else(|| format!("{} has no video stream", plan.source.display()))?;
    let mut ctx = codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| format!("video decoder: {e}"))?;
    // Frame threads decode in parallel; the encoders are the bottleneck either way.
    ctx.set_threading(codec::threading::Config {
        kind: codec::threading::Type::Frame,
        count: 0,
        ..Default::default()
    });
    let decoder = ctx
        .decoder()
        .video()
        .map_err(|e| format!("no decoder for the video: {e}"))?;
    if decoder.format() == format::Pixel::None || decoder.width() == 0 || decoder.height() == 0 {
        return Err(
            "the video stream does not say its picture size or pixel format, so it cannot be decoded; the file may be damaged (try remuxing it with ffmpeg -c copy, or re-export it)"
                .to_owned(),
        );
    }
    let tb = stream.time_base();
    let sar = decoder.aspect_ratio();
    let (sar_num, sar_den) = if sar.numerator() > 0 && sar.denominator() > 0 {
        (sar.numerator(), sar.denominator())
    } else {
        (1, 1)
    };
    let args = format!(
        "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={sar_num}/{sar_den}",
        decoder.width(),
        decoder.height(),
        av_pixel_format(decoder.format()),
        tb.numerator(),
        tb.denominator()
    );
    // Square pixels: the stored picture is resized to its display width before rotation.
    let square = plan
        .transform
        .square_pixels
        .then_some(if plan.transform.rotate_deg % 180 == 90 {
            (display.1, display.0)
        } else {
            display
        });
    let mut spec = video_filter_spec(&plan.transform, rate, square);
    // No HDR graph burns subtitles: the plan keeps no HDR when a track is burned in.
    let hdr_spec = plan
        .rungs
        .iter()
        .any(|r| r.is_made() && r.hdr.is_some())
        .then(|| hdr_filter_spec(&plan.transform, rate, square));
    if let Some(file) = burn {
        // After `fps` (pictures on the outputs' timeline from zero), before the pixel format.
        let name = file.to_str().filter(|p| {
            p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '.'))
        });
        let Some(name) = name else {
            return Err(format!(
                "{}: a subtitle file path the filter cannot take",
                file.display()
            ));
        };
        spec = spec.replacen(
            ",format=yuv420p",
            &format!(",subtitles=filename={name},format=yuv420p"),
            1,
        );
    }
    let graph = build_graph("buffer", &args, "buffersink", &spec, |_| {})?;
    let hdr_graph = hdr_spec
        .map(|h| build_graph("buffer", &args, "buffersink", &h, |_| {}))
        .transpose()?;
    Ok(VideoSide {
        index: stream.index(),
        decoder,
        graph,
        hdr_graph,
        pending_sdr: VecDeque::new(),
        pending_hdr: VecDeque::new(),
        frames_out: 0,
        end_pts: 0,
        last_pts: None,
        zero_pts: zero_in(plan.timeline.zero_secs, tb),
        end_limit: plan.trim.map(|_| zero_in(plan.duration_secs, tb)),
        past_end: false,
    })
}

pub(crate) fn av_pixel_format(format: format::Pixel) -> i32 {
    let raw: ffmpeg::ffi::AVPixelFormat = format.into();
    raw as i32
}

/// Time zero (seconds) in a stream's time base.
fn zero_in(zero_secs: f64, tb: Rational) -> i64 {
    if tb.numerator() <= 0 || !zero_secs.is_finite() {
        return 0;
    }
    (zero_secs * f64::from(tb.denominator()) / f64::from(tb.numerator())).round() as i64
}

/// A planned audio track's decoder, with what an `abuffer` source needs to take its frames.
pub(crate) struct AudioDecoding {
    /// The stream's index.
    pub index: usize,
    /// Its decoder (a layout set when the stream states none).
    pub decoder: decoder::Audio,
    /// The stream's time base.
    pub time_base: Rational,
    /// `abuffer` arguments for the decoded frames.
    pub buffer_args: String,
}

/// Opens the decoder of planned audio track `a`.
pub(crate) fn open_audio_decoder(
    input: &format::context::Input,
    a: &PlannedAudio,
) -> Result<AudioDecoding, String> {
    let stream = input
        .stream(a.source_index)
        .ok_or("the audio stream disappeared")?;
    let ctx = codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| format!("audio decoder: {e}"))?;
    let mut decoder = ctx
        .decoder()
        .audio()
        .map_err(|e| format!("no decoder for the audio: {e}"))?;
    decoder
        .set_parameters(stream.parameters())
        .map_err(|e| format!("audio decoder: {e}"))?;
    if decoder.channel_layout().is_empty() {
        decoder.set_channel_layout(ffmpeg::ChannelLayout::default(i32::from(
            decoder.channels() as u8,
        )));
    }
    let tb = stream.time_base();
    let buffer_args = format!(
        "time_base={}/{}:sample_rate={}:sample_fmt={}:channel_layout=0x{:x}",
        tb.numerator(),
        tb.denominator(),
        decoder.rate(),
        decoder.format().name(),
        decoder.channel_layout().bits()
    );
    Ok(AudioDecoding {
        index: stream.index(),
        decoder,
        time_base: tb,
        buffer_args,
    })
}

fn open_audio(
    input: &format::context::Input,
    a: &PlannedAudio,
    plan: &Plan,
    track: usize,
) -> Result<AudioSide, String> {
    let zero_secs = plan.timeline.zero_secs;
    let AudioDecoding {
        index,
        decoder,
        time_base: tb,
        buffer_args: args,
    } = open_audio_decoder(input, a)?;
    let codec = encoder::find(codec::Id::AAC).ok_or("this FFmpeg has no AAC encoder")?;
    let mut enc = codec::context::Context::new_with_codec(codec)
        .encoder()
        .audio()
        .map_err(|e| format!("AAC encoder: {e}"))?;
    let layout = match a.channels {
        1 => ffmpeg::ChannelLayout::MONO,
        // AAC's channel configuration 6 (what every decoder knows): FFmpeg's encoder writes it
        // for 5.1 with back surrounds; side surrounds would need a program config element.
        6 => ffmpeg::ChannelLayout::_5POINT1_BACK,
        _ => ffmpeg::ChannelLayout::STEREO,
    };
    enc.set_rate(a.sample_rate_hz as i32);
    enc.set_channel_layout(layout);
    enc.set_format(format::Sample::F32(format::sample::Type::Planar));
    enc.set_bit_rate(a.bitrate_bps as usize);
    enc.set_time_base(Rational::new(1, a.sample_rate_hz as i32));
    enc.set_flags(codec::Flags::GLOBAL_HEADER);
    let mut opts = Dictionary::new();
    opts.set("profile", "aac_low");
    let encoder = enc
        .open_with(opts)
        .map_err(|e| format!("opening the AAC encoder: {e}"))?;
    let frame_size = encoder.frame_size().max(1024);

    let spec = audio_filter_spec(a, plan, true);
    let graph = build_graph("abuffer", &args, "abuffersink", &spec, |g| {
        if let Some(mut out) = g.get("out") {
            out.sink().set_frame_size(frame_size);
        }
    })?;
    Ok(AudioSide {
        track,
        index,
        decoder,
        graph,
        encoder,
        time_base: Rational::new(1, a.sample_rate_hz as i32),
        zero_pts: zero_in(zero_secs, tb),
        end_limit: plan.trim.map(|_| zero_in(plan.duration_secs, tb)),
        past_end: false,
    })
}

/// The audio filters every output track goes through: to the output's rate, channels and
/// sample format, from time zero. `first_pts=0`: the first sample belongs at time zero; a
/// later start is padded with silence and samples before zero are trimmed, exactly (hard
/// compensation at the start). A trimmed output ends on its last sample exactly. With `gain`,
/// the measured loudness gain and limiter (see [`crate::plan::Loudness::filters`]) come
/// before the last format step (the limiter works in doubles).
pub(crate) fn audio_filter_spec(a: &PlannedAudio, plan: &Plan, gain: bool) -> String {
    let end = plan.trim.map_or_else(String::new, |_| {
        format!(
            ",atrim=end_sample={}",
            (plan.duration_secs * f64::from(a.sample_rate_hz)).round() as u64
        )
    });
    let layout = match a.channels {
        1 => "mono",
        6 => "0x3f", // 5.1(back): FL FR FC LFE BL BR
        _ => "stereo",
    };
    let out = format!("aformat=sample_fmts=fltp:channel_layouts={layout}");
    // The output's channels first (a 5.1 source downmixed here): the gain and the limiter act
    // on what is measured and encoded. The limiter works in doubles: the format comes back.
    let loudness = a
        .loudness
        .filter(|_| gain)
        .map(|l| l.filters(a.sample_rate_hz))
        .filter(|f| !f.is_empty())
        .map(|f| format!("{f},{out}"))
        .unwrap_or_default();
    format!(
        "aresample={}:async=1:first_pts=0{end},{out}{loudness}",
        a.sample_rate_hz
    )
}

pub(crate) fn build_graph(
    source: &str,
    args: &str,
    sink: &str,
    spec: &str,
    after: impl FnOnce(&mut filter::Graph),
) -> Result<filter::Graph, String> {
    let mut graph = filter::Graph::new();
    let find = |name: &str| {
        filter::find(name).ok_or_else(|| format!("this FFmpeg has no '{name}' filter"))
    };
    // FFmpeg's own words for a failed filter set-up name internals (`pix_fmt=-1`); say what it
    // means for the user and keep FFmpeg's reason in brackets.
    let what = if source == "abuffer" {
        "the sound"
    } else {
        "the picture"
    };
    let fail = |e: ffmpeg::Error| {
        format!(
            "cannot set up the conversion of {what} ({e}); the stream may be damaged or in a format this FFmpeg cannot convert"
        )
    };
    graph.add(&find(source)?, "in", args).map_err(fail)?;
    graph.add(&find(sink)?, "out", "").map_err(fail)?;
    graph
        .output("in", 0)
        .and_then(|p| p.input("out", 0))
        .and_then(|p| p.parse(spec))
        .map_err(fail)?;
    after(&mut graph);
    graph.validate().map_err(fail)?;
    Ok(graph)
}

impl VideoSide {
    fn pump(
        &mut self,
        fanout: &mut Fanout,
        mut stills: Option<&mut super::stills::Tap>,
    ) -> Result<(), String> {
        let mut decoded = frame::Video::empty();
        loop {
            match self.decoder.receive_frame(&mut decoded) {
                Ok(()) => {
                    let ts = decoded.timestamp().map(|t| t - self.zero_pts);
                    decoded.set_pts(ts);
                    if let (Some(pts), Some(limit)) = (ts, self.end_limit)
                        && pts >= limit
                    {
                        self.past_end = true;
                        continue;
                    }
                    if let Some(pts) = ts {
                        let interval = self.last_pts.map_or(1, |last| (pts - last).max(1));
                        self.end_pts = self.end_pts.max(pts + interval);
                        self.last_pts = Some(pts);
                    }
                    // Adding a picture to a graph takes its buffers: the HDR graph gets a
                    // second reference to them.
                    if let Some(graph) = self.hdr_graph.as_mut() {
                        let copy = crate::av::frame_ref(&decoded)
                            .map_err(|e| format!("referencing a frame: {e}"))?;
                        graph
                            .get("in")
                            .ok_or("the HDR filter graph lost its input")?
                            .source()
                            .add(&copy)
                            .map_err(|e| format!("HDR video filters: {e}"))?;
                    }
                    self.graph
                        .get("in")
                        .ok_or("the video filter graph lost its input")?
                        .source()
                        .add(&decoded)
                        .map_err(|e| format!("video filters: {e}"))?;
                    self.pull(fanout, stills.as_deref_mut())?;
                }
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                    return Ok(());
                }
                Err(ffmpeg::Error::Eof) => return Ok(()),
                // A frame that fails to decode is dropped; the next keyframe recovers.
                Err(ffmpeg::Error::InvalidData) => continue,
                Err(e) => return Err(format!("decoding video: {e}")),
            }
        }
    }

    fn pull(
        &mut self,
        fanout: &mut Fanout,
        mut stills: Option<&mut super::stills::Tap>,
    ) -> Result<(), String> {
        drain_sink(&mut self.graph, &mut self.pending_sdr)?;
        if let Some(g) = self.hdr_graph.as_mut() {
            drain_sink(g, &mut self.pending_hdr)?;
        }
        // Both graphs end in the same constant-rate step, so their n-th pictures are one.
        while !self.pending_sdr.is_empty()
            && (self.hdr_graph.is_none() || !self.pending_hdr.is_empty())
        {
            let Some(out) = self.pending_sdr.pop_front() else {
                break;
            };
            let hdr = self.pending_hdr.pop_front();
            // Both graphs end in the same constant-rate step: the pair must be one instant.
            if let Some(h) = &hdr
                && h.pts() != out.pts()
            {
                return Err(format!(
                    "the HDR picture at {:?} does not match the SDR picture at {:?} (time base of the constant-rate sequence)",
                    h.pts(),
                    out.pts()
                ));
            }
            let hdr = hdr.map(Arc::new);
            let index = self.frames_out;
            self.frames_out += 1;
            if let Some(tap) = stills.as_deref_mut() {
                tap.offer(&out, index);
            }
            let sdr = Arc::new(out);
            fanout.send(|| RungMsg::Video {
                sdr: Arc::clone(&sdr),
                hdr: hdr.clone(),
                index,
            });
        }
        Ok(())
    }
}

/// Every picture a graph's sink has ready, appended to `into`.
fn drain_sink(graph: &mut filter::Graph, into: &mut VecDeque<frame::Video>) -> Result<(), String> {
    let mut sink = graph
        .get("out")
        .ok_or("the video filter graph lost its output")?;
    loop {
        let mut out = frame::Video::empty();
        match sink.sink().frame(&mut out) {
            Ok(()) => into.push_back(out),
            Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                return Ok(());
            }
            Err(ffmpeg::Error::Eof) => return Ok(()),
            Err(e) => return Err(format!("video filters: {e}")),
        }
    }
}

impl AudioSide {
    fn pump(&mut self, fanout: &mut Fanout) -> Result<(), String> {
        let mut decoded = frame::Audio::empty();
        loop {
            match self.decoder.receive_frame(&mut decoded) {
                Ok(()) => {
                    let ts = decoded.timestamp().map(|t| t - self.zero_pts);
                    decoded.set_pts(ts);
                    if let (Some(pts), Some(limit)) = (ts, self.end_limit)
                        && pts >= limit
                    {
                        // The filters end it on its last sample; later frames are not needed.
                        self.past_end = true;
                        continue;
                    }
                    self.graph
                        .get("in")
                        .ok_or("the audio filter graph lost its input")?
                        .source()
                        .add(&decoded)
                        .map_err(|e| format!("audio filters: {e}"))?;
                    self.pull(fanout)?;
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

    fn pull(&mut self, fanout: &mut Fanout) -> Result<(), String> {
        let mut sink = self
            .graph
            .get("out")
            .ok_or("the audio filter graph lost its output")?;
        loop {
            let mut out = frame::Audio::empty();
            match sink.sink().frame(&mut out) {
                Ok(()) => {
                    self.encoder
                        .send_frame(&out)
                        .map_err(|e| format!("encoding audio: {e}"))?;
                    self.drain(fanout)?;
                }
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                    return Ok(());
                }
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(e) => return Err(format!("audio filters: {e}")),
            }
        }
    }

    fn drain(&mut self, fanout: &mut Fanout) -> Result<(), String> {
        let mut packet = Packet::empty();
        loop {
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => fanout.send(|| RungMsg::Audio(self.track, packet.clone())),
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                    return Ok(());
                }
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(e) => return Err(format!("encoding audio: {e}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transform() -> PictureTransform {
        PictureTransform {
            rotate_deg: 0,
            deinterlace: false,
            hdr_to_sdr: None,
            square_pixels: false,
            constant_rate: false,
            colour: crate::plan::ColourIn::default(),
            crop: None,
            denoise: crate::preset::Denoise::Off,
            deblock: false,
        }
    }

    #[test]
    fn a_plain_source_only_gets_constant_rate_and_format() {
        let spec = video_filter_spec(
            &transform(),
            FrameRate {
                num: 30000,
                den: 1001,
            },
            None,
        );
        assert_eq!(
            spec,
            "fps=30000/1001:start_time=0:eof_action=pass,format=yuv420p,setsar=1"
        );
    }

    #[test]
    fn every_transform_in_order() {
        let t = PictureTransform {
            rotate_deg: 90,
            deinterlace: true,
            hdr_to_sdr: Some("PQ".into()),
            square_pixels: true,
            constant_rate: true,
            colour: crate::plan::ColourIn::default(),
            crop: Some(crate::probe::borders::Borders {
                top: 20,
                bottom: 20,
                left: 0,
                right: 0,
            }),
            denoise: crate::preset::Denoise::Medium,
            deblock: true,
        };
        let spec = video_filter_spec(&t, FrameRate { num: 25, den: 1 }, Some((320, 180)));
        let order: Vec<usize> = [
            "bwdif",
            "deblock",
            "crop=w=iw-0:h=ih-40:x=0:y=20",
            "hqdn3d",
            "scale=320:180",
            "tonemap",
            "transpose=clock",
            "fps=25/1",
            "format=yuv420p",
        ]
        .iter()
        .map(|f| {
            spec.find(f)
                .unwrap_or_else(|| panic!("{f} missing in {spec}"))
        })
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{spec}");
    }
}
