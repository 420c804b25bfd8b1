//! Real players in headless Chromium: hls.js, dash.js and Shaka Player play Vodkit's HLS and
//! DASH, both the static files of `vodkit package` and the answers of `vodkit serve`. Each run
//! must decode frames past two segments, show a picture, switch to another rung on request and
//! keep decoding, with no player error. (Chromium has no HEVC decoder: the players leave the
//! H.265 rung out, and tests/package.rs judges it with FFmpeg instead.)
//!
//! Needs Chromium and the npm packages in tests/players (`make test-deps` installs both).

mod common;

use std::path::Path;

use serde_json::Value;

fn play(player: &str, manifest: &str, static_dir: Option<&Path>) -> Value {
    common::players::play(player, manifest, 12, static_dir, &[])
}

fn assert_played(r: &Value) {
    let (before, after) = (&r["before"], &r["after"]);
    let label = format!("{} {}", r["player"], r["manifest"]);
    assert_eq!(
        after["errors"],
        serde_json::json!([]),
        "{label}: player errors: {r}"
    );
    assert!(after["mediaError"].is_null(), "{label}: media error: {r}");
    assert!(
        before["width"].as_u64() > Some(0),
        "{label}: no picture: {r}"
    );
    assert!(
        before["frames"].as_u64() > Some(60),
        "{label}: too few frames decoded: {r}"
    );
    assert!(
        before["time"].as_f64() > Some(4.0),
        "{label}: did not play past two segments: {r}"
    );
    let levels = after["levels"].as_array().map_or(0, Vec::len);
    assert!(levels >= 2, "{label}: the H.264 rungs are offered: {r}");
    assert!(
        !after["switched"].is_null(),
        "{label}: no rung to switch to: {r}"
    );
    assert_eq!(
        after["level"], after["switched"],
        "{label}: the forced switch did not happen: {r}"
    );
    assert_eq!(
        after["height"], after["switched"],
        "{label}: the picture is not the new rung's: {r}"
    );
    assert!(
        after["frames"].as_u64() > before["frames"].as_u64(),
        "{label}: frames stopped after the switch: {r}"
    );
}

#[test]
fn static_packaging_plays_in_hls_js_dash_js_and_shaka() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::streamed_title(dir.path());
    for (player, manifest) in [
        ("hls.js", "/static/ladder_source/index.m3u8"),
        ("dash.js", "/static/ladder_source/index.mpd"),
        ("shaka", "/static/ladder_source/index.mpd"),
    ] {
        assert_played(&play(player, manifest, Some(dir.path())));
    }
}

#[test]
fn just_in_time_packaging_plays_in_hls_js_dash_js_and_shaka() {
    let dir = tempfile::tempdir().expect("tempdir");
    let title = common::streamed_title(dir.path());
    // Only the rungs: every manifest and segment is made on request.
    std::fs::remove_dir_all(title.join("stream")).expect("rm stream");
    for f in ["index.m3u8", "index.mpd", "index.smil"] {
        std::fs::remove_file(title.join(f)).expect("rm manifest");
    }
    let server = common::Server::start(dir.path());
    let base = format!("http://127.0.0.1:{}/ladder_source", server.port);
    for (player, manifest) in [
        ("hls.js", format!("{base}/index.m3u8")),
        ("dash.js", format!("{base}/index.mpd")),
        ("shaka", format!("{base}/index.mpd")),
        ("shaka", format!("{base}/index.m3u8")),
    ] {
        assert_played(&play(player, &manifest, None));
    }
}
