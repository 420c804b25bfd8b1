//! Which files are videos (by name), and the videos in a folder.

use std::path::{Path, PathBuf};

/// File name extensions treated as video when a folder is scanned.
pub const VIDEO_EXTENSIONS: [&str; 14] = [
    "mp4", "mov", "m4v", "mkv", "webm", "avi", "mts", "m2ts", "ts", "mpg", "mpeg", "wmv", "flv",
    "3gp",
];

/// True when a path names a video file by its extension.
pub fn is_video(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.as_str()))
}

/// Every video file under a folder, recursively, sorted.
pub fn scan(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if is_video(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn videos_by_extension() {
        assert!(is_video(Path::new("a/IMG_0042.MOV")));
        assert!(is_video(Path::new("b.mkv")));
        assert!(!is_video(Path::new("notes.txt")));
        assert!(!is_video(Path::new("folder")));
    }
}
