//! Black borders baked into the pictures (letterbox bars above and below a wide film,
//! pillarbox bars beside a 4:3 one), found on pictures sampled across the source.
//!
//! A row (or column) is black when its luma averages at most [`BLACK_LIMIT`] and no sample in
//! it is brighter than [`BRIGHT_LIMIT`] (so a subtitle drawn in the bar keeps its row). A
//! picture that is black all over (a fade, a cut to black) says nothing and is left out; a dark
//! scene makes its own borders look larger, so a border counts only where it holds on at least
//! three quarters of the informative pictures. Borders under [`MIN_BORDER_PX`] are ignored and
//! the rest are rounded up to even sizes (4:2:0 chroma), so no black line is left.

use std::path::Path;

use ffmpeg_next as ffmpeg;
use serde::{Deserialize, Serialize};

/// Highest average luma of a black row, on the 8-bit scale (limited-range black is 16).
pub const BLACK_LIMIT: u32 = 24;
/// Brightest luma sample a black row may hold (compression noise in a bar stays below).
pub const BRIGHT_LIMIT: u32 = 56;
/// Smaller borders are not worth a crop.
pub const MIN_BORDER_PX: u32 = 4;
/// Pictures sampled across the source.
pub const SAMPLES: u32 = 12;
/// Share of informative pictures a border must hold on.
const AGREEMENT: f64 = 0.75;

/// Pixels to remove on each side, in the stored picture (before rotation and before pixels are
/// made square).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Borders {
    /// Rows at the top.
    pub top: u32,
    /// Rows at the bottom.
    pub bottom: u32,
    /// Columns on the left.
    pub left: u32,
    /// Columns on the right.
    pub right: u32,
}

impl Borders {
    /// No border at all.
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    /// The picture left inside the borders of a `width` x `height` picture.
    pub fn inside(&self, width: u32, height: u32) -> (u32, u32) {
        (
            width.saturating_sub(self.left.saturating_add(self.right)),
            height.saturating_sub(self.top.saturating_add(self.bottom)),
        )
    }

    /// In words: `top 140, bottom 140: content 1920x800` for a `width` x `height` picture.
    pub fn describe(&self, width: u32, height: u32) -> String {
        let sides: Vec<String> = [
            ("top", self.top),
            ("bottom", self.bottom),
            ("left", self.left),
            ("right", self.right),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
        let (w, h) = self.inside(width, height);
        format!("{}: content {w}x{h}", sides.join(", "))
    }

    /// FFmpeg's `crop` filter removing these borders.
    pub fn filter(&self) -> String {
        format!(
            "crop=w=iw-{}:h=ih-{}:x={}:y={}:exact=1",
            self.left.saturating_add(self.right),
            self.top.saturating_add(self.bottom),
            self.left,
            self.top
        )
    }
}

/// A luma plane on the 8-bit scale.
pub struct Luma<'a> {
    /// Samples, row after row, `stride` apart.
    pub samples: &'a [u8],
    /// Picture width.
    pub width: usize,
    /// Picture height.
    pub height: usize,
    /// Bytes from one row to the next.
    pub stride: usize,
}

impl Luma<'_> {
    fn black(&self, values: impl Iterator<Item = u8>) -> bool {
        let (mut sum, mut n) = (0u64, 0u64);
        for v in values {
            if u32::from(v) > BRIGHT_LIMIT {
                return false;
            }
            sum += u64::from(v);
            n += 1;
        }
        n > 0 && sum <= u64::from(BLACK_LIMIT) * n
    }

    fn row(&self, y: usize, x0: usize, x1: usize) -> bool {
        let start = y * self.stride;
        self.black(self.samples[start + x0..start + x1].iter().copied())
    }

    fn column(&self, x: usize, y0: usize, y1: usize) -> bool {
        self.black((y0..y1).map(|y| self.samples[y * self.stride + x]))
    }

    /// This picture's borders, or `None` when it is black all over.
    pub fn borders(&self) -> Option<Borders> {
        let (w, h) = (self.width, self.height);
        if w == 0 || h == 0 || self.samples.len() < (h - 1) * self.stride + w {
            return None;
        }
        let top = (0..h).take_while(|&y| self.row(y, 0, w)).count();
        if top == h {
            return None;
        }
        let bottom = (0..h).rev().take_while(|&y| self.row(y, 0, w)).count();
        let (y0, y1) = (top, h - bottom);
        let left = (0..w).take_while(|&x| self.column(x, y0, y1)).count();
        let right = (0..w).rev().take_while(|&x| self.column(x, y0, y1)).count();
        let px = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Some(Borders {
            top: px(top),
            bottom: px(bottom),
            left: px(left),
            right: px(right),
        })
    }
}

/// The borders that hold across pictures (`None` entries are all-black pictures), for a
/// `width` x `height` picture; zero when too few pictures say anything.
pub fn agreed(per_picture: &[Option<Borders>], width: u32, height: u32) -> Borders {
    let seen: Vec<Borders> = per_picture.iter().flatten().copied().collect();
    if seen.len() < 3 || seen.len() * 2 < per_picture.len() {
        return Borders::default();
    }
    // The largest border at least AGREEMENT of the pictures have.
    let holds = |side: fn(&Borders) -> u32| {
        let mut v: Vec<u32> = seen.iter().map(side).collect();
        v.sort_unstable();
        let k = ((1.0 - AGREEMENT) * v.len() as f64).floor() as usize;
        let b = v[k.min(v.len() - 1)];
        if b < MIN_BORDER_PX { 0 } else { b + b % 2 }
    };
    let b = Borders {
        top: holds(|b| b.top),
        bottom: holds(|b| b.bottom),
        left: holds(|b| b.left),
        right: holds(|b| b.right),
    };
    // What is left must be a picture: at least a quarter of each side (else the source is
    // mostly black, not letterboxed).
    let (w, h) = b.inside(width, height);
    if w * 4 < width || h * 4 < height {
        return Borders::default();
    }
    b
}

/// Samples [`SAMPLES`] pictures of video stream `index` of `path` (from 5 % to 95 % of
/// `duration_secs`, each the keyframe before its time) and returns the borders they agree
/// on, or `None` when no picture could be read or no border holds.
pub fn detect(path: &Path, index: usize, duration_secs: f64) -> Option<Borders> {
    let mut input = ffmpeg::format::input(path).ok()?;
    let stream = input.stream(index)?;
    let tb = stream.time_base();
    let start_secs = match stream.start_time() {
        ffmpeg::ffi::AV_NOPTS_VALUE => 0.0,
        t => t as f64 * f64::from(tb),
    };
    let ctx = ffmpeg::codec::context::Context::from_parameters(stream.parameters()).ok()?;
    let decoder = ctx.decoder().video().ok()?;
    let (width, height) = (decoder.width(), decoder.height());
    drop(decoder);
    let mut per_picture = Vec::new();
    for i in 0..SAMPLES {
        let t = duration_secs.max(0.0) * (0.05 + 0.9 * f64::from(i) / f64::from(SAMPLES - 1));
        let target = ((start_secs + t) * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
        if input.seek(target, ..target).is_err() {
            break;
        }
        let Some(picture) = first_keyframe(&mut input, index) else {
            continue;
        };
        per_picture.push(luma_borders(&picture));
    }
    if per_picture.is_empty() {
        return None;
    }
    Some(agreed(&per_picture, width, height)).filter(|b| !b.is_zero())
}

/// The first keyframe decoded from where the demuxer stands (an MPEG-TS seek may land
/// between keyframes: pictures before the next one are skipped), within a bounded read.
fn first_keyframe(
    input: &mut ffmpeg::format::context::Input,
    index: usize,
) -> Option<ffmpeg::frame::Video> {
    let params = input.stream(index)?.parameters();
    let mut decoder = ffmpeg::codec::context::Context::from_parameters(params)
        .ok()?
        .decoder()
        .video()
        .ok()?;
    let mut picture = ffmpeg::frame::Video::empty();
    for _ in 0..600 {
        match crate::av::read_packet(input) {
            Ok(packet) if packet.stream() == index => {
                let _ = decoder.send_packet(&packet);
            }
            Ok(_) | Err(ffmpeg::Error::InvalidData) => continue,
            Err(_) => {
                let _ = decoder.send_eof();
            }
        }
        while decoder.receive_frame(&mut picture).is_ok() {
            if picture.is_key() {
                return Some(picture);
            }
        }
    }
    None
}

/// The borders of one decoded picture (8- to 16-bit planar YUV or NV12-style; other formats
/// say nothing).
fn luma_borders(picture: &ffmpeg::frame::Video) -> Option<Borders> {
    let desc = picture.format().descriptor()?;
    let name = desc.name();
    // Planar or semi-planar YUV, luma first (yuv*, yuvj*, nv12/nv21, p010/p016...).
    if !(name.starts_with("yuv") || name.starts_with("nv") || name.starts_with("p0")) {
        return None;
    }
    // SAFETY: a descriptor from FFmpeg's table is valid for the program's life.
    let (luma, flags) = unsafe { ((*desc.as_ptr()).comp[0], (*desc.as_ptr()).flags) };
    let big_endian = flags & ffmpeg::ffi::AV_PIX_FMT_FLAG_BE as u64 != 0;
    let depth = u32::try_from(luma.depth).ok()?.clamp(8, 16);
    let (w, h) = (picture.width() as usize, picture.height() as usize);
    let stride = picture.stride(0);
    let data = picture.data(0);
    if depth == 8 && luma.step == 1 {
        return Luma {
            samples: data,
            width: w,
            height: h,
            stride,
        }
        .borders();
    }
    if luma.step != 2 {
        return None;
    }
    // Two bytes a sample, the value `shift` bits up (p010 keeps it in the high bits): keep its
    // top 8 bits.
    let shift = u32::try_from(luma.shift).ok()? + depth - 8;
    let mut bytes = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let at = y * stride + 2 * x;
            let pair = [*data.get(at)?, *data.get(at + 1)?];
            let v = if big_endian {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            };
            bytes.push((v >> shift).min(255) as u8);
        }
    }
    Luma {
        samples: &bytes,
        width: w,
        height: h,
        stride: w,
    }
    .borders()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w` x `h` picture at grey level 120 with `bars` rows of black (16, with noise up to
    /// 22) at top and bottom.
    fn letterboxed(w: usize, h: usize, bars: usize) -> Vec<u8> {
        let mut p = vec![120u8; w * h];
        for y in (0..bars).chain(h - bars..h) {
            for x in 0..w {
                p[y * w + x] = 16 + ((x * 7 + y * 3) % 7) as u8;
            }
        }
        p
    }

    fn borders_of(p: &[u8], w: usize, h: usize) -> Option<Borders> {
        Luma {
            samples: p,
            width: w,
            height: h,
            stride: w,
        }
        .borders()
    }

    #[test]
    fn bars_are_found_and_a_bright_subtitle_keeps_its_rows() {
        let (w, h) = (64, 48);
        let p = letterboxed(w, h, 7);
        assert_eq!(
            borders_of(&p, w, h),
            Some(Borders {
                top: 7,
                bottom: 7,
                left: 0,
                right: 0
            })
        );
        // A subtitle in the bottom bar: those rows are not black.
        let mut s = p;
        for x in 20..40 {
            s[(h - 3) * w + x] = 235;
        }
        assert_eq!(borders_of(&s, w, h).map(|b| b.bottom), Some(2));
        // Black all over says nothing.
        assert_eq!(borders_of(&vec![16u8; w * h], w, h), None);
        // Pillarbox.
        let mut q = vec![16u8; w * h];
        for y in 0..h {
            for x in 8..56 {
                q[y * w + x] = 90;
            }
        }
        let b = borders_of(&q, w, h).expect("informative");
        assert_eq!((b.left, b.right, b.top, b.bottom), (8, 8, 0, 0));
    }

    #[test]
    fn borders_must_hold_on_most_pictures() {
        let bars = |top: u32| {
            Some(Borders {
                top,
                bottom: top,
                left: 0,
                right: 0,
            })
        };
        // Ten pictures with 139-row bars, two dark scenes that look like 300-row bars and two
        // fades: the bars hold, rounded up to even.
        let mut v = vec![bars(139); 10];
        v.extend([bars(300), bars(300), None, None]);
        let b = agreed(&v, 1920, 1080);
        assert_eq!((b.top, b.bottom), (140, 140));
        assert_eq!(b.inside(1920, 1080), (1920, 800));
        assert_eq!(b.filter(), "crop=w=iw-0:h=ih-280:x=0:y=140:exact=1");
        // A border on only half of the pictures does not hold.
        let mut v = vec![bars(139); 5];
        v.extend(vec![bars(0); 5]);
        assert!(agreed(&v, 1920, 1080).is_zero());
        // Tiny borders are ignored; too few informative pictures say nothing.
        assert!(agreed(&vec![bars(2); 12], 1920, 1080).is_zero());
        assert!(agreed(&[bars(139), None, None, None], 1920, 1080).is_zero());
        // Almost all black: not a letterbox.
        assert!(agreed(&vec![bars(500); 12], 1920, 1080).is_zero());
    }
}
