//! The AWS clients of a cloud job, built from [`CloudSettings`] through the standard credential
//! chain (aws-config: environment, profile, SSO, instance role). An S3 endpoint URL (from the
//! settings, `--endpoint-url` or `AWS_ENDPOINT_URL[_S3]`) switches S3 to path-style addressing,
//! as S3-compatible stores expect.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use super::{CloudError, CloudSettings};

/// Attempts per request (the first and four retries, with exponential backoff and jitter) on
/// throttling, 5xx answers and dropped connections.
pub const MAX_ATTEMPTS: u32 = 5;

/// S3 and MediaConvert clients for one set of settings.
#[derive(Debug, Clone)]
pub struct Clients {
    /// S3.
    pub s3: aws_sdk_s3::Client,
    /// Elemental MediaConvert.
    pub mediaconvert: aws_sdk_mediaconvert::Client,
    /// The region the clients talk to.
    pub region: String,
    /// The settings they were made from.
    pub settings: CloudSettings,
    /// Where credentials come from (the standard chain unless a test gives its own).
    pub credentials: Option<aws_sdk_s3::config::SharedCredentialsProvider>,
}

fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

impl Clients {
    /// Loads the AWS configuration (profile, region, credentials chain) and makes the clients.
    /// Credentials are resolved lazily, on the first request; [`super::check`] tests them.
    pub async fn connect(settings: &CloudSettings) -> Result<Self, CloudError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .read_timeout(Duration::from_secs(120))
                    .build(),
            );
        if !settings.profile.trim().is_empty() {
            loader = loader.profile_name(settings.profile.trim());
        }
        if !settings.region.trim().is_empty() {
            loader = loader.region(Region::new(settings.region.trim().to_owned()));
        }
        let sdk = loader.load().await;
        Self::from_sdk_config(&sdk, settings)
    }

    /// Clients from an already loaded SDK configuration (tests give static credentials here).
    pub fn from_sdk_config(sdk: &SdkConfig, settings: &CloudSettings) -> Result<Self, CloudError> {
        let s3_endpoint = settings.endpoint.trim();
        let custom_endpoint = !s3_endpoint.is_empty()
            || env_set("AWS_ENDPOINT_URL_S3")
            || env_set("AWS_ENDPOINT_URL");
        let region = match sdk.region() {
            Some(r) => r.clone(),
            // S3-compatible stores ignore the region, but requests are signed with one.
            None if custom_endpoint => Region::from_static("us-east-1"),
            None => {
                return Err(CloudError::new(
                    "no AWS region: pass --region (for example eu-west-1), set AWS_REGION, or set a \
                     region in the AWS profile or the app's Cloud settings",
                ));
            }
        };
        let mut s3 = aws_sdk_s3::config::Builder::from(sdk).region(region.clone());
        if !s3_endpoint.is_empty() {
            s3 = s3.endpoint_url(s3_endpoint);
        }
        if custom_endpoint {
            s3 = s3.force_path_style(true);
        }
        let mut mc = aws_sdk_mediaconvert::config::Builder::from(sdk).region(region.clone());
        let mc_endpoint = settings.mediaconvert_endpoint.trim();
        if !mc_endpoint.is_empty() {
            mc = mc.endpoint_url(mc_endpoint);
        }
        Ok(Self {
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
            mediaconvert: aws_sdk_mediaconvert::Client::from_conf(mc.build()),
            region: region.to_string(),
            settings: settings.clone(),
            credentials: sdk.credentials_provider(),
        })
    }

    /// A runtime for the blocking front ends (CLI, the app's worker threads).
    pub fn runtime() -> Result<tokio::runtime::Runtime, CloudError> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("vodkit-cloud")
            .enable_all()
            .build()
            .map_err(|e| CloudError::new(format!("cannot start the network runtime: {e}")))
    }
}
