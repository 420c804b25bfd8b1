//! `vodkit cloud ...`: the cloud backend from a shell. So far `job-json`, which prints the
//! MediaConvert CreateJob request a preset makes for a file.

use std::path::PathBuf;

use clap::Subcommand;

use super::Output;
use crate::cloud::{JobTarget, create_job_request};
use crate::plan::plan;
use crate::preset::store::Store;
use crate::probe::probe;

/// Cloud commands.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Print the MediaConvert CreateJob request for a file, as `aws mediaconvert create-job
    /// --cli-input-json` and the console's job JSON take it.
    #[command(
        after_help = "Example:\n  vodkit cloud job-json movie.mov --preset web-ladder --bucket my-vod \\\n    --role arn:aws:iam::123456789012:role/MediaConvertRole > job.json\n  aws mediaconvert create-job --cli-input-json file://job.json"
    )]
    JobJson {
        /// The source file (probed locally to fit the preset).
        file: PathBuf,
        /// Preset name or path to a .toml file.
        #[arg(long, short)]
        preset: String,
        /// S3 bucket for the source and outputs.
        #[arg(long)]
        bucket: String,
        /// Key prefix inside the bucket.
        #[arg(long, default_value = "")]
        prefix: String,
        /// IAM role ARN MediaConvert assumes.
        #[arg(long)]
        role: String,
        /// MediaConvert queue ARN (default queue when absent).
        #[arg(long)]
        queue: Option<String>,
    },
}

/// Runs a cloud command. Returns 1 on failure.
pub fn run(action: Action, out: &Output) -> usize {
    match action {
        Action::JobJson {
            file,
            preset,
            bucket,
            prefix,
            role,
            queue,
        } => {
            let result = Store::open()
                .find(&preset)
                .map_err(|e| e.to_string())
                .and_then(|entry| {
                    let info = probe(&file).map_err(|e| e.to_string())?;
                    let p = plan(&info, &entry.preset).map_err(|e| e.to_string())?;
                    let target = JobTarget {
                        bucket,
                        prefix,
                        role_arn: role,
                        queue,
                    };
                    Ok(create_job_request(&p, &entry.preset, &target))
                });
            match result {
                Ok(request) => {
                    out.text(&format!(
                        "{}\n",
                        serde_json::to_string_pretty(&request).unwrap_or_default()
                    ));
                    0
                }
                Err(e) => {
                    out.error(&file, &e);
                    1
                }
            }
        }
    }
}
