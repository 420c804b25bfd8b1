//! Packaging: HLS and DASH from the MP4 rungs of a title, remuxed (never re-encoded) into CMAF
//! tracks that both formats share: one init segment and 2 s fragments per rung, one audio
//! track, `index.m3u8`, `index.mpd` and `index.smil`.
//!
//! Every file is rendered by [`resource`] from the title's index, the same function the HTTP
//! server answers with, so the static files and the just-in-time answers are the same bytes.

mod cmaf;
mod codecs;
mod dash;
mod hls;
pub mod mp4_index;
mod segments;
pub mod smil;
pub mod title;
mod wvtt;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use title::{Selection, Title, load};

/// Why a title could not be packaged.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// No `<title>_<rung>.mp4` files in the folder.
    #[error("{dir}: no MP4 rungs named <title>_<rung>.mp4 here; run vodkit encode first")]
    NoRungs {
        /// The folder.
        dir: PathBuf,
    },
    /// A rung file could not be read.
    #[error("{path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A codec we cannot package.
    #[error("{path}: {what} cannot be packaged (H.264/H.265 video and AAC audio can)")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What.
        what: String,
    },
    /// The rungs' keyframes are not on the same boundaries.
    #[error("{dir}: {reason}")]
    NotAligned {
        /// The folder.
        dir: PathBuf,
        /// Which rung, and where.
        reason: String,
    },
    /// Writing an output failed.
    #[error("writing {path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// A rendered file: its bytes and MIME type.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// MIME type for HTTP.
    pub mime: &'static str,
}

/// MIME types of the files a title has.
pub fn mime_of(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("mpd") => "application/dash+xml",
        Some("smil") => "application/smil+xml",
        Some("m4s" | "mp4") if path.contains("/sub_") => "application/mp4",
        Some("m4s") => "video/iso.segment",
        Some("mp4") if path.contains("audio/") => "audio/mp4",
        Some("mp4") => "video/mp4",
        Some("json") => "application/json",
        Some("jpg") => "image/jpeg",
        Some("vtt") => "text/vtt; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Renders the file at `path` (relative to the title folder) for a selection of rungs, or
/// `None` when the title has no such file. Manifests honour the selection; media ignore it.
pub fn resource(title: &Title, path: &str, sel: &Selection) -> Result<Option<Resource>, String> {
    // A format the preset turned off does not exist.
    let hls_file = path.ends_with(".m3u8");
    if (hls_file && !title.wants_hls()) || (path == "index.mpd" && !title.wants_dash()) {
        return Ok(None);
    }
    let bytes = match path {
        "index.m3u8" => hls::master(title, sel)?,
        "index.mpd" => dash::mpd(title, sel)?,
        "index.smil" => smil::smil(title)?,
        _ => {
            let Some(rest) = path.strip_prefix("stream/") else {
                return Ok(None);
            };
            if let Some(id) = rest
                .strip_prefix("sub_")
                .and_then(|r| r.strip_suffix(".m3u8"))
                .filter(|id| title.text_track(id).is_some())
            {
                hls::subtitle_media(title, id)?
            } else if let Some((id, file)) = rest
                .strip_prefix("sub_")
                .and_then(|r| r.split_once('/'))
                .filter(|(id, f)| {
                    title.text_track(id).is_some() && (*f == "init.mp4" || f.ends_with(".m4s"))
                })
            {
                // DASH's WebVTT-in-MP4 segments.
                if !title.wants_dash() {
                    return Ok(None);
                }
                let Some(track) = title.text_track(id) else {
                    return Ok(None);
                };
                if file == "init.mp4" {
                    wvtt::init_segment(track.planned.language.as_deref())
                } else {
                    let spans = title.dash_text_segments();
                    let n = file
                        .strip_suffix(".m4s")
                        .and_then(|n| n.parse::<usize>().ok())
                        .filter(|&n| n >= 1 && n <= spans.len());
                    let Some(n) = n else {
                        return Ok(None);
                    };
                    let (from, to) = spans[n - 1];
                    wvtt::media_segment(&track.cues, u32::try_from(n).unwrap_or(u32::MAX), from, to)
                }
            } else if let Some((id, n)) = rest
                .strip_prefix("sub_")
                .and_then(|r| r.split_once('/'))
                .and_then(|(id, f)| Some((id, f.strip_suffix(".vtt")?.parse::<usize>().ok()?)))
            {
                // Subtitle segments exist only for the HLS the preset makes.
                if !title.wants_hls() {
                    return Ok(None);
                }
                match hls::subtitle_segment(title, id, n) {
                    Some(bytes) => bytes,
                    None => return Ok(None),
                }
            } else if let Some(name) = rest.strip_suffix("_iframes.m3u8") {
                match title.videos.iter().find(|r| r.name == name) {
                    Some(r) => hls::iframes(r)?,
                    None => return Ok(None),
                }
            } else if let Some(name) = rest.strip_suffix(".m3u8") {
                match title.rendition(name) {
                    Some(r) => hls::media(
                        r,
                        if sel.hls_joined {
                            title.hls_fragments_per_segment()
                        } else {
                            1
                        },
                    )?,
                    None => return Ok(None),
                }
            } else {
                let Some((name, file)) = rest.split_once('/') else {
                    return Ok(None);
                };
                let Some(r) = title.rendition(name) else {
                    return Ok(None);
                };
                let joined = file
                    .strip_suffix(".m4s")
                    .and_then(|n| n.split_once('-'))
                    .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)));
                if file == "init.mp4" {
                    r.init()?
                } else if let Some(n) = file
                    .strip_suffix(".m4s")
                    .and_then(|n| n.parse::<usize>().ok())
                {
                    if n == 0 || n > r.segments.len() {
                        return Ok(None);
                    }
                    r.segment(n)?
                } else if let Some((first, last)) = joined {
                    // Only the runs a joined playlist lists exist.
                    let per = title.hls_fragments_per_segment();
                    let whole_run = per > 1
                        && first % per == 1 % per
                        && last >= first
                        && (last - first + 1 == per || last == r.segments.len());
                    if !whole_run || last > r.segments.len() {
                        return Ok(None);
                    }
                    r.segments_joined(first, last)?
                } else {
                    return Ok(None);
                }
            }
        }
    };
    Ok(Some(Resource {
        bytes,
        mime: mime_of(path),
    }))
}

/// Every file of a packaged title, relative to its folder.
pub fn files(title: &Title) -> Vec<String> {
    let (hls, dash) = (title.wants_hls(), title.wants_dash());
    let mut out = Vec::new();
    if hls {
        out.push("index.m3u8".to_owned());
    }
    if dash {
        out.push("index.mpd".to_owned());
    }
    out.push("index.smil".to_owned());
    for r in title
        .videos
        .iter()
        .chain(title.audio.iter())
        .chain(&title.more_audio)
    {
        if hls {
            out.push(format!("stream/{}.m3u8", r.name));
        }
        if hls && r.width > 0 && title.settings.hls_iframe_playlists {
            out.push(format!("stream/{}_iframes.m3u8", r.name));
        }
        out.push(format!("stream/{}/init.mp4", r.name));
        for n in 1..=r.segments.len() {
            out.push(format!("stream/{}/{n}.m4s", r.name));
        }
    }
    if hls {
        let spans = title.text_segments().len();
        for t in &title.subtitles {
            out.push(format!("stream/sub_{}.m3u8", t.planned.id));
            for n in 1..=spans {
                out.push(format!("stream/sub_{}/{n}.vtt", t.planned.id));
            }
        }
    }
    if dash {
        let spans = title.dash_text_segments().len();
        for t in &title.subtitles {
            out.push(format!("stream/sub_{}/init.mp4", t.planned.id));
            for n in 1..=spans {
                out.push(format!("stream/sub_{}/{n}.m4s", t.planned.id));
            }
        }
    }
    out
}

/// What packaging made.
#[derive(Debug, Clone, Serialize)]
pub struct Packaged {
    /// The title folder.
    pub dir: PathBuf,
    /// Rungs packaged, highest first.
    pub rungs: Vec<String>,
    /// Files written.
    pub files: usize,
    /// Bytes of the MP4 rungs.
    pub mp4_bytes: u64,
    /// Bytes of the media written (init + segments), shared by HLS and DASH.
    pub media_bytes: u64,
    /// Bytes of the manifests.
    pub manifest_bytes: u64,
    /// Segments per rendition.
    pub segments: usize,
    /// Duration in seconds.
    pub duration_secs: f64,
}

/// Removes files under `stream/` that an earlier packaging wrote and this one did not (a
/// re-encode with fewer segments or rungs), so no manifest-less leftovers are served.
fn remove_stale(dir: &Path, list: &[String]) {
    let keep: std::collections::HashSet<PathBuf> = list.iter().map(|r| dir.join(r)).collect();
    fn walk(p: &Path, keep: &std::collections::HashSet<PathBuf>) {
        for e in std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            let path = e.path();
            if path.is_dir() {
                walk(&path, keep);
                let _ = std::fs::remove_dir(&path); // only succeeds when empty
            } else if !keep.contains(&path) {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    walk(&dir.join("stream"), &keep);
}

/// Writes one file of a packaged title under a temporary name, then renames it. Returns the
/// (media, manifest) bytes written.
fn write_file(title: &Title, dir: &Path, rel: &str) -> Result<(u64, u64), PackageError> {
    let path = dir.join(rel);
    let fail = |reason: String| PackageError::Write {
        path: path.clone(),
        reason,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| fail(e.to_string()))?;
    }
    // `.name.part` next to it: unique per file (index.m3u8 and index.mpd must not share one).
    let tmp = path.with_file_name(format!(
        ".{}.part",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    // Media segments are copied file to file; everything else is rendered in memory.
    let segment = rel
        .strip_prefix("stream/")
        .and_then(|r| r.split_once('/'))
        .and_then(|(name, file)| {
            Some((
                title.rendition(name)?,
                file.strip_suffix(".m4s")?.parse::<usize>().ok()?,
            ))
        });
    let written = if let Some((rendition, number)) = segment {
        let mut out = std::fs::File::create(&tmp).map_err(|e| fail(e.to_string()))?;
        rendition.write_segment(number, &mut out).map_err(fail)?;
        (out.metadata().map(|m| m.len()).unwrap_or(0), 0)
    } else {
        let res = resource(title, rel, &Selection::default())
            .map_err(fail)?
            .ok_or_else(|| fail("nothing to write".to_owned()))?;
        std::fs::write(&tmp, &res.bytes).map_err(|e| fail(e.to_string()))?;
        let len = res.bytes.len() as u64;
        if rel.ends_with("init.mp4") {
            (len, 0)
        } else {
            (0, len)
        }
    };
    std::fs::rename(&tmp, &path).map_err(|e| fail(e.to_string()))?;
    Ok(written)
}

/// Packages a title folder in place: writes `stream/`, `index.m3u8`, `index.mpd` and
/// `index.smil` next to the MP4 rungs. Files are written under temporary names and renamed.
pub fn package(dir: &Path) -> Result<Packaged, PackageError> {
    let title = load(dir)?;
    let list = files(&title);
    // The top-level manifests are written last, once every file they point to is in place; a
    // failure removes them, so nothing looks packaged that is not.
    let (top, media): (Vec<String>, Vec<String>) =
        list.iter().cloned().partition(|f| !f.contains('/'));
    let written = write_all(&title, dir, &media).and_then(|(m, f)| {
        let (m2, f2) = write_all(&title, dir, &top)?;
        Ok((m + m2, f + f2))
    });
    let (media_bytes, manifest_bytes) = match written {
        Ok(w) => w,
        Err(e) => {
            for name in &top {
                let _ = std::fs::remove_file(dir.join(name));
            }
            return Err(e);
        }
    };
    remove_stale(dir, &list);
    // A format the preset no longer asks for goes too.
    for name in ["index.m3u8", "index.mpd"] {
        if !list.iter().any(|f| f == name) {
            let _ = std::fs::remove_file(dir.join(name));
        }
    }
    Ok(Packaged {
        dir: dir.to_owned(),
        rungs: title.videos.iter().map(|r| r.name.clone()).collect(),
        files: list.len(),
        mp4_bytes: title.videos.iter().map(|r| r.source_bytes).sum(),
        media_bytes,
        manifest_bytes,
        segments: title.videos.first().map_or(0, |r| r.segments.len()),
        duration_secs: title.duration_secs,
    })
}

/// Writes `list` (paths relative to the title folder) with a few writers in parallel; returns
/// the (media, manifest) bytes written, or the first failure.
fn write_all(title: &Title, dir: &Path, list: &[String]) -> Result<(u64, u64), PackageError> {
    // The copies are kernel work; two writers keep the disk and both cores busy.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    let results: Vec<Result<(u64, u64), PackageError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (title, list) = (&title, &list);
                scope.spawn(move || {
                    let (mut media, mut manifests) = (0, 0);
                    for rel in list.iter().skip(w).step_by(workers) {
                        let (m, f) = write_file(title, dir, rel)?;
                        media += m;
                        manifests += f;
                    }
                    Ok((media, manifests))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(PackageError::Write {
                        path: dir.to_owned(),
                        reason: "a writer thread crashed".to_owned(),
                    })
                })
            })
            .collect()
    });
    let (mut media_bytes, mut manifest_bytes) = (0, 0);
    for r in results {
        let (m, f) = r?;
        media_bytes += m;
        manifest_bytes += f;
    }
    Ok((media_bytes, manifest_bytes))
}
