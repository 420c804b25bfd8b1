//! The before/after viewer's pictures: the source picture at a time, prepared as the encode
//! prepared it, and a rung's picture at the same time upscaled (bicubic) to the same size, as
//! RGBA for the screen, with that picture's VMAF, PSNR and SSIM. Decoding seeks (fast on long
//! files); callers run it off the UI thread.

use std::path::Path;

use ffmpeg_next::{format, frame, software};

use super::vmaf::{Scorer, model_for};
use crate::job::CancelToken;
use crate::local::stills::{Reading, pictures_at};
use crate::plan::Plan;

/// Two pictures of one instant, side by side material.
#[derive(Debug, Clone, PartialEq)]
pub struct FramePair {
    /// The instant shown (snapped to the rung's frame grid), seconds.
    pub time_secs: f64,
    /// Picture size (the reference's).
    pub width: usize,
    /// Picture size.
    pub height: usize,
    /// The prepared source picture, RGBA.
    pub source_rgba: Vec<u8>,
    /// The rung's picture upscaled to the same size, RGBA.
    pub rung_rgba: Vec<u8>,
    /// VMAF of this picture (scored between its neighbours, as in the whole-file score).
    pub vmaf: f64,
    /// PSNR of luma, dB.
    pub psnr_y: f64,
    /// SSIM of luma.
    pub ssim: f64,
}

fn scaled(
    picture: &frame::Video,
    pixel: format::Pixel,
    w: u32,
    h: u32,
) -> Result<frame::Video, String> {
    let mut ctx = software::scaling::Context::get(
        picture.format(),
        picture.width(),
        picture.height(),
        pixel,
        w,
        h,
        software::scaling::Flags::BICUBIC,
    )
    .map_err(|e| format!("scaler: {e}"))?;
    if pixel == format::Pixel::RGBA {
        crate::av::scaler_reads_bt709(&mut ctx)?;
    }
    let mut out = frame::Video::new(pixel, w, h);
    ctx.run(picture, &mut out)
        .map_err(|e| format!("scaling: {e}"))?;
    Ok(out)
}

fn rgba_bytes(f: &frame::Video) -> Vec<u8> {
    let (w, h, stride) = (f.width() as usize, f.height() as usize, f.stride(0));
    let data = f.data(0);
    let mut out = Vec::with_capacity(w * h * 4);
    for row in 0..h {
        out.extend_from_slice(&data[row * stride..row * stride + w * 4]);
    }
    out
}

/// The source (read through `plan`, prepared as the encode prepared it) and `rung` (at
/// `rung_fps`, read per its own colour tags) at `time_secs`. The picture's VMAF is scored with
/// its neighbours on either side, so its motion features are those of the whole-file score.
pub fn frame_pair(
    plan: &Plan,
    rung: &Path,
    rung_fps: f64,
    time_secs: f64,
) -> Result<FramePair, String> {
    let fps = if rung_fps > 0.0 { rung_fps } else { 30.0 };
    let last = ((plan.duration_secs * fps).ceil() - 1.0).max(0.0);
    // The rung's picture shown at that time; the source's at the same instant.
    let n = (time_secs.max(0.0) * fps).round().min(last);
    let frames: Vec<f64> = [n - 1.0, n, n + 1.0]
        .into_iter()
        .filter(|&k| (0.0..=last).contains(&k))
        .collect();
    let at = frames.iter().position(|&k| k == n).unwrap_or(0);
    let times: Vec<f64> = frames.iter().map(|k| k / fps).collect();
    let cancel = CancelToken::new();
    let references = pictures_at(plan, &plan.source, &times, Reading::Prepared, &cancel)?;
    let colour = crate::probe::probe_output(rung).ok().and_then(|i| {
        i.video()
            .and_then(|(_, v)| crate::plan::ColourIn::of(v).filter())
    });
    let distorted = pictures_at(plan, rung, &times, Reading::Rung, &cancel)
        .map_err(|e| format!("{}: {e}", rung.display()))?;
    if references.len() != times.len() || distorted.len() != times.len() {
        return Err(format!(
            "{}: no picture at {:.2} s",
            rung.display(),
            n / fps
        ));
    }
    let (w, h) = (references[at].width(), references[at].height());
    let mut scorer = Scorer::new(w, h, model_for(w, h), 1, 0)?;
    let mut shown = None;
    for (i, (r, d)) in references.iter().zip(&distorted).enumerate() {
        let r = if r.format() == format::Pixel::YUV420P && (r.width(), r.height()) == (w, h) {
            crate::av::frame_ref(r).map_err(|e| e.to_string())?
        } else {
            scaled(r, format::Pixel::YUV420P, w, h)?
        };
        let d = match &colour {
            Some(spec) => super::compare::through(&mut super::compare::colour_graph(d, spec)?, d)?,
            None => crate::av::frame_ref(d).map_err(|e| e.to_string())?,
        };
        let up = scaled(&d, format::Pixel::YUV420P, w, h)?;
        scorer.push(&r, &up)?;
        if i == at {
            shown = Some((r, up));
        }
    }
    let scores = scorer.finish()?;
    let s = scores.get(at).ok_or("nothing scored")?;
    let (reference, upscaled) = shown.ok_or("nothing shown")?;
    Ok(FramePair {
        time_secs: n / fps,
        width: w as usize,
        height: h as usize,
        source_rgba: rgba_bytes(&scaled(&reference, format::Pixel::RGBA, w, h)?),
        rung_rgba: rgba_bytes(&scaled(&upscaled, format::Pixel::RGBA, w, h)?),
        vmaf: s.vmaf,
        psnr_y: s.psnr_y,
        ssim: s.ssim,
    })
}
