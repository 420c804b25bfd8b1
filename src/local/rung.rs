//! One output file: a worker thread that scales the shared decoded frames to its rung's size,
//! encodes them (x264/x265), and muxes them with the shared AAC packets into an MP4 written
//! under a temporary name, renamed only when whole.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Receiver;

use ffmpeg_next::{Dictionary, Packet, Rational, codec, encoder, format, frame, picture, software};

use super::encoder_options;
use crate::av::ffmpeg;
use crate::job::CancelToken;
use crate::plan::PlannedRung;
use crate::preset::{Codec, VideoSettings};
use crate::quality::meter::{Measured, Meter};
use crate::timing::KeyframeGrid;

/// What flows from the source to each rung.
pub enum RungMsg {
    /// A decoded, transformed picture at the source's display size, with its index in the
    /// constant-rate source sequence: SDR (8-bit BT.709) and, when rungs keep HDR, the same
    /// picture untouched in 10 bits.
    Video {
        /// The SDR picture.
        sdr: Arc<frame::Video>,
        /// The HDR picture, for HDR rungs.
        hdr: Option<Arc<frame::Video>>,
        /// Its index in the constant-rate sequence.
        index: u64,
    },
    /// An encoded AAC packet of audio track `.0` (0: the main one), in its encoder's time base.
    Audio(usize, Packet),
}

/// The video half of a rung.
pub struct VideoOut {
    /// The planned rung.
    pub rung: PlannedRung,
    /// Shared encoder settings.
    pub settings: VideoSettings,
    /// Where the ladder's IDR frames are, in source frames (the same for every rung).
    pub grid: KeyframeGrid,
    /// Encoder threads (0: as many as the encoder wants).
    pub threads: usize,
    /// Score the rung against the reference pictures while encoding: every N-th frame.
    pub score_every: Option<u32>,
}

/// The audio stream to mux, from the one shared encoder.
#[derive(Clone)]
pub struct AudioIn {
    /// The encoder's parameters (codec, extradata, sample rate, layout).
    pub parameters: codec::Parameters,
    /// Time base of the packets.
    pub time_base: Rational,
    /// ISO 639-2 language for the track's tag.
    pub language: Option<String>,
    /// The track's name (its handler name: `Director's commentary`).
    pub title: Option<String>,
}

/// A subtitle track muxed into the rung as mov_text (3GPP timed text).
#[derive(Debug, Clone)]
pub struct TextIn {
    /// ISO 639-2 code for the track's language tag (`und` when unknown).
    pub language: String,
    /// What players list (the track's handler name).
    pub name: String,
    /// Shown without asking (the default track).
    pub default: bool,
    /// Forced (translations of foreign dialogue).
    pub forced: bool,
    /// Samples as (start seconds, bytes), each lasting until the next.
    pub samples: Vec<(f64, Vec<u8>)>,
    /// Where the last sample ends (the title's duration).
    pub end_secs: f64,
}

/// Everything a worker needs.
pub struct RungJob {
    /// The final path.
    pub path: PathBuf,
    /// Video, or `None` for an audio-only file.
    pub video: Option<VideoOut>,
    /// Audio tracks, the main one first (none for a silent file).
    pub audio: Vec<AudioIn>,
    /// Container metadata (creation time, location, title, artist...).
    pub metadata: Vec<(String, String)>,
    /// Chapters on the output's timeline.
    pub chapters: Arc<Vec<crate::probe::Chapter>>,
    /// Subtitle tracks (video rungs only).
    pub subtitles: Arc<Vec<TextIn>>,
    /// Frames encoded so far, read by the progress reporter.
    pub frames_done: Arc<AtomicU64>,
}

/// A finished rung.
pub struct Rendered {
    /// The final path.
    pub path: PathBuf,
    /// Its quality, when scoring was asked for (an error in words if scoring failed; the rung
    /// itself is fine then).
    pub measured: Option<Result<Measured, String>>,
}

/// Runs a rung to the end of its input. Returns the final path, or an error in words.
/// On failure or cancel the temporary file is removed.
pub fn run(
    job: RungJob,
    input: Receiver<RungMsg>,
    cancel: &CancelToken,
) -> Result<Rendered, String> {
    let tmp = temporary_path(&job.path);
    let result = encode(&job, &tmp, input, cancel);
    match result {
        Ok(measured) => {
            std::fs::rename(&tmp, &job.path)
                .map_err(|e| format!("cannot rename {} into place: {e}", tmp.display()))?;
            Ok(Rendered {
                path: job.path,
                measured,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// `dir/.name.mp4.part`: hidden and clearly unfinished.
pub fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.part"))
}

/// Source pictures a rung's scoring may hold while the encoder and decoder catch up.
const MAX_WAITING_REFERENCES: usize = 400;

/// The rung scored while it is encoded: its packets are decoded again (in this thread) and each
/// picture is compared with the reference picture it was made from, which the encoder's delay
/// keeps alive a little longer (shared, not copied).
struct Scoring {
    decoder: ffmpeg_next::decoder::Video,
    meter: Option<Meter>,
    every: u32,
    step: u32,
    /// The rung index of the next decoded picture (decoders give display order).
    next: u64,
    /// The first thing that went wrong; scoring stops, the rung goes on.
    error: Option<String>,
}

impl Scoring {
    fn new(encoder: &encoder::Video, step: u32, every: u32) -> Result<Self, String> {
        let mut ctx = codec::context::Context::from_parameters(codec::Parameters::from(encoder))
            .map_err(|e| format!("a decoder for scoring: {e}"))?;
        ctx.set_threading(codec::threading::Config {
            kind: codec::threading::Type::Slice,
            count: 1,
            ..Default::default()
        });
        let decoder = ctx
            .decoder()
            .video()
            .map_err(|e| format!("a decoder for scoring: {e}"))?;
        Ok(Self {
            decoder,
            meter: None,
            every,
            step,
            next: 0,
            error: None,
        })
    }

    fn reference(&mut self, index: u64, picture: &Arc<frame::Video>) {
        if self.error.is_some() {
            return;
        }
        if self.meter.is_none() {
            // libvmaf's own threads would compete with the encoders: score in this thread.
            match Meter::new(
                (picture.width(), picture.height()),
                self.step,
                self.every,
                0,
            ) {
                Ok(m) => self.meter = Some(m),
                Err(e) => {
                    self.error = Some(e);
                    return;
                }
            }
        }
        if let Some(m) = self.meter.as_mut() {
            m.reference(index, picture);
            // The encoder's delay keeps a few dozen waiting; hundreds mean the decoder stopped
            // giving pictures back: stop scoring rather than hold the source in memory.
            if m.waiting() > MAX_WAITING_REFERENCES {
                self.meter = None;
                self.error = Some(format!(
                    "more than {MAX_WAITING_REFERENCES} source pictures waited for the rung's decoder; scoring stopped"
                ));
            }
        }
    }

    fn packet(&mut self, packet: Option<&Packet>) {
        if self.error.is_some() {
            return;
        }
        let sent = match packet {
            Some(p) => self.decoder.send_packet(p),
            None => self.decoder.send_eof(),
        };
        if let Err(e) = sent {
            self.error = Some(format!("decoding the rung for scoring: {e}"));
            return;
        }
        let mut picture = frame::Video::empty();
        loop {
            match self.decoder.receive_frame(&mut picture) {
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => return,
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                    return;
                }
                Err(e) => {
                    self.error = Some(format!("decoding the rung for scoring: {e}"));
                    return;
                }
            }
            // The packets carry the encoder's frame numbers as timestamps: a picture the
            // decoder lost cannot shift the pairs after it.
            let n = picture
                .timestamp()
                .and_then(|t| u64::try_from(t).ok())
                .unwrap_or(self.next);
            self.next = n + 1;
            if let Some(m) = self.meter.as_mut()
                && let Err(e) = m.distorted(n, &picture)
            {
                self.error = Some(e);
                return;
            }
        }
    }

    fn finish(mut self) -> Result<Measured, String> {
        self.packet(None);
        if let Some(e) = self.error {
            return Err(e);
        }
        self.meter
            .ok_or_else(|| "no picture to score".to_owned())?
            .finish()
    }
}

struct VideoState {
    scoring: Option<Scoring>,
    encoder: encoder::Video,
    scaler: Option<software::scaling::Context>,
    rung: PlannedRung,
    grid: KeyframeGrid,
    time_base: Rational,
    stream_tb: Rational,
    next_index: u64,
}

/// Adds a mov_text stream with FFmpeg's default sample description, the track's language,
/// name and disposition. Returns its index.
fn add_text_stream(octx: &mut format::context::Output, t: &TextIn) -> Result<usize, String> {
    use ffmpeg::ffi;
    let mut ost = octx
        .add_stream(encoder::find(codec::Id::MOV_TEXT))
        .map_err(|e| format!("adding a subtitle stream: {e}"))?;
    let mut entry = crate::subtitles::tx3g::SAMPLE_ENTRY;
    if t.forced {
        // displayFlags: all samples are forced (3GPP TS 26.245), what MP4 players read.
        entry[0] = 0x80;
    }
    // SAFETY: the stream was just added and owns its codec parameters; the extradata buffer is
    // allocated with FFmpeg's allocator (padded as FFmpeg requires) and handed over to them.
    unsafe {
        let par = ost.parameters().as_mut_ptr();
        (*par).codec_type = ffi::AVMediaType::AVMEDIA_TYPE_SUBTITLE;
        (*par).codec_id = ffi::AVCodecID::AV_CODEC_ID_MOV_TEXT;
        (*par).codec_tag = 0;
        let padded = entry.len() + ffi::AV_INPUT_BUFFER_PADDING_SIZE as usize;
        let buf = ffi::av_mallocz(padded).cast::<u8>();
        if buf.is_null() {
            return Err("adding a subtitle stream: out of memory".to_owned());
        }
        std::ptr::copy_nonoverlapping(entry.as_ptr(), buf, entry.len());
        ffi::av_freep((&raw mut (*par).extradata).cast());
        (*par).extradata = buf;
        (*par).extradata_size = i32::try_from(entry.len()).unwrap_or(0);
        let mut disposition = 0;
        if t.default {
            disposition |= ffi::AV_DISPOSITION_DEFAULT;
        }
        if t.forced {
            disposition |= ffi::AV_DISPOSITION_FORCED;
        }
        (*ost.as_mut_ptr()).disposition = disposition;
    }
    ost.set_time_base(Rational(1, 1000));
    let mut meta = Dictionary::new();
    meta.set("language", &t.language);
    meta.set("handler_name", &t.name);
    ost.set_metadata(meta);
    Ok(ost.index())
}

fn encode(
    job: &RungJob,
    tmp: &Path,
    input: Receiver<RungMsg>,
    cancel: &CancelToken,
) -> Result<Option<Result<Measured, String>>, String> {
    let fail = |what: &str, e: ffmpeg::Error| format!("{what}: {e}");
    let container = if job.video.is_some() { "mp4" } else { "ipod" };
    let mut octx = format::output_as(tmp, container).map_err(|e| fail("creating the output", e))?;
    let global_header = octx.format().flags().contains(format::Flags::GLOBAL_HEADER);

    let mut video = match &job.video {
        Some(v) => Some(open_video(&mut octx, v, global_header)?),
        None => None,
    };
    let mut audio_indices = Vec::new();
    for (k, a) in job.audio.iter().enumerate() {
        let mut ost = octx
            .add_stream(encoder::find(codec::Id::AAC))
            .map_err(|e| fail("adding the audio stream", e))?;
        ost.set_parameters(a.parameters.clone());
        // SAFETY: plain field writes on the stream we just added; codec tag 0 lets the muxer
        // choose; the main track is the default one.
        unsafe {
            (*ost.parameters().as_mut_ptr()).codec_tag = 0;
            (*ost.as_mut_ptr()).disposition = if k == 0 {
                ffmpeg::ffi::AV_DISPOSITION_DEFAULT
            } else {
                0
            };
        }
        let mut meta = Dictionary::new();
        if let Some(l) = &a.language {
            meta.set("language", l);
        }
        if let Some(t) = &a.title {
            meta.set("handler_name", t);
        }
        ost.set_metadata(meta);
        audio_indices.push(ost.index());
    }
    let mut text_streams = Vec::new();
    if job.video.is_some() {
        for t in job.subtitles.iter() {
            text_streams.push(add_text_stream(&mut octx, t)?);
        }
    }
    let mut meta = Dictionary::new();
    for (k, v) in &job.metadata {
        meta.set(k, v);
    }
    octx.set_metadata(meta);
    // Chapters in milliseconds: the MP4 muxer writes them as a chapter track and `chpl`.
    for (k, c) in job.chapters.iter().enumerate() {
        let ms = |secs: f64| (secs * 1000.0).round() as i64;
        let title = c
            .title
            .clone()
            .unwrap_or_else(|| format!("Chapter {}", k + 1));
        octx.add_chapter(
            k as i64 + 1,
            Rational::new(1, 1000),
            ms(c.start_secs),
            ms(c.end_secs),
            title,
        )
        .map_err(|e| fail("adding a chapter", e))?;
    }
    let mut opts = Dictionary::new();
    opts.set("movflags", "+faststart");
    octx.write_header_with(opts)
        .map_err(|e| fail("writing the MP4 header", e))?;
    if let Some(v) = video.as_mut() {
        v.stream_tb = octx.stream(0).map_or(v.time_base, |s| s.time_base());
    }
    let audio_tbs: Vec<Rational> = audio_indices
        .iter()
        .map(|&i| {
            octx.stream(i)
                .map_or(Rational(1, 48_000), |s| s.time_base())
        })
        .collect();
    // Subtitle samples are few and known in advance: queued now, the muxer interleaves them
    // with the pictures and sound by time.
    for (&index, t) in text_streams.iter().zip(job.subtitles.iter()) {
        let tb = octx
            .stream(index)
            .map_or(Rational(1, 1000), |s| s.time_base());
        let ticks = |secs: f64| {
            (secs * f64::from(tb.denominator()) / f64::from(tb.numerator())).round() as i64
        };
        for (k, (start, bytes)) in t.samples.iter().enumerate() {
            let end = t.samples.get(k + 1).map_or(t.end_secs, |n| n.0).max(*start);
            let mut packet = Packet::copy(bytes);
            packet.set_stream(index);
            packet.set_pts(Some(ticks(*start)));
            packet.set_dts(Some(ticks(*start)));
            packet.set_duration(ticks(end) - ticks(*start));
            packet.set_flags(codec::packet::Flags::KEY);
            packet
                .write_interleaved(&mut octx)
                .map_err(|e| fail("writing subtitles", e))?;
        }
    }

    for msg in input {
        if cancel.is_cancelled() {
            return Err("cancelled".to_owned());
        }
        match msg {
            RungMsg::Video { sdr, hdr, index } => {
                if let Some(v) = video.as_mut() {
                    let frame = match (&v.rung.hdr, hdr) {
                        (Some(_), Some(hdr)) => hdr,
                        (Some(_), None) => {
                            return Err(format!("{}: an HDR rung got no HDR picture", v.rung.name));
                        }
                        (None, _) => sdr,
                    };
                    if let Some(s) = v.scoring.as_mut() {
                        s.reference(index, &frame);
                    }
                    push_video(v, &frame, index, &mut octx, &job.frames_done)?;
                }
            }
            RungMsg::Audio(track, mut packet) => {
                if let (Some(&i), Some(a), Some(&tb)) = (
                    audio_indices.get(track),
                    job.audio.get(track),
                    audio_tbs.get(track),
                ) {
                    packet.set_stream(i);
                    packet.rescale_ts(a.time_base, tb);
                    packet.set_position(-1);
                    packet
                        .write_interleaved(&mut octx)
                        .map_err(|e| fail("writing audio", e))?;
                }
            }
        }
    }
    // The sender hung up: either the end of the source or a cancel.
    if cancel.is_cancelled() {
        return Err("cancelled".to_owned());
    }
    if let Some(v) = video.as_mut() {
        v.encoder
            .send_eof()
            .map_err(|e| fail("flushing the encoder", e))?;
        drain(v, &mut octx, &job.frames_done)?;
    }
    octx.write_trailer()
        .map_err(|e| fail("finishing the MP4", e))?;
    Ok(video.and_then(|v| v.scoring).map(Scoring::finish))
}

fn open_video(
    octx: &mut format::context::Output,
    v: &VideoOut,
    global_header: bool,
) -> Result<VideoState, String> {
    let setup = encoder_options::setup(&v.rung, &v.settings, &v.grid);
    let codec = encoder::find_by_name(setup.encoder).ok_or_else(|| {
        format!(
            "this FFmpeg has no {} encoder; install FFmpeg with {} (Debian: libavcodec-extra)",
            setup.encoder, setup.encoder
        )
    })?;
    let mut ost = octx
        .add_stream(codec)
        .map_err(|e| format!("adding the video stream: {e}"))?;
    let mut enc = codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(|e| format!("creating the encoder: {e}"))?;
    let rate = v.rung.frame_rate;
    let time_base = Rational::new(rate.den as i32, rate.num as i32);
    enc.set_width(v.rung.width);
    enc.set_height(v.rung.height);
    enc.set_format(pixel_format(&v.rung));
    enc.set_time_base(time_base);
    enc.set_frame_rate(Some(Rational::new(rate.num as i32, rate.den as i32)));
    enc.set_aspect_ratio(Rational::new(1, 1));
    enc.set_max_bit_rate(v.rung.max_bitrate_bps as usize);
    enc.set_color_range(ffmpeg::color::Range::MPEG);
    use ffmpeg::ffi::{AVColorPrimaries as P, AVColorTransferCharacteristic as T};
    let (space, primaries, transfer) = match &v.rung.hdr {
        None => (
            ffmpeg::color::Space::BT709,
            P::AVCOL_PRI_BT709,
            T::AVCOL_TRC_BT709,
        ),
        Some(h) => (
            ffmpeg::color::Space::BT2020NCL,
            P::AVCOL_PRI_BT2020,
            if h.is_hlg() {
                T::AVCOL_TRC_ARIB_STD_B67
            } else {
                T::AVCOL_TRC_SMPTE2084
            },
        ),
    };
    enc.set_colorspace(space);
    // SAFETY: plain field writes on an encoder context that is not open yet.
    unsafe {
        let ctx = enc.as_mut_ptr();
        (*ctx).color_primaries = primaries;
        (*ctx).color_trc = transfer;
        (*ctx).rc_buffer_size = i32::try_from(v.rung.buffer_bits).unwrap_or(i32::MAX);
    }
    let mut flags = codec::Flags::empty();
    if global_header {
        flags |= codec::Flags::GLOBAL_HEADER;
    }
    if v.settings.closed_gop {
        // libx264 turns open GOPs on unless this flag is set (x264-params also say so).
        flags |= codec::Flags::CLOSED_GOP;
    }
    match v.rung.two_pass.as_ref().map(|t| t.pass) {
        Some(1) => flags |= codec::Flags::PASS1,
        Some(_) => flags |= codec::Flags::PASS2,
        None => {}
    }
    enc.set_flags(flags);
    enc.set_threading(codec::threading::Config {
        kind: codec::threading::Type::Frame,
        count: v.threads,
        ..Default::default()
    });
    let mut opts = Dictionary::new();
    for (k, val) in &setup.options {
        opts.set(k, val);
    }
    let encoder = enc.open_with(opts).map_err(|e| {
        format!(
            "opening {} with profile {} level {}: {e}",
            setup.encoder, v.rung.profile, v.rung.level
        )
    })?;
    ost.set_parameters(&encoder);
    ost.set_time_base(time_base);
    if let Some(hdr) = &v.rung.hdr {
        // SAFETY: the stream was just added and the header is not written yet.
        unsafe { crate::probe::hdr::attach(ost.as_mut_ptr(), &hdr.metadata)? };
    }
    if v.rung.codec == Codec::H265 {
        // hvc1 (parameter sets in the sample entry) is what Apple players accept.
        // SAFETY: plain field write on the stream's parameters before the header is written.
        unsafe {
            (*ost.parameters().as_mut_ptr()).codec_tag = u32::from_le_bytes(*b"hvc1");
        }
    }
    let scoring = match v.score_every {
        Some(every) => Some(Scoring::new(&encoder, v.rung.frame_step, every)?),
        None => None,
    };
    Ok(VideoState {
        scoring,
        encoder,
        scaler: None,
        rung: v.rung.clone(),
        grid: v.grid,
        time_base,
        stream_tb: time_base,
        next_index: 0,
    })
}

/// 8-bit 4:2:0, or 10-bit for an HDR rung.
fn pixel_format(rung: &PlannedRung) -> format::Pixel {
    if rung.hdr.is_some() {
        format::Pixel::YUV420P10LE
    } else {
        format::Pixel::YUV420P
    }
}

fn push_video(
    v: &mut VideoState,
    frame: &frame::Video,
    index: u64,
    octx: &mut format::context::Output,
    frames_done: &AtomicU64,
) -> Result<(), String> {
    let step = u64::from(v.rung.frame_step.max(1));
    if !index.is_multiple_of(step) {
        return Ok(());
    }
    let pixels = pixel_format(&v.rung);
    let same_size = (frame.width(), frame.height()) == (v.rung.width, v.rung.height)
        && frame.format() == pixels;
    let mut scaled = if same_size {
        // Nothing to scale: share the decoded picture's buffers instead of copying them.
        crate::av::frame_ref(frame).map_err(|e| format!("referencing a frame: {e}"))?
    } else {
        if v.scaler.is_none() {
            v.scaler = Some(
                software::scaling::Context::get(
                    frame.format(),
                    frame.width(),
                    frame.height(),
                    pixels,
                    v.rung.width,
                    v.rung.height,
                    software::scaling::Flags::BICUBIC,
                )
                .map_err(|e| format!("creating the scaler: {e}"))?,
            );
        }
        let mut scaled = frame::Video::new(pixels, v.rung.width, v.rung.height);
        if let Some(scaler) = v.scaler.as_mut() {
            scaler
                .run(frame, &mut scaled)
                .map_err(|e| format!("scaling: {e}"))?;
        }
        scaled
    };
    let n = v.next_index;
    v.next_index += 1;
    scaled.set_pts(Some(n as i64));
    // An IDR frame on the ladder's keyframe grid (decided once, on source frames every rung
    // keeps), so every rung's keyframes are at identical presentation times.
    if v.grid.is_boundary(index) {
        scaled.set_kind(picture::Type::I);
    } else {
        scaled.set_kind(picture::Type::None);
    }
    v.encoder
        .send_frame(&scaled)
        .map_err(|e| format!("encoding: {e}"))?;
    drain(v, octx, frames_done)
}

fn drain(
    v: &mut VideoState,
    octx: &mut format::context::Output,
    frames_done: &AtomicU64,
) -> Result<(), String> {
    let mut packet = Packet::empty();
    loop {
        match v.encoder.receive_packet(&mut packet) {
            Ok(()) => {
                if let Some(s) = v.scoring.as_mut() {
                    s.packet(Some(&packet));
                }
                packet.set_stream(0);
                packet.rescale_ts(v.time_base, v.stream_tb);
                packet
                    .write_interleaved(octx)
                    .map_err(|e| format!("writing video: {e}"))?;
                frames_done.fetch_add(1, Ordering::Relaxed);
            }
            Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                return Ok(());
            }
            Err(ffmpeg::Error::Eof) => return Ok(()),
            Err(e) => return Err(format!("encoding: {e}")),
        }
    }
}
