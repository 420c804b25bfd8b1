//! The cloud backend: AWS S3 + Elemental MediaConvert running the same [`Plan`](crate::plan::Plan)
//! the local backend encodes.
//!
//! - [`settings`]: bucket, prefix, role, queue, region, profile, endpoints (never credentials).
//! - [`clients`]: the SDK clients through the standard credential chain.
//! - [`upload`]: resumable multipart upload of a source.
//! - [`job_spec`] and [`wire`]: the CreateJob request, as the console takes it and as it travels.
//! - [`mediaconvert`]: create, follow, cancel and list jobs.
//! - [`outputs`]: a job's outputs, `index.smil`, downloads.
//! - [`submit`]: the whole job, with the events a local encode reports.
//! - [`check`]: is everything reachable, in words.
//! - [`prices`] and [`cost`]: what a job will cost, from a dated snapshot of AWS's price list.

pub mod check;
pub mod clients;
pub mod cost;
pub mod downloaded;
mod errors;
pub mod job_spec;
pub mod mediaconvert;
pub mod outputs;
mod part_body;
pub mod prices;
pub mod settings;
pub mod submit;
pub mod templates;
pub mod upload;
pub mod wire;

pub use clients::Clients;
pub use errors::CloudError;
pub use job_spec::{JobPlace, JobTarget, create_job_request};
pub use settings::CloudSettings;
