//! `index.smil`: the MP4 rungs with their bitrates and sizes, as a MediaPackage VOD asset (or
//! any SMIL-reading packager) takes them. Written with `quick-xml`.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};

use super::title::Title;

/// The SMIL document of a title.
pub fn smil(title: &Title) -> Result<Vec<u8>, String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let err = |r: std::io::Result<()>| r.map_err(|e| e.to_string());
    err(w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))))?;
    let mut root = BytesStart::new("smil");
    root.push_attribute(("xmlns", "http://www.w3.org/2001/SMIL20/Language"));
    err(w.write_event(Event::Start(root)))?;
    err(w.write_event(Event::Empty(BytesStart::new("head"))))?;
    err(w.write_event(Event::Start(BytesStart::new("body"))))?;
    err(w.write_event(Event::Start(BytesStart::new("switch"))))?;
    for r in &title.videos {
        let bitrate = if title.duration_secs > 0.0 {
            (r.source_bytes as f64 * 8.0 / title.duration_secs) as u64
        } else {
            0
        };
        let mut v = BytesStart::new("video");
        v.push_attribute(("src", r.source_file.as_str()));
        v.push_attribute(("system-bitrate", bitrate.to_string().as_str()));
        v.push_attribute(("width", r.width.to_string().as_str()));
        v.push_attribute(("height", r.height.to_string().as_str()));
        err(w.write_event(Event::Start(v)))?;
        let mut size = BytesStart::new("param");
        size.push_attribute(("name", "size"));
        size.push_attribute(("value", r.source_bytes.to_string().as_str()));
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
