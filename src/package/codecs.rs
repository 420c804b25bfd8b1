//! RFC 6381 codec strings for manifests (`avc1.64002a`, `hvc1.1.6.L150.90`, `mp4a.40.2`), read
//! from the sample entry's configuration boxes, so they state what the stream really is.

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

#[cfg(test)]
mod tests {
    use super::*;

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
