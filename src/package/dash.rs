//! The DASH manifest (`index.mpd`): static, one video AdaptationSet per codec family (H.264
//! rungs in one, H.265 in another: a player switches seamlessly only within a set it can
//! decode) with a Representation per rung, and one audio AdaptationSet, each with a
//! SegmentTemplate (`$Number$`) and a SegmentTimeline of the real segment durations. Written
//! with `quick-xml`.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};

use super::title::{Rendition, Selection, Title};

/// ISO 8601 duration with millisecond precision (`PT20.020S`).
pub fn iso_duration(secs: f64) -> String {
    format!("PT{:.3}S", secs.max(0.0))
}

type W = Writer<Vec<u8>>;

fn open(w: &mut W, name: &str, attrs: &[(&str, String)]) -> Result<(), String> {
    let mut el = BytesStart::new(name);
    for (k, v) in attrs {
        el.push_attribute((*k, v.as_str()));
    }
    w.write_event(Event::Start(el)).map_err(|e| e.to_string())
}

fn empty(w: &mut W, name: &str, attrs: &[(&str, String)]) -> Result<(), String> {
    let mut el = BytesStart::new(name);
    for (k, v) in attrs {
        el.push_attribute((*k, v.as_str()));
    }
    w.write_event(Event::Empty(el)).map_err(|e| e.to_string())
}

fn close(w: &mut W, name: &str) -> Result<(), String> {
    w.write_event(Event::End(BytesEnd::new(name)))
        .map_err(|e| e.to_string())
}

/// The MPD for a selection of rungs.
pub fn mpd(title: &Title, sel: &Selection) -> Result<Vec<u8>, String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(|e| e.to_string())?;
    open(
        &mut w,
        "MPD",
        &[
            ("xmlns", "urn:mpeg:dash:schema:mpd:2011".to_owned()),
            (
                "profiles",
                "urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019".to_owned(),
            ),
            ("type", "static".to_owned()),
            (
                "mediaPresentationDuration",
                iso_duration(title.duration_secs),
            ),
            (
                "minBufferTime",
                iso_duration(title.settings.dash_min_buffer_secs),
            ),
        ],
    )?;
    open(
        &mut w,
        "Period",
        &[("id", "0".to_owned()), ("start", "PT0S".to_owned())],
    )?;
    let selected = title.select(sel);
    let sets = super::title::codec_sets(&selected);
    for (set_id, rungs) in sets.iter().enumerate() {
        let max_w = rungs.iter().map(|r| r.width).max().unwrap_or(0);
        let max_h = rungs.iter().map(|r| r.height).max().unwrap_or(0);
        // The preferred set first (see `codec_sets`), and said so with selectionPriority.
        let priority = sets.len() - set_id;
        open(
            &mut w,
            "AdaptationSet",
            &[
                ("id", set_id.to_string()),
                ("selectionPriority", priority.to_string()),
                ("contentType", "video".to_owned()),
                ("mimeType", "video/mp4".to_owned()),
                ("segmentAlignment", "true".to_owned()),
                ("startWithSAP", "1".to_owned()),
                ("maxWidth", max_w.to_string()),
                ("maxHeight", max_h.to_string()),
            ],
        )?;
        // HDR sets say their colour as coding-independent code points (DASH-IF IOP HDR10 and
        // HLG signalling): the PQ (16) or HLG (18) transfer as an EssentialProperty, so a
        // player that cannot show it leaves the set for the SDR one (dash.js does), BT.2020
        // primaries and matrix as SupplementalProperty.
        let transfer = match rungs.first().map(|r| r.video_range) {
            Some("PQ") => Some("16"),
            Some("HLG") => Some("18"),
            _ => None,
        };
        if let Some(transfer) = transfer {
            for (element, scheme, value) in [
                (
                    "EssentialProperty",
                    "urn:mpeg:mpegB:cicp:TransferCharacteristics",
                    transfer,
                ),
                (
                    "SupplementalProperty",
                    "urn:mpeg:mpegB:cicp:ColourPrimaries",
                    "9",
                ),
                (
                    "SupplementalProperty",
                    "urn:mpeg:mpegB:cicp:MatrixCoefficients",
                    "9",
                ),
            ] {
                empty(
                    &mut w,
                    element,
                    &[
                        ("schemeIdUri", scheme.to_owned()),
                        ("value", value.to_owned()),
                    ],
                )?;
            }
        }
        for r in rungs {
            let mut attrs = vec![
                ("id", r.name.clone()),
                ("bandwidth", r.peak_bps.to_string()),
                ("codecs", r.codec.clone()),
                ("width", r.width.to_string()),
                ("height", r.height.to_string()),
                ("sar", "1:1".to_owned()),
            ];
            if let Some(f) = r.frame_rate {
                attrs.push(("frameRate", frame_rate(f, r)));
            }
            open(&mut w, "Representation", &attrs)?;
            template(&mut w, r)?;
            close(&mut w, "Representation")?;
        }
        close(&mut w, "AdaptationSet")?;
    }
    // The main audio track first (Role main), then the others (Role alternate, or
    // commentary when the title says so), one AdaptationSet each.
    let audio_sets = title.audio.iter().chain(&title.more_audio).enumerate();
    for (k, a) in audio_sets {
        let mut attrs = vec![
            (
                "id",
                if k == 0 {
                    sets.len().max(1).to_string()
                } else {
                    format!("{}", 100 + k)
                },
            ),
            ("contentType", "audio".to_owned()),
            ("mimeType", "audio/mp4".to_owned()),
            ("segmentAlignment", "true".to_owned()),
            ("startWithSAP", "1".to_owned()),
        ];
        if let Some((lang, _)) = a.track.language_tag() {
            attrs.push(("lang", lang));
        }
        open(&mut w, "AdaptationSet", &attrs)?;
        let label = a.audio_label();
        let role = if k == 0 {
            "main"
        } else if label.to_lowercase().contains("comment") {
            "commentary"
        } else {
            "alternate"
        };
        empty(
            &mut w,
            "Role",
            &[
                ("schemeIdUri", "urn:mpeg:dash:role:2011".to_owned()),
                ("value", role.to_owned()),
            ],
        )?;
        open(&mut w, "Label", &[])?;
        w.write_event(Event::Text(quick_xml::events::BytesText::new(&label)))
            .map_err(|e| e.to_string())?;
        close(&mut w, "Label")?;
        open(
            &mut w,
            "Representation",
            &[
                ("id", a.name.clone()),
                ("bandwidth", a.peak_bps.to_string()),
                ("codecs", a.codec.clone()),
                ("audioSamplingRate", a.sample_rate_hz.to_string()),
            ],
        )?;
        empty(
            &mut w,
            "AudioChannelConfiguration",
            &[
                (
                    "schemeIdUri",
                    "urn:mpeg:dash:23003:3:audio_channel_configuration:2011".to_owned(),
                ),
                ("value", a.channels.to_string()),
            ],
        )?;
        template(&mut w, a)?;
        close(&mut w, "Representation")?;
        close(&mut w, "AdaptationSet")?;
    }
    // Subtitles: WebVTT in ISO BMFF (wvtt), segmented on the video's segment boundaries.
    let spans = title.dash_text_segments();
    for (k, t) in title.subtitles.iter().enumerate() {
        let p = &t.planned;
        let mut attrs = vec![
            ("id", (sets.len().max(1) + 1 + k).to_string()),
            ("contentType", "text".to_owned()),
            ("mimeType", "application/mp4".to_owned()),
            ("codecs", "wvtt".to_owned()),
            ("segmentAlignment", "true".to_owned()),
        ];
        if let Some(lang) = &p.language {
            attrs.push(("lang", lang.clone()));
        }
        open(&mut w, "AdaptationSet", &attrs)?;
        empty(
            &mut w,
            "Role",
            &[
                ("schemeIdUri", "urn:mpeg:dash:role:2011".to_owned()),
                (
                    "value",
                    if p.forced {
                        "forced-subtitle"
                    } else if p.sdh {
                        "caption"
                    } else {
                        "subtitle"
                    }
                    .to_owned(),
                ),
            ],
        )?;
        open(&mut w, "Label", &[])?;
        w.write_event(Event::Text(quick_xml::events::BytesText::new(&p.name)))
            .map_err(|e| e.to_string())?;
        close(&mut w, "Label")?;
        let bytes: usize = t.cues.iter().map(|c| c.text.len() + 40).sum();
        let bandwidth = (bytes as f64 * 8.0 / title.duration_secs.max(1.0))
            .ceil()
            .max(1.0);
        open(
            &mut w,
            "Representation",
            &[
                ("id", format!("sub_{}", p.id)),
                ("bandwidth", format!("{bandwidth}")),
            ],
        )?;
        open(
            &mut w,
            "SegmentTemplate",
            &[
                ("timescale", super::wvtt::TIMESCALE.to_string()),
                ("initialization", format!("stream/sub_{}/init.mp4", p.id)),
                ("media", format!("stream/sub_{}/$Number$.m4s", p.id)),
                ("startNumber", "1".to_owned()),
            ],
        )?;
        open(&mut w, "SegmentTimeline", &[])?;
        let ms = |s: f64| (s * f64::from(super::wvtt::TIMESCALE)).round() as u64;
        for (n, (from, to)) in spans.iter().enumerate() {
            let mut s_attrs = Vec::new();
            if n == 0 {
                s_attrs.push(("t", ms(*from).to_string()));
            }
            s_attrs.push(("d", (ms(*to) - ms(*from)).max(1).to_string()));
            empty(&mut w, "S", &s_attrs)?;
        }
        close(&mut w, "SegmentTimeline")?;
        close(&mut w, "SegmentTemplate")?;
        close(&mut w, "Representation")?;
        close(&mut w, "AdaptationSet")?;
    }
    close(&mut w, "Period")?;
    close(&mut w, "MPD")?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

/// `30000/1001` when the rate is NTSC-like, else a whole number.
fn frame_rate(fps: f64, r: &Rendition) -> String {
    let ts = r.track.timescale;
    let d = r.track.samples.first().map_or(1, |s| s.duration.max(1));
    if (fps - fps.round()).abs() < 1e-6 {
        format!("{}", fps.round() as u64)
    } else {
        let g = gcd(ts, d);
        format!("{}/{}", ts / g, d / g)
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}

fn template(w: &mut W, r: &Rendition) -> Result<(), String> {
    open(
        w,
        "SegmentTemplate",
        &[
            ("timescale", r.track.timescale.to_string()),
            ("initialization", format!("stream/{}/init.mp4", r.name)),
            ("media", format!("stream/{}/$Number$.m4s", r.name)),
            ("startNumber", "1".to_owned()),
        ],
    )?;
    open(w, "SegmentTimeline", &[])?;
    // Run-length: equal consecutive durations share one S element with a repeat count.
    let mut i = 0;
    while i < r.segments.len() {
        let d = r.segments[i].duration;
        let mut repeat = 0;
        while i + repeat + 1 < r.segments.len() && r.segments[i + repeat + 1].duration == d {
            repeat += 1;
        }
        let mut attrs = Vec::new();
        if i == 0 {
            attrs.push(("t", r.segments[0].start_dts.to_string()));
        }
        attrs.push(("d", d.to_string()));
        if repeat > 0 {
            attrs.push(("r", repeat.to_string()));
        }
        empty(w, "S", &attrs)?;
        i += repeat + 1;
    }
    close(w, "SegmentTimeline")?;
    close(w, "SegmentTemplate")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_iso_8601() {
        assert_eq!(iso_duration(30.0), "PT30.000S");
        assert_eq!(iso_duration(20.0204), "PT20.020S");
    }
}
