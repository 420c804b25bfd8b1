//! What the app remembers between runs (window size, output folder, backend, preset, cloud
//! settings, jobs at once), as JSON in the config folder. Never secrets.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crate::cloud::CloudSettings;

/// Where encodes run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Backend {
    /// On this machine through the FFmpeg libraries.
    #[default]
    Local,
    /// AWS S3 + Elemental MediaConvert.
    Cloud,
}

/// Remembered settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Window size in points.
    pub window_size: [f32; 2],
    /// Output folder.
    pub output_dir: PathBuf,
    /// Backend.
    pub backend: Backend,
    /// Last preset.
    pub preset: String,
    /// Jobs run at once.
    pub jobs_at_once: usize,
    /// Cloud settings.
    pub cloud: CloudSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            window_size: [1200.0, 780.0],
            output_dir: crate::dirs::default_output_dir(),
            backend: Backend::Local,
            preset: "phone-share".to_owned(),
            jobs_at_once: 1,
            cloud: CloudSettings::default(),
        }
    }
}

impl Settings {
    /// Loads the settings (defaults when there are none or they cannot be read). Called once,
    /// before the window opens.
    pub fn load() -> Self {
        crate::dirs::settings_file()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<Self>(&b).ok())
            .map(|mut s| {
                // A relative folder (older versions wrote `./Vodkit`) would follow wherever
                // the app was started from: make it absolute once.
                if s.output_dir.is_relative() {
                    s.output_dir = std::path::absolute(&s.output_dir)
                        .unwrap_or_else(|_| crate::dirs::default_output_dir());
                }
                s
            })
            .unwrap_or_default()
    }

    /// Saves in the background, so the UI thread never touches the disk.
    pub fn save_in_background(&self) {
        let Some(path) = crate::dirs::settings_file() else {
            return;
        };
        let Ok(bytes) = serde_json::to_vec_pretty(self) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("vodkit-settings".to_owned())
            .spawn(move || {
                if let Some(dir) = path.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                let tmp = path.with_extension("json.part");
                if std::fs::write(&tmp, bytes).is_ok() {
                    let _ = std::fs::rename(&tmp, &path);
                }
            });
    }
}
