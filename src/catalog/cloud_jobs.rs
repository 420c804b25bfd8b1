//! MediaConvert jobs and S3 uploads as the cloud reported them, so a job submitted before a
//! restart is followed again (the queue row keeps its service id) and shown in any session.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Catalog, Result, now_secs};

/// A MediaConvert job as last seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CloudJobRecord {
    /// The service's job id.
    pub service_id: String,
    /// The region it runs in.
    pub region: Option<String>,
    /// The queue row it belongs to.
    pub job_id: Option<i64>,
    /// `SUBMITTED`, `PROGRESSING`, `COMPLETE`, `CANCELED` or `ERROR`.
    pub status: String,
    /// Percent complete.
    pub percent: u32,
    /// `s3://.../outputs/<title>-<run>/`.
    pub output_url: Option<String>,
    /// Output objects, once listed.
    pub outputs: Vec<String>,
    /// Last update, seconds since 1970.
    pub updated_secs: i64,
}

impl CloudJobRecord {
    /// Has the service ended it (complete, cancelled or failed)?
    pub fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "COMPLETE" | "CANCELED" | "ERROR")
    }
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CloudJobRecord> {
    Ok(CloudJobRecord {
        service_id: r.get(0)?,
        region: r.get(1)?,
        job_id: r.get(2)?,
        status: r.get(3)?,
        percent: r.get(4)?,
        output_url: r.get(5)?,
        outputs: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
        updated_secs: r.get(7)?,
    })
}

/// A source uploaded to S3.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UploadRecord {
    /// The source file.
    pub source: std::path::PathBuf,
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// The object's checksum: its full-object CRC-64/NVME in base64 (an earlier Vodkit kept
    /// the content's SHA-256 here).
    pub etag: Option<String>,
    /// Bytes.
    pub size_bytes: u64,
    /// When, seconds since 1970.
    pub uploaded_secs: i64,
}

const COLUMNS: &str =
    "service_id, region, job_id, status, percent, output_url, outputs_json, updated_secs";

impl Catalog {
    /// Records (or updates) a cloud job's state. `outputs` replaces the list when given.
    pub fn record_cloud_job(
        &self,
        record: &CloudJobRecord,
        outputs: Option<&[String]>,
    ) -> Result<()> {
        let outputs_json = outputs.map(|o| serde_json::to_string(o).unwrap_or_default());
        self.conn()
            .execute(
                "INSERT INTO cloud_jobs (service_id, region, job_id, status, percent, output_url,
                    outputs_json, updated_secs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, COALESCE(?7, '[]'), ?8)
                 ON CONFLICT (service_id) DO UPDATE SET region = COALESCE(?2, region),
                    job_id = COALESCE(?3, job_id), status = ?4, percent = ?5,
                    output_url = COALESCE(?6, output_url),
                    outputs_json = COALESCE(?7, outputs_json), updated_secs = ?8",
                params![
                    record.service_id,
                    record.region,
                    record.job_id,
                    record.status,
                    record.percent,
                    record.output_url,
                    outputs_json,
                    now_secs()
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The newest cloud job of a queue row.
    pub fn cloud_job_of(&self, job_id: i64) -> Result<Option<CloudJobRecord>> {
        let sql =
            format!("SELECT {COLUMNS} FROM cloud_jobs WHERE job_id = ?1 ORDER BY id DESC LIMIT 1");
        self.conn()
            .query_row(&sql, [job_id], from_row)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Every cloud job, newest first.
    pub fn cloud_jobs(&self) -> Result<Vec<CloudJobRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM cloud_jobs ORDER BY id DESC");
        let mut stmt = self.conn().prepare(&sql).map_err(|e| self.err(e))?;
        stmt.query_map([], from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// Every upload, newest first.
    pub fn uploads(&self) -> Result<Vec<UploadRecord>> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT source_path, bucket, key, etag, size_bytes, uploaded_secs FROM uploads
                 ORDER BY uploaded_secs DESC, id DESC",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map([], |r| {
            Ok(UploadRecord {
                source: std::path::PathBuf::from(r.get::<_, String>(0)?),
                bucket: r.get(1)?,
                key: r.get(2)?,
                etag: r.get(3)?,
                size_bytes: u64::try_from(r.get::<_, Option<i64>>(4)?.unwrap_or(0)).unwrap_or(0),
                uploaded_secs: r.get(5)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err(e))
    }

    /// Records a finished upload.
    pub fn record_upload(
        &self,
        source: &std::path::Path,
        bucket: &str,
        key: &str,
        etag: Option<&str>,
        size_bytes: u64,
    ) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO uploads (source_path, bucket, key, etag, size_bytes, uploaded_secs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (bucket, key) DO UPDATE SET source_path = ?1, etag = ?4,
                    size_bytes = ?5, uploaded_secs = ?6",
                params![
                    super::path_text(source),
                    bucket,
                    key,
                    etag,
                    i64::try_from(size_bytes).unwrap_or(i64::MAX),
                    now_secs()
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cloud_job_is_updated_in_place() {
        let c = Catalog::in_memory().expect("db");
        let row = c
            .enqueue(&super::super::queue::NewJob {
                kind: super::super::queue::JobKind::Cloud,
                source: "/v/a.mov".into(),
                preset: "web-ladder".into(),
                out_dir: "/out".into(),
                spec_json: "{}".into(),
            })
            .expect("row");
        let mut rec = CloudJobRecord {
            service_id: "1700-abc".into(),
            region: Some("eu-west-1".into()),
            job_id: Some(row),
            status: "SUBMITTED".into(),
            percent: 0,
            output_url: Some("s3://b/outputs/a-1/".into()),
            outputs: Vec::new(),
            updated_secs: 0,
        };
        c.record_cloud_job(&rec, None).expect("record");
        rec.status = "COMPLETE".into();
        rec.percent = 100;
        rec.region = None;
        c.record_cloud_job(&rec, Some(&["s3://b/outputs/a-1/a_720p.mp4".into()]))
            .expect("update");
        let got = c.cloud_job_of(row).expect("query").expect("row");
        assert_eq!(got.status, "COMPLETE");
        assert_eq!(got.region.as_deref(), Some("eu-west-1"), "kept");
        assert_eq!(got.outputs.len(), 1);
        assert!(got.is_final());
        assert_eq!(c.cloud_jobs().expect("all").len(), 1);
    }
}
