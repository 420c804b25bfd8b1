//! HDR10 static metadata of a source: the mastering display (SMPTE ST 2086: primaries, white
//! point, luminance range) and the content light levels (CTA-861.3: MaxCLL, MaxFALL), read from
//! the container (MP4 `mdcv`/`clli`, Matroska colour elements) or, when the container does not
//! say, from the first picture's SEI. Kept in the units HEVC and AV1 carry them in, so an HDR
//! rung passes on exactly what the source said.

use std::path::Path;

use ffmpeg_next as ffmpeg;
use ffmpeg_next::ffi;
use serde::{Deserialize, Serialize};

/// SMPTE ST 2086 mastering display colour volume, in HEVC's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasteringDisplay {
    /// Green, blue, red primaries (x, y) in units of 0.00002 (x265's `G(..)B(..)R(..)` order).
    pub gbr_50000: [[u32; 2]; 3],
    /// White point (x, y) in units of 0.00002.
    pub white_point_50000: [u32; 2],
    /// Peak luminance in units of 0.0001 cd/m^2.
    pub max_luminance_10000: u32,
    /// Minimum luminance in units of 0.0001 cd/m^2.
    pub min_luminance_10000: u32,
}

impl MasteringDisplay {
    /// x265's `master-display` (and SVT-AV1's `mastering-display`, which reads the same form
    /// with decimals) string: `G(x,y)B(x,y)R(x,y)WP(x,y)L(max,min)`.
    pub fn x265(&self) -> String {
        let [g, b, r] = self.gbr_50000;
        let wp = self.white_point_50000;
        format!(
            "G({},{})B({},{})R({},{})WP({},{})L({},{})",
            g[0],
            g[1],
            b[0],
            b[1],
            r[0],
            r[1],
            wp[0],
            wp[1],
            self.max_luminance_10000,
            self.min_luminance_10000
        )
    }

    /// SVT-AV1's `mastering-display`: the same order with chromaticities and luminances as
    /// decimals (`G(0.265,0.69)B(...)R(...)WP(...)L(1000,0.005)`).
    pub fn svt_av1(&self) -> String {
        let c = |v: u32| format!("{}", f64::from(v) / 50_000.0);
        let l = |v: u32| format!("{}", f64::from(v) / 10_000.0);
        let [g, b, r] = self.gbr_50000;
        let wp = self.white_point_50000;
        format!(
            "G({},{})B({},{})R({},{})WP({},{})L({},{})",
            c(g[0]),
            c(g[1]),
            c(b[0]),
            c(b[1]),
            c(r[0]),
            c(r[1]),
            c(wp[0]),
            c(wp[1]),
            l(self.max_luminance_10000),
            l(self.min_luminance_10000)
        )
    }

    /// Peak luminance in cd/m^2, for people.
    pub fn max_nits(&self) -> f64 {
        f64::from(self.max_luminance_10000) / 10_000.0
    }
}

/// CTA-861.3 content light levels, cd/m^2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentLight {
    /// Brightest pixel of the programme (MaxCLL).
    pub max_cll: u32,
    /// Brightest frame average (MaxFALL).
    pub max_fall: u32,
}

/// What a source says about its HDR grading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HdrMetadata {
    /// The mastering display, when stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mastering_display: Option<MasteringDisplay>,
    /// Content light levels, when stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_light: Option<ContentLight>,
}

impl HdrMetadata {
    /// True when neither is known.
    pub fn is_empty(&self) -> bool {
        self.mastering_display.is_none() && self.content_light.is_none()
    }
}

/// libavutil's `AVMasteringDisplayMetadata` (mastering_display_metadata.h; ffmpeg-sys does
/// not bind that header). Its layout is part of FFmpeg's stable ABI.
#[repr(C)]
#[derive(Clone, Copy)]
struct AvMasteringDisplay {
    display_primaries: [[ffi::AVRational; 2]; 3],
    white_point: [ffi::AVRational; 2],
    min_luminance: ffi::AVRational,
    max_luminance: ffi::AVRational,
    has_primaries: i32,
    has_luminance: i32,
}

/// libavutil's `AVContentLightMetadata`.
#[repr(C)]
#[derive(Clone, Copy)]
struct AvContentLight {
    max_cll: u32,
    max_fall: u32,
}

fn scaled(r: ffi::AVRational, unit: i64) -> u32 {
    if r.den == 0 {
        return 0;
    }
    let v = (i64::from(r.num) * unit + i64::from(r.den) / 2) / i64::from(r.den);
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

/// Reads an `AVMasteringDisplayMetadata` (as frame or stream side data bytes).
fn mastering(bytes: &[u8]) -> Option<MasteringDisplay> {
    if bytes.len() < std::mem::size_of::<AvMasteringDisplay>() {
        return None;
    }
    // SAFETY: FFmpeg stores this side data as one AVMasteringDisplayMetadata (size checked);
    // read_unaligned copes with any alignment of the byte buffer.
    let m: AvMasteringDisplay = unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast()) };
    if m.has_primaries == 0 || m.has_luminance == 0 {
        return None;
    }
    // FFmpeg orders the primaries R, G, B; HEVC's SEI and x265 order them G, B, R.
    let p = |i: usize| {
        [
            scaled(m.display_primaries[i][0], 50_000),
            scaled(m.display_primaries[i][1], 50_000),
        ]
    };
    Some(MasteringDisplay {
        gbr_50000: [p(1), p(2), p(0)],
        white_point_50000: [
            scaled(m.white_point[0], 50_000),
            scaled(m.white_point[1], 50_000),
        ],
        max_luminance_10000: scaled(m.max_luminance, 10_000),
        min_luminance_10000: scaled(m.min_luminance, 10_000),
    })
}

/// Reads an `AVContentLightMetadata`.
fn content_light(bytes: &[u8]) -> Option<ContentLight> {
    if bytes.len() < std::mem::size_of::<AvContentLight>() {
        return None;
    }
    // SAFETY: as above, one AVContentLightMetadata.
    let c: AvContentLight = unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast()) };
    (c.max_cll > 0 || c.max_fall > 0).then_some(ContentLight {
        max_cll: c.max_cll,
        max_fall: c.max_fall,
    })
}

fn rational(v: u32, unit: i32) -> ffi::AVRational {
    ffi::AVRational {
        num: i32::try_from(v).unwrap_or(i32::MAX),
        den: unit,
    }
}

/// Attaches the metadata to an output stream as side data, so the muxer can state it in the
/// container as well as the encoder does in the bitstream.
///
/// # Safety
/// `stream` must be a valid stream of an output context whose header is not written yet.
pub unsafe fn attach(stream: *mut ffi::AVStream, meta: &HdrMetadata) -> Result<(), String> {
    if let Some(m) = meta.mastering_display {
        let [g, b, r] = m.gbr_50000;
        let p = |xy: [u32; 2]| [rational(xy[0], 50_000), rational(xy[1], 50_000)];
        let value = AvMasteringDisplay {
            display_primaries: [p(r), p(g), p(b)],
            white_point: p(m.white_point_50000),
            min_luminance: rational(m.min_luminance_10000, 10_000),
            max_luminance: rational(m.max_luminance_10000, 10_000),
            has_primaries: 1,
            has_luminance: 1,
        };
        // SAFETY: the caller's stream; FFmpeg allocates `size` bytes we fill with one struct.
        unsafe {
            put(
                stream,
                ffi::AVPacketSideDataType::AV_PKT_DATA_MASTERING_DISPLAY_METADATA,
                value,
            )?;
        }
    }
    if let Some(c) = meta.content_light {
        let value = AvContentLight {
            max_cll: c.max_cll,
            max_fall: c.max_fall,
        };
        // SAFETY: as above.
        unsafe {
            put(
                stream,
                ffi::AVPacketSideDataType::AV_PKT_DATA_CONTENT_LIGHT_LEVEL,
                value,
            )?;
        }
    }
    Ok(())
}

/// # Safety
/// As [`attach`]; `T` is the plain C struct FFmpeg expects for `kind`.
unsafe fn put<T: Copy>(
    stream: *mut ffi::AVStream,
    kind: ffi::AVPacketSideDataType,
    value: T,
) -> Result<(), String> {
    let size = std::mem::size_of::<T>();
    // SAFETY: the caller's stream; av_stream_new_side_data returns `size` writable bytes or null.
    unsafe {
        let data = ffi::av_stream_new_side_data(stream, kind, size as _);
        if data.is_null() {
            return Err("out of memory attaching HDR metadata".to_owned());
        }
        std::ptr::write_unaligned(data.cast::<T>(), value);
    }
    Ok(())
}

/// The metadata the container states for a stream.
pub fn from_stream(stream: &ffmpeg::format::stream::Stream<'_>) -> HdrMetadata {
    use ffmpeg::codec::packet::side_data::Type;
    let mut out = HdrMetadata::default();
    for side in stream.side_data() {
        match side.kind() {
            Type::MasteringDisplayMetadata => out.mastering_display = mastering(side.data()),
            Type::ContentLightLevel => out.content_light = content_light(side.data()),
            _ => {}
        }
    }
    out
}

/// The metadata a decoded picture carries (HEVC SEI, AV1 metadata OBUs).
pub fn from_frame(frame: &ffmpeg::frame::Video) -> HdrMetadata {
    use ffmpeg::frame::side_data::Type;
    HdrMetadata {
        mastering_display: frame
            .side_data(Type::MasteringDisplayMetadata)
            .and_then(|s| mastering(s.data())),
        content_light: frame
            .side_data(Type::ContentLightLevel)
            .and_then(|s| content_light(s.data())),
    }
}

/// Decodes pictures of the video stream `index` until one carries HDR metadata (at most the
/// first 8; phones put it on the first), for sources whose container does not state it.
pub fn from_first_frames(path: &Path, index: usize) -> HdrMetadata {
    let Ok(mut input) = ffmpeg::format::input(path) else {
        return HdrMetadata::default();
    };
    let Some(stream) = input.stream(index) else {
        return HdrMetadata::default();
    };
    let Ok(ctx) = ffmpeg::codec::context::Context::from_parameters(stream.parameters()) else {
        return HdrMetadata::default();
    };
    let Ok(mut decoder) = ctx.decoder().video() else {
        return HdrMetadata::default();
    };
    let mut frame = ffmpeg::frame::Video::empty();
    let mut frames = 0;
    let mut packets = 0;
    while let Ok(packet) = crate::av::read_packet(&mut input) {
        if packet.stream() != index {
            continue;
        }
        packets += 1;
        if decoder.send_packet(&packet).is_err() && packets > 64 {
            break;
        }
        while decoder.receive_frame(&mut frame).is_ok() {
            let found = from_frame(&frame);
            frames += 1;
            if !found.is_empty() || frames >= 8 {
                return found;
            }
        }
        if packets > 64 {
            break;
        }
    }
    HdrMetadata::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x265_and_svt_av1_strings() {
        // P3-D65 mastering display, 1000 nits peak, 0.0001 nits black.
        let m = MasteringDisplay {
            gbr_50000: [[13_250, 34_500], [7_500, 3_000], [34_000, 16_000]],
            white_point_50000: [15_635, 16_450],
            max_luminance_10000: 10_000_000,
            min_luminance_10000: 1,
        };
        assert_eq!(
            m.x265(),
            "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"
        );
        assert_eq!(
            m.svt_av1(),
            "G(0.265,0.69)B(0.15,0.06)R(0.68,0.32)WP(0.3127,0.329)L(1000,0.0001)"
        );
        assert!((m.max_nits() - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn rationals_scale_to_sei_units() {
        let r = |num, den| ffi::AVRational { num, den };
        assert_eq!(scaled(r(13_250, 50_000), 50_000), 13_250);
        assert_eq!(scaled(r(1000, 1), 10_000), 10_000_000);
        assert_eq!(scaled(r(1, 0), 10_000), 0);
    }
}
