//! What the cloud backend needs to know: AWS profile and region, bucket and prefix, the role
//! MediaConvert assumes, the queue, and optional endpoints for S3-compatible stores. Saved by the
//! app in its settings and used by `vodkit cloud` as defaults. Never credentials: those come from
//! the standard AWS credential chain (environment, profile, SSO, instance role).

use serde::{Deserialize, Serialize};

/// Cloud settings. Empty strings mean "not set" (the AWS defaults apply).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CloudSettings {
    /// AWS profile name (`~/.aws/config`); empty: `AWS_PROFILE` or `default`.
    pub profile: String,
    /// Region; empty: the profile's or `AWS_REGION`.
    pub region: String,
    /// Bucket for sources and outputs.
    pub bucket: String,
    /// Key prefix inside the bucket (`vod` puts sources under `vod/inputs/`).
    pub prefix: String,
    /// IAM role ARN MediaConvert assumes to read the source and write the outputs.
    pub role_arn: String,
    /// MediaConvert queue ARN; empty: the account's default queue.
    pub queue: String,
    /// S3-compatible endpoint URL (MinIO, moto, ...); empty: AWS. Path-style addressing is used
    /// when set.
    pub endpoint: String,
    /// MediaConvert endpoint URL; empty: the regional endpoint.
    pub mediaconvert_endpoint: String,
    /// Refuse to submit a source whose estimated MediaConvert cost is above this many US
    /// dollars (or that cannot be priced); `None`: no limit. Queued jobs and retries keep it.
    pub max_cost_usd: Option<f64>,
}

impl CloudSettings {
    /// The settings saved by the app (the defaults of `vodkit cloud`), or empty ones.
    pub fn saved() -> Self {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Saved {
            cloud: CloudSettings,
        }
        crate::dirs::settings_file()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<Saved>(&b).ok())
            .unwrap_or_default()
            .cloud
    }

    /// The bucket, or an error saying how to set it.
    pub fn require_bucket(&self) -> Result<&str, super::CloudError> {
        if self.bucket.trim().is_empty() {
            return Err(super::CloudError::new(
                "no S3 bucket set: pass --bucket NAME or set it in the app's Cloud settings",
            ));
        }
        Ok(self.bucket.trim())
    }

    /// The role ARN, checked for its shape, or an error saying how to set it.
    pub fn require_role(&self) -> Result<&str, super::CloudError> {
        let role = self.role_arn.trim();
        if role.is_empty() {
            return Err(super::CloudError::new(
                "no MediaConvert role set: pass --role arn:aws:iam::ACCOUNT:role/NAME or set it in \
                 the app's Cloud settings (the role needs s3:GetObject and s3:PutObject on the bucket)",
            ));
        }
        if !is_role_arn(role) {
            return Err(super::CloudError::new(format!(
                "'{role}' is not an IAM role ARN (expected arn:aws:iam::123456789012:role/NAME)"
            )));
        }
        Ok(role)
    }

    /// `prefix/rest` (or `rest` without a prefix).
    pub fn key(&self, rest: &str) -> String {
        prefixed_key(&self.prefix, rest)
    }
}

/// `prefix/rest`, slashes around the prefix ignored; `rest` alone without a prefix.
pub fn prefixed_key(prefix: &str, rest: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        rest.to_owned()
    } else {
        format!("{prefix}/{rest}")
    }
}

/// `arn:<partition>:iam::<12 digits>:role/<path and name>`.
pub fn is_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        assert!(is_role_arn(
            "arn:aws:iam::123456789012:role/MediaConvertRole"
        ));
        assert!(is_role_arn("arn:aws-cn:iam::123456789012:role/path/Role"));
        assert!(!is_role_arn("arn:aws:iam::12345:role/R"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/R"));
        assert!(!is_role_arn("MediaConvertRole"));
    }

    #[test]
    fn keys_with_and_without_prefix() {
        let mut s = CloudSettings::default();
        assert_eq!(s.key("inputs/a.mov"), "inputs/a.mov");
        s.prefix = "/vod/".into();
        assert_eq!(s.key("inputs/a.mov"), "vod/inputs/a.mov");
    }

    #[test]
    fn missing_bucket_and_bad_role_are_explained() {
        let mut s = CloudSettings::default();
        assert!(
            s.require_bucket()
                .unwrap_err()
                .to_string()
                .contains("--bucket")
        );
        s.role_arn = "MediaConvertRole".into();
        assert!(
            s.require_role()
                .unwrap_err()
                .to_string()
                .contains("not an IAM role ARN")
        );
    }
}
