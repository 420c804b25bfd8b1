//! Reads a [`MediaInfo`] from a file through libavformat: open, read the stream parameters,
//! scan the first packets for frame-rate regularity, and check that the data the index
//! promises is really there (truncated files are the most common broken input).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use ffmpeg_next::ffi;
use ffmpeg_next::{Rational, media};

use super::{AudioInfo, MediaInfo, ProbeError, StreamInfo, StreamKind, VideoInfo};
use crate::av::{self, ffmpeg};
use crate::units::reduce;

/// How many video packets the frame-rate scan looks at (about 20 s at 30 fps).
const VFR_SCAN_PACKETS: usize = 600;
/// A frame interval this far from the usual one (as a fraction) counts as irregular.
const VFR_INTERVAL_TOLERANCE: f64 = 0.10;
/// The share of irregular intervals above which a stream is called variable-rate.
const VFR_IRREGULAR_SHARE: f64 = 0.02;

/// Probes one file. Never panics on bad input; every failure names the file.
pub fn probe(path: &Path) -> Result<MediaInfo, ProbeError> {
    probe_with(path, true)
}

/// Probes a file Vodkit made (a rung read back): everything but the search for black
/// borders, which decodes pictures across the file and says nothing about an output.
pub fn probe_output(path: &Path) -> Result<MediaInfo, ProbeError> {
    probe_with(path, false)
}

/// Probes a sample cut from `source` (per-title fits, estimates): the sample takes the
/// source's black borders rather than guessing from its few pictures, so it is cropped, and
/// its rungs sized, exactly as the source's.
pub fn probe_sample(path: &Path, source: &MediaInfo) -> Result<MediaInfo, ProbeError> {
    let mut info = probe_with(path, false)?;
    let borders = source.video().and_then(|(_, v)| v.black_borders);
    if let Some(v) = info.streams.iter_mut().find_map(|s| s.video.as_mut()) {
        v.black_borders = borders;
    }
    Ok(info)
}

fn probe_with(path: &Path, find_borders: bool) -> Result<MediaInfo, ProbeError> {
    av::init();
    let meta = std::fs::metadata(path).map_err(|e| ProbeError::Unreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    if meta.is_dir() {
        return Err(ProbeError::IsDirectory {
            path: path.to_owned(),
        });
    }
    if meta.len() == 0 {
        return Err(ProbeError::Empty {
            path: path.to_owned(),
        });
    }
    let size_bytes = meta.len();

    let mut input = ffmpeg::format::input(path).map_err(|e| open_error(path, &e))?;

    let format = input.format();
    let container = format.name().to_owned();
    let container_long = Some(format.description().to_owned()).filter(|s| !s.is_empty());
    let duration_secs = (input.duration() > 0)
        .then(|| input.duration() as f64 / f64::from(ffi::AV_TIME_BASE))
        .or_else(|| longest_stream_secs(&input));
    let tags = input.metadata();
    let tag = |k: &str| av::tag(&tags, k);
    let creation_time = tag("com.apple.quicktime.creationdate")
        .or_else(|| tag("creation_time"))
        .or_else(|| tag("date"));
    let location = tag("com.apple.quicktime.location.ISO6709")
        .or_else(|| tag("location"))
        .or_else(|| tag("location-eng"));
    let bitrate_bps = u64::try_from(input.bit_rate())
        .ok()
        .filter(|&b| b > 0)
        .or_else(|| {
            duration_secs
                .filter(|&d| d > 0.0)
                .map(|d| (size_bytes as f64 * 8.0 / d) as u64)
        });

    let kept_tags: Vec<(String, String)> = super::KEPT_TAGS
        .iter()
        .filter_map(|k| tag(k).map(|v| ((*k).to_owned(), v)))
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let chapters: Vec<super::Chapter> = input
        .chapters()
        .map(|c| {
            let tb = f64::from(c.time_base());
            super::Chapter {
                start_secs: c.start() as f64 * tb,
                end_secs: c.end() as f64 * tb,
                title: c
                    .metadata()
                    .get("title")
                    .map(str::to_owned)
                    .filter(|t| !t.trim().is_empty()),
            }
        })
        .filter(|c| c.start_secs.is_finite() && c.end_secs >= c.start_secs)
        .collect();
    let mut streams: Vec<StreamInfo> = input.streams().map(|s| stream_info(&s)).collect();
    if !streams
        .iter()
        .any(|s| matches!(s.kind, StreamKind::Video | StreamKind::Audio))
    {
        return Err(ProbeError::NoMedia {
            path: path.to_owned(),
        });
    }

    check_not_truncated(&input, path, size_bytes)?;
    if let Some(video_index) = streams.iter().position(|s| s.video.is_some()) {
        let variable = scan_frame_intervals(&mut input, streams[video_index].index);
        if let Some(v) = streams[video_index].video.as_mut() {
            v.variable_frame_rate = variable;
        }
    }

    // Letterbox or pillarbox bars baked into the pictures.
    if let Some(s) = streams.iter_mut().find(|s| s.video.is_some()) {
        let index = s.index;
        if let (Some(v), Some(d), true) = (s.video.as_mut(), duration_secs, find_borders) {
            v.black_borders = super::borders::detect(path, index, d);
        }
    }

    // PQ whose container states no mastering display: the first pictures' SEI usually do.
    // (HLG carries no static metadata: nothing to look for.)
    if let Some(s) = streams.iter_mut().find(|s| s.video.is_some()) {
        let index = s.index;
        if let Some(v) = s.video.as_mut()
            && v.hdr.as_deref() == Some("PQ")
            && v.hdr_metadata.is_empty()
        {
            v.hdr_metadata = super::hdr::from_first_frames(path, index);
        }
    }

    let mut info = MediaInfo {
        path: path.to_owned(),
        title: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        container,
        container_long,
        duration_secs,
        size_bytes,
        bitrate_bps,
        creation_time,
        location,
        streams: Vec::new(),
        warnings: Vec::new(),
        sidecars: crate::subtitles::sidecar::survey(path),
        chapters,
        tags: kept_tags,
    };
    info.streams = std::mem::take(&mut streams);
    info.warnings = warnings(&info);
    Ok(info)
}

/// Turns an open failure into the most useful explanation we can give.
fn open_error(path: &Path, err: &ffmpeg::Error) -> ProbeError {
    let mut head = [0u8; 12];
    let looks_like_mp4 = File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head[4..8] == b"ftyp";
    if looks_like_mp4 {
        return ProbeError::Truncated {
            path: path.to_owned(),
            detail: "it starts like an MP4/MOV file but its index (moov box) is missing, \
                     which happens when a recording or copy stops early"
                .to_owned(),
        };
    }
    ProbeError::NotMedia {
        path: path.to_owned(),
        reason: err.to_string(),
    }
}

fn longest_stream_secs(input: &ffmpeg::format::context::Input) -> Option<f64> {
    input
        .streams()
        .filter_map(|s| ts_secs(s.duration(), s.time_base()))
        .fold(None, |acc: Option<f64>, d| {
            Some(acc.map_or(d, |a| a.max(d)))
        })
}

fn ts_secs(ts: i64, time_base: Rational) -> Option<f64> {
    (ts > 0 && ts != ffi::AV_NOPTS_VALUE && time_base.denominator() != 0)
        .then(|| ts as f64 * f64::from(time_base))
}

/// A start time in seconds; zero and negative starts (encoder delay) are real values.
fn start_secs(ts: i64, time_base: Rational) -> Option<f64> {
    (ts != ffi::AV_NOPTS_VALUE && time_base.denominator() != 0)
        .then(|| ts as f64 * f64::from(time_base))
}

fn stream_info(stream: &ffmpeg::format::stream::Stream<'_>) -> StreamInfo {
    let params = stream.parameters();
    // SAFETY: the parameters belong to a stream of an open input that outlives this call;
    // we only copy plain fields out of them.
    let par = unsafe { &*params.as_ptr() };
    let kind = match params.medium() {
        media::Type::Video => StreamKind::Video,
        media::Type::Audio => StreamKind::Audio,
        media::Type::Subtitle => StreamKind::Subtitle,
        media::Type::Data => StreamKind::Data,
        media::Type::Attachment => StreamKind::Attachment,
        media::Type::Unknown => StreamKind::Unknown,
    };
    // Cover art is stored as a one-frame video stream; it is not the video to convert.
    let attached_pic = stream
        .disposition()
        .contains(ffmpeg::format::stream::Disposition::ATTACHED_PIC);
    let kind = if attached_pic {
        StreamKind::Attachment
    } else {
        kind
    };
    let tags = stream.metadata();
    let tag = |k: &str| av::tag(&tags, k);
    let language = tag("language").filter(|l| !l.is_empty() && l != "und");
    let title = tag("title").or_else(|| tag("handler_name"));
    let rotate_tag = tag("rotate").and_then(|r| r.trim().parse::<f64>().ok());

    let video = (kind == StreamKind::Video).then(|| {
        let matrix_rotation = stream
            .side_data()
            .find(|sd| sd.kind() == ffmpeg::codec::packet::side_data::Type::DisplayMatrix)
            .and_then(|sd| av::display_matrix_rotation_deg(sd.data()));
        let rotation_deg = matrix_rotation
            .or_else(|| rotate_tag.map(av::normalise_rotation_deg))
            .unwrap_or(0);
        video_info(stream, par, rotation_deg)
    });
    let audio = (kind == StreamKind::Audio).then(|| AudioInfo {
        channels: u32::try_from(par.ch_layout.nb_channels)
            .ok()
            .filter(|&c| c > 0)
            .or_else(|| u32::try_from(par.channels).ok())
            .unwrap_or(0),
        channel_layout: av::channel_layout_name(&par.ch_layout),
        sample_rate_hz: u32::try_from(par.sample_rate).unwrap_or(0),
    });

    StreamInfo {
        index: stream.index(),
        kind,
        codec: av::codec_name(par.codec_id),
        profile: av::profile_name(par.codec_id, par.profile),
        bitrate_bps: u64::try_from(par.bit_rate).ok().filter(|&b| b > 0),
        duration_secs: ts_secs(stream.duration(), stream.time_base()),
        start_secs: start_secs(stream.start_time(), stream.time_base()),
        language,
        title,
        flags: flags_of(stream.disposition()),
        video,
        audio,
    }
}

/// The disposition flags players act on, by name.
fn flags_of(d: ffmpeg::format::stream::Disposition) -> Vec<String> {
    use ffmpeg::format::stream::Disposition as D;
    [
        (D::DEFAULT, "default"),
        (D::FORCED, "forced"),
        (D::HEARING_IMPAIRED, "hearing_impaired"),
        (D::VISUAL_IMPAIRED, "visual_impaired"),
        (D::COMMENT, "comment"),
    ]
    .into_iter()
    .filter(|(flag, _)| d.contains(*flag))
    .map(|(_, name)| name.to_owned())
    .collect()
}

fn video_info(
    stream: &ffmpeg::format::stream::Stream<'_>,
    par: &ffi::AVCodecParameters,
    rotation_deg: u32,
) -> VideoInfo {
    let width = u32::try_from(par.width).unwrap_or(0);
    let height = u32::try_from(par.height).unwrap_or(0);
    let (sar_num, sar_den) = {
        let sar = par.sample_aspect_ratio;
        if sar.num > 0 && sar.den > 0 {
            (sar.num as u64, sar.den as u64)
        } else {
            (1, 1)
        }
    };
    let (sar_num, sar_den) = reduce(sar_num, sar_den);
    let (dar_num, dar_den) = reduce(u64::from(width) * sar_num, u64::from(height) * sar_den);
    let square_width = ((f64::from(width) * sar_num as f64 / sar_den as f64).round()) as u32;
    let (display_width, display_height) = if rotation_deg % 180 == 90 {
        (height, square_width)
    } else {
        (square_width, height)
    };
    let avg = stream.avg_frame_rate();
    let real = stream.rate();
    let (pixel_format, bit_depth) = match av::pixel_format(par.format) {
        Some((name, depth)) => (Some(name), Some(depth).filter(|&d| d > 0)),
        None => (None, None),
    };
    let [color_primaries, color_transfer, color_matrix, color_range] = av::colour_names(
        par.color_primaries,
        par.color_trc,
        par.color_space,
        par.color_range,
    );
    let hdr = match par.color_trc {
        ffi::AVColorTransferCharacteristic::AVCOL_TRC_SMPTE2084 => Some("PQ".to_owned()),
        ffi::AVColorTransferCharacteristic::AVCOL_TRC_ARIB_STD_B67 => Some("HLG".to_owned()),
        _ => None,
    };
    use ffi::AVFieldOrder::*;
    let (field_order, interlaced) = match par.field_order {
        AV_FIELD_PROGRESSIVE => ("progressive", false),
        AV_FIELD_TT => ("tff", true),
        AV_FIELD_BB => ("bff", true),
        AV_FIELD_TB => ("tb", true),
        AV_FIELD_BT => ("bt", true),
        _ => ("unknown", false),
    };
    VideoInfo {
        level: level_name(par.codec_id, par.level),
        width,
        height,
        sample_aspect_ratio: format!("{sar_num}:{sar_den}"),
        display_aspect_ratio: format!("{dar_num}:{dar_den}"),
        rotation_deg,
        display_width,
        display_height,
        avg_frame_rate: av::ratio(avg.numerator(), avg.denominator()),
        avg_frame_rate_ratio: (avg.numerator() > 0 && avg.denominator() > 0)
            .then(|| format!("{}/{}", avg.numerator(), avg.denominator())),
        real_frame_rate: av::ratio(real.numerator(), real.denominator()),
        variable_frame_rate: false,
        frame_count: u64::try_from(stream.frames()).ok().filter(|&n| n > 0),
        pixel_format,
        bit_depth,
        color_primaries,
        color_transfer,
        color_matrix,
        color_range,
        hdr_metadata: if hdr.is_some() {
            super::hdr::from_stream(stream)
        } else {
            super::hdr::HdrMetadata::default()
        },
        hdr,
        field_order: field_order.to_owned(),
        interlaced,
        black_borders: None,
    }
}

/// Levels as people write them: H.264 `level_idc` 31 is "3.1", HEVC 153 (30 x 5.1) is "5.1".
fn level_name(codec: ffi::AVCodecID, level: i32) -> Option<String> {
    if level <= 0 {
        return None;
    }
    let as_decimal = |tenths: i32| {
        if tenths % 10 == 0 {
            format!("{}", tenths / 10)
        } else {
            format!("{}.{}", tenths / 10, tenths % 10)
        }
    };
    Some(match codec {
        ffi::AVCodecID::AV_CODEC_ID_H264 if level == 9 => "1b".to_owned(),
        ffi::AVCodecID::AV_CODEC_ID_H264 => as_decimal(level),
        ffi::AVCodecID::AV_CODEC_ID_HEVC => as_decimal(level / 3),
        _ => level.to_string(),
    })
}

/// Reads the first video packets and reports whether their intervals vary: the only
/// reliable sign of variable frame rate, since containers state one nominal rate.
fn scan_frame_intervals(input: &mut ffmpeg::format::context::Input, video_index: usize) -> bool {
    let mut pts: Vec<i64> = Vec::with_capacity(VFR_SCAN_PACKETS);
    let mut reads = 0usize;
    while pts.len() < VFR_SCAN_PACKETS && reads < VFR_SCAN_PACKETS * 8 {
        reads += 1;
        match av::read_packet(input) {
            Ok(packet) => {
                if packet.stream() == video_index
                    && let Some(p) = packet.pts().or(packet.dts())
                {
                    pts.push(p);
                }
            }
            // Any read error ends the scan: what was read so far still tells the rate.
            Err(_) => break,
        }
    }
    is_variable_rate(&mut pts)
}

/// True when more than a small share of frame intervals differ from the median interval.
fn is_variable_rate(pts: &mut [i64]) -> bool {
    pts.sort_unstable();
    let mut deltas: Vec<i64> = pts
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&d| d > 0)
        .collect();
    if deltas.len() < 4 {
        return false;
    }
    let mut sorted = deltas.clone();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2] as f64;
    deltas.retain(|&d| ((d as f64 - median).abs() / median) > VFR_INTERVAL_TOLERANCE);
    // Allow one tick of rounding in coarse time bases (Matroska's 1 ms: 33, 34, 33, ...).
    let irregular = deltas
        .iter()
        .filter(|&&d| (d as f64 - median).abs() > 1.0)
        .count();
    irregular as f64 > VFR_IRREGULAR_SHARE * (pts.len() - 1) as f64
}

/// Compares where the container's sample index says the data ends with the file's size: a
/// file cut short still promises the full duration in its header.
fn check_not_truncated(
    input: &ffmpeg::format::context::Input,
    path: &Path,
    size_bytes: u64,
) -> Result<(), ProbeError> {
    let indexed_end = input
        .streams()
        .filter_map(|s| av::indexed_end_byte(&s))
        .max();
    match indexed_end {
        Some(end) if end > size_bytes => Err(ProbeError::Truncated {
            path: path.to_owned(),
            detail: format!(
                "its index points at byte {end} but the file has only {size_bytes} bytes ({:.0} % missing)",
                100.0 * (end - size_bytes) as f64 / end as f64
            ),
        }),
        _ => Ok(()),
    }
}

/// Notes a user should see before converting this file.
fn warnings(info: &MediaInfo) -> Vec<String> {
    let mut out = Vec::new();
    match info.video() {
        None => out.push("no video: audio only".to_owned()),
        Some((_, v)) => {
            if v.rotation_deg != 0 {
                out.push(format!(
                    "rotated {}°: outputs are turned upright",
                    v.rotation_deg
                ));
            }
            if v.interlaced {
                out.push(format!(
                    "interlaced ({}): outputs are deinterlaced",
                    v.field_order
                ));
            }
            if let Some(hdr) = &v.hdr {
                out.push(format!(
                    "HDR ({hdr}): tone-mapped to SDR BT.709 unless the preset keeps HDR (hdr = \"keep\": H.265 and AV1 rungs)"
                ));
            }
            if v.bit_depth.is_some_and(|d| d > 8) {
                out.push(format!(
                    "{}-bit video: outputs are 8-bit",
                    v.bit_depth.unwrap_or(0)
                ));
            }
            if v.variable_frame_rate {
                out.push(format!(
                    "variable frame rate: outputs are constant-rate at {:.3} fps",
                    v.avg_frame_rate.unwrap_or(0.0)
                ));
            }
            if v.sample_aspect_ratio != "1:1" {
                out.push(format!(
                    "non-square pixels (SAR {}): outputs are resized to square pixels",
                    v.sample_aspect_ratio
                ));
            }
        }
    }
    if info.audio().is_none() {
        out.push("no audio: outputs have no sound track".to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_is_not_variable() {
        let mut pts: Vec<i64> = (0..100).map(|i| i * 1001).collect();
        pts.swap(3, 4); // B-frame reordering in decode order
        assert!(!is_variable_rate(&mut pts));
    }

    #[test]
    fn millisecond_rounding_is_not_variable() {
        let mut pts: Vec<i64> = (0..300)
            .map(|i| (i as f64 * 33.366).round() as i64)
            .collect();
        assert!(!is_variable_rate(&mut pts));
    }

    #[test]
    fn dropped_and_doubled_frames_are_variable() {
        let mut t = 0;
        let mut pts = Vec::new();
        for i in 0..200 {
            pts.push(t);
            t += if i % 5 == 0 { 2000 } else { 1000 };
        }
        assert!(is_variable_rate(&mut pts));
    }

    #[test]
    fn levels_read_as_people_write_them() {
        use ffi::AVCodecID::*;
        assert_eq!(level_name(AV_CODEC_ID_H264, 31).as_deref(), Some("3.1"));
        assert_eq!(level_name(AV_CODEC_ID_H264, 40).as_deref(), Some("4"));
        assert_eq!(level_name(AV_CODEC_ID_HEVC, 153).as_deref(), Some("5.1"));
        assert_eq!(level_name(AV_CODEC_ID_HEVC, 120).as_deref(), Some("4"));
        assert_eq!(level_name(AV_CODEC_ID_H264, -99), None);
    }
}
