//! The cloud backend (AWS S3 + Elemental MediaConvert). So far: the MediaConvert job built from
//! the same [`Plan`](crate::plan::Plan) the local backend encodes, as the JSON that
//! `aws mediaconvert create-job --cli-input-json` and the console take. Upload, submission and
//! job polling come next.

pub mod job_spec;

pub use job_spec::{JobTarget, create_job_request};
