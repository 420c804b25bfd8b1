//! Language codes: ISO 639-1 (`en`) as HLS and DASH write them (BCP 47), the ISO 639-2 forms
//! containers use (`eng`, and the bibliographic `fre`/`ger` beside `fra`/`deu`), and English
//! names for players' menus. A code outside the table is refused rather than guessed.

/// (ISO 639-1, ISO 639-2/T, ISO 639-2/B when it differs, English name).
const TABLE: &[(&str, &str, &str, &str)] = &[
    ("aa", "aar", "", "Afar"),
    ("ab", "abk", "", "Abkhazian"),
    ("ae", "ave", "", "Avestan"),
    ("af", "afr", "", "Afrikaans"),
    ("ak", "aka", "", "Akan"),
    ("am", "amh", "", "Amharic"),
    ("an", "arg", "", "Aragonese"),
    ("ar", "ara", "", "Arabic"),
    ("as", "asm", "", "Assamese"),
    ("av", "ava", "", "Avaric"),
    ("ay", "aym", "", "Aymara"),
    ("az", "aze", "", "Azerbaijani"),
    ("ba", "bak", "", "Bashkir"),
    ("be", "bel", "", "Belarusian"),
    ("bg", "bul", "", "Bulgarian"),
    ("bi", "bis", "", "Bislama"),
    ("bm", "bam", "", "Bambara"),
    ("bn", "ben", "", "Bengali"),
    ("bo", "bod", "tib", "Tibetan"),
    ("br", "bre", "", "Breton"),
    ("bs", "bos", "", "Bosnian"),
    ("ca", "cat", "", "Catalan"),
    ("ce", "che", "", "Chechen"),
    ("ch", "cha", "", "Chamorro"),
    ("co", "cos", "", "Corsican"),
    ("cr", "cre", "", "Cree"),
    ("cs", "ces", "cze", "Czech"),
    ("cu", "chu", "", "Church Slavic"),
    ("cv", "chv", "", "Chuvash"),
    ("cy", "cym", "wel", "Welsh"),
    ("da", "dan", "", "Danish"),
    ("de", "deu", "ger", "German"),
    ("dv", "div", "", "Divehi"),
    ("dz", "dzo", "", "Dzongkha"),
    ("ee", "ewe", "", "Ewe"),
    ("el", "ell", "gre", "Greek"),
    ("en", "eng", "", "English"),
    ("eo", "epo", "", "Esperanto"),
    ("es", "spa", "", "Spanish"),
    ("et", "est", "", "Estonian"),
    ("eu", "eus", "baq", "Basque"),
    ("fa", "fas", "per", "Persian"),
    ("ff", "ful", "", "Fulah"),
    ("fi", "fin", "", "Finnish"),
    ("fj", "fij", "", "Fijian"),
    ("fo", "fao", "", "Faroese"),
    ("fr", "fra", "fre", "French"),
    ("fy", "fry", "", "Western Frisian"),
    ("ga", "gle", "", "Irish"),
    ("gd", "gla", "", "Scottish Gaelic"),
    ("gl", "glg", "", "Galician"),
    ("gn", "grn", "", "Guarani"),
    ("gu", "guj", "", "Gujarati"),
    ("gv", "glv", "", "Manx"),
    ("ha", "hau", "", "Hausa"),
    ("he", "heb", "", "Hebrew"),
    ("hi", "hin", "", "Hindi"),
    ("ho", "hmo", "", "Hiri Motu"),
    ("hr", "hrv", "", "Croatian"),
    ("ht", "hat", "", "Haitian"),
    ("hu", "hun", "", "Hungarian"),
    ("hy", "hye", "arm", "Armenian"),
    ("hz", "her", "", "Herero"),
    ("ia", "ina", "", "Interlingua"),
    ("id", "ind", "", "Indonesian"),
    ("ie", "ile", "", "Interlingue"),
    ("ig", "ibo", "", "Igbo"),
    ("ii", "iii", "", "Sichuan Yi"),
    ("ik", "ipk", "", "Inupiaq"),
    ("io", "ido", "", "Ido"),
    ("is", "isl", "ice", "Icelandic"),
    ("it", "ita", "", "Italian"),
    ("iu", "iku", "", "Inuktitut"),
    ("ja", "jpn", "", "Japanese"),
    ("jv", "jav", "", "Javanese"),
    ("ka", "kat", "geo", "Georgian"),
    ("kg", "kon", "", "Kongo"),
    ("ki", "kik", "", "Kikuyu"),
    ("kj", "kua", "", "Kuanyama"),
    ("kk", "kaz", "", "Kazakh"),
    ("kl", "kal", "", "Kalaallisut"),
    ("km", "khm", "", "Khmer"),
    ("kn", "kan", "", "Kannada"),
    ("ko", "kor", "", "Korean"),
    ("kr", "kau", "", "Kanuri"),
    ("ks", "kas", "", "Kashmiri"),
    ("ku", "kur", "", "Kurdish"),
    ("kv", "kom", "", "Komi"),
    ("kw", "cor", "", "Cornish"),
    ("ky", "kir", "", "Kyrgyz"),
    ("la", "lat", "", "Latin"),
    ("lb", "ltz", "", "Luxembourgish"),
    ("lg", "lug", "", "Ganda"),
    ("li", "lim", "", "Limburgish"),
    ("ln", "lin", "", "Lingala"),
    ("lo", "lao", "", "Lao"),
    ("lt", "lit", "", "Lithuanian"),
    ("lu", "lub", "", "Luba-Katanga"),
    ("lv", "lav", "", "Latvian"),
    ("mg", "mlg", "", "Malagasy"),
    ("mh", "mah", "", "Marshallese"),
    ("mi", "mri", "mao", "Maori"),
    ("mk", "mkd", "mac", "Macedonian"),
    ("ml", "mal", "", "Malayalam"),
    ("mn", "mon", "", "Mongolian"),
    ("mr", "mar", "", "Marathi"),
    ("ms", "msa", "may", "Malay"),
    ("mt", "mlt", "", "Maltese"),
    ("my", "mya", "bur", "Burmese"),
    ("na", "nau", "", "Nauru"),
    ("nb", "nob", "", "Norwegian Bokmål"),
    ("nd", "nde", "", "North Ndebele"),
    ("ne", "nep", "", "Nepali"),
    ("ng", "ndo", "", "Ndonga"),
    ("nl", "nld", "dut", "Dutch"),
    ("nn", "nno", "", "Norwegian Nynorsk"),
    ("no", "nor", "", "Norwegian"),
    ("nr", "nbl", "", "South Ndebele"),
    ("nv", "nav", "", "Navajo"),
    ("ny", "nya", "", "Chichewa"),
    ("oc", "oci", "", "Occitan"),
    ("oj", "oji", "", "Ojibwa"),
    ("om", "orm", "", "Oromo"),
    ("or", "ori", "", "Oriya"),
    ("os", "oss", "", "Ossetian"),
    ("pa", "pan", "", "Punjabi"),
    ("pi", "pli", "", "Pali"),
    ("pl", "pol", "", "Polish"),
    ("ps", "pus", "", "Pashto"),
    ("pt", "por", "", "Portuguese"),
    ("qu", "que", "", "Quechua"),
    ("rm", "roh", "", "Romansh"),
    ("rn", "run", "", "Rundi"),
    ("ro", "ron", "rum", "Romanian"),
    ("ru", "rus", "", "Russian"),
    ("rw", "kin", "", "Kinyarwanda"),
    ("sa", "san", "", "Sanskrit"),
    ("sc", "srd", "", "Sardinian"),
    ("sd", "snd", "", "Sindhi"),
    ("se", "sme", "", "Northern Sami"),
    ("sg", "sag", "", "Sango"),
    ("si", "sin", "", "Sinhala"),
    ("sk", "slk", "slo", "Slovak"),
    ("sl", "slv", "", "Slovenian"),
    ("sm", "smo", "", "Samoan"),
    ("sn", "sna", "", "Shona"),
    ("so", "som", "", "Somali"),
    ("sq", "sqi", "alb", "Albanian"),
    ("sr", "srp", "", "Serbian"),
    ("ss", "ssw", "", "Swati"),
    ("st", "sot", "", "Southern Sotho"),
    ("su", "sun", "", "Sundanese"),
    ("sv", "swe", "", "Swedish"),
    ("sw", "swa", "", "Swahili"),
    ("ta", "tam", "", "Tamil"),
    ("te", "tel", "", "Telugu"),
    ("tg", "tgk", "", "Tajik"),
    ("th", "tha", "", "Thai"),
    ("ti", "tir", "", "Tigrinya"),
    ("tk", "tuk", "", "Turkmen"),
    ("tl", "tgl", "", "Tagalog"),
    ("tn", "tsn", "", "Tswana"),
    ("to", "ton", "", "Tonga"),
    ("tr", "tur", "", "Turkish"),
    ("ts", "tso", "", "Tsonga"),
    ("tt", "tat", "", "Tatar"),
    ("tw", "twi", "", "Twi"),
    ("ty", "tah", "", "Tahitian"),
    ("ug", "uig", "", "Uyghur"),
    ("uk", "ukr", "", "Ukrainian"),
    ("ur", "urd", "", "Urdu"),
    ("uz", "uzb", "", "Uzbek"),
    ("ve", "ven", "", "Venda"),
    ("vi", "vie", "", "Vietnamese"),
    ("vo", "vol", "", "Volapük"),
    ("wa", "wln", "", "Walloon"),
    ("wo", "wol", "", "Wolof"),
    ("xh", "xho", "", "Xhosa"),
    ("yi", "yid", "", "Yiddish"),
    ("yo", "yor", "", "Yoruba"),
    ("za", "zha", "", "Zhuang"),
    ("zh", "zho", "chi", "Chinese"),
    ("zu", "zul", "", "Zulu"),
];

/// A known language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language {
    /// ISO 639-1, as manifests write it (`en`).
    pub code: &'static str,
    /// ISO 639-2/T, as MP4 and Matroska tags hold it (`eng`).
    pub three: &'static str,
    /// English name (`English`).
    pub name: &'static str,
}

/// The language of a code written any common way: `en`, `EN`, `eng`, `fre`/`fra`, or a BCP 47
/// tag whose first part is one of those (`en-GB`, `pt-BR`). `None` for unknown codes and for
/// `und`/`mul`/`zxx` (no language).
pub fn find(code: &str) -> Option<Language> {
    let primary = code
        .trim()
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    TABLE
        .iter()
        .find(|(one, t, b, _)| primary == *one || primary == *t || (!b.is_empty() && primary == *b))
        .map(|&(code, three, _, name)| Language { code, three, name })
}

/// A BCP 47 tag for manifests: the language as ISO 639-1 with its region or script kept and
/// cased as BCP 47 writes them (`pt-br` → `pt-BR`, `zh_hant` → `zh-Hant`, `fre` → `fr`).
/// `None` when the language is unknown.
pub fn tag(code: &str) -> Option<String> {
    let language = find(code)?;
    let mut out = language.code.to_owned();
    for part in code.trim().split(['-', '_']).skip(1) {
        let cased = match part.len() {
            2 if part.chars().all(|c| c.is_ascii_alphabetic()) => part.to_ascii_uppercase(),
            3 if part.chars().all(|c| c.is_ascii_digit()) => part.to_owned(),
            4 if part.chars().all(|c| c.is_ascii_alphabetic()) => {
                let lower = part.to_ascii_lowercase();
                lower[..1].to_ascii_uppercase() + &lower[1..]
            }
            _ => return Some(out), // anything else (variants, extensions) is dropped
        };
        out.push('-');
        out.push_str(&cased);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_written_several_ways() {
        for code in ["en", "EN", "eng", "en-GB", "en_US"] {
            assert_eq!(find(code).map(|l| l.code), Some("en"), "{code}");
        }
        assert_eq!(find("fre").map(|l| l.code), Some("fr"));
        assert_eq!(find("fra").map(|l| l.name), Some("French"));
        assert_eq!(find("ger").map(|l| l.three), Some("deu"));
        for unknown in ["und", "xx", "", "english", "zz-ZZ"] {
            assert_eq!(find(unknown), None, "{unknown}");
        }
        assert_eq!(TABLE.len(), 183, "every current ISO 639-1 code");
        assert_eq!(tag("pt-br").as_deref(), Some("pt-BR"));
        assert_eq!(tag("zh_hant").as_deref(), Some("zh-Hant"));
        assert_eq!(tag("es-419").as_deref(), Some("es-419"));
        assert_eq!(tag("fre").as_deref(), Some("fr"));
        assert_eq!(tag("xx-YY"), None);
    }
}
