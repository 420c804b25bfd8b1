//! The source's SHA-256, which every uploaded object carries in its metadata so the same
//! content is never sent twice, and the checksums remembered per file while its size and
//! modification time are unchanged.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::CloudError;
use super::UploadOptions;

/// A file's SHA-256 as computed before, when its size and modification time are unchanged
/// (what rsync trusts too), so re-running an upload or a submit does not read a big source
/// again just to find it is already there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct KnownSum {
    file: PathBuf,
    size_bytes: u64,
    modified_unix_ns: u128,
    sha256: String,
}

fn sums_file(options: &UploadOptions) -> Option<PathBuf> {
    options.records_dir.as_ref().map(|d| d.join("sha256.json"))
}

fn known_sha256(options: &UploadOptions, file: &Path, size: u64, modified: u128) -> Option<String> {
    let path = sums_file(options)?;
    let sums: Vec<KnownSum> = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let file = std::fs::canonicalize(file).ok()?;
    sums.into_iter()
        .find(|k| k.file == file && k.size_bytes == size && k.modified_unix_ns == modified)
        .map(|k| k.sha256)
}

/// Adds a checksum to the known ones (the newest 200 are kept). Best effort: a failure only
/// means the next run reads the file again.
fn remember_sha256(options: &UploadOptions, file: &Path, size: u64, modified: u128, sum: &str) {
    let (Some(path), Ok(file)) = (sums_file(options), std::fs::canonicalize(file)) else {
        return;
    };
    let mut sums: Vec<KnownSum> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    sums.retain(|k| k.file != file);
    sums.push(KnownSum {
        file,
        size_bytes: size,
        modified_unix_ns: modified,
        sha256: sum.to_owned(),
    });
    let keep_from = sums.len().saturating_sub(200);
    let sums = sums.split_off(keep_from);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let tmp = path.with_extension("json.part");
    if std::fs::write(&tmp, serde_json::to_vec(&sums).unwrap_or_default()).is_ok() {
        let _ = std::fs::rename(&tmp, &path);
    }
}

/// A source's SHA-256 (hex): the remembered one while the file's size and modification time
/// are unchanged, else read in 1 MiB blocks (and remembered). Blocking: call it off the async
/// threads.
pub fn source_sha256(options: &UploadOptions, file: &Path) -> Result<String, CloudError> {
    use std::io::Read;
    let named =
        |e: std::io::Error| CloudError::new(format!("{}: cannot read: {e}", file.display()));
    let meta = std::fs::metadata(file).map_err(named)?;
    let modified = super::record::modified_unix_ns(&meta);
    if let Some(sum) = known_sha256(options, file, meta.len(), modified) {
        return Ok(sum);
    }
    let mut f = std::fs::File::open(file).map_err(named)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(named)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    let sum = format!("{:x}", h.finalize());
    remember_sha256(options, file, meta.len(), modified, &sum);
    Ok(sum)
}

/// [`source_sha256`] off the async threads.
pub async fn sha256_of(options: &UploadOptions, file: &Path) -> Result<String, CloudError> {
    let (options, file) = (options.clone(), file.to_owned());
    tokio::task::spawn_blocking(move || source_sha256(&options, &file))
        .await
        .map_err(|e| CloudError::new(format!("checksum task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_are_remembered_while_the_file_is_unchanged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.mov");
        std::fs::write(&file, b"video").expect("write");
        let options = UploadOptions {
            records_dir: Some(dir.path().join("uploads")),
            ..UploadOptions::default()
        };
        assert_eq!(known_sha256(&options, &file, 5, 42), None);
        remember_sha256(&options, &file, 5, 42, "abc");
        assert_eq!(known_sha256(&options, &file, 5, 42).as_deref(), Some("abc"));
        assert_eq!(known_sha256(&options, &file, 6, 42), None, "size changed");
        assert_eq!(known_sha256(&options, &file, 5, 43), None, "modified since");
        remember_sha256(&options, &file, 5, 43, "def");
        assert_eq!(known_sha256(&options, &file, 5, 43).as_deref(), Some("def"));
        assert_eq!(
            known_sha256(&options, &file, 5, 42),
            None,
            "one entry per file"
        );
    }
}
