//! `vodkit presets [show|import|export|delete]`: the built-in and user presets.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Subcommand;

use super::Output;
use crate::preset::store::{Origin, Store};
use crate::units::human_bitrate;

/// What to do with presets; none lists them.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Print one preset as TOML (or JSON with --json).
    Show {
        /// Preset name or path to a .toml file.
        name: String,
    },
    /// Check a preset file and copy it into your preset folder.
    Import {
        /// The .toml file.
        file: PathBuf,
        /// Overwrite a user preset of the same name.
        #[arg(long)]
        replace: bool,
    },
    /// Write a preset (built-in or yours) to a file, to edit or share.
    Export {
        /// Preset name.
        name: String,
        /// Where to write it.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Delete one of your presets.
    Delete {
        /// Preset name.
        name: String,
    },
    /// Check a preset file without importing it.
    Check {
        /// The .toml file.
        file: PathBuf,
    },
}

/// Runs a presets command. Returns 1 on failure, 0 on success.
pub fn run(action: Option<Action>, out: &mut Output) -> usize {
    let store = Store::open();
    let result: Result<(), String> = match action {
        None => {
            list(&store, out);
            Ok(())
        }
        Some(Action::Show { name }) => store.find(&name).map_err(|e| e.to_string()).map(|e| {
            if out.json {
                out.json_line(&e.preset);
            } else {
                out.text(&e.preset.to_toml());
            }
        }),
        Some(Action::Import { file, replace }) => store
            .import(&file, replace)
            .map(|(p, path)| out.text(&format!("imported '{}' to {}\n", p.name, path.display())))
            .map_err(|e| e.to_string()),
        Some(Action::Export { name, out: to }) => store
            .export(&name, &to)
            .map(|()| out.text(&format!("wrote '{name}' to {}\n", to.display())))
            .map_err(|e| e.to_string()),
        Some(Action::Delete { name }) => store
            .delete(&name)
            .map(|path| out.text(&format!("deleted {}\n", path.display())))
            .map_err(|e| e.to_string()),
        Some(Action::Check { file }) => crate::preset::store::load_file(&file)
            .map(|p| {
                out.text(&format!(
                    "{}: preset '{}' is valid\n",
                    file.display(),
                    p.name
                ));
            })
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("vodkit: {message}");
            1
        }
    }
}

fn list(store: &Store, out: &mut Output) {
    let (entries, broken) = store.list();
    if out.json {
        for e in &entries {
            out.json_line(e);
        }
    } else {
        let mut text = String::new();
        for e in &entries {
            let p = &e.preset;
            let origin = match &e.origin {
                Origin::Builtin => "built-in".to_owned(),
                Origin::User(path) => path.display().to_string(),
            };
            let rungs: Vec<String> = p
                .rungs
                .iter()
                .map(|r| format!("{}p", r.width.min(r.height)))
                .collect();
            let top = p.rungs.iter().map(|r| r.max_bitrate_bps).max();
            let _ = writeln!(text, "{:<14} {}", p.name, p.description);
            let _ = writeln!(
                text,
                "{:<14} {} | {}{} | {origin}",
                "",
                if rungs.is_empty() {
                    "audio only".to_owned()
                } else {
                    rungs.join(" ")
                },
                top.map_or_else(String::new, |b| format!("up to {} | ", human_bitrate(b))),
                match (p.packaging.hls, p.packaging.dash) {
                    (true, true) => "HLS + DASH",
                    (true, false) => "HLS",
                    (false, true) => "DASH",
                    (false, false) => "files only",
                }
            );
        }
        if let Some(dir) = store.user_dir() {
            let _ = writeln!(text, "\nYour presets folder: {}", dir.display());
        }
        out.text(&text);
    }
    for b in broken {
        eprintln!("vodkit: skipped {}: {}", b.path.display(), b.error);
    }
}
