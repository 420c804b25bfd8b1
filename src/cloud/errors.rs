//! AWS errors in words: what failed, why, and what to do (which permission is missing, which
//! region the bucket is in, how to get credentials). The SDK's own messages are kept at the end.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

/// Why a cloud operation did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudError {
    /// The user cancelled; nothing unfinished is left looking finished.
    #[error("cancelled")]
    Cancelled,
    /// It failed; the message says why and what to do.
    #[error("{0}")]
    Failed(String),
}

impl CloudError {
    /// A failure with a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }
}

/// What was being done, for the message.
struct Context<'a> {
    /// "uploading s3://b/k", "creating the MediaConvert job", ...
    pub doing: &'a str,
    /// The IAM permission the operation needs ("s3:PutObject on arn:aws:s3:::b/k").
    pub permission: &'a str,
    /// The bucket involved, if any.
    pub bucket: Option<&'a str>,
    /// The region the client used.
    pub region: &'a str,
}

const NO_CREDENTIALS: &str = "no AWS credentials found: set AWS_ACCESS_KEY_ID and \
AWS_SECRET_ACCESS_KEY, pick a profile (--profile or AWS_PROFILE; `aws configure` makes one), or \
run `aws sso login` for an SSO profile";

fn lower_chain(err: &(dyn std::error::Error + 'static)) -> String {
    format!("{}", DisplayErrorContext(err)).to_lowercase()
}

/// What an operation acted on: the permission an "access denied" names comes from it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum On<'a> {
    /// An S3 object: the action (`s3:PutObject`), the bucket and the key.
    Object(&'static str, &'a str, &'a str),
    /// An S3 bucket: the action (`s3:ListBucket`) and the bucket.
    Bucket(&'static str, &'a str),
    /// MediaConvert: the permission(s) needed.
    MediaConvert(&'static str),
}

impl super::Clients {
    /// An SDK error in words: what failed while `doing` something `on` a resource, why, and
    /// what to do.
    pub(crate) fn explain<E>(
        &self,
        err: &SdkError<E, HttpResponse>,
        doing: &str,
        on: On<'_>,
    ) -> CloudError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let (permission, bucket) = match on {
            On::Object(action, bucket, key) => (
                format!("{action} on arn:aws:s3:::{bucket}/{key}"),
                Some(bucket),
            ),
            On::Bucket(action, bucket) => {
                (format!("{action} on arn:aws:s3:::{bucket}"), Some(bucket))
            }
            On::MediaConvert(permission) => (permission.to_owned(), None),
        };
        explain(
            err,
            &Context {
                doing,
                permission: &permission,
                bucket,
                region: &self.region,
            },
        )
    }
}

/// An SDK error in words.
fn explain<E>(err: &SdkError<E, HttpResponse>, cx: &Context<'_>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let chain = format!("{}", DisplayErrorContext(err));
    let lower = lower_chain(err);
    let doing = cx.doing;
    if lower.contains("no credentials")
        || lower.contains("credentialsnotloaded")
        || lower.contains("failed to load credentials")
        || lower.contains("credentials provider")
    {
        return CloudError::new(format!("{doing}: {NO_CREDENTIALS}"));
    }
    match err {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = se.err().code().unwrap_or("");
            let message = se.err().message().unwrap_or("");
            let bucket = cx.bucket.unwrap_or("the bucket");
            let region_header = se
                .raw()
                .headers()
                .get("x-amz-bucket-region")
                .map(str::to_owned);
            let text = match code {
                "NoSuchBucket" => format!(
                    "{doing}: bucket '{bucket}' does not exist (create it with `aws s3 mb s3://{bucket}` or fix --bucket)"
                ),
                "InvalidAccessKeyId" | "UnrecognizedClientException" | "InvalidClientTokenId" => {
                    format!(
                        "{doing}: AWS does not know this access key: check AWS_ACCESS_KEY_ID or the profile's credentials"
                    )
                }
                "SignatureDoesNotMatch" => format!(
                    "{doing}: the AWS secret key does not match the access key: check AWS_SECRET_ACCESS_KEY or the profile's credentials"
                ),
                "ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired" => format!(
                    "{doing}: the AWS session has expired: run `aws sso login` or refresh the credentials"
                ),
                "PermanentRedirect" | "AuthorizationHeaderMalformed" | "IncorrectEndpoint" => {
                    region_mismatch(cx, bucket, region_header.as_deref())
                }
                "SlowDown" | "Throttling" | "ThrottlingException" | "TooManyRequestsException" => {
                    format!(
                        "{doing}: AWS kept asking us to slow down ({code}) after {} attempts: try again in a minute",
                        super::clients::MAX_ATTEMPTS
                    )
                }
                "BadRequestException" if message.to_lowercase().contains("role") => format!(
                    "{doing}: MediaConvert cannot use the role: {message} (the role's trust policy must allow \
                     mediaconvert.amazonaws.com, and it needs s3:GetObject and s3:PutObject on the bucket)"
                ),
                "AccessDenied" | "AccessDeniedException" | "Forbidden" | "ForbiddenException" => {
                    format!(
                        "{doing}: access denied: the credentials need {}",
                        cx.permission
                    )
                }
                _ if status == 403 => {
                    format!(
                        "{doing}: access denied: the credentials need {}",
                        cx.permission
                    )
                }
                "" | "NotFound" if status == 404 && cx.bucket.is_some() => format!(
                    "{doing}: bucket '{bucket}' does not exist (create it with `aws s3 mb s3://{bucket}` or fix --bucket)"
                ),
                _ if status == 301 || status == 307 => {
                    region_mismatch(cx, bucket, region_header.as_deref())
                }
                _ => {
                    let what = if code.is_empty() {
                        format!("HTTP {status}")
                    } else {
                        format!("{code} (HTTP {status})")
                    };
                    if message.is_empty() {
                        format!("{doing} failed: {what}")
                    } else {
                        format!("{doing} failed: {what}: {message}")
                    }
                }
            };
            CloudError::new(text)
        }
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => CloudError::new(format!(
            "{doing}: cannot reach AWS ({chain}); check the network, the region ({}) and the endpoint URL",
            cx.region
        )),
        SdkError::TimeoutError(_) => CloudError::new(format!(
            "{doing}: AWS did not answer in time; check the network and try again"
        )),
        _ => CloudError::new(format!("{doing} failed: {chain}")),
    }
}

fn region_mismatch(cx: &Context<'_>, bucket: &str, actual: Option<&str>) -> String {
    match actual {
        Some(r) => format!(
            "{}: bucket '{bucket}' is in region {r}, not {}: pass --region {r} (or set it in the Cloud settings)",
            cx.doing, cx.region
        ),
        None => format!(
            "{}: bucket '{bucket}' is not in region {}: pass the bucket's region with --region",
            cx.doing, cx.region
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::head_bucket::HeadBucketError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service(status: u16, code: &str, message: &str, region: Option<&str>) -> CloudError {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        let mut raw = HttpResponse::new(
            StatusCode::try_from(status).expect("status"),
            SdkBody::empty(),
        );
        if let Some(r) = region {
            raw.headers_mut()
                .insert("x-amz-bucket-region", r.to_owned());
        }
        let err = SdkError::service_error(HeadBucketError::generic(meta), raw);
        explain(
            &err,
            &Context {
                doing: "uploading s3://my-vod/a.mov",
                permission: "s3:PutObject on arn:aws:s3:::my-vod/a.mov",
                bucket: Some("my-vod"),
                region: "us-east-1",
            },
        )
    }

    #[test]
    fn service_errors_say_what_to_do() {
        let e = service(403, "AccessDenied", "Access Denied", None).to_string();
        assert!(
            e.contains(
                "access denied: the credentials need s3:PutObject on arn:aws:s3:::my-vod/a.mov"
            ),
            "{e}"
        );
        let e = service(301, "PermanentRedirect", "", Some("eu-west-1")).to_string();
        assert!(
            e.contains(
                "bucket 'my-vod' is in region eu-west-1, not us-east-1: pass --region eu-west-1"
            ),
            "{e}"
        );
        let e = service(404, "NoSuchBucket", "", None).to_string();
        assert!(e.contains("bucket 'my-vod' does not exist"), "{e}");
        let e = service(400, "ExpiredToken", "", None).to_string();
        assert!(e.contains("aws sso login"), "{e}");
        let e = service(403, "InvalidAccessKeyId", "", None).to_string();
        assert!(e.contains("AWS does not know this access key"), "{e}");
        let e = service(
            400,
            "BadRequestException",
            "Unable to assume role arn:aws:iam::1:role/x",
            None,
        )
        .to_string();
        assert!(
            e.contains("MediaConvert cannot use the role")
                && e.contains("mediaconvert.amazonaws.com"),
            "{e}"
        );
        let e = service(
            500,
            "InternalError",
            "We encountered an internal error",
            None,
        )
        .to_string();
        assert_eq!(
            e,
            "uploading s3://my-vod/a.mov failed: InternalError (HTTP 500): We encountered an internal error"
        );
    }

    #[test]
    fn unreachable_and_credentials_errors() {
        let cx = Context {
            doing: "reaching MediaConvert",
            permission: "mediaconvert:ListQueues",
            bucket: None,
            region: "eu-west-1",
        };
        let err: SdkError<HeadBucketError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io("connection refused".into()));
        let e = explain(&err, &cx).to_string();
        assert!(
            e.starts_with("reaching MediaConvert: cannot reach AWS"),
            "{e}"
        );
        assert!(e.contains("the region (eu-west-1)"), "{e}");
        let err: SdkError<HeadBucketError, HttpResponse> = SdkError::construction_failure(
            "an identity resolver failed: no credentials in the chain",
        );
        let e = explain(&err, &cx).to_string();
        assert!(
            e.contains("no AWS credentials found") && e.contains("aws configure"),
            "{e}"
        );
    }
}
