//! Sidecar subtitle files next to a source, named as media players expect: `movie.srt`,
//! `movie.en.srt`, `movie.fr.vtt`, `movie.en.forced.srt`, `movie.pt-BR.sdh.srt`. The language
//! comes from the name (ISO 639-1 or -2, with a region); a part that is not a language, `forced`
//! or `sdh`/`cc`/`hi` is refused with the file named, rather than guessed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::languages;

/// What probing found next to a source: the sidecars that read, and why others do not.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Survey {
    /// Sidecars that read as SubRip or WebVTT, sorted by file name.
    pub found: Vec<Sidecar>,
    /// Sidecars that do not read, as `file line N: what` (a plan using them stops).
    pub unreadable: Vec<String>,
    /// Files named like sidecars whose name does not read (an unknown language code).
    pub notes: Vec<String>,
}

impl Survey {
    /// Nothing found.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty() && self.unreadable.is_empty() && self.notes.is_empty()
    }
}

/// Finds the sidecars of `source` and reads each once (probing does this, in the background,
/// so planning needs no file access).
pub fn survey(source: &Path) -> Survey {
    let mut out = Survey::default();
    let (found, notes) = find_all(source);
    out.notes = notes;
    for s in found {
        match read(&s.path) {
            Ok(_) => out.found.push(s),
            Err(e) => out.unreadable.push(e.to_string()),
        }
    }
    out
}

/// A sidecar file found next to a source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sidecar {
    /// The file.
    pub path: PathBuf,
    /// ISO 639-1 code, when the name says.
    pub language: Option<String>,
    /// Marked `forced` (shown without asking).
    pub forced: bool,
    /// Marked `sdh`, `cc` or `hi` (for the deaf and hard of hearing).
    pub sdh: bool,
}

/// The sidecars of `source`, sorted by file name. A sidecar whose name carries an unknown
/// language code is an error naming it.
pub fn find(source: &Path) -> Result<Vec<Sidecar>, String> {
    let (found, notes) = find_all(source);
    match notes.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

/// The sidecars of `source` whose names read, and a note for each whose name does not.
fn find_all(source: &Path) -> (Vec<Sidecar>, Vec<String>) {
    let mut notes = Vec::new();
    let (Some(dir), Some(stem)) = (source.parent(), source.file_stem()) else {
        return (Vec::new(), notes);
    };
    let stem = stem.to_string_lossy();
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (Vec::new(), notes);
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let lower = name.to_ascii_lowercase();
        if !(lower.ends_with(".srt") || lower.ends_with(".vtt")) || !path.is_file() {
            continue;
        }
        let Some(middle) = name
            .strip_prefix(stem.as_ref())
            .and_then(|rest| rest.get(..rest.len().checked_sub(4)?))
        else {
            continue;
        };
        if !(middle.is_empty() || middle.starts_with('.')) {
            continue; // `movie2.srt` belongs to `movie2`
        }
        match read_name(&path, middle) {
            Ok(s) => found.push(s),
            Err(e) => notes.push(e),
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    notes.sort();
    (found, notes)
}

/// Reads a sidecar's cues (SubRip or WebVTT by extension). Text that is not UTF-8 is read as
/// Windows-1252, as subtitle files from Windows tools usually are.
pub fn read(path: &Path) -> Result<Vec<super::Cue>, super::SubtitleError> {
    let bytes = std::fs::read(path).map_err(|e| super::SubtitleError {
        path: path.display().to_string(),
        line: None,
        what: format!("cannot be read ({e})"),
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => windows_1252(e.as_bytes()),
    };
    let name = path.display().to_string();
    let vtt = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("vtt"));
    if vtt {
        super::vtt::parse(&text, &name)
    } else {
        super::srt::parse(&text, &name)
    }
}

/// Windows-1252 bytes as text (Latin-1 with typographic quotes, dashes and the euro sign in
/// 0x80-0x9F).
fn windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9f => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// Reads `.en.forced` (the part between the source's stem and the extension).
fn read_name(path: &Path, middle: &str) -> Result<Sidecar, String> {
    let mut sidecar = Sidecar {
        path: path.to_owned(),
        language: None,
        forced: false,
        sdh: false,
    };
    for part in middle.split('.').filter(|p| !p.is_empty()) {
        match part.to_ascii_lowercase().as_str() {
            "forced" => sidecar.forced = true,
            "sdh" | "cc" | "hi" => sidecar.sdh = true,
            "und" => {}
            _ => match languages::tag(part) {
                Some(tag) if sidecar.language.is_none() => sidecar.language = Some(tag),
                _ => {
                    // The file's name only: notes travel into plans and manifests.
                    return Err(format!(
                        "{}: '{part}' in the name is not a language code (name sidecars like movie.en.srt, movie.fr.forced.vtt)",
                        path.file_name()
                            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
                    ));
                }
            },
        }
    }
    Ok(sidecar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_players_expect() {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = dir.path().join("movie.mp4");
        for name in [
            "movie.mp4",
            "movie.srt",
            "movie.en.srt",
            "movie.fr.forced.vtt",
            "movie.pt-BR.sdh.srt",
            "movie2.en.srt",
            "other.en.srt",
            "movie.en.txt",
        ] {
            std::fs::write(dir.path().join(name), b"").expect("write");
        }
        let found = find(&source).expect("sidecars");
        let got: Vec<(String, Option<&str>, bool, bool)> = found
            .iter()
            .map(|s| {
                (
                    s.path
                        .file_name()
                        .expect("name")
                        .to_string_lossy()
                        .into_owned(),
                    s.language.as_deref(),
                    s.forced,
                    s.sdh,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("movie.en.srt".to_owned(), Some("en"), false, false),
                ("movie.fr.forced.vtt".to_owned(), Some("fr"), true, false),
                ("movie.pt-BR.sdh.srt".to_owned(), Some("pt-BR"), false, true),
                ("movie.srt".to_owned(), None, false, false),
            ]
        );
        std::fs::write(dir.path().join("movie.klingon.srt"), b"").expect("write");
        let e = find(&source).expect_err("unknown language");
        assert!(
            e.contains("movie.klingon.srt: 'klingon' in the name is not a language code"),
            "{e}"
        );
    }

    #[test]
    fn windows_files_read_as_windows_1252() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.fr.srt");
        std::fs::write(
            &path,
            b"1\r\n00:00:01,000 --> 00:00:02,000\r\n\x93Caf\xe9\x94 \x80\r\n",
        )
        .expect("write");
        let cues = read(&path).expect("read");
        assert_eq!(cues[0].text, "“Café” €");
        let bad = dir.path().join("b.en.srt");
        std::fs::write(&bad, "1\n00:00:01 --> 00:00:02\nHi\n").expect("write");
        let e = read(&bad).expect_err("no milliseconds");
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().contains("b.en.srt line 2"), "{e}");
    }
}
