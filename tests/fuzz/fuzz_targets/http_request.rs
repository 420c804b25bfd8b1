//! The parts of a request `serve` reads (path, Range header, rendition query) on arbitrary
//! text: a safe path never leaves the folder, a range always lies inside the resource.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vodkit::serve::request::{RangeAsk, parse_range, parse_selection, safe_segments};

fuzz_target!(|data: &[u8]| {
    let (head, rest) = data.split_at(data.len() / 2);
    let (head, rest) = (String::from_utf8_lossy(head), String::from_utf8_lossy(rest));
    let (head, rest) = (head.as_ref(), rest.as_ref());
    if let Some(segments) = safe_segments(head) {
        for s in &segments {
            assert!(s != "." && s != ".." && !s.contains(['/', '\\', '\0']), "{s:?}");
        }
    }
    let len = u64::from(data.first().copied().unwrap_or(0)) * 1000 + data.len() as u64;
    if let RangeAsk::Part(r) = parse_range(Some(rest), len) {
        assert!(r.start <= r.end && r.end < len, "{r:?} of {len}");
    }
    let _ = parse_selection(Some(rest));
});
