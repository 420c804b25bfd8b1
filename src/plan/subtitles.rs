//! Which subtitle tracks a title publishes: the source's text streams, then the sidecar files
//! next to it, kept when the preset's languages allow; each gets a name for players' menus and
//! a file name unique in the title. Picture subtitles and sidecars whose names do not read
//! become notes in the plan, never failures: the video is still made.

use std::collections::HashSet;

use crate::preset::SubtitleSettings;
use crate::probe::{MediaInfo, StreamKind};
use crate::subtitles::{BITMAP_CODECS, Origin, PlannedSubtitle, TEXT_CODECS, languages};

/// The tracks to publish and the notes about the ones left out. A sidecar that does not read
/// as SubRip or WebVTT is an error naming the file and line (checked here, before any encode).
pub fn plan(
    info: &MediaInfo,
    settings: &SubtitleSettings,
) -> Result<(Vec<PlannedSubtitle>, Vec<String>), String> {
    let mut notes = Vec::new();
    if !settings.keep {
        return Ok((Vec::new(), notes));
    }
    let wanted: Vec<&'static str> = settings
        .languages
        .iter()
        .filter_map(|c| languages::find(c).map(|l| l.code))
        .collect();
    // By the language itself: `pt-BR` is Portuguese.
    let primary = |tag: Option<&str>| tag.and_then(languages::find).map(|l| l.code);
    let allowed =
        |tag: Option<&str>| wanted.is_empty() || primary(tag).is_some_and(|c| wanted.contains(&c));
    let mut tracks = Vec::new();
    for s in info
        .streams
        .iter()
        .filter(|s| s.kind == StreamKind::Subtitle)
    {
        let language = s.language.as_deref().and_then(languages::find);
        let code = language.map(|l| l.code);
        if BITMAP_CODECS.contains(&s.codec.as_str()) {
            notes.push(format!(
                "subtitle stream {} ({}{}) is pictures, not text: not converted",
                s.index,
                picture_kind(&s.codec),
                language
                    .map(|l| format!(", {}", l.name))
                    .unwrap_or_default()
            ));
            continue;
        }
        if !TEXT_CODECS.contains(&s.codec.as_str()) {
            notes.push(format!(
                "subtitle stream {} is {}, which Vodkit does not read: not converted",
                s.index, s.codec
            ));
            continue;
        }
        if !allowed(code) {
            continue;
        }
        let title = s.title.as_deref().filter(|t| {
            !t.trim().is_empty() && !t.ends_with("Handler") && !t.starts_with("Core Media")
        });
        // The container's flags first, the title's words as a fallback.
        let said = |word: &str| title.is_some_and(|t| t.to_ascii_lowercase().contains(word));
        let flagged = |flag: &str| s.flags.iter().any(|f| f == flag);
        let forced = flagged("forced") || said("forced");
        let sdh = flagged("hearing_impaired") || said("sdh");
        tracks.push(PlannedSubtitle {
            language: code.map(str::to_owned),
            name: title.map_or_else(|| menu_name(code, forced, sdh), menu_safe),
            origin: Origin::Embedded {
                index: s.index,
                codec: s.codec.clone(),
            },
            forced,
            sdh,
            default: false,
            id: String::new(),
            burned: false,
        });
    }
    if settings.sidecars {
        // Read when probing: planning touches no file.
        let survey = &info.sidecars;
        if let Some(e) = survey.unreadable.first() {
            return Err(e.clone());
        }
        for e in &survey.notes {
            notes.push(format!("subtitles: {e}; not used"));
        }
        for f in &survey.found {
            if !allowed(f.language.as_deref()) {
                continue;
            }
            tracks.push(PlannedSubtitle {
                name: menu_name(f.language.as_deref(), f.forced, f.sdh),
                language: f.language.clone(),
                origin: Origin::Sidecar {
                    path: f.path.clone(),
                    playback_start_secs: info
                        .streams
                        .iter()
                        .filter_map(|s| s.start_secs)
                        .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.min(s))))
                        .unwrap_or(0.0),
                },
                forced: f.forced,
                sdh: f.sdh,
                default: false,
                id: String::new(),
                burned: false,
            });
        }
    }
    // The preset's default language: its first track that is not forced.
    if let Some(code) = settings
        .default_language
        .as_deref()
        .and_then(languages::find)
        .map(|l| l.code)
        && let Some(t) = tracks
            .iter_mut()
            .find(|t| !t.forced && primary(t.language.as_deref()) == Some(code))
    {
        t.default = true;
    }
    // Burn-in: the preset's language, a full (not forced) track first.
    if let Some(code) = settings
        .burn
        .as_deref()
        .and_then(languages::find)
        .map(|l| l.code)
    {
        let pick = tracks
            .iter()
            .position(|t| !t.forced && t.language.as_deref() == Some(code))
            .or_else(|| {
                tracks
                    .iter()
                    .position(|t| t.language.as_deref() == Some(code))
            });
        match pick {
            Some(k) => {
                tracks[k].burned = true;
                tracks[k].default = false;
            }
            None => notes.push(format!(
                "no {} subtitles to burn into the picture",
                languages::find(code).map_or(code, |l| l.name)
            )),
        }
    }
    let mut used = HashSet::new();
    let mut names = HashSet::new();
    for t in &mut tracks {
        // Players' menus (and HLS, within a group) need each name once.
        let base_name = t.name.clone();
        let mut k = 2;
        while !names.insert(t.name.clone()) {
            t.name = format!("{base_name} ({k})");
            k += 1;
        }
        let mut base = t.language.clone().unwrap_or_else(|| "und".to_owned());
        if t.forced {
            base.push_str("-forced");
        }
        let mut id = base.clone();
        let mut n = 2;
        while !used.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        t.id = id;
    }
    Ok((tracks, notes))
}

/// A stream's title as a menu name: one line, no double quotes (HLS writes NAME in quotes
/// without escaping), at most 100 characters.
fn menu_safe(title: &str) -> String {
    let one_line: String = title
        .chars()
        .map(|c| match c {
            '"' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .take(100)
        .collect();
    let name = one_line.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        "Subtitles".to_owned()
    } else {
        name
    }
}

/// `English`, `French (forced)`, `English (SDH)`, `Portuguese (BR)`, `Subtitles`.
fn menu_name(tag: Option<&str>, forced: bool, sdh: bool) -> String {
    let mut name = tag
        .and_then(languages::find)
        .map_or_else(|| "Subtitles".to_owned(), |l| l.name.to_owned());
    if let Some(region) = tag.and_then(|t| t.split_once('-')).map(|(_, r)| r) {
        name.push_str(&format!(" ({region})"));
    }
    if forced {
        name.push_str(" (forced)");
    }
    if sdh {
        name.push_str(" (SDH)");
    }
    name
}

fn picture_kind(codec: &str) -> &'static str {
    match codec {
        "hdmv_pgs_subtitle" => "Blu-ray PGS",
        "dvb_subtitle" => "DVB",
        "dvd_subtitle" => "DVD VobSub",
        _ => "XSUB",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::StreamInfo;

    fn stream(
        index: usize,
        codec: &str,
        language: Option<&str>,
        title: Option<&str>,
    ) -> StreamInfo {
        StreamInfo {
            index,
            kind: StreamKind::Subtitle,
            codec: codec.to_owned(),
            profile: None,
            bitrate_bps: None,
            duration_secs: None,
            start_secs: None,
            language: language.map(str::to_owned),
            title: title.map(str::to_owned),
            flags: Vec::new(),
            video: None,
            audio: None,
        }
    }

    #[test]
    fn text_streams_and_sidecars_with_names_and_unique_ids() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("movie.mkv");
        std::fs::write(&path, b"").expect("write");
        std::fs::write(
            dir.path().join("movie.en.srt"),
            "1\n00:00:01,000 --> 00:00:02,000\nHi\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("movie.fr.forced.vtt"),
            "WEBVTT\n\n00:01.000 --> 00:02.000\nSalut\n",
        )
        .expect("write");
        let info = MediaInfo {
            path,
            title: "movie".to_owned(),
            container: "matroska,webm".to_owned(),
            container_long: None,
            duration_secs: Some(60.0),
            size_bytes: 1,
            bitrate_bps: None,
            creation_time: None,
            location: None,
            warnings: Vec::new(),
            sidecars: crate::subtitles::sidecar::survey(&dir.path().join("movie.mkv")),
            chapters: Vec::new(),
            tags: Vec::new(),
            streams: vec![
                stream(2, "mov_text", Some("eng"), Some("SubtitleHandler")),
                stream(3, "hdmv_pgs_subtitle", Some("ger"), None),
                stream(4, "ass", None, Some("Signs & \"songs\"\n")),
                stream(5, "eia_608", None, None),
            ],
        };
        let settings = SubtitleSettings {
            default_language: Some("eng".to_owned()),
            ..SubtitleSettings::default()
        };
        let (tracks, notes) = plan(&info, &settings).expect("plan");
        let got: Vec<(&str, &str, bool, bool)> = tracks
            .iter()
            .map(|t| (t.id.as_str(), t.name.as_str(), t.default, t.forced))
            .collect();
        assert_eq!(
            got,
            [
                ("en", "English", true, false),
                ("und", "Signs & 'songs'", false, false),
                ("en-2", "English (2)", false, false),
                ("fr-forced", "French (forced)", false, true),
            ]
        );
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].contains("stream 3 (Blu-ray PGS, German) is pictures"),
            "{notes:?}"
        );
        assert!(notes[1].contains("eia_608"), "{notes:?}");
        // The container's flags: a forced, hearing-impaired stream is both.
        let mut flagged = info.clone();
        flagged.streams = vec![stream(2, "mov_text", Some("por"), None)];
        flagged.streams[0].flags = vec!["forced".to_owned(), "hearing_impaired".to_owned()];
        flagged.sidecars = crate::subtitles::sidecar::Survey::default();
        let (tracks, _) = plan(&flagged, &SubtitleSettings::default()).expect("plan");
        assert!(tracks[0].forced && tracks[0].sdh, "{tracks:?}");
        assert_eq!(tracks[0].name, "Portuguese (forced) (SDH)");
        // Only French: one track; subtitles off: none.
        let french = SubtitleSettings {
            languages: vec!["fr".to_owned()],
            ..SubtitleSettings::default()
        };
        assert_eq!(plan(&info, &french).expect("plan").0.len(), 1);
        let off = SubtitleSettings {
            keep: false,
            ..SubtitleSettings::default()
        };
        assert!(plan(&info, &off).expect("plan").0.is_empty());
        // A sidecar that does not read stops the plan, naming the file and line.
        std::fs::write(
            dir.path().join("movie.en.srt"),
            "1\n00:00:01,000 -> 00:00:02,000\nHi\n",
        )
        .expect("write");
        let info = MediaInfo {
            sidecars: crate::subtitles::sidecar::survey(&info.path),
            ..info
        };
        let e = plan(&info, &settings).expect_err("bad sidecar");
        assert!(
            e.contains("movie.en.srt line 2: expected a time line"),
            "{e}"
        );
    }
}
