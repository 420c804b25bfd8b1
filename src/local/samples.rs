//! Short samples spread over a source, cut without re-encoding (ab-av1's way of judging a whole
//! film from a few minutes of it): each starts on the keyframe at or before its time and holds
//! about `secs` of the video stream, copied packet for packet into Matroska (which holds any
//! codec). A source shorter than the samples would cover is used whole.

use std::path::{Path, PathBuf};

use ffmpeg_next::{Rational, codec, encoder, format, media};

use crate::av::{self, ffmpeg};

/// Where the samples start, seconds from the file's start: `count` of them centred in equal
/// parts of `duration_secs`; none (use the whole file) when they would cover most of it.
pub fn sample_starts(duration_secs: f64, count: u32, secs: f64) -> Vec<f64> {
    let usable = duration_secs.is_finite() && duration_secs > 0.0;
    if count == 0 || !usable || f64::from(count) * secs * 1.5 >= duration_secs {
        return Vec::new();
    }
    let part = duration_secs / f64::from(count);
    (0..count)
        .map(|k| ((f64::from(k) + 0.5) * part - secs / 2.0).max(0.0))
        .collect()
}

/// Cuts the samples into `dir` as `sample-<k>.mkv` (video only). Returns their paths, or the
/// source itself when it is short enough to use whole.
pub fn cut(
    source: &Path,
    duration_secs: f64,
    count: u32,
    secs: f64,
    dir: &Path,
) -> Result<Vec<PathBuf>, String> {
    let starts = sample_starts(duration_secs, count, secs);
    if starts.is_empty() {
        return Ok(vec![source.to_owned()]);
    }
    av::init();
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut out = Vec::new();
    for (k, &start) in starts.iter().enumerate() {
        let path = dir.join(format!("sample-{k}.mkv"));
        cut_one(source, start, secs, &path).map_err(|e| {
            format!(
                "{}: cutting a sample at {start:.1} s: {e}",
                source.display()
            )
        })?;
        out.push(path);
    }
    Ok(out)
}

fn cut_one(source: &Path, start_secs: f64, secs: f64, path: &Path) -> Result<(), String> {
    let mut input = format::input(source).map_err(|e| e.to_string())?;
    let stream = input
        .streams()
        .best(media::Type::Video)
        .ok_or("no video stream")?;
    let index = stream.index();
    let in_tb = stream.time_base();
    let params = stream.parameters();
    let mut octx = format::output_as(path, "matroska").map_err(|e| e.to_string())?;
    {
        let mut ost = octx
            .add_stream(encoder::find(codec::Id::None))
            .map_err(|e| e.to_string())?;
        ost.set_parameters(params);
        // SAFETY: plain field write on the stream just added; the muxer picks its own tag.
        unsafe { (*ost.parameters().as_mut_ptr()).codec_tag = 0 };
    }
    octx.write_header().map_err(|e| e.to_string())?;
    let out_tb = octx
        .stream(0)
        .map_or(Rational::new(1, 1000), |s| s.time_base());
    let target = (start_secs * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
    input.seek(target, ..target).map_err(|e| e.to_string())?;
    let mut first: Option<i64> = None;
    let span = (secs / f64::from(in_tb)) as i64;
    loop {
        let mut packet = match av::read_packet(&mut input) {
            Ok(p) => p,
            Err(ffmpeg::Error::Eof) => break,
            Err(ffmpeg::Error::InvalidData) => continue,
            Err(e) => return Err(e.to_string()),
        };
        if packet.stream() != index {
            continue;
        }
        let Some(ts) = packet.dts().or(packet.pts()) else {
            continue;
        };
        let begin = match first {
            Some(b) => b,
            // The first packet kept is a keyframe.
            None if packet.is_key() => *first.insert(ts),
            None => continue,
        };
        if ts - begin > span && packet.is_key() {
            break;
        }
        // Timestamps from zero: each sample is a short file of its own.
        packet.set_pts(packet.pts().map(|p| p - begin));
        packet.set_dts(packet.dts().map(|d| d - begin));
        packet.set_stream(0);
        packet.set_position(-1);
        packet.rescale_ts(in_tb, out_tb);
        packet
            .write_interleaved(&mut octx)
            .map_err(|e| e.to_string())?;
    }
    if first.is_none() {
        return Err("no keyframe there".to_owned());
    }
    octx.write_trailer().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_spread_and_short_files_are_used_whole() {
        assert_eq!(sample_starts(600.0, 3, 10.0), vec![95.0, 295.0, 495.0]);
        assert!(
            sample_starts(40.0, 3, 10.0).is_empty(),
            "30 s of 40: use it whole"
        );
        assert!(sample_starts(0.0, 3, 10.0).is_empty());
        assert!(sample_starts(f64::NAN, 3, 10.0).is_empty());
        assert_eq!(sample_starts(100.0, 1, 10.0), vec![45.0]);
    }
}
