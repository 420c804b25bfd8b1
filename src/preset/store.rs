//! Finding presets: the built-ins compiled into the binary and the user's own in the config
//! folder; importing, exporting and deleting user presets.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Preset, PresetError};

/// The built-in presets: (file name, TOML text), from `presets/`.
pub const BUILTIN_TOML: [(&str, &str); 6] = [
    (
        "web-ladder.toml",
        include_str!("../../presets/web-ladder.toml"),
    ),
    (
        "web-ladder-av1.toml",
        include_str!("../../presets/web-ladder-av1.toml"),
    ),
    (
        "phone-share.toml",
        include_str!("../../presets/phone-share.toml"),
    ),
    (
        "share-1080p.toml",
        include_str!("../../presets/share-1080p.toml"),
    ),
    (
        "hevc-archive.toml",
        include_str!("../../presets/hevc-archive.toml"),
    ),
    (
        "podcast-audio.toml",
        include_str!("../../presets/podcast-audio.toml"),
    ),
];

/// Where a preset comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "path")]
pub enum Origin {
    /// Compiled into Vodkit.
    Builtin,
    /// A file in the user's preset folder (or given by path).
    User(PathBuf),
}

/// A preset and where it was found.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The preset.
    pub preset: Preset,
    /// Where it lives.
    pub origin: Origin,
}

/// A user preset file that could not be loaded: listed so users can fix it.
#[derive(Debug)]
pub struct Broken {
    /// The file.
    pub path: PathBuf,
    /// Why it could not be used.
    pub error: PresetError,
}

/// The built-in presets, parsed. They are checked by tests, so a failure here is a bug.
pub fn builtins() -> Vec<Preset> {
    BUILTIN_TOML
        .iter()
        .filter_map(|(file, text)| Preset::from_toml(text, &format!("built-in {file}")).ok())
        .collect()
}

/// The built-in preset called `name`.
pub fn builtin(name: &str) -> Option<Preset> {
    builtins().into_iter().find(|p| p.name == name)
}

/// The preset store over one user folder.
#[derive(Debug, Clone)]
pub struct Store {
    user_dir: Option<PathBuf>,
}

impl Store {
    /// The store over the OS config folder (or `VODKIT_CONFIG_DIR`).
    pub fn open() -> Self {
        Self {
            user_dir: crate::dirs::presets_dir(),
        }
    }

    /// A store over a given user folder (tests, portable installs).
    pub fn with_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            user_dir: Some(dir.into()),
        }
    }

    /// The user preset folder, if there is one.
    pub fn user_dir(&self) -> Option<&Path> {
        self.user_dir.as_deref()
    }

    /// Every usable preset (built-ins first, then the user's by name) and the user files that
    /// could not be loaded.
    pub fn list(&self) -> (Vec<Entry>, Vec<Broken>) {
        let mut entries: Vec<Entry> = builtins()
            .into_iter()
            .map(|preset| Entry {
                preset,
                origin: Origin::Builtin,
            })
            .collect();
        let mut broken = Vec::new();
        let mut user: Vec<Entry> = Vec::new();
        for path in self.user_files() {
            match load_file(&path) {
                Ok(preset) => user.push(Entry {
                    preset,
                    origin: Origin::User(path),
                }),
                Err(error) => broken.push(Broken { path, error }),
            }
        }
        user.sort_by(|a, b| a.preset.name.cmp(&b.preset.name));
        entries.extend(user);
        (entries, broken)
    }

    /// Finds a preset by name, or loads it from a path to a `.toml` file.
    pub fn find(&self, name_or_path: &str) -> Result<Entry, PresetError> {
        let as_path = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || as_path.components().count() > 1 {
            let preset = load_file(as_path)?;
            return Ok(Entry {
                preset,
                origin: Origin::User(as_path.to_owned()),
            });
        }
        let (entries, broken) = self.list();
        if let Some(entry) = entries.into_iter().find(|e| e.preset.name == name_or_path) {
            return Ok(entry);
        }
        // A broken user file of that name: say why it cannot be used.
        if let Some(b) = broken
            .into_iter()
            .find(|b| b.path.file_stem().is_some_and(|s| s == name_or_path))
        {
            return Err(b.error);
        }
        let (entries, _) = self.list();
        Err(PresetError::NotFound {
            name: name_or_path.to_owned(),
            known: entries
                .iter()
                .map(|e| e.preset.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// Saves a preset into the user folder as `<name>.toml`. Refuses built-in names, and an
    /// existing user preset unless `replace`.
    pub fn save(&self, preset: &Preset, replace: bool) -> Result<PathBuf, PresetError> {
        let problems = super::validate(preset);
        if !problems.is_empty() {
            return Err(PresetError::Invalid {
                origin: preset.name.clone(),
                problems,
            });
        }
        if builtins().iter().any(|b| b.name == preset.name) {
            return Err(PresetError::Refused(format!(
                "'{}' is the name of a built-in preset; give yours another name",
                preset.name
            )));
        }
        let dir = self.user_dir.as_ref().ok_or_else(|| {
            PresetError::Refused(
                "no config folder on this system; set VODKIT_CONFIG_DIR to keep user presets"
                    .to_owned(),
            )
        })?;
        std::fs::create_dir_all(dir).map_err(|source| PresetError::Io {
            action: "creating the preset folder",
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(format!("{}.toml", preset.name));
        if path.exists() && !replace {
            return Err(PresetError::Refused(format!(
                "a user preset named '{}' exists ({}); use --replace to overwrite it",
                preset.name,
                path.display()
            )));
        }
        let tmp = path.with_extension("toml.part");
        std::fs::write(&tmp, preset.to_toml())
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|source| PresetError::Io {
                action: "writing",
                path: path.clone(),
                source,
            })?;
        Ok(path)
    }

    /// Imports a preset file (validated) into the user folder.
    pub fn import(&self, file: &Path, replace: bool) -> Result<(Preset, PathBuf), PresetError> {
        let preset = load_file(file)?;
        let path = self.save(&preset, replace)?;
        Ok((preset, path))
    }

    /// Writes a preset (built-in or user) to a file.
    pub fn export(&self, name: &str, to: &Path) -> Result<(), PresetError> {
        let entry = self.find(name)?;
        std::fs::write(to, entry.preset.to_toml()).map_err(|source| PresetError::Io {
            action: "writing",
            path: to.to_owned(),
            source,
        })
    }

    /// Deletes a user preset. Built-ins cannot be deleted.
    pub fn delete(&self, name: &str) -> Result<PathBuf, PresetError> {
        let entry = self.find(name)?;
        match entry.origin {
            Origin::Builtin => Err(PresetError::Refused(format!(
                "'{name}' is built in and cannot be deleted"
            ))),
            Origin::User(path) => {
                std::fs::remove_file(&path).map_err(|source| PresetError::Io {
                    action: "deleting",
                    path: path.clone(),
                    source,
                })?;
                Ok(path)
            }
        }
    }

    fn user_files(&self) -> Vec<PathBuf> {
        let Some(dir) = &self.user_dir else {
            return Vec::new();
        };
        let Ok(read) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = read
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        files
    }
}

/// Reads and validates one preset file.
pub fn load_file(path: &Path) -> Result<Preset, PresetError> {
    // A file far larger than any preset is refused before it is read into memory.
    if let Ok(meta) = std::fs::metadata(path)
        && meta.len() > super::MAX_PRESET_BYTES as u64
    {
        return Err(PresetError::Syntax {
            origin: path.display().to_string(),
            message: format!(
                "{} bytes is not a preset (a preset is a few KB)",
                meta.len()
            ),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|source| PresetError::Io {
        action: "reading",
        path: path.to_owned(),
        source,
    })?;
    Preset::from_toml(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_validates() {
        for (file, text) in BUILTIN_TOML {
            let preset = Preset::from_toml(text, file).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(format!("{}.toml", preset.name), file);
        }
        assert_eq!(builtins().len(), BUILTIN_TOML.len());
    }

    #[test]
    fn web_ladder_is_the_reference_ladder() {
        let web = builtin("web-ladder").expect("built in");
        let rungs: Vec<_> = web
            .rungs
            .iter()
            .map(|r| {
                (
                    r.width,
                    r.height,
                    r.max_bitrate_bps,
                    r.codec,
                    r.profile(),
                    r.level.as_str(),
                )
            })
            .collect();
        use super::super::{Codec::*, Profile::*};
        assert_eq!(
            rungs,
            vec![
                (480, 270, 400_000, H264, Main, "3.1"),
                (640, 360, 700_000, H264, Main, "3.1"),
                (854, 480, 1_000_000, H264, Main, "3.1"),
                (1280, 720, 3_500_000, H264, High, "4.2"),
                (1920, 1080, 6_000_000, H264, High, "4.2"),
                (3840, 2160, 20_000_000, H265, Main, "auto"),
            ]
        );
        assert_eq!(web.rungs[0].frame_rate, Some(15.0));
        assert_eq!(web.video.quality_level, 8);
        assert_eq!(web.audio.bitrate_bps, 160_000);
        assert_eq!(web.packaging.hls_segment_secs, 6.0);
        assert_eq!(web.packaging.dash_segment_secs, 2.0);
        assert_eq!(web.packaging.dash_min_buffer_secs, 30.0);
    }

    #[test]
    fn import_export_delete_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::with_dir(dir.path().join("presets"));
        let src = dir.path().join("mine.toml");
        std::fs::write(
            &src,
            "name = \"mine\"\n[[rung]]\nwidth = 640\nheight = 360\nmax_bitrate_bps = 700000\n",
        )
        .expect("write");
        let (preset, saved) = store.import(&src, false).expect("import");
        assert_eq!(preset.name, "mine");
        assert!(saved.exists());
        assert!(matches!(
            store.import(&src, false),
            Err(PresetError::Refused(_))
        ));
        assert_eq!(store.find("mine").expect("found").preset, preset);

        let out = dir.path().join("out.toml");
        store.export("web-ladder", &out).expect("export");
        assert!(load_file(&out).is_ok());
        // Built-in names are taken.
        assert!(matches!(
            store.import(&out, true),
            Err(PresetError::Refused(_))
        ));

        store.delete("mine").expect("delete");
        assert!(matches!(
            store.find("mine"),
            Err(PresetError::NotFound { .. })
        ));
        assert!(matches!(
            store.delete("web-ladder"),
            Err(PresetError::Refused(_))
        ));
    }

    #[test]
    fn broken_user_files_are_reported_not_hidden() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("bad.toml"), "name = \"bad\"\nwat = 1\n").expect("write");
        let store = Store::with_dir(dir.path());
        let (_, broken) = store.list();
        assert_eq!(broken.len(), 1);
        let err = store.find("bad").expect_err("broken");
        assert!(err.to_string().contains("wat"), "{err}");
    }
}
