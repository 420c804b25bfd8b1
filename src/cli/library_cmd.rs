//! `vodkit library list|show|search|forget|rescan`: what Vodkit made, from the library
//! database (rebuilt from the title folders' manifests by `rescan`).

use std::path::PathBuf;

use clap::Subcommand;

use super::Output;
use super::queue_cmd::open_catalog;
use crate::catalog::titles::{TitleFilter, TitleRecord};
use crate::units::{date_time, human_bytes};

/// What to do with the library.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// List titles, newest first.
    List {
        /// Only titles made with this preset.
        #[arg(long)]
        preset: Option<String>,
        /// Only titles whose files are gone.
        #[arg(long)]
        missing: bool,
        /// At most this many.
        #[arg(long, default_value_t = 0)]
        limit: usize,
    },
    /// Show one title: its folder, source, files, sizes, packages.
    Show {
        /// Title name, folder or id.
        title: String,
    },
    /// Titles whose name, source, preset or folder contain every word.
    Search {
        /// Words to look for.
        #[arg(required = true)]
        text: Vec<String>,
    },
    /// Forget a title (its files stay on disk).
    Forget {
        /// Title name, folder or id.
        title: String,
    },
    /// Read every title folder under DIR into the library; titles under DIR whose files are
    /// gone are marked missing.
    Rescan {
        /// A folder of titles (an encode's --out).
        dir: PathBuf,
    },
}

fn title_line(t: &TitleRecord) -> String {
    let when = date_time(t.made_secs).unwrap_or_else(|| "date unknown".to_owned());
    let state = if t.missing { "  [missing]" } else { "" };
    format!(
        "{:>5}  {:<28} {:<14} {:>3} files {:>10}  {when}{state}\n       {}",
        t.id,
        t.title,
        t.preset,
        t.renditions.len(),
        human_bytes(t.total_bytes()),
        t.dir.display()
    )
}

fn show(t: &TitleRecord) -> String {
    let mut s = format!("{}\n", title_line(t));
    match &t.source_path {
        Some(p) => s.push_str(&format!("  source   {}\n", p.display())),
        None => s.push_str(&format!("  source   {}\n", t.source_name)),
    }
    for r in &t.renditions {
        let size = match (r.width, r.height) {
            (Some(w), Some(h)) => format!("{w}x{h}"),
            _ => "audio".to_owned(),
        };
        let vmaf = r
            .vmaf_mean
            .map(|v| format!("  VMAF {v:.1}"))
            .unwrap_or_default();
        let gone = if r.missing { "  [missing]" } else { "" };
        s.push_str(&format!(
            "  {:<8} {:<10} {:>10}  {}{vmaf}{gone}\n",
            r.name,
            size,
            human_bytes(r.size_bytes),
            t.dir.join(&r.file).display()
        ));
    }
    for p in &t.packages {
        let gone = if p.missing { "  [missing]" } else { "" };
        s.push_str(&format!("  {:<8} {}{gone}\n", p.kind, p.path.display()));
    }
    s
}

/// A title by id, folder or name; a name several titles share (two folders' IMG_0001) is
/// refused with their ids and folders, never guessed.
fn find(catalog: &crate::catalog::Catalog, key: &str) -> Result<Option<TitleRecord>, String> {
    let named = catalog.titles_named(key).map_err(|e| e.to_string())?;
    if named.len() > 1 && key.parse::<i64>().is_err() {
        let list: Vec<String> = named
            .iter()
            .map(|(id, dir)| format!("  {id}  {}", dir.display()))
            .collect();
        return Err(format!(
            "{} titles are named '{key}'; give the id or the folder:\n{}",
            named.len(),
            list.join("\n")
        ));
    }
    catalog.title(key).map_err(|e| e.to_string())
}

/// Runs a library action. Returns the number of failures.
pub fn run(action: Action, out: &Output) -> usize {
    let Some(catalog) = open_catalog() else {
        return 1;
    };
    let list = |titles: crate::catalog::Result<Vec<TitleRecord>>| match titles {
        Ok(titles) => {
            if out.json {
                for t in &titles {
                    out.json_line(t);
                }
            } else if titles.is_empty() {
                out.text("No titles.\n");
            } else {
                for t in &titles {
                    out.text(&format!("{}\n", title_line(t)));
                }
            }
            0
        }
        Err(e) => {
            eprintln!("vodkit: {e}");
            1
        }
    };
    match action {
        Action::List {
            preset,
            missing,
            limit,
        } => {
            let _ = catalog.mark_missing(None);
            list(catalog.titles(&TitleFilter {
                preset,
                missing: missing.then_some(true),
                limit,
                ..TitleFilter::default()
            }))
        }
        Action::Search { text } => list(catalog.titles(&TitleFilter {
            text: text.join(" "),
            ..TitleFilter::default()
        })),
        Action::Show { title } => match find(&catalog, &title) {
            Ok(Some(t)) => {
                if out.json {
                    out.json_line(&t);
                } else {
                    out.text(&show(&t));
                }
                0
            }
            Ok(None) => {
                eprintln!("vodkit: no title '{title}' in the library (see `vodkit library list`)");
                1
            }
            Err(e) => {
                eprintln!("vodkit: {e}");
                1
            }
        },
        Action::Forget { title } => match find(&catalog, &title) {
            Ok(Some(t)) => match catalog.forget_title(t.id) {
                Ok(_) => {
                    if out.json {
                        out.json_line(&serde_json::json!({ "forgotten": t.id, "dir": t.dir }));
                    } else {
                        out.text(&format!(
                            "forgot {} (its files stay in {})\n",
                            t.title,
                            t.dir.display()
                        ));
                    }
                    0
                }
                Err(e) => {
                    eprintln!("vodkit: {e}");
                    1
                }
            },
            Ok(None) => {
                eprintln!("vodkit: no title '{title}' in the library");
                1
            }
            Err(e) => {
                eprintln!("vodkit: {e}");
                1
            }
        },
        Action::Rescan { dir } => match catalog.rescan(&dir) {
            Ok(report) => {
                if out.json {
                    out.json_line(&report);
                } else {
                    out.text(&format!(
                        "{} title(s) read, {} unreadable, {} missing\n",
                        report.recorded.len(),
                        report.unreadable.len(),
                        report.missing.len()
                    ));
                    for (d, e) in &report.unreadable {
                        out.text(&format!("  unreadable {}: {e}\n", d.display()));
                    }
                    for d in &report.missing {
                        out.text(&format!("  missing    {}\n", d.display()));
                    }
                }
                usize::from(!report.unreadable.is_empty())
            }
            Err(e) => {
                eprintln!("vodkit: {e}");
                1
            }
        },
    }
}
