//! Where Vodkit keeps its own files: the config folder (user presets, settings) and the data
//! folder (the library database).
//!
//! `VODKIT_CONFIG_DIR` overrides the OS location, for tests and portable installs (the data
//! then lives there too, unless `VODKIT_DATA_DIR` names another folder).

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

/// The data folder: `VODKIT_DATA_DIR`, else `VODKIT_CONFIG_DIR` (a portable install or a test
/// keeps everything in one place), else `~/.local/share/vodkit` on Linux.
pub fn data_dir() -> Option<PathBuf> {
    for var in ["VODKIT_DATA_DIR", "VODKIT_CONFIG_DIR"] {
        if let Some(dir) = std::env::var_os(var).filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(dir));
        }
    }
    directories::ProjectDirs::from("org", "vodkit", "vodkit").map(|d| d.data_dir().to_owned())
}

/// The library database (`library.sqlite` in the data folder).
pub fn catalog_file() -> Option<PathBuf> {
    data_dir().map(|d| d.join("library.sqlite"))
}

/// The folder the app writes into unless told otherwise: the OS videos folder (or the home
/// folder) + `Vodkit`, always absolute.
pub fn default_output_dir() -> PathBuf {
    let base = directories::UserDirs::new().and_then(|u| {
        u.video_dir()
            .map(|v| v.to_owned())
            .or_else(|| Some(u.home_dir().to_owned()))
    });
    let base = base
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(std::env::temp_dir);
    base.join("Vodkit")
}
