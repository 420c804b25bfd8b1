//! HLS playlists: the master (`index.m3u8`) with an audio rendition group and one variant and
//! one I-frame stream per rung (the preferred codec set first), media playlists (VOD, version 7, EXT-X-MAP) and I-frame-only
//! playlists addressing each keyframe by byte range. Written with `m3u8-rs`.

use m3u8_rs::{
    AlternativeMedia, AlternativeMediaType, ByteRange, MasterPlaylist, MediaPlaylist,
    MediaPlaylistType, MediaSegment, Resolution, VariantStream,
};

use super::cmaf;
use super::title::{Rendition, Selection, Title};

/// Group id of the audio rendition.
const AUDIO_GROUP: &str = "audio";
/// Group id of the subtitle renditions.
const SUBTITLE_GROUP: &str = "subs";

/// The master playlist for a selection of rungs.
pub fn master(title: &Title, sel: &Selection) -> Result<Vec<u8>, String> {
    let audio = title.audio.as_ref();
    let mut alternatives = Vec::new();
    // Every audio track in one group (players offer them as languages), the main one default.
    for (k, a) in title.audio.iter().chain(&title.more_audio).enumerate() {
        alternatives.push(AlternativeMedia {
            media_type: AlternativeMediaType::Audio,
            uri: Some(format!("stream/{}.m3u8", a.name)),
            group_id: AUDIO_GROUP.to_owned(),
            language: a.track.language_tag().map(|(tag, _)| tag),
            name: a.audio_label(),
            default: k == 0,
            autoselect: true,
            channels: Some(a.channels.to_string()),
            ..AlternativeMedia::default()
        });
    }
    for t in &title.subtitles {
        let p = &t.planned;
        alternatives.push(AlternativeMedia {
            media_type: AlternativeMediaType::Subtitles,
            uri: Some(format!("stream/sub_{}.m3u8", p.id)),
            group_id: SUBTITLE_GROUP.to_owned(),
            language: p.language.clone(),
            name: p.name.clone(),
            default: p.default,
            // Forced subtitles are picked by the player's language; the others on request.
            autoselect: p.default || p.forced,
            forced: p.forced,
            characteristics: p.sdh.then(|| {
                "public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound"
                    .to_owned()
            }),
            ..AlternativeMedia::default()
        });
    }
    let subtitles = (!title.subtitles.is_empty()).then(|| SUBTITLE_GROUP.to_owned());
    let mut variants = Vec::new();
    // The preferred codec set first (an AV1 ladder before its H.264 fallback): players start
    // at the first variant they can decode and skip the rest by CODECS.
    let rungs: Vec<&Rendition> = super::title::codec_sets(&title.select(sel))
        .into_iter()
        .flatten()
        .collect();
    // BANDWIDTH is the largest combination a player can pick (RFC 8216 4.3.4.2): the video
    // with the group's richest audio track (a 5.1 track, another language).
    let all_audio = || title.audio.iter().chain(&title.more_audio);
    let audio_peak = all_audio().map(|a| a.peak_bps).max().unwrap_or(0);
    let audio_average = all_audio().map(|a| a.average_bps).max().unwrap_or(0);
    // VIDEO-RANGE on every variant once any rung is HDR, so players pick by their display.
    let any_hdr = rungs.iter().any(|r| r.video_range != "SDR");
    let range = |r: &Rendition| {
        any_hdr.then(|| {
            std::collections::HashMap::from([(
                "VIDEO-RANGE".to_owned(),
                m3u8_rs::QuotedOrUnquoted::Unquoted(r.video_range.to_owned()),
            )])
        })
    };
    for r in &rungs {
        let codecs = match audio {
            Some(a) => format!("{},{}", r.codec, a.codec),
            None => r.codec.clone(),
        };
        variants.push(VariantStream {
            uri: format!("stream/{}.m3u8", r.name),
            bandwidth: r.peak_bps + audio_peak,
            average_bandwidth: Some(r.average_bps + audio_average),
            codecs: Some(codecs),
            resolution: Some(Resolution {
                width: u64::from(r.width),
                height: u64::from(r.height),
            }),
            frame_rate: r.frame_rate.map(|f| (f * 1000.0).round() / 1000.0),
            audio: audio.map(|_| AUDIO_GROUP.to_owned()),
            subtitles: subtitles.clone(),
            other_attributes: range(r),
            ..VariantStream::default()
        });
    }
    if title.settings.hls_iframe_playlists {
        for r in &rungs {
            variants.push(VariantStream {
                is_i_frame: true,
                uri: format!("stream/{}_iframes.m3u8", r.name),
                bandwidth: iframe_bandwidth(r),
                codecs: Some(r.codec.clone()),
                resolution: Some(Resolution {
                    width: u64::from(r.width),
                    height: u64::from(r.height),
                }),
                other_attributes: range(r),
                ..VariantStream::default()
            });
        }
    }
    let playlist = MasterPlaylist {
        version: Some(7),
        variants,
        independent_segments: true,
        alternatives,
        ..MasterPlaylist::default()
    };
    let mut out = Vec::new();
    playlist.write_to(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Peak bitrate of the keyframes alone, as the I-frame stream's BANDWIDTH.
fn iframe_bandwidth(r: &Rendition) -> u64 {
    let ts = f64::from(r.track.timescale.max(1));
    r.segments
        .iter()
        .filter(|s| s.duration > 0)
        .map(|s| {
            let key = r
                .track
                .samples
                .get(s.first)
                .map_or(0, |k| u64::from(k.size));
            (key as f64 * 8.0 / (s.duration as f64 / ts)) as u64
        })
        .max()
        .unwrap_or(0)
}

fn target_duration(r: &Rendition) -> u64 {
    r.segments
        .iter()
        .map(|s| r.segment_secs(s).round() as u64)
        .max()
        .unwrap_or(1)
        .max(1)
}

/// The media playlist of a rendition: its segments with their durations. `per_segment`
/// consecutive fragments make one segment (`<first>-<last>.m4s`, joined on request by
/// `serve`); 1 lists the fragment files themselves.
pub fn media(r: &Rendition, per_segment: usize) -> Result<Vec<u8>, String> {
    let per = per_segment.max(1);
    let mut target = 1u64;
    let segments = r
        .segments
        .chunks(per)
        .enumerate()
        .map(|(k, run)| {
            let first = k * per + 1;
            let last = first + run.len() - 1;
            let secs: f64 = run.iter().map(|s| r.segment_secs(s)).sum();
            target = target.max(secs.round() as u64);
            MediaSegment {
                uri: if first == last {
                    format!("{}/{first}.m4s", r.name)
                } else {
                    format!("{}/{first}-{last}.m4s", r.name)
                },
                duration: secs as f32,
                map: (k == 0).then(|| m3u8_rs::Map {
                    uri: format!("{}/init.mp4", r.name),
                    ..m3u8_rs::Map::default()
                }),
                ..MediaSegment::empty()
            }
        })
        .collect();
    write_media(target, segments, false)
}

/// A subtitle track's media playlist: one WebVTT segment per HLS segment of the video.
pub fn subtitle_media(title: &Title, id: &str) -> Result<Vec<u8>, String> {
    let spans = title.text_segments();
    let mut target = 1u64;
    let segments = spans
        .iter()
        .enumerate()
        .map(|(k, (from, to))| {
            target = target.max((to - from).round() as u64);
            MediaSegment {
                uri: format!("sub_{id}/{}.vtt", k + 1),
                duration: (to - from) as f32,
                ..MediaSegment::empty()
            }
        })
        .collect();
    write_media(target, segments, false)
}

/// Subtitle segment `number` (1-based) of a track, or `None` past the end.
pub fn subtitle_segment(title: &Title, id: &str, number: usize) -> Option<Vec<u8>> {
    let track = title.text_track(id)?;
    let (from, to) = *title.text_segments().get(number.checked_sub(1)?)?;
    Some(crate::subtitles::vtt::segment(&track.cues, from, to).into_bytes())
}

/// The I-frame-only playlist: each keyframe as a byte range (its `moof`, the `mdat` header and
/// the keyframe's data) of the segment that starts with it.
pub fn iframes(r: &Rendition) -> Result<Vec<u8>, String> {
    let mut segments = Vec::new();
    for (i, s) in r.segments.iter().enumerate() {
        let (_, key_len) = cmaf::segment_layout(&r.track, s, (i + 1) as u32)?;
        segments.push(MediaSegment {
            uri: format!("{}/{}.m4s", r.name, i + 1),
            duration: r.segment_secs(s) as f32,
            byte_range: Some(ByteRange {
                length: key_len,
                offset: Some(0),
            }),
            map: (i == 0).then(|| m3u8_rs::Map {
                uri: format!("{}/init.mp4", r.name),
                ..m3u8_rs::Map::default()
            }),
            ..MediaSegment::empty()
        });
    }
    write_media(target_duration(r), segments, true)
}

fn write_media(
    target: u64,
    segments: Vec<MediaSegment>,
    i_frames_only: bool,
) -> Result<Vec<u8>, String> {
    let playlist = MediaPlaylist {
        version: Some(7),
        target_duration: target,
        media_sequence: 0,
        segments,
        end_list: true,
        playlist_type: Some(MediaPlaylistType::Vod),
        i_frames_only,
        independent_segments: true,
        ..MediaPlaylist::default()
    };
    let mut out = Vec::new();
    playlist.write_to(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}
