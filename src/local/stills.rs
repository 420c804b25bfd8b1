//! Cover stills: for each planned time, seek to the keyframe before it and take the first
//! picture decoded there (fast: no decoding of the whole file), turned upright and scaled.

use std::path::{Path, PathBuf};

use ffmpeg_next::{Rational, codec, encoder, format, frame, media};

use crate::av::{self, ffmpeg};
use crate::job::CancelToken;
use crate::plan::{Plan, PlannedStills};

/// Takes the planned stills into `dir` as `<title>_<n>.jpg` (1-based). Returns their paths.
pub fn take(
    plan: &Plan,
    stills: &PlannedStills,
    dir: &Path,
    cancel: &CancelToken,
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let ext = if stills.format == "png" { "png" } else { "jpg" };
    let mut paths = Vec::new();
    for (n, picture) in pictures(plan, stills, cancel)?.iter().enumerate() {
        let image = encode_image(picture, stills)?;
        paths.push(save(dir, &plan.title, n + 1, ext, &image)?);
    }
    Ok(paths)
}

/// The planned stills as RGBA pixels (width, height, bytes), for thumbnails in the app.
/// Pictures that cannot be read are left out.
pub fn rgba(plan: &Plan, stills: &PlannedStills) -> Vec<(usize, usize, Vec<u8>)> {
    let Ok(pictures) = pictures(plan, stills, &CancelToken::new()) else {
        return Vec::new();
    };
    pictures
        .iter()
        .filter_map(|p| {
            let mut out = frame::Video::new(format::Pixel::RGBA, stills.width, stills.height);
            let mut scaler = ffmpeg::software::scaling::Context::get(
                p.format(),
                p.width(),
                p.height(),
                format::Pixel::RGBA,
                stills.width,
                stills.height,
                ffmpeg::software::scaling::Flags::BILINEAR,
            )
            .ok()?;
            crate::av::scaler_reads_bt709(&mut scaler).ok()?;
            scaler.run(p, &mut out).ok()?;
            // Rows may be padded: copy width * 4 bytes of each.
            let (w, h, stride) = (stills.width as usize, stills.height as usize, out.stride(0));
            let data = out.data(0);
            let mut pixels = Vec::with_capacity(w * h * 4);
            for row in 0..h {
                pixels.extend_from_slice(&data[row * stride..row * stride + w * 4]);
            }
            Some((w, h, pixels))
        })
        .collect()
}

/// Seeks to each planned time and returns the upright pictures there.
fn pictures(
    plan: &Plan,
    stills: &PlannedStills,
    cancel: &CancelToken,
) -> Result<Vec<frame::Video>, String> {
    pictures_at(
        plan,
        &plan.source,
        &stills.times_secs,
        Reading::Source,
        cancel,
    )
}

/// How a file's pictures are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// The plan's source: its clock starts at the plan's time zero, and pictures are turned
    /// upright (square pixels, BT.709, SDR) as the encode prepares them, without
    /// deinterlacing (one field of a keyframe is fine for a thumbnail).
    Source,
    /// The plan's source prepared exactly as the encode prepares it, deinterlacing included
    /// (the before/after viewer's reference).
    Prepared,
    /// A rung: its clock starts at zero and its pictures are taken as stored.
    Rung,
}

/// How far ahead a next time may be and still be decoded on rather than sought, seconds.
const CONTINUE_SECS: f64 = 2.0;

/// The picture of `file` shown at each output time (seconds): for each, a seek to the
/// keyframe before it and the first picture decoded at or after it (times up to two seconds
/// after the previous one are decoded on from there instead).
pub fn pictures_at(
    plan: &Plan,
    file: &Path,
    times_secs: &[f64],
    reading: Reading,
    cancel: &CancelToken,
) -> Result<Vec<frame::Video>, String> {
    av::init();
    let mut input =
        format::input(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    let stream = input
        .streams()
        .best(media::Type::Video)
        .ok_or_else(|| format!("{} has no video", file.display()))?;
    let index = stream.index();
    let params = stream.parameters();
    let tb = stream.time_base();
    let zero = match reading {
        Reading::Source | Reading::Prepared => plan.timeline.zero_secs,
        // A rung's edit list already puts its first picture at zero.
        Reading::Rung => 0.0,
    };
    let mut out = Vec::new();
    let new_decoder = || {
        codec::context::Context::from_parameters(params.clone())
            .and_then(|c| c.decoder().video())
            .map_err(|e| format!("video decoder: {e}"))
    };
    // The decoder of the previous time and the timestamp it reached: a time shortly after it
    // is decoded on from there (the viewer's neighbouring pictures), not sought again.
    let mut running: Option<(ffmpeg::decoder::Video, i64)> = None;
    let near = (CONTINUE_SECS / f64::from(tb)) as i64;
    for &t in times_secs {
        if cancel.is_cancelled() {
            break;
        }
        // Planned times are output times; the source's clock starts at the plan's time zero.
        let t = t + zero;
        let target = (t * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
        let target_pts = (t / f64::from(tb)) as i64;
        let went_on = match running.take() {
            Some((mut decoder, reached))
                if target_pts > reached && target_pts - reached <= near =>
            {
                picture_at(&mut input, &mut decoder, index, target_pts)
                    .ok()
                    .map(|p| (decoder, p))
            }
            _ => None,
        };
        let (decoder, picture) = match went_on {
            Some(found) => found,
            None => {
                input
                    .seek(target, ..target)
                    .map_err(|e| format!("seeking to {t:.1} s: {e}"))?;
                let mut decoder = new_decoder()?;
                match picture_at(&mut input, &mut decoder, index, target_pts) {
                    Ok(p) => (decoder, p),
                    // Formats without a keyframe index (MPEG-TS/PS) may land after the last
                    // keyframe before the time: decode from the start instead (slower, but right).
                    Err(_) => {
                        input
                            .seek(i64::MIN, ..)
                            .map_err(|e| format!("seeking to the start: {e}"))?;
                        let mut decoder = new_decoder()?;
                        let p = picture_at(&mut input, &mut decoder, index, target_pts)?;
                        (decoder, p)
                    }
                }
            }
        };
        running = Some((decoder, picture.timestamp().unwrap_or(target_pts)));
        out.push(match reading {
            Reading::Source => upright(plan, &picture, tb, false)?,
            Reading::Prepared => upright(plan, &picture, tb, plan.transform.deinterlace)?,
            Reading::Rung => picture,
        });
    }
    Ok(out)
}

/// Decodes from the keyframe the seek landed on up to the first picture at or after
/// `target_pts` (at most one GOP), or the last picture before the end.
fn picture_at(
    input: &mut format::context::Input,
    decoder: &mut ffmpeg::decoder::Video,
    index: usize,
    target_pts: i64,
) -> Result<frame::Video, String> {
    let mut last: Option<frame::Video> = None;
    let mut picture = frame::Video::empty();
    let mut at_end = false;
    loop {
        while decoder.receive_frame(&mut picture).is_ok() {
            let pts = picture.timestamp().unwrap_or(i64::MIN);
            let done = pts >= target_pts;
            last = Some(std::mem::replace(&mut picture, frame::Video::empty()));
            if done {
                return last.ok_or_else(|| "no picture".to_owned());
            }
        }
        if at_end {
            return last.ok_or_else(|| "no picture could be decoded there".to_owned());
        }
        match av::read_packet(input) {
            Ok(packet) if packet.stream() == index => {
                let _ = decoder.send_packet(&packet);
            }
            Ok(_) | Err(ffmpeg::Error::InvalidData) => {}
            Err(ffmpeg::Error::Eof) => {
                let _ = decoder.send_eof();
                at_end = true;
            }
            Err(e) => return Err(format!("reading: {e}")),
        }
    }
}

/// Transforms one decoded picture: rotation, square pixels, HDR to SDR, and deinterlacing
/// when asked.
fn upright(
    plan: &Plan,
    picture: &frame::Video,
    tb: Rational,
    deinterlace: bool,
) -> Result<frame::Video, String> {
    let mut t = plan.transform.clone();
    t.deinterlace = deinterlace;
    // Square pixels at the display size, as the encode makes them.
    let square = plan.source_display.filter(|_| t.square_pixels).map(|d| {
        if t.rotate_deg % 180 == 90 {
            (d.1, d.0)
        } else {
            d
        }
    });
    let chain = super::source::picture_filters(&t, square, &["format=yuv420p".to_owned()]);
    let sar = picture.aspect_ratio();
    let raw_format: ffmpeg::ffi::AVPixelFormat = picture.format().into();
    let args = format!(
        "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={}/{}",
        picture.width(),
        picture.height(),
        raw_format as i32,
        tb.numerator(),
        tb.denominator(),
        sar.numerator().max(1),
        sar.denominator().max(1)
    );
    let mut graph = ffmpeg::filter::Graph::new();
    let find = |n: &str| ffmpeg::filter::find(n).ok_or_else(|| format!("no '{n}' filter"));
    graph
        .add(&find("buffer")?, "in", &args)
        .map_err(|e| e.to_string())?;
    graph
        .add(&find("buffersink")?, "out", "")
        .map_err(|e| e.to_string())?;
    graph
        .output("in", 0)
        .and_then(|p| p.input("out", 0))
        .and_then(|p| p.parse(&chain))
        .and_then(|()| graph.validate())
        .map_err(|e| format!("still filters '{chain}': {e}"))?;
    let mut input = graph.get("in").ok_or("filter input missing")?;
    input.source().add(picture).map_err(|e| e.to_string())?;
    input.source().flush().map_err(|e| e.to_string())?;
    let mut out = frame::Video::empty();
    graph
        .get("out")
        .ok_or("filter output missing")?
        .sink()
        .frame(&mut out)
        .map_err(|e| format!("still filters: {e}"))?;
    Ok(out)
}

/// Scales an upright picture to the still's size (Lanczos) and encodes it as JPEG or PNG.
pub fn encode_image(picture: &frame::Video, stills: &PlannedStills) -> Result<Vec<u8>, String> {
    let (codec_id, pix) = if stills.format == "png" {
        (codec::Id::PNG, format::Pixel::RGB24)
    } else {
        (codec::Id::MJPEG, format::Pixel::YUVJ420P)
    };
    // The pictures are BT.709 limited range Y'CbCr: to RGB with that matrix (swscale assumes
    // BT.601), then, for JPEG, to the BT.601 full-range Y'CbCr every JPEG decoder assumes.
    let mut rgb = frame::Video::new(format::Pixel::RGB24, stills.width, stills.height);
    let mut to_rgb = ffmpeg::software::scaling::Context::get(
        picture.format(),
        picture.width(),
        picture.height(),
        format::Pixel::RGB24,
        stills.width,
        stills.height,
        ffmpeg::software::scaling::Flags::LANCZOS,
    )
    .map_err(|e| format!("scaling the still: {e}"))?;
    crate::av::scaler_reads_bt709(&mut to_rgb)?;
    to_rgb
        .run(picture, &mut rgb)
        .map_err(|e| format!("scaling the still: {e}"))?;
    let scaled = if pix == format::Pixel::RGB24 {
        rgb
    } else {
        let mut out = frame::Video::new(pix, stills.width, stills.height);
        ffmpeg::software::scaling::Context::get(
            format::Pixel::RGB24,
            stills.width,
            stills.height,
            pix,
            stills.width,
            stills.height,
            ffmpeg::software::scaling::Flags::POINT,
        )
        .and_then(|mut s| s.run(&rgb, &mut out))
        .map_err(|e| format!("converting the still: {e}"))?;
        out
    };
    let codec = encoder::find(codec_id).ok_or("no image encoder")?;
    let mut enc = codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(|e| e.to_string())?;
    enc.set_width(stills.width);
    enc.set_height(stills.height);
    enc.set_format(pix);
    enc.set_time_base(Rational::new(1, 25));
    // JPEG quality: qscale 2 (of 2-31) through the lambda FFmpeg derives it from.
    enc.set_quality(2);
    enc.set_global_quality(2 * ffmpeg::ffi::FF_QP2LAMBDA);
    enc.set_flags(codec::Flags::QSCALE);
    let mut enc = enc.open().map_err(|e| format!("image encoder: {e}"))?;
    enc.send_frame(&scaled)
        .map_err(|e| format!("encoding the still: {e}"))?;
    enc.send_eof().map_err(|e| e.to_string())?;
    let mut packet = ffmpeg::Packet::empty();
    enc.receive_packet(&mut packet)
        .map_err(|e| format!("encoding the still: {e}"))?;
    Ok(packet.data().map(<[u8]>::to_vec).unwrap_or_default())
}

/// Writes image bytes as `<dir>/<title>_<n>.<ext>`, atomically.
fn save(dir: &Path, title: &str, n: usize, ext: &str, image: &[u8]) -> Result<PathBuf, String> {
    let path = dir.join(format!("{title}_{n}.{ext}"));
    super::write_atomically(&path, image)?;
    Ok(path)
}

/// Takes the stills from the encode's own decoded pictures as they pass (no second decode):
/// the first picture at or after each planned time.
pub struct Tap {
    stills: PlannedStills,
    dir: PathBuf,
    title: String,
    ext: &'static str,
    fps: f64,
    next: usize,
    /// Stills written so far.
    pub paths: Vec<PathBuf>,
    /// The first failure, if any (the encode goes on).
    pub error: Option<String>,
}

impl Tap {
    /// A tap for a plan's stills into `dir`.
    pub fn new(plan: &Plan, stills: &PlannedStills, dir: &Path) -> Self {
        Self {
            stills: stills.clone(),
            dir: dir.to_owned(),
            title: plan.title.clone(),
            ext: if stills.format == "png" { "png" } else { "jpg" },
            fps: plan
                .source_frame_rate
                .map_or(25.0, crate::plan::FrameRate::fps),
            next: 0,
            paths: Vec::new(),
            error: None,
        }
    }

    /// Looks at one constant-rate picture (index `n`); saves it when a still is due.
    pub fn offer(&mut self, picture: &frame::Video, n: u64) {
        let t = n as f64 / self.fps;
        while self.error.is_none()
            && self.next < self.stills.times_secs.len()
            && t + 1e-6 >= self.stills.times_secs[self.next]
        {
            self.next += 1;
            let result = std::fs::create_dir_all(&self.dir)
                .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))
                .and_then(|()| encode_image(picture, &self.stills))
                .and_then(|image| save(&self.dir, &self.title, self.next, self.ext, &image));
            match result {
                Ok(path) => self.paths.push(path),
                Err(e) => self.error = Some(e),
            }
        }
    }
}
