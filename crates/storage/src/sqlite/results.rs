//! Per-sample job results and the judge verdict cache.

use async_trait::async_trait;
use chrono::Utc;
use evalguard_domain::JobId;
use evalguard_domain::scoring::SampleRole;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row};

use super::{Durability, Result, SqliteStore, from_json, micros};
use crate::error::StorageError;
use crate::model::StoredResult;
use crate::storable::storable_json;
use crate::traits::{JudgeCacheStore, ResultStore};

const INSERT_HEAD: &str = "INSERT INTO job_results (job_id, role, sample_key, sample_id, flagged, scores, usage, agreement, passed) VALUES ";
const ROW_PLACEHOLDERS: &str = "(?,?,?,?,?,?,?,?,?)";
const ROWS_PER_STATEMENT: usize = 200;
const RESULT_COLUMNS: &str =
    "role, sample_key, sample_id, flagged, scores, usage, agreement, passed";

fn result_from_row(row: &SqliteRow) -> Result<StoredResult> {
    let role: String = row.try_get("role")?;
    Ok(StoredResult {
        role: match role.as_str() {
            "current" => SampleRole::Current,
            "baseline" => SampleRole::Baseline,
            other => return Err(StorageError::Corrupt(format!("result role {other:?}"))),
        },
        sample_key: row.try_get("sample_key")?,
        sample_id: row.try_get("sample_id")?,
        flagged: row.try_get("flagged")?,
        scores: from_json(&row.try_get::<String, _>("scores")?)?,
        usage: from_json(&row.try_get::<String, _>("usage")?)?,
        agreement: from_json(&row.try_get::<String, _>("agreement")?)?,
        passed: from_json(&row.try_get::<String, _>("passed")?)?,
    })
}

#[async_trait]
impl ResultStore for SqliteStore {
    async fn save_results(&self, job: JobId, results: &[StoredResult]) -> Result<()> {
        if results.is_empty() {
            return Ok(());
        }
        let job = job.0.to_string();
        let encoded = results
            .iter()
            .map(|r| {
                Ok((
                    storable_json(&r.scores)?,
                    storable_json(&r.usage)?,
                    storable_json(&r.agreement)?,
                    storable_json(&r.passed)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut tx = self.write_tx_for(Durability::Bookkeeping).await?;
        for (chunk, json) in results
            .chunks(ROWS_PER_STATEMENT)
            .zip(encoded.chunks(ROWS_PER_STATEMENT))
        {
            let mut sql = String::from(INSERT_HEAD);
            sql.push_str(&vec![ROW_PLACEHOLDERS; chunk.len()].join(","));
            sql.push_str(" ON CONFLICT (job_id, role, sample_key) DO NOTHING");
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (r, (scores, usage, agreement, passed)) in chunk.iter().zip(json) {
                query = query
                    .bind(job.as_str())
                    .bind(r.role.as_str())
                    .bind(r.sample_key)
                    .bind(r.sample_id.as_str())
                    .bind(r.flagged)
                    .bind(scores.as_str())
                    .bind(usage.as_str())
                    .bind(agreement.as_str())
                    .bind(passed.as_str());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn job_results(&self, job: JobId) -> Result<Vec<StoredResult>> {
        let sql = format!(
            "SELECT {RESULT_COLUMNS} FROM job_results WHERE job_id = ? ORDER BY sample_key, role"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(job.0.to_string())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(result_from_row).collect()
    }

    async fn list_results(
        &self,
        job: JobId,
        flagged: Option<bool>,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredResult>> {
        let flagged = match flagged {
            None => "",
            Some(true) => " AND flagged = 1",
            Some(false) => " AND flagged = 0",
        };
        let sql = format!(
            "SELECT {RESULT_COLUMNS} FROM job_results
             WHERE job_id = ? AND role = 'current' AND sample_key > ?{flagged}
             ORDER BY sample_key LIMIT ?"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(job.0.to_string())
            .bind(after.unwrap_or(i64::MIN))
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(result_from_row).collect()
    }
}

#[async_trait]
impl JudgeCacheStore for SqliteStore {
    async fn get_verdict(&self, key: &str) -> Result<Option<serde_json::Value>> {
        let raw: Option<String> =
            sqlx::query_scalar("SELECT verdict FROM judge_cache WHERE key = ?")
                .bind(key)
                .fetch_optional(&self.reader)
                .await?;
        raw.as_deref().map(from_json).transpose()
    }

    async fn put_verdict(&self, key: &str, verdict: &serde_json::Value) -> Result<()> {
        let mut tx = self.write_tx_for(Durability::Bookkeeping).await?;
        sqlx::query(
            "INSERT INTO judge_cache (key, verdict, created_at) VALUES (?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET verdict = excluded.verdict, created_at = excluded.created_at",
        )
        .bind(key)
        .bind(storable_json(verdict)?)
        .bind(micros(Utc::now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn put_verdicts(&self, entries: &[(String, serde_json::Value)]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let now = micros(Utc::now());
        let mut tx = self.write_tx_for(Durability::Bookkeeping).await?;
        // 300 rows of 3 parameters stay far below SQLite's variable limit.
        for chunk in entries.chunks(300) {
            let rows = vec!["(?, ?, ?)"; chunk.len()].join(", ");
            let sql = format!(
                "INSERT INTO judge_cache (key, verdict, created_at) VALUES {rows}
                 ON CONFLICT (key) DO UPDATE SET verdict = excluded.verdict, created_at = excluded.created_at"
            );
            // Only placeholders are formatted into the text; values are bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (key, verdict) in chunk {
                query = query.bind(key).bind(storable_json(verdict)?).bind(now);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
