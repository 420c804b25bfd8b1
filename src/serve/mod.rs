//! `vodkit serve`: just-in-time HLS and DASH over HTTP for every title under a folder, rendered
//! on request from the MP4 rungs (nothing is written to disk), with dynamic manifests
//! (`?max_height=720&order=asc`), byte ranges, CORS and a player page. Answers are the same
//! bytes `vodkit package` writes for the same request.

mod player;
mod request;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub use player::Scripts;
pub use request::{RangeAsk, parse_range, parse_selection, safe_segments};

use crate::package::{self, Title};

/// What to serve and where.
#[derive(Debug, Clone)]
pub struct Config {
    /// The folder whose subfolders are titles (as `vodkit encode --out` makes them).
    pub root: PathBuf,
    /// Address to listen on (127.0.0.1 unless told otherwise).
    pub addr: SocketAddr,
    /// A folder holding `hls.min.js` and `dash.all.min.js` for the player page; `None` uses a CDN.
    pub player_dir: Option<PathBuf>,
}

struct Cached {
    title: Arc<Title>,
    stamp: Vec<(String, Option<SystemTime>, u64)>,
    /// When the stamp was last compared with the folder.
    checked: std::time::Instant,
}

/// How long a title is trusted before its folder is looked at again (a player fetches many
/// segments a second; re-reading the folder for each would be wasted work).
const RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

struct State {
    config: Config,
    titles: Mutex<HashMap<String, Cached>>,
}

/// The rung files of a title folder with their modification times and sizes: when these
/// change, the title is read again.
fn stamp(dir: &Path) -> Vec<(String, Option<SystemTime>, u64)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name().to_string_lossy().ends_with(".mp4") || e.file_name() == "manifest.json"
        })
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some((
                e.file_name().to_string_lossy().into_owned(),
                meta.modified().ok(),
                meta.len(),
            ))
        })
        .collect();
    out.sort();
    out
}

impl State {
    /// The title, read once and kept while its files do not change.
    fn title(&self, name: &str) -> Result<Option<Arc<Title>>, String> {
        if let Ok(cache) = self.titles.lock()
            && let Some(c) = cache.get(name)
            && c.checked.elapsed() < RECHECK
        {
            return Ok(Some(Arc::clone(&c.title)));
        }
        let dir = self.config.root.join(name);
        if !dir.is_dir() {
            return Ok(None);
        }
        let now = stamp(&dir);
        if let Ok(mut cache) = self.titles.lock()
            && let Some(c) = cache.get_mut(name)
            && c.stamp == now
        {
            c.checked = std::time::Instant::now();
            return Ok(Some(Arc::clone(&c.title)));
        }
        let title = match package::load(&dir) {
            Ok(t) => Arc::new(t),
            Err(package::PackageError::NoRungs { .. }) => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        if let Ok(mut cache) = self.titles.lock() {
            cache.insert(
                name.to_owned(),
                Cached {
                    title: Arc::clone(&title),
                    stamp: now,
                    checked: std::time::Instant::now(),
                },
            );
        }
        Ok(Some(title))
    }

    fn title_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.config.root)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    }
}

/// Serves until the process ends. `ready` is called with the bound address (useful with port 0).
pub async fn serve(config: Config, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let listener = TcpListener::bind(config.addr).await?;
    ready(listener.local_addr()?);
    let state = Arc::new(State {
        config,
        titles: Mutex::new(HashMap::new()),
    });
    loop {
        let (stream, _) = listener.accept().await?;
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(answer(state, req).await) }
            });
            // A client that hangs up mid-answer is not our error.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// A finished answer before range handling.
struct Body {
    status: StatusCode,
    bytes: Vec<u8>,
    mime: &'static str,
    cache: &'static str,
    /// Total length, when only a range was read from a file.
    ranged_from: Option<(u64, u64, u64)>,
    /// Where a redirect points.
    location: Option<String>,
}

impl Body {
    fn text(status: StatusCode, message: impl Into<String>) -> Self {
        let mut bytes = message.into().into_bytes();
        bytes.push(b'\n');
        Self {
            status,
            bytes,
            mime: "text/plain; charset=utf-8",
            cache: "no-store",
            ranged_from: None,
            location: None,
        }
    }
}

async fn answer(state: Arc<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    if method == Method::OPTIONS {
        return finish(Body::text(StatusCode::NO_CONTENT, ""), &method, None, true);
    }
    if method != Method::GET && method != Method::HEAD {
        return finish(
            Body::text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD"),
            &method,
            None,
            false,
        );
    }
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = tokio::task::spawn_blocking(move || {
        route(&state, &path, query.as_deref(), range.as_deref())
    })
    .await
    .unwrap_or_else(|_| Body::text(StatusCode::INTERNAL_SERVER_ERROR, "the request crashed"));
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    finish(body, &method, range, false)
}

/// Finds what a path names. Blocking: reads files.
fn route(state: &State, path: &str, query: Option<&str>, range: Option<&str>) -> Body {
    let Some(segments) = safe_segments(path) else {
        return Body::text(StatusCode::FORBIDDEN, "that path leaves the served folder");
    };
    // Dotfiles are Vodkit's own bookkeeping (resume record, owner, lock, `.part` files being
    // written): never handed out, as if they were not there.
    if segments.iter().any(|s| s.starts_with('.')) {
        return Body::text(StatusCode::NOT_FOUND, "no such file");
    }
    match segments.as_slice() {
        [] => Body {
            status: StatusCode::OK,
            bytes: player::index(&state.title_names()).into_bytes(),
            mime: "text/html; charset=utf-8",
            cache: "no-cache",
            ranged_from: None,
            location: None,
        },
        [p, file] if p == "_player" => match &state.config.player_dir {
            Some(dir) => static_file(&dir.join(file), range, "public, max-age=3600"),
            None => Body::text(
                StatusCode::NOT_FOUND,
                "no local player folder configured (--player-dir)",
            ),
        },
        [title] => {
            if !path.ends_with('/') {
                let mut b = Body::text(StatusCode::MOVED_PERMANENTLY, format!("/{title}/"));
                b.location = Some(format!("/{title}/"));
                return b;
            }
            if !state.config.root.join(title).is_dir() {
                return Body::text(StatusCode::NOT_FOUND, format!("no title '{title}'"));
            }
            let scripts = if state.config.player_dir.is_some() {
                Scripts::Local
            } else {
                Scripts::Cdn
            };
            Body {
                status: StatusCode::OK,
                bytes: player::page(title, &scripts).into_bytes(),
                mime: "text/html; charset=utf-8",
                cache: "no-cache",
                ranged_from: None,
                location: None,
            }
        }
        [title, rest @ ..] => {
            let rel = rest.join("/");
            let sel = match parse_selection(query) {
                Ok(s) => s,
                Err(e) => return Body::text(StatusCode::BAD_REQUEST, e),
            };
            match state.title(title) {
                Ok(Some(t)) => match package::resource(&t, &rel, &sel) {
                    Ok(Some(res)) => Body {
                        status: StatusCode::OK,
                        cache: if rel.ends_with(".m4s") || rel.ends_with("init.mp4") {
                            "public, max-age=86400, immutable"
                        } else {
                            "public, max-age=10"
                        },
                        bytes: res.bytes,
                        mime: res.mime,
                        ranged_from: None,
                        location: None,
                    },
                    Ok(None) => static_file(
                        &state.config.root.join(title).join(&rel),
                        range,
                        "public, max-age=3600",
                    ),
                    Err(e) => Body::text(StatusCode::INTERNAL_SERVER_ERROR, e),
                },
                Ok(None) => static_file(
                    &state.config.root.join(title).join(&rel),
                    range,
                    "public, max-age=3600",
                ),
                Err(e) => Body::text(StatusCode::UNPROCESSABLE_ENTITY, e),
            }
        }
    }
}

/// A file from disk (MP4 rungs, stills, manifest.json, player scripts), reading only the range
/// asked for.
fn static_file(path: &Path, range: Option<&str>, cache: &'static str) -> Body {
    let Ok(file) = std::fs::File::open(path) else {
        return Body::text(StatusCode::NOT_FOUND, "not found");
    };
    let len = match file.metadata() {
        Ok(m) if m.is_file() => m.len(),
        _ => return Body::text(StatusCode::NOT_FOUND, "not found"),
    };
    let mime = package::mime_of(&path.to_string_lossy());
    let mime = if path.extension().is_some_and(|e| e == "js") {
        "text/javascript"
    } else {
        mime
    };
    let (start, end) = match parse_range(range, len) {
        RangeAsk::Part(r) => (r.start, r.end),
        RangeAsk::Whole => (0, len.saturating_sub(1)),
        RangeAsk::Unsatisfiable => {
            return Body {
                ranged_from: Some((0, 0, len)),
                ..Body::text(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable")
            };
        }
    };
    let mut bytes = vec![
        0u8;
        if len == 0 {
            0
        } else {
            (end - start + 1) as usize
        }
    ];
    if let Err(e) = file.read_exact_at(&mut bytes, start) {
        return Body::text(StatusCode::INTERNAL_SERVER_ERROR, format!("reading: {e}"));
    }
    Body {
        status: StatusCode::OK,
        bytes,
        mime,
        cache,
        ranged_from: Some((start, end, len)),
        location: None,
    }
}

/// Applies ranges and common headers.
fn finish(
    body: Body,
    method: &Method,
    range: Option<&str>,
    preflight: bool,
) -> Response<Full<Bytes>> {
    let mut status = body.status;
    let mut content_range = None;
    let bytes = match body.ranged_from {
        // A file read by range: it is already the part asked for.
        Some((start, end, len)) if status == StatusCode::OK => {
            if range.is_some() && !(start == 0 && end + 1 == len) {
                status = StatusCode::PARTIAL_CONTENT;
                content_range = Some(format!("bytes {start}-{end}/{len}"));
            }
            body.bytes
        }
        Some((_, _, len)) if status == StatusCode::RANGE_NOT_SATISFIABLE => {
            content_range = Some(format!("bytes */{len}"));
            body.bytes
        }
        _ if status == StatusCode::OK => match parse_range(range, body.bytes.len() as u64) {
            RangeAsk::Part(r) => {
                status = StatusCode::PARTIAL_CONTENT;
                content_range = Some(format!("bytes {}-{}/{}", r.start, r.end, body.bytes.len()));
                body.bytes[r.start as usize..=r.end as usize].to_vec()
            }
            RangeAsk::Unsatisfiable => {
                status = StatusCode::RANGE_NOT_SATISFIABLE;
                content_range = Some(format!("bytes */{}", body.bytes.len()));
                Vec::new()
            }
            RangeAsk::Whole => body.bytes,
        },
        _ => body.bytes,
    };
    let len = bytes.len();
    let mut resp = Response::new(Full::new(if method == Method::HEAD {
        Bytes::new()
    } else {
        Bytes::from(bytes)
    }));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    let set = |h: &mut hyper::HeaderMap, k: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    set(h, header::CONTENT_TYPE, body.mime);
    set(h, header::CONTENT_LENGTH, &len.to_string());
    set(h, header::ACCEPT_RANGES, "bytes");
    set(h, header::CACHE_CONTROL, body.cache);
    set(h, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    set(
        h,
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        "Content-Length, Content-Range, Accept-Ranges",
    );
    if preflight {
        set(
            h,
            header::ACCESS_CONTROL_ALLOW_METHODS,
            "GET, HEAD, OPTIONS",
        );
        set(h, header::ACCESS_CONTROL_ALLOW_HEADERS, "Range");
        set(h, header::ACCESS_CONTROL_MAX_AGE, "86400");
    }
    if let Some(cr) = content_range {
        set(h, header::CONTENT_RANGE, &cr);
    }
    if let Some(location) = &body.location {
        set(h, header::LOCATION, location);
    }
    resp
}
