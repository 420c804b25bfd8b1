//! Where Vodkit keeps its own files: the config folder (user presets, settings).
//!
//! `VODKIT_CONFIG_DIR` overrides the OS location, for tests and portable installs.

use std::path::PathBuf;

/// The config folder: `~/.config/vodkit` on Linux, the platform's equivalent elsewhere.
/// `None` when the OS has no home folder for us (then user presets are unavailable).
pub fn config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("VODKIT_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("org", "vodkit", "vodkit").map(|d| d.config_dir().to_owned())
}

/// The app's settings file (`settings.json` in the config folder).
pub fn settings_file() -> Option<PathBuf> {
    config_dir().map(|d| d.join("settings.json"))
}

/// The folder of user presets inside the config folder.
pub fn presets_dir() -> Option<PathBuf> {
    config_dir().map(|d| d.join("presets"))
}
