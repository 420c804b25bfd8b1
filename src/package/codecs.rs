//! RFC 6381 codec strings for manifests (`avc1.64002a`, `hvc1.1.6.L150.90`, `av01.0.08M.08`,
//! `mp4a.40.2`), read from the sample entry's configuration boxes, so they state what the
//! stream really is.

use mp4_atom::Codec;

/// The codec string of a sample entry, or `None` for codecs we do not package.
pub fn codec_string(codec: &Codec) -> Option<String> {
    match codec {
        Codec::Avc1(a) => Some(format!(
            "avc1.{:02x}{:02x}{:02x}",
            a.avcc.avc_profile_indication,
            a.avcc.profile_compatibility,
            a.avcc.avc_level_indication
        )),
        Codec::Hvc1(h) => Some(hevc("hvc1", &h.hvcc)),
        Codec::Hev1(h) => Some(hevc("hev1", &h.hvcc)),
        Codec::Av01(a) => Some(av1(&a.av1c, a.colr.as_ref())),
        Codec::Mp4a(m) => {
            let object_type = m.esds.es_desc.dec_config.object_type_indication;
            let audio_object_type = m
                .esds
                .es_desc
                .dec_config
                .dec_specific
                .as_ref()
                .map_or(2, |d| d.profile);
            Some(format!("mp4a.{object_type:x}.{audio_object_type}"))
        }
        _ => None,
    }
}

/// HLS VIDEO-RANGE of a video sample entry from its `colr` box: `PQ` for SMPTE ST 2084
/// (transfer 16), `HLG` for ARIB STD-B67 (18), else `SDR`.
pub fn video_range(codec: &Codec) -> &'static str {
    let colr = match codec {
        Codec::Avc1(a) => a.colr.as_ref(),
        Codec::Hvc1(h) => h.colr.as_ref(),
        Codec::Hev1(h) => h.colr.as_ref(),
        Codec::Av01(a) => a.colr.as_ref(),
        _ => None,
    };
    match colr {
        Some(
            mp4_atom::Colr::Nclx {
                transfer_characteristics: 16,
                ..
            }
            | mp4_atom::Colr::Nclc {
                transfer_characteristics: 16,
                ..
            },
        ) => "PQ",
        Some(
            mp4_atom::Colr::Nclx {
                transfer_characteristics: 18,
                ..
            }
            | mp4_atom::Colr::Nclc {
                transfer_characteristics: 18,
                ..
            },
        ) => "HLG",
        _ => "SDR",
    }
}

/// ISO/IEC 14496-15 Annex E: `hvc1.<space><profile>.<compat, bit-reversed hex>.<tier><level>.<constraints>`.
fn hevc(fourcc: &str, c: &mp4_atom::Hvcc) -> String {
    let space = match c.general_profile_space {
        1 => "A",
        2 => "B",
        3 => "C",
        _ => "",
    };
    let compat = u32::from_be_bytes(c.general_profile_compatibility_flags).reverse_bits();
    let tier = if c.general_tier_flag { 'H' } else { 'L' };
    let mut constraints: Vec<String> = c
        .general_constraint_indicator_flags
        .iter()
        .map(|b| format!("{b:X}"))
        .collect();
    while constraints.last().is_some_and(|b| b == "0") {
        constraints.pop();
    }
    let mut s = format!(
        "{fourcc}.{space}{}.{compat:X}.{tier}{}",
        c.general_profile_idc, c.general_level_idc
    );
    for b in constraints {
        s.push('.');
        s.push_str(&b);
    }
    s
}

/// AV1 Codec ISO Media File Format Binding, "Codecs Parameter String":
/// `av01.<profile>.<level, two digits><tier>.<bit depth, two digits>`, and when the colour is
/// not the default (BT.709 limited range, 4:2:0 with the chroma position unknown) the optional
/// fields all together: `.<mono>.<subsampling x, y, position>.<primaries>.<transfer>.<matrix>.<full range>`.
fn av1(c: &mp4_atom::Av1c, colr: Option<&mp4_atom::Colr>) -> String {
    let tier = if c.seq_tier_0 { 'H' } else { 'M' };
    let depth = match (c.high_bitdepth, c.twelve_bit) {
        (true, true) => 12,
        (true, false) => 10,
        _ => 8,
    };
    let mut s = format!(
        "av01.{}.{:02}{tier}.{depth:02}",
        c.seq_profile, c.seq_level_idx_0
    );
    let colour = match colr {
        Some(mp4_atom::Colr::Nclx {
            colour_primaries,
            transfer_characteristics,
            matrix_coefficients,
            full_range_flag,
        }) => Some((
            *colour_primaries,
            *transfer_characteristics,
            *matrix_coefficients,
            *full_range_flag,
        )),
        _ => None,
    };
    let (primaries, transfer, matrix, full) = colour.unwrap_or((1, 1, 1, false));
    let subsampling = format!(
        "{}{}{}",
        u8::from(c.chroma_subsampling_x),
        u8::from(c.chroma_subsampling_y),
        c.chroma_sample_position
    );
    let default = !c.monochrome
        && subsampling == "110"
        && (primaries, transfer, matrix, full) == (1, 1, 1, false);
    if !default {
        s.push_str(&format!(
            ".{}.{subsampling}.{primaries:02}.{transfer:02}.{matrix:02}.{}",
            u8::from(c.monochrome),
            u8::from(full)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn av1c(level: u8, ten_bit: bool) -> mp4_atom::Av1c {
        mp4_atom::Av1c {
            seq_level_idx_0: level,
            high_bitdepth: ten_bit,
            chroma_subsampling_x: true,
            chroma_subsampling_y: true,
            ..mp4_atom::Av1c::default()
        }
    }

    #[test]
    fn av1_short_form_for_bt709_and_long_form_otherwise() {
        let bt709 = mp4_atom::Colr::Nclx {
            colour_primaries: 1,
            transfer_characteristics: 1,
            matrix_coefficients: 1,
            full_range_flag: false,
        };
        assert_eq!(av1(&av1c(8, false), Some(&bt709)), "av01.0.08M.08");
        assert_eq!(av1(&av1c(1, false), None), "av01.0.01M.08");
        let pq = mp4_atom::Colr::Nclx {
            colour_primaries: 9,
            transfer_characteristics: 16,
            matrix_coefficients: 9,
            full_range_flag: false,
        };
        // The AV1-ISOBMFF specification's own example of an HDR10 stream.
        assert_eq!(
            av1(&av1c(13, true), Some(&pq)),
            "av01.0.13M.10.0.110.09.16.09.0"
        );
    }

    #[test]
    fn hevc_main_level_5_main_tier() {
        let c = mp4_atom::Hvcc {
            general_profile_space: 0,
            general_tier_flag: false,
            general_profile_idc: 1,
            general_profile_compatibility_flags: [0x60, 0, 0, 0],
            general_constraint_indicator_flags: [0x90, 0, 0, 0, 0, 0],
            general_level_idc: 150,
            ..mp4_atom::Hvcc::default()
        };
        assert_eq!(hevc("hvc1", &c), "hvc1.1.6.L150.90");
    }
}
