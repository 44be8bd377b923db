//! Retention and deletion on SQLite: each call is one short write
//! transaction deleting at most `limit` rows, found through an index.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::{OrgId, ProjectId};
use sqlx::AssertSqlSafe;

use super::{Durability, Result, SqliteStore, micros};
use crate::model::{RetentionArea, TrafficSelection};
use crate::traits::RetentionStore;

impl SqliteStore {
    /// Runs one batched `DELETE … LIMIT`-style statement whose binds are
    /// the cutoff and the limit.
    async fn delete_batch(
        &self,
        sql: &'static str,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64> {
        let mut tx = self.write_tx_for(Durability::Bookkeeping).await?;
        let done = sqlx::query(sql)
            .bind(micros(cutoff))
            .bind(i64::from(limit))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl RetentionStore for SqliteStore {
    async fn delete_expired(
        &self,
        area: RetentionArea,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64> {
        let sql = match area {
            RetentionArea::Traffic => {
                "DELETE FROM traffic WHERE key IN
                     (SELECT key FROM traffic WHERE ts < ? ORDER BY ts LIMIT ?)"
            }
            RetentionArea::Results => {
                "DELETE FROM job_results WHERE rowid IN
                     (SELECT r.rowid FROM jobs j JOIN job_results r ON r.job_id = j.id
                      WHERE j.finished_at < ? LIMIT ?)"
            }
            RetentionArea::Verdicts => {
                "DELETE FROM judge_cache WHERE key IN
                     (SELECT key FROM judge_cache WHERE created_at < ? ORDER BY created_at LIMIT ?)"
            }
            RetentionArea::Deliveries => {
                "DELETE FROM webhook_deliveries WHERE id IN
                     (SELECT id FROM webhook_deliveries
                      WHERE created_at < ? AND status <> 'pending' ORDER BY created_at LIMIT ?)"
            }
            // No index on `created_at`: the table holds one row per keyed ingest
            // request of the last day, small next to what a sweep deletes elsewhere.
            RetentionArea::IngestKeys => {
                "DELETE FROM ingest_keys WHERE rowid IN
                     (SELECT rowid FROM ingest_keys WHERE created_at < ? LIMIT ?)"
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
    ) -> Result<u64> {
        if matches!(selection, TrafficSelection::SampleIds(ids) if ids.is_empty()) {
            return Ok(0);
        }
        let mut tx = self.write_tx().await?;
        let done = match selection {
            TrafficSelection::SampleIds(ids) => {
                let placeholders = vec!["?"; ids.len()].join(", ");
                // Only placeholders are formatted into the text; values are bound.
                let sql = format!(
                    "DELETE FROM traffic WHERE key IN
                         (SELECT key FROM traffic WHERE org_id = ? AND project_id = ?
                          AND sample_id IN ({placeholders}) LIMIT ?)"
                );
                let mut query = sqlx::query(AssertSqlSafe(sql))
                    .bind(org.0.to_string())
                    .bind(project.as_str());
                for id in ids {
                    query = query.bind(id);
                }
                query.bind(i64::from(limit)).execute(&mut *tx).await?
            }
            TrafficSelection::TimeRange { from, to } => {
                sqlx::query(
                    "DELETE FROM traffic WHERE key IN
                         (SELECT key FROM traffic WHERE org_id = ? AND project_id = ?
                          AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?)",
                )
                .bind(org.0.to_string())
                .bind(project.as_str())
                .bind(from.map_or(i64::MIN, micros))
                .bind(to.map_or(i64::MAX, micros))
                .bind(i64::from(limit))
                .execute(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
