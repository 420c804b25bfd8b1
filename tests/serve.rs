//! `vodkit serve` over plain HTTP: the just-in-time answers equal the static files byte for
//! byte, manifests filter and reorder rungs by query, ranges, CORS, MIME types, and no way out
//! of the served folder.

mod common;

use common::http::{get, request};

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
    assert!(
        seg.header("cache-control")
            .is_some_and(|c| c.contains("max-age"))
    );
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
