//! `vodkit serve`: just-in-time HLS and DASH over HTTP for every title under a folder, rendered
//! on request from the MP4 rungs (nothing is written to disk), with dynamic manifests
//! (`?max_height=720&order=asc`), byte ranges, CORS and a player page. Answers are the same
//! bytes `vodkit package` writes for the same request.

mod file_body;
mod player;
pub mod request;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

pub use player::Scripts;
pub use request::{RangeAsk, parse_range, parse_selection, safe_segments};

use crate::package::{self, Selection, Title};

/// What to serve and where.
#[derive(Debug, Clone)]
pub struct Config {
    /// The folder whose subfolders are titles (as `vodkit encode --out` makes them).
    pub root: PathBuf,
    /// Address to listen on (127.0.0.1 unless told otherwise).
    pub addr: SocketAddr,
    /// A folder holding `hls.min.js` and `dash.all.min.js` for the player page; `None` serves
    /// the copies inside the binary.
    pub player_dir: Option<PathBuf>,
    /// The player page loads its scripts from a CDN instead (an explicit choice).
    pub player_cdn: bool,
    /// A client must send its request headers within this time, or it is dropped.
    pub header_timeout: std::time::Duration,
    /// Connections served at once; beyond, a client gets `503` with `Retry-After`.
    pub max_connections: usize,
}

/// Defaults for [`Config`]: 10 s for headers, 256 connections.
pub const DEFAULT_HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// See [`DEFAULT_HEADER_TIMEOUT`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// The answer a client gets when every connection slot is taken.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\nContent-Length: 45\r\nConnection: close\r\n\r\nthe server is busy; try again in a second.\r\n\r\n";

struct Cached {
    title: Arc<Title>,
    stamp: Vec<(String, Option<SystemTime>, u64)>,
    /// The validator of the stamp, made once when the title is read (not per request).
    version: String,
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
    /// The title, read once and kept while its files do not change, with a version that
    /// changes when they do (for validators).
    fn title(&self, name: &str) -> Result<Option<(Arc<Title>, String)>, String> {
        let versioned = |c: &Cached| (Arc::clone(&c.title), c.version.clone());
        if let Ok(cache) = self.titles.lock()
            && let Some(c) = cache.get(name)
            && c.checked.elapsed() < RECHECK
        {
            return Ok(Some(versioned(c)));
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
            return Ok(Some(versioned(c)));
        }
        let title = match package::load(&dir) {
            Ok(t) => Arc::new(t),
            Err(package::PackageError::NoRungs { .. }) => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let version = etag_of(&[&now]);
        if let Ok(mut cache) = self.titles.lock() {
            cache.insert(
                name.to_owned(),
                Cached {
                    title: Arc::clone(&title),
                    stamp: now,
                    version: version.clone(),
                    checked: std::time::Instant::now(),
                },
            );
        }
        Ok(Some((title, version)))
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
    let slots = Arc::new(tokio::sync::Semaphore::new(
        state.config.max_connections.max(1),
    ));
    loop {
        let (mut stream, _) = listener.accept().await?;
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            // Full: say so and close, without holding a slot or reading the request.
            tokio::spawn(async move {
                let _ = stream.write_all(BUSY).await;
                let _ = stream.shutdown().await;
            });
            continue;
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let header_timeout = state.config.header_timeout;
            let service = service_fn(move |req| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(answer(state, req).await) }
            });
            // A client that hangs up mid-answer is not our error; one that trickles its headers
            // is dropped after the timeout (hyper needs a timer for that).
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(permit);
        });
    }
}

/// A finished answer before range handling.
struct Body {
    status: StatusCode,
    bytes: Vec<u8>,
    mime: &'static str,
    cache: &'static str,
    /// A file streamed from disk instead of `bytes`: the open file, its length, and the range
    /// to send (inclusive).
    file: Option<(std::fs::File, u64, u64, u64)>,
    /// A validator: the same tag means the same bytes (re-encodes change it).
    etag: Option<String>,
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
            file: None,
            etag: None,
            location: None,
        }
    }

    fn ok(bytes: Vec<u8>, mime: &'static str, cache: &'static str) -> Self {
        Self {
            status: StatusCode::OK,
            bytes,
            mime,
            cache,
            file: None,
            etag: None,
            location: None,
        }
    }
}

/// The response body: bytes in memory, or a file streamed in chunks.
type Answer = Response<BoxBody<Bytes, std::io::Error>>;

/// An entity tag from what identifies a version of a resource.
fn etag_of(parts: &[&dyn std::fmt::Debug]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in parts {
        format!("{p:?}").hash(&mut h);
    }
    format!("\"{:016x}\"", h.finish())
}

async fn answer(state: Arc<State>, req: Request<Incoming>) -> Answer {
    let method = req.method().clone();
    if method == Method::OPTIONS {
        return finish(
            Body::text(StatusCode::NO_CONTENT, ""),
            &method,
            None,
            None,
            true,
        );
    }
    if method != Method::GET && method != Method::HEAD {
        return finish(
            Body::text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD"),
            &method,
            None,
            None,
            false,
        );
    }
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let body = tokio::task::spawn_blocking(move || route(&state, &path, query.as_deref()))
        .await
        .unwrap_or_else(|_| Body::text(StatusCode::INTERNAL_SERVER_ERROR, "the request crashed"));
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    finish(body, &method, range, if_none_match, false)
}

/// Finds what a path names. Blocking: reads files.
fn route(state: &State, path: &str, query: Option<&str>) -> Body {
    let Some(segments) = safe_segments(path) else {
        return Body::text(StatusCode::FORBIDDEN, "that path leaves the served folder");
    };
    // Dotfiles are Vodkit's own bookkeeping (resume record, owner, lock, `.part` files being
    // written): never handed out, as if they were not there.
    if segments.iter().any(|s| s.starts_with('.')) {
        return Body::text(StatusCode::NOT_FOUND, "no such file");
    }
    match segments.as_slice() {
        [] => Body::ok(
            player::index(&state.title_names()).into_bytes(),
            "text/html; charset=utf-8",
            "no-cache",
        ),
        [p, file] if p == "_player" => match (&state.config.player_dir, player::embedded(file)) {
            (Some(dir), _) => static_file(&dir.join(file), "public, max-age=3600"),
            (None, Some(bytes)) => {
                Body::ok(bytes.to_vec(), "text/javascript", "public, max-age=86400")
            }
            (None, None) => Body::text(StatusCode::NOT_FOUND, "no such player script"),
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
            let scripts = if state.config.player_cdn {
                Scripts::Cdn
            } else {
                Scripts::Local
            };
            Body::ok(
                player::page(title, &scripts).into_bytes(),
                "text/html; charset=utf-8",
                "no-cache",
            )
        }
        [title, rest @ ..] => {
            let rel = rest.join("/");
            let sel = match parse_selection(query) {
                // HLS segments of the preset's length, joined from the CMAF fragments.
                Ok(s) => Selection {
                    hls_joined: true,
                    ..s
                },
                Err(e) => return Body::text(StatusCode::BAD_REQUEST, e),
            };
            match state.title(title) {
                Ok(Some((t, version))) => match package::resource(&t, &rel, &sel) {
                    // Media and manifests live at the same URLs across re-encodes: caches keep
                    // them, but check back (`no-cache`) and get 304 while the tag matches.
                    Ok(Some(res)) => Body {
                        etag: Some(etag_of(&[&version, &rel, &query])),
                        ..Body::ok(res.bytes, res.mime, "no-cache")
                    },
                    Ok(None) => static_file(&state.config.root.join(title).join(&rel), "no-cache"),
                    Err(e) => Body::text(StatusCode::INTERNAL_SERVER_ERROR, e),
                },
                Ok(None) => static_file(&state.config.root.join(title).join(&rel), "no-cache"),
                Err(e) => Body::text(StatusCode::UNPROCESSABLE_ENTITY, e),
            }
        }
    }
}

/// A file from disk (MP4 rungs, stills, manifest.json, player scripts), opened here and
/// streamed later in chunks, so a multi-GB rung costs no more memory than a small one.
fn static_file(path: &Path, cache: &'static str) -> Body {
    let Ok(file) = std::fs::File::open(path) else {
        return Body::text(StatusCode::NOT_FOUND, "not found");
    };
    let meta = match file.metadata() {
        Ok(m) if m.is_file() => m,
        _ => return Body::text(StatusCode::NOT_FOUND, "not found"),
    };
    let len = meta.len();
    let mime = package::mime_of(&path.to_string_lossy());
    let mime = if path.extension().is_some_and(|e| e == "js") {
        "text/javascript"
    } else {
        mime
    };
    Body {
        etag: Some(etag_of(&[&meta.modified().ok(), &len, &path])),
        file: Some((file, len, 0, len.saturating_sub(1))),
        ..Body::ok(Vec::new(), mime, cache)
    }
}

/// Applies ranges, validators and common headers.
fn finish(
    body: Body,
    method: &Method,
    range: Option<&str>,
    if_none_match: Option<&str>,
    preflight: bool,
) -> Answer {
    let mut status = body.status;
    let mut content_range = None;
    let not_modified = status == StatusCode::OK
        && body.etag.as_deref().is_some_and(|tag| {
            if_none_match.is_some_and(|h| h.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
        });
    // What to send: a part of a file, or of the bytes in memory.
    enum Send {
        Bytes(Vec<u8>),
        File(std::fs::File, u64, u64),
    }
    let total = body.file.as_ref().map_or(body.bytes.len() as u64, |f| f.1);
    let send = if not_modified {
        status = StatusCode::NOT_MODIFIED;
        Send::Bytes(Vec::new())
    } else if status != StatusCode::OK {
        Send::Bytes(body.bytes)
    } else {
        // Any satisfiable Range gets 206 with Content-Range, for files and rendered answers alike.
        let part = match parse_range(range, total) {
            RangeAsk::Part(r) => {
                status = StatusCode::PARTIAL_CONTENT;
                content_range = Some(format!("bytes {}-{}/{total}", r.start, r.end));
                Some((r.start, r.end))
            }
            RangeAsk::Unsatisfiable => {
                status = StatusCode::RANGE_NOT_SATISFIABLE;
                content_range = Some(format!("bytes */{total}"));
                None
            }
            RangeAsk::Whole => Some((0, total.saturating_sub(1))),
        };
        match (part, body.file) {
            (None, _) => Send::Bytes(Vec::new()),
            (Some((start, end)), Some((file, len, ..))) => {
                let n = if len == 0 { 0 } else { end - start + 1 };
                Send::File(file, start, n)
            }
            (Some((start, end)), None) if total > 0 => {
                Send::Bytes(body.bytes[start as usize..=end as usize].to_vec())
            }
            (Some(_), None) => Send::Bytes(Vec::new()),
        }
    };
    let len = match &send {
        Send::Bytes(b) => b.len() as u64,
        Send::File(_, _, n) => *n,
    };
    let payload: BoxBody<Bytes, std::io::Error> = match send {
        _ if *method == Method::HEAD => Full::new(Bytes::new())
            .map_err(|never| match never {})
            .boxed(),
        Send::Bytes(b) => Full::new(Bytes::from(b))
            .map_err(|never| match never {})
            .boxed(),
        Send::File(file, start, n) => file_body::stream(file, start, n).boxed(),
    };
    let mut resp = Response::new(payload);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    let set = |h: &mut hyper::HeaderMap, k: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    set(h, header::CONTENT_TYPE, body.mime);
    if status != StatusCode::NOT_MODIFIED {
        set(h, header::CONTENT_LENGTH, &len.to_string());
    }
    set(h, header::ACCEPT_RANGES, "bytes");
    set(h, header::CACHE_CONTROL, body.cache);
    if let Some(tag) = &body.etag {
        set(h, header::ETAG, tag);
    }
    set(h, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    set(
        h,
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        "Content-Length, Content-Range, Accept-Ranges, ETag",
    );
    if preflight {
        set(
            h,
            header::ACCESS_CONTROL_ALLOW_METHODS,
            "GET, HEAD, OPTIONS",
        );
        set(
            h,
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "Range, If-None-Match",
        );
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
