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
    av::init();
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut input = format::input(&plan.source)
        .map_err(|e| format!("cannot open {}: {e}", plan.source.display()))?;
    let stream = input
        .streams()
        .best(media::Type::Video)
        .ok_or_else(|| format!("{} has no video for stills", plan.source.display()))?;
    let index = stream.index();
    let params = stream.parameters();
    let tb = stream.time_base();
    let ext = if stills.format == "png" { "png" } else { "jpg" };
    let mut paths = Vec::new();
    for (n, &t) in stills.times_secs.iter().enumerate() {
        if cancel.is_cancelled() {
            break;
        }
        let target = (t * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
        input
            .seek(target, ..target)
            .map_err(|e| format!("seeking to {t:.1} s: {e}"))?;
        let mut decoder = codec::context::Context::from_parameters(params.clone())
            .and_then(|c| c.decoder().video())
            .map_err(|e| format!("video decoder: {e}"))?;
        let target_pts = (t / f64::from(tb)) as i64;
        let picture = picture_at(&mut input, &mut decoder, index, target_pts)?;
        let image = render(plan, stills, &picture, tb)?;
        let path = dir.join(format!("{}_{}.{ext}", plan.title, n + 1));
        let tmp = dir.join(format!(".{}_{}.{ext}.part", plan.title, n + 1));
        std::fs::write(&tmp, &image)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        paths.push(path);
    }
    Ok(paths)
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

/// Transforms and encodes one picture; returns the image file's bytes.
fn render(
    plan: &Plan,
    stills: &PlannedStills,
    picture: &frame::Video,
    tb: Rational,
) -> Result<Vec<u8>, String> {
    let mut t = plan.transform.clone();
    t.deinterlace = false; // one field of a keyframe is fine for a thumbnail
    let rate = plan
        .source_frame_rate
        .unwrap_or(crate::plan::FrameRate { num: 25, den: 1 });
    let chain = super::source::video_filter_spec(&t, rate, None)
        .replace(&format!("fps={}/{},", rate.num, rate.den), "")
        .replace(
            "format=yuv420p",
            &format!(
                "scale={}:{}:flags=lanczos,format=yuvj420p",
                stills.width, stills.height
            ),
        );
    let sar = picture.aspect_ratio();
    let args = format!(
        "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={}/{}",
        picture.width(),
        picture.height(),
        {
            let raw: ffmpeg::ffi::AVPixelFormat = picture.format().into();
            raw as i32
        },
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

    let (codec_id, pix) = if stills.format == "png" {
        (codec::Id::PNG, format::Pixel::RGB24)
    } else {
        (codec::Id::MJPEG, format::Pixel::YUVJ420P)
    };
    let codec = encoder::find(codec_id).ok_or("no image encoder")?;
    let mut enc = codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(|e| e.to_string())?;
    enc.set_width(out.width());
    enc.set_height(out.height());
    enc.set_format(pix);
    enc.set_time_base(Rational::new(1, 25));
    enc.set_quality(2);
    enc.set_global_quality(2 * 118);
    let mut enc = enc.open().map_err(|e| format!("image encoder: {e}"))?;
    let out = if pix == format::Pixel::RGB24 {
        let mut rgb = frame::Video::new(pix, out.width(), out.height());
        let mut scaler = ffmpeg::software::scaling::Context::get(
            out.format(),
            out.width(),
            out.height(),
            pix,
            out.width(),
            out.height(),
            ffmpeg::software::scaling::Flags::BICUBIC,
        )
        .map_err(|e| e.to_string())?;
        scaler.run(&out, &mut rgb).map_err(|e| e.to_string())?;
        rgb
    } else {
        out
    };
    enc.send_frame(&out)
        .map_err(|e| format!("encoding the still: {e}"))?;
    enc.send_eof().map_err(|e| e.to_string())?;
    let mut packet = ffmpeg::Packet::empty();
    enc.receive_packet(&mut packet)
        .map_err(|e| format!("encoding the still: {e}"))?;
    Ok(packet.data().map(<[u8]>::to_vec).unwrap_or_default())
}
