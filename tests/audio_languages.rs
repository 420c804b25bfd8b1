//! Audio languages: a source with an English track (440 Hz) and a French commentary track
//! (880 Hz, starting half a second late) gives MP4 rungs that carry both, tagged, the English
//! one the default, each track's sound its own (judged by its pitch in the decoded samples)
//! and the late one still half a second late, from Matroska and from a camera's MPEG-TS whose
//! clock starts at 1.4 s. A preset that names languages keeps only those.

mod common;

use std::path::Path;

fn ffmpeg(args: &[&str]) {
    common::ffmpeg_run(args);
}

/// Mono 48 kHz samples of audio track `track` of `path`, from `from_secs` for `secs`.
fn samples(path: &Path, track: usize, from_secs: f64, secs: f64) -> Vec<i16> {
    let (map, from, length) = (
        format!("0:a:{track}"),
        format!("{from_secs}"),
        format!("{secs}"),
    );
    let path = path.to_str().expect("utf-8");
    let pcm = common::ffmpeg_run(&[
        "-i", path, "-map", &map, "-ss", &from, "-t", &length, "-ac", "1", "-ar", "48000", "-f",
        "s16le", "-",
    ]);
    pcm.chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// The pitch of a tone, from its zero crossings (Hz).
fn pitch(s: &[i16]) -> f64 {
    let crossings = s.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 / 2.0 / (s.len() as f64 / 48_000.0)
}

fn loudness(s: &[i16]) -> f64 {
    (s.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>() / s.len().max(1) as f64).sqrt()
}

fn encode(source: &Path, preset_toml: &str, out: &Path, config: &Path) {
    let preset = config.join(format!(
        "p-{}.toml",
        out.file_name().unwrap_or_default().to_string_lossy()
    ));
    std::fs::write(&preset, preset_toml).expect("preset");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            source.to_str().expect("utf-8"),
            "--preset",
            preset.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ],
        config,
    );
    assert_eq!(code, 0, "{stderr}");
}

/// A 320x180, 25 fps clip of `secs` with an English track (440 Hz) and a French one (880 Hz,
/// `french_secs` long, titled when given), as a film's Matroska has them.
fn two_languages(path: &Path, secs: f64, french_secs: f64, french_title: Option<&str>) {
    let (video, english, french) = (
        format!("testsrc2=s=320x180:r=25:d={secs}"),
        format!("sine=f=440:sample_rate=48000:d={secs}"),
        format!("sine=f=880:sample_rate=48000:d={french_secs}"),
    );
    let title = french_title.map(|t| format!("title={t}"));
    let mut args: Vec<&str> = vec![
        "-f",
        "lavfi",
        "-i",
        &video,
        "-f",
        "lavfi",
        "-i",
        &english,
        "-f",
        "lavfi",
        "-i",
        &french,
        "-map",
        "0",
        "-map",
        "1",
        "-map",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-c:a",
        "aac",
        "-metadata:s:a:0",
        "language=eng",
        "-metadata:s:a:1",
        "language=fre",
    ];
    if let Some(t) = &title {
        args.extend(["-metadata:s:a:1", t.as_str()]);
    }
    args.push(path.to_str().expect("utf-8"));
    ffmpeg(&args);
}

const PRESET: &str = "name = \"lang-test\"\n[video]\nspeed = \"veryfast\"\n[stills]\ncount = 0\n[[rung]]\nwidth = 320\nheight = 180\nmax_bitrate_bps = 400000\n[[rung]]\nwidth = 160\nheight = 90\nmax_bitrate_bps = 150000\n";

#[test]
fn every_language_is_in_every_rung_with_its_own_sound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("film.mkv");
    two_languages(&source, 4.0, 3.5, Some("Commentaire"));
    // The commentary starts half a second after the pictures (-itsoffset on its input only).
    let late = dir.path().join("late.mkv");
    ffmpeg(&[
        "-i",
        source.to_str().expect("utf-8"),
        "-itsoffset",
        "0.5",
        "-i",
        source.to_str().expect("utf-8"),
        "-map",
        "0:v",
        "-map",
        "0:a:0",
        "-map",
        "1:a:1",
        "-c",
        "copy",
        "-metadata:s:a:0",
        "language=eng",
        "-metadata:s:a:1",
        "language=fre",
        "-metadata:s:a:1",
        "title=Commentaire",
        late.to_str().expect("utf-8"),
    ]);
    // The same as a camera's MPEG-TS whose clock starts at 1.4 s (no track titles there).
    let camera = dir.path().join("camera.ts");
    ffmpeg(&[
        "-i",
        late.to_str().expect("utf-8"),
        "-map",
        "0",
        "-c",
        "copy",
        "-output_ts_offset",
        "1.4",
        camera.to_str().expect("utf-8"),
    ]);
    for (source, stem) in [(&late, "late"), (&camera, "camera")] {
        let out = dir.path().join(format!("all-{stem}"));
        encode(source, PRESET, &out, dir.path());
        for rung in [format!("{stem}_180p.mp4"), format!("{stem}_90p.mp4")] {
            let rung = rung.as_str();
            let file = out.join(stem).join(rung);
            let probed = common::ffprobe(&file);
            let audio: Vec<&serde_json::Value> = probed["streams"]
                .as_array()
                .expect("streams")
                .iter()
                .filter(|s| s["codec_type"] == "audio")
                .collect();
            let tags: Vec<(&str, i64)> = audio
                .iter()
                .map(|s| {
                    (
                        s["tags"]["language"].as_str().unwrap_or(""),
                        s["disposition"]["default"].as_i64().unwrap_or(-1),
                    )
                })
                .collect();
            assert_eq!(tags, [("eng", 1), ("fra", 0)], "{rung}");
            if stem == "late" {
                assert_eq!(audio[1]["tags"]["handler_name"], "Commentaire", "{rung}");
            }
            // Each track sounds like its source track.
            let english = pitch(&samples(&file, 0, 1.0, 1.0));
            let french = pitch(&samples(&file, 1, 1.5, 1.0));
            assert!(
                (english - 440.0).abs() < 10.0,
                "{rung}: English at {english:.0} Hz"
            );
            assert!(
                (french - 880.0).abs() < 20.0,
                "{rung}: French at {french:.0} Hz"
            );
            // The French track is silent until 0.5 s, sounding after: its start kept.
            let before = loudness(&samples(&file, 1, 0.1, 0.3));
            let after = loudness(&samples(&file, 1, 0.7, 0.3));
            assert!(before < after / 20.0, "{rung}: {before:.0} then {after:.0}");
        }
    }

    // HLS and DASH offer both languages from the same CMAF bytes the rungs hold.
    let packaged = dir.path().join("packaged");
    encode(
        &late,
        &PRESET.replace("[stills]", "[packaging]\nhls = true\ndash = true\n[stills]"),
        &packaged,
        dir.path(),
    );
    let title = packaged.join("late");
    let master = std::fs::read_to_string(title.join("index.m3u8")).expect("master");
    let audio: Vec<&str> = master
        .lines()
        .filter(|l| l.contains("TYPE=AUDIO"))
        .collect();
    assert_eq!(audio.len(), 2, "{master}");
    assert!(
        audio[0].contains("LANGUAGE=\"en\"")
            && audio[0].contains("NAME=\"English\"")
            && audio[0].contains("DEFAULT=YES"),
        "{master}"
    );
    assert!(
        audio[1].contains("LANGUAGE=\"fr\"")
            && audio[1].contains("NAME=\"Commentaire\"")
            && !audio[1].contains("DEFAULT=YES"),
        "{master}"
    );
    let mpd = std::fs::read_to_string(title.join("index.mpd")).expect("mpd");
    assert!(mpd.contains("contentType=\"audio\" mimeType=\"audio/mp4\" segmentAlignment=\"true\" startWithSAP=\"1\" lang=\"en\""), "{mpd}");
    assert!(mpd.contains("lang=\"fr\""), "{mpd}");
    assert!(
        mpd.contains("value=\"main\"") && mpd.contains("value=\"commentary\""),
        "{mpd}"
    );
    // FFmpeg's HLS reader finds the French rendition beside the English one.
    let probed = common::ffprobe(&title.join("index.m3u8"));
    let languages: Vec<&str> = probed["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter(|s| s["codec_type"] == "audio")
        .filter_map(|s| s["tags"]["language"].as_str())
        .collect();
    assert!(
        languages.contains(&"fr") && languages.contains(&"en"),
        "{languages:?}"
    );

    // Only French, named: one track, French the main one.
    let french_only = dir.path().join("fr");
    encode(
        &late,
        &PRESET.replace("[stills]", "[audio]\nlanguages = [\"fr\"]\n[stills]"),
        &french_only,
        dir.path(),
    );
    let probed = common::ffprobe(&french_only.join("late/late_180p.mp4"));
    let languages: Vec<&str> = probed["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter(|s| s["codec_type"] == "audio")
        .filter_map(|s| s["tags"]["language"].as_str())
        .collect();
    assert_eq!(languages, ["fra"]);
}

#[test]
fn players_offer_both_languages_and_switch_to_the_other() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("duo.mkv");
    two_languages(&source, 10.0, 10.0, None);
    let out = dir.path().join("out");
    encode(
        &source,
        &PRESET.replace("[stills]", "[packaging]\nhls = true\ndash = true\n[stills]"),
        &out,
        dir.path(),
    );
    for (player, manifest) in [
        ("hls.js", "/static/duo/index.m3u8"),
        ("dash.js", "/static/duo/index.mpd"),
        ("shaka", "/static/duo/index.mpd"),
    ] {
        let r = common::players::play(player, manifest, 8, Some(&out), &["--audio", "fr"]);
        let after = &r["after"];
        assert_eq!(after["errors"], serde_json::json!([]), "{player}: {r}");
        let mut audios: Vec<String> = after["audios"]
            .as_array()
            .expect("audios")
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        audios.sort();
        audios.dedup();
        assert_eq!(audios, ["en", "fr"], "{player}: {r}");
        assert_eq!(
            after["audio"], "fr",
            "{player}: the French track plays: {r}"
        );
        assert!(
            after["frames"].as_u64() > r["before"]["frames"].as_u64(),
            "{player}: pictures go on after the switch: {r}"
        );
    }
}

#[test]
fn the_cloud_job_carries_every_language_with_its_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("film.mkv");
    two_languages(&source, 2.0, 2.0, Some("Commentaire"));
    let preset = dir.path().join("lang.toml");
    std::fs::write(&preset, PRESET).expect("preset");
    let (job, text) = common::cloud_job_json(&source, &preset, dir.path());
    // One selector per track, by stream number (video is stream 1).
    let selectors = &job["Settings"]["Inputs"][0]["AudioSelectors"];
    assert_eq!(
        selectors["Audio Selector 1"]["Streams"],
        serde_json::json!([2]),
        "{job}"
    );
    assert_eq!(selectors["Audio Selector 1"]["DefaultSelection"], "DEFAULT");
    assert_eq!(
        selectors["Audio Selector 2"]["Streams"],
        serde_json::json!([3]),
        "{job}"
    );
    // Every rung carries both, tagged, the commentary with its name.
    for output in job["Settings"]["OutputGroups"][0]["Outputs"]
        .as_array()
        .expect("outputs")
    {
        let audio = output["AudioDescriptions"].as_array().expect("audio");
        let tags: Vec<(&str, &str, Option<&str>)> = audio
            .iter()
            .map(|a| {
                (
                    a["AudioSourceName"].as_str().unwrap_or(""),
                    a["CustomLanguageCode"].as_str().unwrap_or(""),
                    a["StreamName"].as_str(),
                )
            })
            .collect();
        assert_eq!(
            tags,
            [
                ("Audio Selector 1", "eng", None),
                ("Audio Selector 2", "fra", Some("Commentaire"))
            ],
            "{output}"
        );
    }
    common::assert_valid_mediaconvert(&text, dir.path());
}

/// Mono samples of channel `channel` of audio track `track`.
fn channel_samples(path: &Path, track: usize, channel: usize) -> Vec<i16> {
    let (map, pan) = (format!("0:a:{track}"), format!("pan=mono|c0=c{channel}"));
    let pcm = common::ffmpeg_run(&[
        "-i",
        path.to_str().expect("utf-8"),
        "-map",
        &map,
        "-af",
        &pan,
        "-ar",
        "48000",
        "-f",
        "s16le",
        "-",
    ]);
    pcm.chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

#[test]
fn a_surround_source_keeps_its_5_1_beside_the_stereo_track() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = common::surround();
    let out = dir.path().join("out");
    encode(
        &source,
        &PRESET.replace(
            "[stills]",
            "[audio]\nsurround = true\n[packaging]\nhls = true\ndash = true\n[stills]",
        ),
        &out,
        dir.path(),
    );
    let rung = out.join("surround/surround_180p.mp4");
    let probe = common::ffprobe(&rung);
    let audio: Vec<&serde_json::Value> = probe["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter(|s| s["codec_type"] == "audio")
        .collect();
    assert_eq!(audio.len(), 2, "{probe}");
    assert_eq!(audio[0]["channels"], 2);
    assert_eq!(audio[1]["channels"], 6);
    // AAC channel configuration 6 (no program config element), which browsers decode.
    assert_eq!(audio[1]["channel_layout"], "5.1", "{probe}");
    // Each channel keeps its own sound: the source's FL 440 Hz, FR 550, FC 660, surrounds 770
    // and 880 (side surrounds become back surrounds, the layout AAC knows).
    for (channel, hz) in [(0, 440.0), (1, 550.0), (2, 660.0), (4, 770.0), (5, 880.0)] {
        let s = channel_samples(&rung, 1, channel);
        let got = pitch(&s[4800..s.len().min(72_000)]);
        assert!(
            (got - hz).abs() < 15.0,
            "5.1 channel {channel}: {got:.0} Hz instead of {hz}"
        );
    }
    // Its own rendition: CHANNELS="6" in HLS, AudioChannelConfiguration 6 in DASH.
    let master = std::fs::read_to_string(out.join("surround/index.m3u8")).expect("m3u8");
    assert!(
        master.lines().any(|l| l.contains("TYPE=AUDIO")
            && l.contains("CHANNELS=\"6\"")
            && l.contains("NAME=\"Main 5.1\"")),
        "{master}"
    );
    // A variant's BANDWIDTH counts the richest audio a player may pick with it (the 5.1
    // track's 384 kb/s, not the stereo 160): the 90p rung (150 kb/s video) is above 450 kb/s.
    let bandwidth = master
        .lines()
        .zip(master.lines().skip(1))
        .find(|(_, uri)| *uri == "stream/90p.m3u8")
        .and_then(|(l, _)| l.split("BANDWIDTH=").nth(1))
        .and_then(|b| b.split(',').next())
        .and_then(|b| b.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(bandwidth > 450_000, "90p BANDWIDTH {bandwidth}: {master}");
    let mpd = std::fs::read_to_string(out.join("surround/index.mpd")).expect("mpd");
    assert!(
        mpd.contains("audio_channel_configuration:2011\" value=\"6\""),
        "{mpd}"
    );
    // The cloud job makes the same two tracks.
    let preset = dir.path().join("p-out.toml");
    let (job, text) = common::cloud_job_json(&source, &preset, dir.path());
    let modes: Vec<&str> = job["Settings"]["OutputGroups"][0]["Outputs"][0]["AudioDescriptions"]
        .as_array()
        .expect("audio")
        .iter()
        .filter_map(|a| a["CodecSettings"]["AacSettings"]["CodingMode"].as_str())
        .collect();
    assert_eq!(modes, ["CODING_MODE_2_0", "CODING_MODE_5_1"], "{job}");
    common::assert_valid_mediaconvert(&text, dir.path());
}
