//! One-time FFmpeg setup and small safe helpers over raw FFmpeg values.
//!
//! The rest of the crate goes through `ffmpeg-next`; where it does not expose a field or a
//! helper (profile names, colour names, display matrices), the few `unsafe` reads live here,
//! each behind a safe function.

use std::ffi::CStr;
use std::os::raw::c_char;
use std::sync::Once;

pub use ffmpeg_next as ffmpeg;
use ffmpeg_next::ffi;

/// Initialises the FFmpeg libraries once per process and quiets their logging to errors,
/// so library chatter never mixes with our own output.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // `init` only registers devices and networking on these versions; it cannot fail in a
        // way we could act on, and a failure would show up as an open error right after.
        let _ = ffmpeg::init();
        let level = match std::env::var("VODKIT_FFMPEG_LOG").as_deref() {
            Ok("debug") => ffmpeg::util::log::Level::Debug,
            Ok("info") => ffmpeg::util::log::Level::Info,
            Ok("warning") => ffmpeg::util::log::Level::Warning,
            _ => ffmpeg::util::log::Level::Fatal,
        };
        ffmpeg::util::log::set_level(level);
    });
}

/// A metadata tag, read as bytes and made valid UTF-8 (a damaged or foreign file may carry any
/// bytes in a name; ffmpeg-next's own getter would hand them out as a `str` unchecked).
pub fn tag(dict: &ffmpeg::DictionaryRef<'_>, key: &str) -> Option<String> {
    let key = std::ffi::CString::new(key).ok()?;
    // SAFETY: the dictionary belongs to an open input that outlives this call; av_dict_get
    // returns null or an entry whose value is a NUL-terminated string it owns.
    unsafe {
        let entry = ffi::av_dict_get(dict.as_ptr(), key.as_ptr(), std::ptr::null(), 0);
        if entry.is_null() {
            return None;
        }
        let value = (*entry).value;
        (!value.is_null()).then(|| CStr::from_ptr(value).to_string_lossy().into_owned())
    }
}

/// Tells a scaler that its Y'CbCr input is BT.709 limited range (what every Vodkit picture is
/// after the source filters), instead of swscale's BT.601 default, for a conversion to RGB.
pub fn scaler_reads_bt709(scaler: &mut ffmpeg::software::scaling::Context) -> Result<(), String> {
    // SAFETY: the context is valid for the duration of the call; the coefficient tables are
    // static tables inside libswscale.
    let ret = unsafe {
        ffi::sws_setColorspaceDetails(
            scaler.as_mut_ptr(),
            ffi::sws_getCoefficients(ffi::SWS_CS_ITU709),
            0,
            ffi::sws_getCoefficients(ffi::SWS_CS_DEFAULT),
            1,
            0,
            1 << 16,
            1 << 16,
        )
    };
    if ret < 0 {
        Err("this swscale cannot convert BT.709 pictures".to_owned())
    } else {
        Ok(())
    }
}

/// Copies a C string owned by FFmpeg; `None` for a null pointer or an empty string.
fn c_str(ptr: *const c_char) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: FFmpeg returns pointers to static, NUL-terminated strings for every name
    // function used in this module; null was handled above.
    let s = unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned();
    (!s.is_empty()).then_some(s)
}

/// The short name of a codec, such as `h264` or `aac`.
pub fn codec_name(id: ffi::AVCodecID) -> String {
    // SAFETY: avcodec_get_name accepts any id and returns a static string ("unknown_codec").
    c_str(unsafe { ffi::avcodec_get_name(id) }).unwrap_or_else(|| "unknown".to_owned())
}

/// The name of a codec profile, such as `High` or `Main 10`, if FFmpeg knows it.
pub fn profile_name(id: ffi::AVCodecID, profile: i32) -> Option<String> {
    if profile < 0 {
        return None;
    }
    // SAFETY: returns null for unknown profiles, a static string otherwise.
    c_str(unsafe { ffi::avcodec_profile_name(id, profile) })
}

/// The name and bit depth of a pixel format (`yuv420p10le`, 10).
pub fn pixel_format(format: i32) -> Option<(String, u32)> {
    if format < 0 {
        return None;
    }
    // SAFETY: AVPixelFormat is a C enum whose values FFmpeg itself wrote into `format`;
    // av_pix_fmt_desc_get returns null for values it does not know.
    unsafe {
        let fmt: ffi::AVPixelFormat = std::mem::transmute(format);
        let desc = ffi::av_pix_fmt_desc_get(fmt);
        if desc.is_null() {
            return None;
        }
        let name = c_str((*desc).name)?;
        let depth = u32::try_from((*desc).comp[0].depth).unwrap_or(0);
        Some((name, depth))
    }
}

/// Colour primaries, transfer characteristic and matrix names; `None` where unspecified.
pub fn colour_names(
    primaries: ffi::AVColorPrimaries,
    transfer: ffi::AVColorTransferCharacteristic,
    matrix: ffi::AVColorSpace,
    range: ffi::AVColorRange,
) -> [Option<String>; 4] {
    use ffi::{
        AVColorPrimaries::AVCOL_PRI_UNSPECIFIED, AVColorRange::AVCOL_RANGE_UNSPECIFIED,
        AVColorSpace::AVCOL_SPC_UNSPECIFIED, AVColorTransferCharacteristic::AVCOL_TRC_UNSPECIFIED,
    };
    // SAFETY: the name functions return static strings or null for out-of-range values.
    unsafe {
        [
            (primaries != AVCOL_PRI_UNSPECIFIED)
                .then(|| c_str(ffi::av_color_primaries_name(primaries)))
                .flatten(),
            (transfer != AVCOL_TRC_UNSPECIFIED)
                .then(|| c_str(ffi::av_color_transfer_name(transfer)))
                .flatten(),
            (matrix != AVCOL_SPC_UNSPECIFIED)
                .then(|| c_str(ffi::av_color_space_name(matrix)))
                .flatten(),
            (range != AVCOL_RANGE_UNSPECIFIED)
                .then(|| c_str(ffi::av_color_range_name(range)))
                .flatten(),
        ]
    }
}

/// Describes a channel layout (`stereo`, `5.1(side)`), or `None` when it is unspecified.
pub fn channel_layout_name(layout: &ffi::AVChannelLayout) -> Option<String> {
    if layout.order == ffi::AVChannelOrder::AV_CHANNEL_ORDER_UNSPEC {
        return None;
    }
    let mut buf = [0 as c_char; 128];
    // SAFETY: the buffer is valid for its length; FFmpeg NUL-terminates within it.
    let written = unsafe { ffi::av_channel_layout_describe(layout, buf.as_mut_ptr(), buf.len()) };
    if written < 0 {
        return None;
    }
    c_str(buf.as_ptr())
}

/// The clockwise rotation in degrees (0, 90, 180 or 270) that a display matrix asks for
/// before the picture is shown; 9 32-bit values as stored in MP4 `tkhd` and FFmpeg side data.
pub fn display_matrix_rotation_deg(matrix_bytes: &[u8]) -> Option<u32> {
    if matrix_bytes.len() < 36 {
        return None;
    }
    let mut matrix = [0i32; 9];
    for (value, chunk) in matrix.iter_mut().zip(matrix_bytes.chunks_exact(4)) {
        *value = i32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    // SAFETY: the matrix is 9 valid i32 values, as av_display_rotation_get expects.
    let counter_clockwise = unsafe { ffi::av_display_rotation_get(matrix.as_ptr()) };
    if counter_clockwise.is_nan() {
        return None;
    }
    Some(normalise_rotation_deg(-counter_clockwise))
}

/// Rounds an angle to the nearest quarter turn in `0..360`.
pub fn normalise_rotation_deg(degrees: f64) -> u32 {
    let quarter_turns = (degrees / 90.0).round() as i64;
    (quarter_turns.rem_euclid(4) * 90) as u32
}

/// A rational as `f64`, `None` when the denominator or numerator is zero.
pub fn ratio(num: i32, den: i32) -> Option<f64> {
    (num != 0 && den != 0).then(|| f64::from(num) / f64::from(den))
}

/// The end (offset + size, in bytes) of the furthest sample a stream's index points at, for
/// containers with a sample index (MP4/MOV, and Matroska cues); `None` without an index.
pub fn indexed_end_byte(stream: &ffmpeg::format::stream::Stream<'_>) -> Option<u64> {
    // SAFETY: the stream belongs to an open input that outlives this call; entries are read
    // one at a time by index within the count FFmpeg reports, and nothing else touches the
    // stream meanwhile.
    unsafe {
        let st = stream.as_ptr() as *mut ffi::AVStream;
        let count = ffi::avformat_index_get_entries_count(st);
        (0..count)
            .filter_map(|i| {
                let entry = ffi::avformat_index_get_entry(st, i);
                if entry.is_null() {
                    return None;
                }
                let size = u64::try_from((*entry).size()).ok()?;
                u64::try_from((*entry).pos).ok().map(|pos| pos + size)
            })
            .max()
    }
}

/// Reads the next packet into a fresh [`ffmpeg::Packet`].
///
/// `Packet::read` hands a used packet straight to `av_read_frame`, which overwrites it without
/// releasing its data: reusing one packet leaks every packet read. A new packet per read is
/// released by its own `Drop`.
pub fn read_packet(
    input: &mut ffmpeg::format::context::Input,
) -> Result<ffmpeg::Packet, ffmpeg::Error> {
    let mut packet = ffmpeg::Packet::empty();
    packet.read(input)?;
    Ok(packet)
}

/// A new frame that shares `src`'s picture buffers (reference-counted, no copy), with its own
/// timestamps and flags. `Clone` on `ffmpeg::frame::Video` copies the pixels instead.
pub fn frame_ref(src: &ffmpeg::frame::Video) -> Result<ffmpeg::frame::Video, ffmpeg::Error> {
    let mut dst = ffmpeg::frame::Video::empty();
    // SAFETY: both frames are valid; av_frame_ref takes new references on src's buffers and
    // copies its properties into the empty dst.
    let rc = unsafe { ffi::av_frame_ref(dst.as_mut_ptr(), src.as_ptr()) };
    if rc < 0 {
        return Err(ffmpeg::Error::from(rc));
    }
    Ok(dst)
}

/// The FFmpeg libraries this binary runs on, as `libavcodec 59.37.100, ...`.
pub fn library_versions() -> String {
    let split = |v: u32| format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff);
    // SAFETY: the *_version functions only return a constant.
    let versions = unsafe {
        [
            ("libavcodec", ffi::avcodec_version()),
            ("libavformat", ffi::avformat_version()),
            ("libavutil", ffi::avutil_version()),
            ("libavfilter", ffi::avfilter_version()),
            ("libswscale", ffi::swscale_version()),
            ("libswresample", ffi::swresample_version()),
        ]
    };
    versions
        .iter()
        .map(|(name, v)| format!("{name} {}", split(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotations_snap_to_quarter_turns() {
        assert_eq!(normalise_rotation_deg(-90.0), 270);
        assert_eq!(normalise_rotation_deg(90.0), 90);
        assert_eq!(normalise_rotation_deg(179.9), 180);
        assert_eq!(normalise_rotation_deg(-180.0), 180);
        assert_eq!(normalise_rotation_deg(0.0), 0);
        assert_eq!(normalise_rotation_deg(360.0), 0);
    }

    #[test]
    fn display_matrix_of_a_portrait_phone_clip() {
        // The matrix an iPhone writes for a portrait recording: a 90 degree clockwise turn.
        let matrix: [i32; 9] = [0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30];
        let bytes: Vec<u8> = matrix.iter().flat_map(|v| v.to_ne_bytes()).collect();
        assert_eq!(display_matrix_rotation_deg(&bytes), Some(90));
        assert_eq!(display_matrix_rotation_deg(&bytes[..8]), None);
    }

    #[test]
    fn names_of_common_values() {
        init();
        assert_eq!(codec_name(ffi::AVCodecID::AV_CODEC_ID_H264), "h264");
        assert_eq!(
            profile_name(ffi::AVCodecID::AV_CODEC_ID_H264, 100).as_deref(),
            Some("High")
        );
        assert_eq!(pixel_format(0), Some(("yuv420p".to_owned(), 8)));
    }
}
