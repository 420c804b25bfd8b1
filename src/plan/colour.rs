//! What the source's pixels are (matrix, range, gamut), read from its tags or assumed by the
//! usual convention, and the one conversion that makes them BT.709 limited range, which is what
//! every output is tagged. A player that honours the tags then shows the source's colours.
//!
//! Rules: tagged sources are taken at their word; untagged ones follow the convention players
//! use (SD, up to 1024x576, is BT.601; larger is BT.709; `yuvj` pixel formats are full range,
//! others limited). BT.601 and full-range pictures get a matrix and range conversion (the SD
//! primaries are treated as BT.709's, as broadcast up-converters do, so code values stay put);
//! BT.2020 SDR gets its primaries converted too (its gamut is much wider); RGB sources are
//! converted to BT.709 Y'CbCr instead of swscale's BT.601 default. HDR sources are tone-mapped
//! elsewhere and skip this step.

use serde::{Deserialize, Serialize};

use crate::probe::VideoInfo;

/// The colour of the source's pixels as Vodkit will read them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColourIn {
    /// The Y'CbCr matrix: `bt601`, `bt709`, `bt2020` (non-constant luminance), `bt2020c`
    /// (constant luminance), `smpte240m`, `fcc`, or `rgb` for RGB pictures.
    pub matrix: String,
    /// Full range (0-255) rather than limited (16-235).
    pub full_range: bool,
    /// BT.2020 primaries (wide gamut), converted to BT.709's.
    pub wide_gamut: bool,
    /// What was assumed because the source did not say, in words.
    pub assumed: Option<String>,
}

impl Default for ColourIn {
    fn default() -> Self {
        Self {
            matrix: "bt709".to_owned(),
            full_range: false,
            wide_gamut: false,
            assumed: None,
        }
    }
}

impl ColourIn {
    /// Reads a video stream's tags, filling the gaps by convention.
    pub fn of(video: &VideoInfo) -> Self {
        let pix = video.pixel_format.as_deref().unwrap_or("");
        let rgb = is_rgb(pix);
        let mut assumed = Vec::new();
        let sd = video.width <= 1024 && video.height <= 576;
        let matrix = match video.color_matrix.as_deref() {
            _ if rgb => "rgb",
            Some("bt709") => "bt709",
            Some("smpte170m" | "bt470bg") => "bt601",
            Some("bt2020nc") => "bt2020",
            Some("bt2020c") => "bt2020c",
            Some("smpte240m") => "smpte240m",
            Some("fcc") => "fcc",
            Some("gbr") => "rgb",
            other => {
                let m = if sd { "bt601" } else { "bt709" };
                assumed.push(format!(
                    "matrix {} (untagged{}: {} source)",
                    label(m),
                    other.map(|o| format!(" or {o}")).unwrap_or_default(),
                    if sd { "SD" } else { "HD" }
                ));
                m
            }
        };
        let full_range = match video.color_range.as_deref() {
            Some("pc") => true,
            Some("tv") => false,
            _ if rgb => true,
            _ => {
                let full = pix.starts_with("yuvj");
                assumed.push(format!(
                    "{} range (untagged{})",
                    if full { "full" } else { "limited" },
                    if full { ", yuvj pixels" } else { "" }
                ));
                full
            }
        };
        let wide_gamut = video.color_primaries.as_deref() == Some("bt2020") && video.hdr.is_none();
        Self {
            matrix: matrix.to_owned(),
            full_range,
            wide_gamut,
            assumed: (!assumed.is_empty()).then(|| assumed.join(", ")),
        }
    }

    /// True when the pixels are not BT.709 limited range already.
    pub fn needs_conversion(&self) -> bool {
        self.matrix != "bt709" || self.full_range || self.wide_gamut
    }

    /// The conversion in words for the plan and the manifest, or `None` when there is none.
    pub fn describe(&self) -> Option<String> {
        let mut s = if self.needs_conversion() {
            let mut what = vec![format!("{} matrix", label(&self.matrix))];
            if self.full_range {
                what.push("full range".to_owned());
            }
            if self.wide_gamut {
                what.push("BT.2020 primaries".to_owned());
            }
            format!(
                "colour converted from {} to BT.709 limited range",
                what.join(", ")
            )
        } else {
            "colour kept: BT.709 limited range".to_owned()
        };
        if let Some(a) = &self.assumed {
            s.push_str(&format!(" (assumed {a})"));
        }
        (self.needs_conversion() || self.assumed.is_some()).then_some(s)
    }

    /// The libavfilter step (zimg's `zscale`) that turns these pixels into BT.709 limited
    /// range, or `None` when they are already.
    pub fn filter(&self) -> Option<String> {
        if !self.needs_conversion() {
            return None;
        }
        let range_in = if self.full_range { "full" } else { "limited" };
        // zimg's names where FFmpeg 5.1 spells them plainly, its numbers (ITU-T H.273) where not.
        let matrix_in = match self.matrix.as_str() {
            "bt601" => Some("170m"),
            "bt2020" => Some("2020_ncl"),
            "bt2020c" => Some("2020_cl"),
            "smpte240m" => Some("7"),
            "fcc" => Some("fcc"),
            "rgb" => None, // zscale reads RGB input as such
            _ => Some("709"),
        };
        let mut f = String::from("zscale=");
        if let Some(m) = matrix_in {
            f.push_str(&format!("min={m}:"));
        }
        f.push_str(&format!("rin={range_in}:"));
        if self.wide_gamut {
            f.push_str("pin=2020:tin=709:p=709:t=709:");
        }
        // Error diffusion when the conversion also reduces bit depth (10-bit sources), so
        // gradients do not band.
        f.push_str("m=709:r=limited:d=error_diffusion");
        Some(f)
    }
}

fn label(matrix: &str) -> &str {
    match matrix {
        "bt601" => "BT.601",
        "bt709" => "BT.709",
        "bt2020" => "BT.2020",
        "bt2020c" => "BT.2020 constant luminance",
        "smpte240m" => "SMPTE 240M",
        "fcc" => "FCC",
        "rgb" => "RGB",
        other => other,
    }
}

fn is_rgb(pix: &str) -> bool {
    ["rgb", "bgr", "gbr", "argb", "abgr", "0rgb", "0bgr", "pal8"]
        .iter()
        .any(|p| pix.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(w: u32, h: u32, pix: &str, matrix: Option<&str>, range: Option<&str>) -> VideoInfo {
        VideoInfo {
            level: None,
            width: w,
            height: h,
            sample_aspect_ratio: "1:1".into(),
            display_aspect_ratio: "16:9".into(),
            rotation_deg: 0,
            display_width: w,
            display_height: h,
            avg_frame_rate: Some(25.0),
            avg_frame_rate_ratio: Some("25/1".into()),
            real_frame_rate: None,
            variable_frame_rate: false,
            frame_count: None,
            pixel_format: Some(pix.into()),
            bit_depth: Some(8),
            color_primaries: None,
            color_transfer: None,
            color_matrix: matrix.map(Into::into),
            color_range: range.map(Into::into),
            hdr: None,
            hdr_metadata: Default::default(),
            field_order: "progressive".into(),
            interlaced: false,
            black_borders: None,
        }
    }

    #[test]
    fn tagged_bt709_limited_is_left_alone() {
        let c = ColourIn::of(&video(1920, 1080, "yuv420p", Some("bt709"), Some("tv")));
        assert!(!c.needs_conversion());
        assert_eq!(c.filter(), None);
        assert_eq!(c.describe(), None);
    }

    #[test]
    fn tagged_bt601_gets_a_matrix_conversion() {
        let c = ColourIn::of(&video(720, 480, "yuv420p", Some("smpte170m"), Some("tv")));
        assert_eq!(c.matrix, "bt601");
        assert_eq!(
            c.filter().as_deref(),
            Some("zscale=min=170m:rin=limited:m=709:r=limited:d=error_diffusion")
        );
        assert!(c.describe().expect("said").contains("BT.601"));
    }

    #[test]
    fn untagged_sd_is_bt601_and_untagged_hd_bt709_and_the_plan_says_so() {
        let sd = ColourIn::of(&video(640, 480, "yuv420p", None, None));
        assert_eq!(sd.matrix, "bt601");
        let words = sd.describe().expect("said");
        assert!(
            words.contains("assumed matrix BT.601") && words.contains("SD"),
            "{words}"
        );
        let hd = ColourIn::of(&video(1280, 720, "yuv420p", None, None));
        assert_eq!(hd.matrix, "bt709");
        assert!(!hd.needs_conversion());
        assert!(hd.describe().expect("assumption said").contains("assumed"));
    }

    #[test]
    fn smpte_240m_and_constant_luminance_use_zimgs_own_values() {
        let c = ColourIn::of(&video(1920, 1080, "yuv420p", Some("smpte240m"), Some("tv")));
        assert!(c.filter().expect("converted").starts_with("zscale=min=7:"));
        let c = ColourIn::of(&video(
            3840,
            2160,
            "yuv420p10le",
            Some("bt2020c"),
            Some("tv"),
        ));
        assert!(
            c.filter()
                .expect("converted")
                .starts_with("zscale=min=2020_cl:")
        );
    }

    #[test]
    fn full_range_and_rgb_and_wide_gamut() {
        let j = ColourIn::of(&video(1920, 1080, "yuvj420p", Some("bt709"), None));
        assert!(j.full_range);
        assert_eq!(
            j.filter().as_deref(),
            Some("zscale=min=709:rin=full:m=709:r=limited:d=error_diffusion")
        );
        let rgb = ColourIn::of(&video(1280, 720, "rgb24", None, None));
        assert_eq!(rgb.matrix, "rgb");
        assert_eq!(
            rgb.filter().as_deref(),
            Some("zscale=rin=full:m=709:r=limited:d=error_diffusion")
        );
        let mut v = video(3840, 2160, "yuv420p10le", Some("bt2020nc"), Some("tv"));
        v.color_primaries = Some("bt2020".into());
        let w = ColourIn::of(&v);
        assert!(w.wide_gamut);
        assert!(w.filter().expect("converted").contains("pin=2020"));
        // HDR is tone-mapped elsewhere: not counted as wide-gamut SDR.
        v.hdr = Some("PQ".into());
        assert!(!ColourIn::of(&v).wide_gamut);
    }
}
