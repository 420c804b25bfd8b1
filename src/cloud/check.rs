//! `vodkit cloud check` and the app's Test connection: are there credentials, is the bucket
//! reachable and writable, is MediaConvert reachable, does the role look like a role. Each line
//! says what was checked and, when it failed, why and what to do.

use aws_sdk_s3::config::ProvideCredentials;
use aws_sdk_s3::primitives::ByteStream;
use serde::Serialize;

use super::clients::Clients;
use super::errors::On;

/// One checked thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckLine {
    /// What was checked ("credentials", "bucket my-vod", ...).
    pub what: String,
    /// True when it works.
    pub ok: bool,
    /// What was found, or why it failed and what to do.
    pub detail: String,
}

fn line(what: impl Into<String>, result: Result<String, String>) -> CheckLine {
    let (ok, detail) = match result {
        Ok(d) => (true, d),
        Err(d) => (false, d),
    };
    CheckLine {
        what: what.into(),
        ok,
        detail,
    }
}

/// Runs every check; never fails as a whole.
pub async fn check(clients: &Clients) -> Vec<CheckLine> {
    let mut lines = Vec::new();
    let s = &clients.settings;
    let creds = match &clients.credentials {
        Some(p) => p
            .provide_credentials()
            .await
            .map(|c| {
                let id = c.access_key_id();
                let shown = id.get(id.len().saturating_sub(4)..).unwrap_or("");
                format!("found (access key ending in {shown})")
            })
            .map_err(|e| {
                format!(
                    "no AWS credentials ({e}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pick \
                     a profile (--profile or AWS_PROFILE; `aws configure` makes one), or run \
                     `aws sso login`"
                )
            }),
        None => Err("no AWS credential provider is configured".to_owned()),
    };
    let have_creds = creds.is_ok();
    lines.push(line("credentials", creds));
    lines.push(line("region", Ok(clients.region.clone())));
    if !have_creds {
        return lines;
    }

    match s.require_bucket() {
        Err(e) => lines.push(line("bucket", Err(e.to_string()))),
        Ok(bucket) => {
            let head = clients.s3.head_bucket().bucket(bucket).send().await;
            let reachable = head.is_ok();
            lines.push(line(
                format!("bucket {bucket}"),
                head.map(|_| "reachable".to_owned()).map_err(|e| {
                    clients
                        .explain(
                            &e,
                            "reaching the bucket",
                            On::Bucket("s3:ListBucket", bucket),
                        )
                        .to_string()
                }),
            ));
            if reachable {
                let key = s.key(".vodkit-check");
                let put = clients
                    .s3
                    .put_object()
                    .bucket(bucket)
                    .key(&key)
                    .body(ByteStream::from_static(b"vodkit connection check\n"))
                    .send()
                    .await;
                let writable = put.map(|_| ()).map_err(|e| {
                    clients
                        .explain(
                            &e,
                            "writing a test object",
                            On::Object("s3:PutObject", bucket, &key),
                        )
                        .to_string()
                });
                if writable.is_ok() {
                    let _ = clients
                        .s3
                        .delete_object()
                        .bucket(bucket)
                        .key(&key)
                        .send()
                        .await;
                }
                lines.push(line(
                    format!("write to s3://{bucket}/{}", s.key("")),
                    writable.map(|()| "allowed".to_owned()),
                ));
            }
        }
    }

    let queues = clients
        .mediaconvert
        .list_queues()
        .max_results(1)
        .send()
        .await;
    lines.push(line(
        "MediaConvert",
        queues
            .map(|_| format!("reachable in {}", clients.region))
            .map_err(|e| {
                clients
                    .explain(
                        &e,
                        "reaching MediaConvert",
                        On::MediaConvert("mediaconvert:ListQueues"),
                    )
                    .to_string()
            }),
    ));
    lines.push(line(
        "role",
        s.require_role()
            .map(|r| {
                format!("{r} (MediaConvert checks that it can assume it when a job is created)")
            })
            .map_err(|e| e.to_string()),
    ));
    lines
}
