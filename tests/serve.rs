//! `vodkit serve` over plain HTTP: the just-in-time answers equal the static files byte for
//! byte, manifests filter and reorder rungs by query, ranges, CORS, MIME types, and no way out
//! of the served folder.

mod common;

use common::http::{get, request};
use std::path::Path;

#[test]
fn just_in_time_answers_are_the_static_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let title = common::streamed_title(dir.path());
    // Serve a copy of the rungs only (no static packaging next to them): everything is made
    // on request, nothing written.
    let jit_root = dir.path().join("jit");
    let jit_title = jit_root.join("ladder_source");
    std::fs::create_dir_all(&jit_title).expect("dir");
    for e in std::fs::read_dir(&title)
        .expect("read")
        .filter_map(Result::ok)
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".mp4") || name == "manifest.json" {
            std::fs::copy(e.path(), jit_title.join(&name)).expect("copy");
        }
    }
    let before: Vec<String> = list(&jit_root);
    let server = common::Server::start(&jit_root);
    let mut compared = 0;
    for file in list(&title) {
        let rel = file
            .strip_prefix(&format!("{}/", title.display()))
            .expect("inside")
            .to_owned();
        if !(rel.starts_with("stream/") || rel.starts_with("index.")) {
            continue;
        }
        // HLS media playlists differ on purpose: serve lists the preset's 6 s segments, each
        // three 2 s fragments joined (checked below); the static files list the fragments.
        if rel.ends_with(".m3u8") && rel.starts_with("stream/") && !rel.ends_with("_iframes.m3u8") {
            continue;
        }
        let reply = get(server.port, &format!("/ladder_source/{rel}"));
        assert_eq!(reply.status, 200, "{rel}");
        assert_eq!(
            reply.body,
            std::fs::read(&file).expect("static"),
            "{rel} differs"
        );
        compared += 1;
    }
    assert!(compared > 20, "compared {compared} files");
    // The 6 s HLS segments serve lists are the static fragments, joined: no second copy.
    let playlist = get(server.port, "/ladder_source/stream/360p.m3u8").text();
    let joined: Vec<&str> = playlist
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(joined.first().copied(), Some("360p/1-3.m4s"), "{playlist}");
    assert!(playlist.contains("#EXT-X-TARGETDURATION:6"), "{playlist}");
    let mut total = 0;
    for uri in &joined {
        let (first, last) = uri
            .trim_start_matches("360p/")
            .trim_end_matches(".m4s")
            .split_once('-')
            .map_or_else(
                || {
                    (
                        uri.trim_start_matches("360p/").trim_end_matches(".m4s"),
                        None,
                    )
                },
                |(a, b)| (a, Some(b)),
            );
        let first: usize = first.parse().expect("number");
        let last: usize = last.map_or(first, |l| l.parse().expect("number"));
        let mut expected = Vec::new();
        for n in first..=last {
            expected
                .extend(std::fs::read(title.join(format!("stream/360p/{n}.m4s"))).expect("static"));
        }
        let served = get(server.port, &format!("/ladder_source/stream/{uri}"));
        assert_eq!(served.status, 200, "{uri}");
        assert!(
            served.body == expected,
            "{uri} is not the fragments {first}-{last} joined"
        );
        total += last - first + 1;
    }
    let fragments = std::fs::read_dir(title.join("stream/360p"))
        .expect("fragments")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "m4s"))
        })
        .count();
    assert_eq!(total, fragments, "every fragment is in one joined segment");
    assert_eq!(list(&jit_root), before, "serve writes nothing to disk");
}

#[test]
fn manifests_filter_and_reorder_rungs() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::streamed_title(dir.path());
    let server = common::Server::start(dir.path());
    let all = get(server.port, "/ladder_source/index.m3u8").text();
    assert!(
        all.contains("stream/360p.m3u8")
            && all.contains("stream/180p.m3u8")
            && all.contains("stream/270p.m3u8")
    );
    let small = get(server.port, "/ladder_source/index.m3u8?max_height=270").text();
    assert!(
        !small.contains("stream/360p.m3u8") && small.contains("stream/270p.m3u8"),
        "{small}"
    );
    let asc = get(server.port, "/ladder_source/index.m3u8?order=asc").text();
    let (a, b) = (
        asc.find("stream/180p.m3u8").expect("180p"),
        asc.find("stream/360p.m3u8").expect("360p"),
    );
    assert!(a < b, "ascending puts the lowest first: {asc}");
    let desc = get(server.port, "/ladder_source/index.m3u8").text();
    assert!(desc.find("stream/360p.m3u8") < desc.find("stream/180p.m3u8"));
    let rich = get(server.port, "/ladder_source/index.mpd?min_bitrate=500000").text();
    assert!(
        rich.contains("id=\"360p\"") && !rich.contains("id=\"180p\""),
        "{rich}"
    );
    let bad = get(server.port, "/ladder_source/index.mpd?max_height=big");
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("max_height"));
}

#[test]
fn http_details_players_rely_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::streamed_title(dir.path());
    let server = common::Server::start(dir.path());
    let p = server.port;
    let m3u8 = get(p, "/ladder_source/index.m3u8");
    assert_eq!(
        m3u8.header("content-type"),
        Some("application/vnd.apple.mpegurl")
    );
    assert_eq!(m3u8.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        get(p, "/ladder_source/index.mpd").header("content-type"),
        Some("application/dash+xml")
    );
    let seg = get(p, "/ladder_source/stream/360p/1.m4s");
    assert_eq!(seg.header("content-type"), Some("video/iso.segment"));
    // Same URLs across re-encodes: caches revalidate (no-cache) against an ETag and get 304.
    assert_eq!(seg.header("cache-control"), Some("no-cache"));
    let tag = seg.header("etag").expect("an ETag").to_owned();
    let again = request(
        p,
        "GET",
        "/ladder_source/stream/360p/1.m4s",
        &[("If-None-Match", &tag)],
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let part = request(
        p,
        "GET",
        "/ladder_source/stream/360p/1.m4s",
        &[("Range", "bytes=8-15")],
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, seg.body[8..16].to_vec());
    assert_eq!(
        part.header("content-range").map(str::to_owned),
        Some(format!("bytes 8-15/{}", seg.body.len()))
    );
    let mp4 = request(
        p,
        "GET",
        "/ladder_source/ladder_source_360p.mp4",
        &[("Range", "bytes=0-99")],
    );
    assert_eq!(mp4.status, 206, "the MP4 rungs download progressively");
    assert_eq!(mp4.body.len(), 100);
    // Open-ended ranges answer 206 for files and rendered segments alike; `-0` is unsatisfiable.
    for path in [
        "/ladder_source/ladder_source_360p.mp4",
        "/ladder_source/stream/360p/1.m4s",
    ] {
        let open = request(p, "GET", path, &[("Range", "bytes=0-")]);
        assert_eq!(open.status, 206, "{path}");
        assert!(
            open.header("content-range")
                .is_some_and(|c| c.starts_with("bytes 0-"))
        );
        let none = request(p, "GET", path, &[("Range", "bytes=-0")]);
        assert_eq!(none.status, 416, "{path}");
    }
    let head = request(p, "HEAD", "/ladder_source/index.mpd", &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let pre = request(
        p,
        "OPTIONS",
        "/ladder_source/index.mpd",
        &[("Origin", "http://example.test")],
    );
    assert!(
        pre.header("access-control-allow-headers")
            .is_some_and(|h| h.contains("Range"))
    );
    assert_eq!(get(p, "/ladder_source/").status, 200, "player page");
    assert!(get(p, "/ladder_source/").text().contains("index.m3u8"));
    assert_eq!(get(p, "/ladder_source/stream/360p/999.m4s").status, 404);
    for evil in [
        "/ladder_source/%2e%2e/%2e%2e/etc/passwd",
        "/..%2fetc/passwd",
        "/ladder_source/..%5c..%5cx",
        "/%2e%2e/",
    ] {
        let r = get(p, evil);
        assert!(r.status == 403 || r.status == 404, "{evil}: {}", r.status);
        assert!(!r.text().contains("root:"), "{evil}");
    }
}

fn list(dir: &std::path::Path) -> Vec<String> {
    common::files_under(dir)
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

/// Peak resident memory of a process, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("status")
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmHWM")
}

#[test]
fn four_downloads_of_a_gigabyte_stream_in_bounded_memory() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("big");
    std::fs::create_dir_all(&folder).expect("dir");
    let gib = 1u64 << 30;
    std::fs::File::create(folder.join("movie.mp4"))
        .and_then(|f| f.set_len(gib))
        .expect("a sparse 1 GiB file");
    let server = common::Server::start(dir.path());
    let port = server.port;
    let before = peak_rss_kib(server.pid());
    let clients: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
                s.write_all(b"GET /big/movie.mp4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .expect("send");
                let mut buf = vec![0u8; 1 << 16];
                let mut total = 0u64;
                loop {
                    match s.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => total += n as u64,
                        Err(e) => panic!("reading: {e}"),
                    }
                }
                total
            })
        })
        .collect();
    for c in clients {
        let got = c.join().expect("client");
        assert!(
            got > gib,
            "a whole GiB and its headers arrived ({got} bytes)"
        );
    }
    let peak = peak_rss_kib(server.pid());
    eprintln!(
        "serve peak RSS: {} MiB before, {} MiB after 4 x 1 GiB",
        before / 1024,
        peak / 1024
    );
    assert!(peak < 100 * 1024, "peak RSS {} MiB", peak / 1024);
}

#[test]
fn slow_headers_are_dropped_and_past_the_cap_clients_get_503() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().expect("tempdir");
    common::streamed_title(dir.path());
    // A client that trickles half a header is dropped after the timeout.
    let server = common::Server::start_with(dir.path(), &["--header-timeout-secs", "1"]);
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    slow.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("timeout");
    slow.write_all(b"GET /ladder_source/index.m3u8 HTTP/1.1\r\nHo")
        .expect("half");
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "dropped after {:?}",
        started.elapsed()
    );
    drop(server);
    // Two connection slots: two idle clients hold them, the third is told to come back.
    let server = common::Server::start_with(dir.path(), &["--max-connections", "2"]);
    let idle: Vec<_> = (0..2)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect"))
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let busy = get(server.port, "/ladder_source/index.m3u8");
    assert_eq!(busy.status, 503);
    assert_eq!(busy.header("retry-after"), Some("1"));
    drop(idle);
    // Once they leave, the server answers again.
    let mut answered = false;
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if get(server.port, "/ladder_source/index.m3u8").status == 200 {
            answered = true;
            break;
        }
    }
    assert!(answered, "the server answers once slots are free");
}

#[test]
fn the_player_page_works_offline_with_the_scripts_vodkit_ships() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::streamed_title(dir.path());
    let server = common::Server::start(dir.path());
    let page = get(server.port, "/ladder_source/").text();
    assert!(
        !page.contains("https://"),
        "no script from the internet: {page}"
    );
    assert!(page.contains("/_player/hls.min.js") && page.contains("/_player/dash.all.min.js"));
    // The same bytes as the pinned npm packages the player tests use.
    for (url, npm) in [
        ("/_player/hls.min.js", "hls.js/dist/hls.min.js"),
        ("/_player/dash.all.min.js", "dashjs/dist/dash.all.min.js"),
    ] {
        let reply = get(server.port, url);
        assert_eq!(reply.status, 200, "{url}");
        assert_eq!(reply.header("content-type"), Some("text/javascript"));
        let shipped = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/players/node_modules")
                .join(npm),
        )
        .expect("the test players' copy");
        assert_eq!(reply.body.len(), shipped.len(), "{url}");
        assert!(reply.body == shipped, "{url}: the shipped copy");
    }
    assert_eq!(get(server.port, "/_player/other.js").status, 404);
    // A CDN only when asked.
    let cdn = common::Server::start_with(dir.path(), &["--player-cdn"]);
    assert!(
        get(cdn.port, "/ladder_source/")
            .text()
            .contains("https://cdn.jsdelivr.net/npm/hls.js@1.7.4/")
    );
}
