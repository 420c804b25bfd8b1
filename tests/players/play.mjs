// Plays an HLS or DASH manifest in headless Chromium with a real player (hls.js, dash.js or
// Shaka Player), forces a switch to another rung half way, and prints one JSON line with what
// the video element decoded. Used by tests/players.rs.
//
//   node play.mjs <hls.js|dash.js|shaka> <manifest URL> [--seconds N] [--static DIR] [--text]
//
// With --text, the first subtitle track is turned on once playback starts, and the result says
// which subtitle languages the player lists and which cues reached the video's text tracks.
// With --audio LANG, that audio language is chosen once playback starts, and the result says
// which audio languages the player lists and which one it plays.
// The result always says which video codec plays (`codec`, an RFC 6381 string) before and after
// the switch, which goes to another height in the codec playing.
//
// The player libraries are served from node_modules by a small HTTP server of this script;
// with --static, that server also serves DIR (with byte ranges) under /static/, so static
// packaging output can be played without Vodkit's own server.

import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const [player, manifestArg, ...rest] = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : dflt;
};
const seconds = Number(opt('--seconds', '7'));
const staticDir = opt('--static', null);
const wantText = rest.includes('--text');
const wantAudio = opt('--audio', null);

const libs = {
  'hls.js': '/node_modules/hls.js/dist/hls.min.js',
  'dash.js': '/node_modules/dashjs/dist/dash.all.min.js',
  shaka: '/node_modules/shaka-player/dist/shaka-player.compiled.js',
};
if (!libs[player] || !manifestArg) {
  console.error('usage: node play.mjs <hls.js|dash.js|shaka> <manifest URL> [--seconds N] [--static DIR]');
  process.exit(2);
}

const mime = (p) =>
  p.endsWith('.js') ? 'text/javascript' : p.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl'
  : p.endsWith('.mpd') ? 'application/dash+xml' : p.endsWith('.html') ? 'text/html'
  : p.endsWith('.vtt') ? 'text/vtt' : 'application/octet-stream';

function serveFile(res, req, file) {
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) { res.writeHead(404, { 'Access-Control-Allow-Origin': '*' }); res.end(); return; }
    const headers = { 'Content-Type': mime(file), 'Accept-Ranges': 'bytes', 'Access-Control-Allow-Origin': '*' };
    const m = /bytes=(\d*)-(\d*)/.exec(req.headers.range || '');
    if (m) {
      const start = m[1] ? Number(m[1]) : st.size - Number(m[2]);
      const end = m[1] && m[2] ? Math.min(Number(m[2]), st.size - 1) : st.size - 1;
      res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${st.size}`, 'Content-Length': end - start + 1 });
      fs.createReadStream(file, { start, end }).pipe(res);
    } else {
      res.writeHead(200, { ...headers, 'Content-Length': st.size });
      fs.createReadStream(file).pipe(res);
    }
  });
}

const page = `<!doctype html><html><body><video id="v" muted playsinline></video>
<script src="${libs[player]}"></script>
<script>
window.state = { errors: [], switched: null, levels: [] };
window.textLanguages = () => [];
window.selectText = () => {};
window.audioLanguages = () => [];
window.audioNow = () => null;
window.selectAudio = () => {};
window.videoCodec = () => state.codec || null;
const video = document.getElementById('v');
const url = new URL(${JSON.stringify(manifestArg)}, location.href).href;
async function start() {
  if (${JSON.stringify(player)} === 'hls.js') {
    const hls = new Hls();
    hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) state.errors.push(d.type + ':' + d.details); });
    hls.on(Hls.Events.MANIFEST_PARSED, () => { state.levels = hls.levels.map(l => l.height); video.play(); });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_, d) => { state.level = hls.levels[d.level].height; state.codec = hls.levels[d.level].videoCodec; });
    hls.loadSource(url); hls.attachMedia(video);
    window.audioLanguages = () => hls.audioTracks.map(t => t.lang || '');
    window.audioNow = () => { const t = hls.audioTracks[hls.audioTrack]; return t ? t.lang : null; };
    window.selectAudio = (lang) => { const k = hls.audioTracks.findIndex(t => t.lang === lang); if (k >= 0) hls.audioTrack = k; };
    window.textLanguages = () => hls.subtitleTracks.map(t => t.lang || '');
    window.selectText = () => { hls.subtitleDisplay = true; hls.subtitleTrack = 0; };
    window.forceSwitch = () => {
      const now = hls.levels[hls.currentLevel === -1 ? hls.loadLevel : hls.currentLevel];
      const family = (c) => (c || '').slice(0, 4);
      const target = hls.levels.findIndex(l => now && l.height !== now.height && family(l.videoCodec) === family(now.videoCodec));
      if (target < 0) return;
      hls.currentLevel = target; state.switched = hls.levels[target].height;
    };
  } else if (${JSON.stringify(player)} === 'dash.js') {
    const p = dashjs.MediaPlayer().create();
    p.updateSettings({ debug: { logLevel: 0 } });
    p.on(dashjs.MediaPlayer.events.ERROR, e => state.errors.push(JSON.stringify(e.error && (e.error.message || e.error.code) || e)));
    p.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => { state.levels = p.getBitrateInfoListFor('video').map(b => b.height); });
    p.on(dashjs.MediaPlayer.events.QUALITY_CHANGE_RENDERED, e => { if (e.mediaType === 'video') state.level = p.getBitrateInfoListFor('video')[e.newQuality].height; });
    window.videoCodec = () => { try { const t = p.getCurrentTrackFor('video'); return t ? (/codecs="?([^"]+)"?/.exec(t.codec) || [])[1] || t.codec : null; } catch (e) { return null; } };
    p.initialize(video, url, true);
    window.audioLanguages = () => { try { return p.getTracksFor('audio').map(t => t.lang || ''); } catch (e) { return []; } };
    window.audioNow = () => { try { const t = p.getCurrentTrackFor('audio'); return t ? t.lang : null; } catch (e) { return null; } };
    window.selectAudio = (lang) => { const t = p.getTracksFor('audio').find(t => t.lang === lang); if (t) p.setCurrentTrack(t); };
    window.textLanguages = () => { try { return p.getTracksFor('text').map(t => t.lang || ''); } catch (e) { return []; } };
    window.selectText = () => { p.enableText(true); p.setTextTrack(0); };
    window.forceSwitch = () => {
      const list = p.getBitrateInfoListFor('video');
      const now = p.getQualityFor('video');
      const target = now === 0 ? list.length - 1 : 0;
      if (target === now) return;
      p.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: false } } } });
      p.setQualityFor('video', target, true); state.switched = list[target].height;
    };
  } else {
    shaka.polyfill.installAll();
    const p = new shaka.Player();
    await p.attach(video);
    p.addEventListener('error', e => state.errors.push(String(e.detail && e.detail.code)));
    p.addEventListener('adaptation', () => { const t = p.getVariantTracks().find(t => t.active); if (t) state.level = t.height; });
    window.videoCodec = () => { const t = p.getVariantTracks().find(t => t.active); return t ? t.videoCodec : null; };
    p.addEventListener('variantchanged', () => { const t = p.getVariantTracks().find(t => t.active); if (t) state.level = t.height; });
    window.audioLanguages = () => p.getAudioLanguages();
    window.audioNow = () => { const t = p.getVariantTracks().find(t => t.active); return t ? t.language : null; };
    window.selectAudio = (lang) => p.selectAudioLanguage(lang);
    window.textLanguages = () => p.getTextTracks().map(t => t.language || '');
    window.selectText = () => { const t = p.getTextTracks()[0]; if (t) { p.selectTextTrack(t); p.setTextTrackVisibility(true); } };
    try { await p.load(url); } catch (e) { state.errors.push('load:' + (e.code || e)); }
    state.levels = p.getVariantTracks().map(t => t.height);
    video.play();
    window.forceSwitch = () => {
      const tracks = p.getVariantTracks();
      const active = tracks.find(t => t.active);
      // Another height in the language playing now (Shaka's variants pair a picture with a sound).
      const target = tracks.find(t => active && t.height !== active.height && t.language === active.language);
      if (!target) return;
      p.configure({ abr: { enabled: false } });
      p.selectVariantTrack(target, true); state.switched = target.height;
    };
  }
}
start().catch(e => state.errors.push('start:' + e));
const cueTexts = () => {
  const out = [];
  for (const t of video.textTracks) {
    if (t.mode === 'disabled' || !t.cues) continue;
    for (const c of t.cues) out.push({ start: c.startTime, end: c.endTime, text: c.text });
  }
  return out;
};
window.snapshot = () => {
  const q = video.getVideoPlaybackQuality();
  return { frames: q.totalVideoFrames, dropped: q.droppedVideoFrames, width: video.videoWidth, height: video.videoHeight,
           time: video.currentTime, errors: state.errors, levels: state.levels, switched: state.switched, level: state.level,
           mediaError: video.error ? video.error.code : null,
           texts: window.textLanguages(), cues: cueTexts(),
           audios: window.audioLanguages(), audio: window.audioNow(), codec: window.videoCodec() };
};
</script></body></html>`;

const server = http.createServer((req, res) => {
  const u = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (u === '/' || u === '/index.html') { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(page); return; }
  if (u.startsWith('/node_modules/')) return serveFile(res, req, path.join(here, u));
  if (staticDir && u.startsWith('/static/')) {
    const rel = path.normalize(u.slice('/static/'.length));
    if (rel.startsWith('..')) { res.writeHead(403); res.end(); return; }
    return serveFile(res, req, path.join(staticDir, rel));
  }
  res.writeHead(404); res.end();
});
await new Promise(r => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'vodkit-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
});
let result;
try {
  const pg = browser.pages()[0] || await browser.newPage();
  const logs = [];
  pg.on('console', m => { if (m.type() === 'error') logs.push(m.text()); });
  await pg.goto(origin + '/');
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const deadline = Date.now() + (seconds + 25) * 1000;
  let before = null;
  let snap = await pg.evaluate(() => window.snapshot());
  if (wantText) {
    while (Date.now() < deadline && snap.time < 0.2 && snap.errors.length === 0) {
      await sleep(100); snap = await pg.evaluate(() => window.snapshot());
    }
    await pg.evaluate(() => window.selectText());
  }
  if (wantAudio) {
    while (Date.now() < deadline && snap.time < 0.2 && snap.errors.length === 0) {
      await sleep(100); snap = await pg.evaluate(() => window.snapshot());
    }
    await pg.evaluate((lang) => window.selectAudio(lang), wantAudio);
  }
  // Play past two segments, then force a switch and keep playing.
  while (Date.now() < deadline && snap.time < Math.min(4.2, seconds - 1) && snap.errors.length === 0) {
    await sleep(250); snap = await pg.evaluate(() => window.snapshot());
  }
  before = snap;
  await pg.evaluate(() => window.forceSwitch());
  const switchDeadline = Date.now() + 15000;
  while (Date.now() < Math.min(deadline, switchDeadline) && snap.errors.length === 0 &&
         !(snap.level === snap.switched && snap.height === snap.switched && snap.frames > before.frames + 5) && snap.time < seconds - 0.3) {
    await sleep(250); snap = await pg.evaluate(() => window.snapshot());
  }
  result = { player, manifest: manifestArg, before, after: snap, console: logs.slice(0, 5) };
} finally {
  await browser.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
