//! A cloud job's outputs on S3: listing them, writing `index.smil` next to the rungs (the MP4
//! rungs as a MediaPackage VOD asset takes them), and downloading them with progress, each file
//! written under a hidden `.part` name and renamed once whole.

use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use tokio::io::AsyncWriteExt;

use super::CloudError;
use super::clients::Clients;
use super::errors::On;
use crate::job::{CancelToken, EventSink, JobEvent};
use crate::package::smil::{SmilVideo, smil_of};
use crate::plan::Plan;

/// An object on S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// Key.
    pub key: String,
    /// Size in bytes.
    pub size_bytes: u64,
}

/// `s3://bucket/some/key` → (`bucket`, `some/key`).
pub fn parse_s3_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_owned(), key.to_owned()))
}

/// Every object under a prefix.
pub async fn list_objects(
    clients: &Clients,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<Object>, CloudError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token.clone())
            .send()
            .await
            .map_err(|e| {
                clients.explain(
                    &e,
                    &format!("listing s3://{bucket}/{prefix}"),
                    On::Bucket("s3:ListBucket", bucket),
                )
            })?;
        out.extend(page.contents().iter().filter_map(|o| {
            Some(Object {
                key: o.key()?.to_owned(),
                size_bytes: u64::try_from(o.size().unwrap_or(0)).unwrap_or(0),
            })
        }));
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_owned()),
            _ => break,
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// The key of a rung's MP4 in a job's outputs: `<dir>/<title>_<rung>.mp4` (the file group's
/// destination is `<dir>/<title>`, its outputs' name modifiers `_<rung>`).
pub fn rung_key(output_dir_key: &str, title: &str, rung: &str) -> String {
    format!("{output_dir_key}{title}_{rung}.mp4")
}

/// The SMIL of a job's rungs found among `objects` (rungs missing from S3 are left out).
pub fn smil_for(plan: &Plan, output_dir_key: &str, objects: &[Object]) -> Result<Vec<u8>, String> {
    let videos: Vec<SmilVideo> = plan
        .made_rungs()
        .filter_map(|r| {
            let key = rung_key(output_dir_key, &plan.title, &r.name);
            let object = objects.iter().find(|o| o.key == key)?;
            Some(SmilVideo {
                src: key.rsplit('/').next().unwrap_or(&key).to_owned(),
                bitrate_bps: if plan.duration_secs > 0.0 {
                    (object.size_bytes as f64 * 8.0 / plan.duration_secs) as u64
                } else {
                    r.max_bitrate_bps
                },
                width: r.width,
                height: r.height,
                size_bytes: object.size_bytes,
            })
        })
        .collect();
    smil_of(&videos)
}

/// Writes `index.smil` next to the rungs; returns its key.
pub async fn put_smil(
    clients: &Clients,
    bucket: &str,
    output_dir_key: &str,
    smil: Vec<u8>,
) -> Result<String, CloudError> {
    let key = format!("{output_dir_key}index.smil");
    clients
        .s3
        .put_object()
        .bucket(bucket)
        .key(&key)
        .content_type("application/smil+xml")
        .body(ByteStream::from(smil))
        .send()
        .await
        .map_err(|e| {
            clients.explain(
                &e,
                &format!("writing s3://{bucket}/{key}"),
                On::Object("s3:PutObject", bucket, &key),
            )
        })?;
    Ok(key)
}

/// The folder part of a file group destination (`s3://b/p/outputs/t/t` → `p/outputs/t/`).
pub fn destination_dir(destination: &str) -> Option<(String, String)> {
    let (bucket, key) = parse_s3_url(destination)?;
    let dir = match key.rfind('/') {
        Some(i) => key[..=i].to_owned(),
        None => String::new(),
    };
    Some((bucket, dir))
}

/// A local path for `key` under `out_dir`, relative to `root`; `None` for keys that would leave
/// the folder.
fn local_path(out_dir: &Path, root: &str, key: &str) -> Option<PathBuf> {
    let rel = Path::new(key.strip_prefix(root)?);
    rel.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| out_dir.join(rel))
}

/// Downloads every object under the job's destinations into `out_dir` (rungs, stills,
/// `index.smil`), keeping the folder layout below the job's output folder. Files already there
/// with the same size are skipped. Returns the files, in key order.
pub async fn download(
    clients: &Clients,
    destinations: &[String],
    out_dir: &Path,
    sink: &EventSink,
    cancel: &CancelToken,
) -> Result<Vec<PathBuf>, CloudError> {
    let mut dirs: Vec<(String, String)> = destinations
        .iter()
        .filter_map(|d| destination_dir(d))
        .collect();
    dirs.sort_by_key(|d| d.1.len());
    // Nested destinations (stills under the rungs' folder) are covered by their parent.
    let mut roots: Vec<(String, String)> = Vec::new();
    for (bucket, dir) in dirs {
        if !roots
            .iter()
            .any(|(b, r)| *b == bucket && dir.starts_with(r.as_str()))
        {
            roots.push((bucket, dir));
        }
    }
    if roots.is_empty() {
        return Err(CloudError::new("the job has no S3 outputs to download"));
    }
    let mut files = Vec::new();
    for (bucket, root) in &roots {
        for o in list_objects(clients, bucket, root).await? {
            if let Some(path) = local_path(out_dir, root, &o.key) {
                files.push((bucket.clone(), o, path));
            }
        }
    }
    if files.is_empty() {
        return Err(CloudError::new(format!(
            "no outputs under {}: the job may not have finished",
            roots
                .iter()
                .map(|(b, r)| format!("s3://{b}/{r}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let total: u64 = files.iter().map(|(_, o, _)| o.size_bytes).sum();
    let started = Instant::now();
    let mut done = 0u64;
    let name = format!("s3://{}/{}", roots[0].0, roots[0].1);
    let report = |done: u64| {
        sink(JobEvent::Transfer {
            name: name.clone(),
            done_bytes: done,
            total_bytes: total,
            bytes_per_sec: done as f64 / started.elapsed().as_secs_f64().max(1e-3),
        });
    };
    let mut written = Vec::new();
    for (bucket, object, path) in files {
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == object.size_bytes) {
            done += object.size_bytes;
            report(done);
            written.push(path);
            continue;
        }
        tokio::select! {
            r = fetch(clients, &bucket, &object, &path, &mut done, &report) => r?,
            () = cancel.cancelled() => {
                return Err(CloudError::Cancelled);
            }
        }
        sink(JobEvent::Output {
            path: path.clone(),
            size_bytes: object.size_bytes,
        });
        written.push(path);
    }
    Ok(written)
}

async fn fetch(
    clients: &Clients,
    bucket: &str,
    object: &Object,
    path: &Path,
    done: &mut u64,
    report: &impl Fn(u64),
) -> Result<(), CloudError> {
    let named = |e: std::io::Error| CloudError::new(format!("{}: {e}", path.display()));
    let dir = path.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir).await.map_err(named)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let part = dir.join(format!(".{file_name}.part"));
    let result = async {
        let got = clients
            .s3
            .get_object()
            .bucket(bucket)
            .key(&object.key)
            .send()
            .await
            .map_err(|e| {
                clients.explain(
                    &e,
                    &format!("downloading s3://{bucket}/{}", object.key),
                    On::Object("s3:GetObject", bucket, &object.key),
                )
            })?;
        let mut body = got.body;
        let mut file = tokio::fs::File::create(&part).await.map_err(named)?;
        let mut last = Instant::now();
        while let Some(chunk) = body.try_next().await.map_err(|e| {
            CloudError::new(format!("downloading s3://{bucket}/{}: {e}", object.key))
        })? {
            file.write_all(&chunk).await.map_err(named)?;
            *done += chunk.len() as u64;
            if last.elapsed().as_millis() >= 200 {
                report(*done);
                last = Instant::now();
            }
        }
        file.flush().await.map_err(named)?;
        file.sync_all().await.map_err(named)?;
        tokio::fs::rename(&part, path).await.map_err(named)?;
        report(*done);
        Ok(())
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&part).await;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_and_destination_folders() {
        assert_eq!(
            parse_s3_url("s3://b/p/k.mp4"),
            Some(("b".into(), "p/k.mp4".into()))
        );
        assert_eq!(parse_s3_url("s3://b"), Some(("b".into(), String::new())));
        assert_eq!(parse_s3_url("https://b/k"), None);
        assert_eq!(
            destination_dir("s3://b/vod/outputs/clip/clip"),
            Some(("b".into(), "vod/outputs/clip/".into()))
        );
    }

    #[test]
    fn local_paths_stay_inside_the_folder() {
        let out = Path::new("/tmp/out");
        assert_eq!(
            local_path(
                out,
                "vod/outputs/t/",
                "vod/outputs/t/stills/t_still.0000000.jpg"
            ),
            Some(PathBuf::from("/tmp/out/stills/t_still.0000000.jpg"))
        );
        assert_eq!(
            local_path(out, "vod/outputs/t/", "vod/outputs/t/../../x"),
            None
        );
        assert_eq!(local_path(out, "vod/outputs/t/", "other/x"), None);
    }
}
