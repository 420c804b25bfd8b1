//! `index.smil`: the MP4 rungs with their bitrates and sizes, as a MediaPackage VOD asset (or
//! any SMIL-reading packager) takes them. Written with `quick-xml`.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};

use super::title::Title;

/// One MP4 rung as a SMIL `<video>`.
#[derive(Debug, Clone, PartialEq)]
pub struct SmilVideo {
    /// File name, relative to the SMIL file.
    pub src: String,
    /// Average bitrate in bits per second.
    pub bitrate_bps: u64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// File size in bytes.
    pub size_bytes: u64,
}

/// The SMIL document of a packaged title.
pub fn smil(title: &Title) -> Result<Vec<u8>, String> {
    let videos: Vec<SmilVideo> = title
        .videos
        .iter()
        .map(|r| SmilVideo {
            src: r.source_file.clone(),
            bitrate_bps: if title.duration_secs > 0.0 {
                (r.source_bytes as f64 * 8.0 / title.duration_secs) as u64
            } else {
                0
            },
            width: r.width,
            height: r.height,
            size_bytes: r.source_bytes,
        })
        .collect();
    smil_of(&videos)
}

/// The SMIL document listing `videos` in one `<switch>`.
pub fn smil_of(videos: &[SmilVideo]) -> Result<Vec<u8>, String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let err = |r: std::io::Result<()>| r.map_err(|e| e.to_string());
    err(w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))))?;
    let mut root = BytesStart::new("smil");
    root.push_attribute(("xmlns", "http://www.w3.org/2001/SMIL20/Language"));
    err(w.write_event(Event::Start(root)))?;
    err(w.write_event(Event::Empty(BytesStart::new("head"))))?;
    err(w.write_event(Event::Start(BytesStart::new("body"))))?;
    err(w.write_event(Event::Start(BytesStart::new("switch"))))?;
    for r in videos {
        let mut v = BytesStart::new("video");
        v.push_attribute(("src", r.src.as_str()));
        v.push_attribute(("system-bitrate", r.bitrate_bps.to_string().as_str()));
        v.push_attribute(("width", r.width.to_string().as_str()));
        v.push_attribute(("height", r.height.to_string().as_str()));
        err(w.write_event(Event::Start(v)))?;
        let mut size = BytesStart::new("param");
        size.push_attribute(("name", "size"));
        size.push_attribute(("value", r.size_bytes.to_string().as_str()));
        size.push_attribute(("valuetype", "data"));
        err(w.write_event(Event::Empty(size)))?;
        err(w.write_event(Event::End(BytesEnd::new("video"))))?;
    }
    err(w.write_event(Event::End(BytesEnd::new("switch"))))?;
    err(w.write_event(Event::End(BytesEnd::new("body"))))?;
    err(w.write_event(Event::End(BytesEnd::new("smil"))))?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}
