//! Retention and deletion on PostgreSQL: each call deletes at most `limit`
//! rows, found through an index, in its own statement.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::{OrgId, ProjectId};

use super::PostgresStore;
use crate::error::StorageError;
use crate::model::{RetentionArea, TrafficSelection};
use crate::traits::RetentionStore;

impl PostgresStore {
    /// Runs one batched delete whose binds are the cutoff and the limit.
    async fn delete_batch(
        &self,
        sql: &'static str,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StorageError> {
        let done = sqlx::query(sql)
            .bind(cutoff)
            .bind(i64::from(limit))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl RetentionStore for PostgresStore {
    async fn delete_expired(
        &self,
        area: RetentionArea,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StorageError> {
        let sql = match area {
            RetentionArea::Traffic => {
                "DELETE FROM traffic_samples WHERE key IN \
                     (SELECT key FROM traffic_samples WHERE ts < $1 ORDER BY ts LIMIT $2)"
            }
            RetentionArea::Results => {
                "DELETE FROM job_results WHERE (job_id, role, sample_key) IN \
                     (SELECT r.job_id, r.role, r.sample_key FROM jobs j \
                      JOIN job_results r ON r.job_id = j.id WHERE j.finished_at < $1 LIMIT $2)"
            }
            RetentionArea::Verdicts => {
                "DELETE FROM judge_cache WHERE key IN \
                     (SELECT key FROM judge_cache WHERE created_at < $1 ORDER BY created_at LIMIT $2)"
            }
            RetentionArea::Deliveries => {
                "DELETE FROM webhook_deliveries WHERE id IN \
                     (SELECT id FROM webhook_deliveries \
                      WHERE created_at < $1 AND status <> 'pending' ORDER BY created_at LIMIT $2)"
            }
            // No index on `created_at`: the table holds one row per keyed ingest
            // request of the last day, small next to what a sweep deletes elsewhere.
            RetentionArea::IngestKeys => {
                "DELETE FROM ingest_keys WHERE ctid IN \
                     (SELECT ctid FROM ingest_keys WHERE created_at < $1 LIMIT $2)"
            }
        };
        self.delete_batch(sql, cutoff, limit).await
    }

    async fn delete_project_traffic(
        &self,
        org: OrgId,
        project: &ProjectId,
        selection: &TrafficSelection,
        limit: u32,
    ) -> Result<u64, StorageError> {
        let done = match selection {
            TrafficSelection::SampleIds(ids) => {
                if ids.is_empty() {
                    return Ok(0);
                }
                sqlx::query(
                    "DELETE FROM traffic_samples WHERE key IN \
                         (SELECT key FROM traffic_samples WHERE org_id = $1 AND project_id = $2 \
                          AND sample_id = ANY($3) LIMIT $4)",
                )
                .bind(org.0)
                .bind(project.as_str())
                .bind(ids.as_slice())
                .bind(i64::from(limit))
                .execute(&self.pool)
                .await?
            }
            TrafficSelection::TimeRange { from, to } => {
                sqlx::query(
                    "DELETE FROM traffic_samples WHERE key IN \
                         (SELECT key FROM traffic_samples WHERE org_id = $1 AND project_id = $2 \
                          AND ($3::timestamptz IS NULL OR ts >= $3) \
                          AND ($4::timestamptz IS NULL OR ts < $4) ORDER BY ts LIMIT $5)",
                )
                .bind(org.0)
                .bind(project.as_str())
                .bind(from)
                .bind(to)
                .bind(i64::from(limit))
                .execute(&self.pool)
                .await?
            }
        };
        Ok(done.rows_affected())
    }
}
