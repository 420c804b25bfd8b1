//! The player page at `/<title>/`: plays the title's HLS (hls.js) or DASH (dash.js) in the
//! browser, with a rung picker. The scripts ship inside the binary (pinned npm packages, see
//! `build.rs`) and are served at `/_player/`, so playing works offline; a CDN only when asked.

/// Where the page loads hls.js and dash.js from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scripts {
    /// jsDelivr (`vodkit serve --player-cdn`; needs internet in the browser).
    Cdn,
    /// `/_player/hls.min.js` and `/_player/dash.all.min.js`: the copies inside the binary, or
    /// a folder given with `--player-dir`.
    Local,
}

/// hls.js as shipped (npm `hls.js`, version pinned in packaging/player).
pub const HLS_JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hls.min.js"));
/// dash.js as shipped (npm `dashjs`, version pinned in packaging/player).
pub const DASH_JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dash.all.min.js"));

/// A shipped player script by its file name.
pub fn embedded(file: &str) -> Option<&'static [u8]> {
    match file {
        "hls.min.js" => Some(HLS_JS),
        "dash.all.min.js" => Some(DASH_JS),
        _ => None,
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page for a title.
pub fn page(title: &str, scripts: &Scripts) -> String {
    let (hls, dash) = match scripts {
        Scripts::Cdn => (
            "https://cdn.jsdelivr.net/npm/hls.js@1.7.4/dist/hls.min.js",
            "https://cdn.jsdelivr.net/npm/dashjs@4.7.4/dist/dash.all.min.js",
        ),
        Scripts::Local => ("/_player/hls.min.js", "/_player/dash.all.min.js"),
    };
    let t = escape(title);
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{t} - Vodkit</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:15px system-ui,sans-serif;margin:2em;max-width:960px}}video{{width:100%;background:#000}}
nav a{{margin-right:1em}}#status{{color:#555}}</style>
<script src="{hls}"></script><script src="{dash}"></script></head>
<body><h1>{t}</h1>
<nav><a href="?format=hls">HLS</a><a href="?format=dash">DASH</a>
<a href="index.m3u8">index.m3u8</a><a href="index.mpd">index.mpd</a><a href="index.smil">index.smil</a></nav>
<p><video id="video" controls muted playsinline></video></p>
<p>Rung: <select id="rung"><option value="-1">auto</option></select> <span id="status"></span></p>
<script>
const params = new URLSearchParams(location.search);
const format = params.get('format') || 'hls';
const video = document.getElementById('video');
const rung = document.getElementById('rung');
const status = document.getElementById('status');
window.vodkit = {{ format, errors: [] }};
function levels(names) {{ names.forEach((n, i) => rung.add(new Option(n, i))); }}
if (format === 'dash') {{
  const player = dashjs.MediaPlayer().create();
  player.initialize(video, 'index.mpd', true);
  player.on(dashjs.MediaPlayer.events.ERROR, e => window.vodkit.errors.push(String(e.error && e.error.message || e.error)));
  player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => levels(player.getBitrateInfoListFor('video').map(b => b.height + 'p')));
  rung.onchange = () => {{
    const auto = rung.value === '-1';
    player.updateSettings({{ streaming: {{ abr: {{ autoSwitchBitrate: {{ video: auto }} }} }} }});
    if (!auto) player.setQualityFor('video', Number(rung.value), true);
  }};
  window.vodkit.player = player;
}} else if (window.Hls && Hls.isSupported()) {{
  const hls = new Hls();
  hls.loadSource('index.m3u8');
  hls.attachMedia(video);
  hls.on(Hls.Events.MANIFEST_PARSED, () => {{ levels(hls.levels.map(l => l.height + 'p')); video.play(); }});
  hls.on(Hls.Events.ERROR, (_, d) => {{ if (d.fatal) window.vodkit.errors.push(d.type + ': ' + d.details); }});
  rung.onchange = () => {{ hls.currentLevel = Number(rung.value); }};
  window.vodkit.player = hls;
}} else {{
  video.src = 'index.m3u8';
}}
setInterval(() => {{
  const q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : {{}};
  status.textContent = format.toUpperCase() + ' ' + video.videoWidth + 'x' + video.videoHeight + ' at ' +
    video.currentTime.toFixed(1) + ' s, ' + (q.totalVideoFrames || 0) + ' frames';
}}, 500);
</script></body></html>
"#
    )
}

/// The index page: every title under the served folder.
pub fn index(titles: &[String]) -> String {
    let items: String = titles
        .iter()
        .map(|t| format!("<li><a href=\"{0}/\">{0}</a></li>", escape(t)))
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Vodkit</title></head>\
         <body style=\"font:15px system-ui,sans-serif;margin:2em\"><h1>Titles</h1><ul>{items}</ul></body></html>\n"
    )
}
