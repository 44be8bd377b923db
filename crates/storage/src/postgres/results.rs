//! Per-sample job results and the judge verdict cache.

use async_trait::async_trait;
use evalguard_domain::JobId;
use evalguard_domain::scoring::SampleRole;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;

use super::PostgresStore;
use crate::error::StorageError;
use crate::model::StoredResult;
use crate::traits::{JudgeCacheStore, ResultStore};

const RESULT_COLUMNS: &str =
    "role, sample_key, sample_id, flagged, scores, usage, agreement, passed";

fn result_from_row(row: &PgRow) -> Result<StoredResult, StorageError> {
    let role: String = row.try_get("role")?;
    Ok(StoredResult {
        role: match role.as_str() {
            "current" => SampleRole::Current,
            "baseline" => SampleRole::Baseline,
            other => {
                return Err(StorageError::Corrupt(format!(
                    "unknown sample role {other:?}"
                )));
            }
        },
        sample_key: row.try_get("sample_key")?,
        sample_id: row.try_get("sample_id")?,
        flagged: row.try_get("flagged")?,
        scores: row.try_get::<Json<_>, _>("scores")?.0,
        usage: row.try_get::<Json<_>, _>("usage")?.0,
        agreement: row.try_get::<Json<_>, _>("agreement")?.0,
        passed: row.try_get::<Json<_>, _>("passed")?.0,
    })
}

use crate::storable::storable_json as json_text;

#[async_trait]
impl ResultStore for PostgresStore {
    async fn save_results(&self, job: JobId, results: &[StoredResult]) -> Result<(), StorageError> {
        if results.is_empty() {
            return Ok(());
        }
        let mut roles = Vec::with_capacity(results.len());
        let mut keys = Vec::with_capacity(results.len());
        let mut ids = Vec::with_capacity(results.len());
        let mut flagged = Vec::with_capacity(results.len());
        let mut scores = Vec::with_capacity(results.len());
        let mut usage = Vec::with_capacity(results.len());
        let mut agreement = Vec::with_capacity(results.len());
        let mut passed = Vec::with_capacity(results.len());
        for r in results {
            roles.push(r.role.as_str());
            keys.push(r.sample_key);
            ids.push(r.sample_id.as_str());
            flagged.push(r.flagged);
            scores.push(json_text(&r.scores)?);
            usage.push(json_text(&r.usage)?);
            agreement.push(json_text(&r.agreement)?);
            passed.push(json_text(&r.passed)?);
        }
        // A result already stored for (job, role, sample) wins: a resumed job
        // that scores a sample again does not overwrite or duplicate it.
        sqlx::query(
            "INSERT INTO job_results (job_id, role, sample_key, sample_id, flagged, scores, usage, agreement, passed) \
             SELECT $1, u.role, u.sample_key, u.sample_id, u.flagged, u.scores::jsonb, u.usage::jsonb, \
                 u.agreement::jsonb, u.passed::jsonb \
             FROM UNNEST($2::text[], $3::int8[], $4::text[], $5::bool[], $6::text[], $7::text[], $8::text[], \
                 $9::text[]) \
                 AS u(role, sample_key, sample_id, flagged, scores, usage, agreement, passed) \
             ON CONFLICT (job_id, role, sample_key) DO NOTHING",
        )
        .bind(job.0)
        .bind(roles)
        .bind(keys)
        .bind(ids)
        .bind(flagged)
        .bind(scores)
        .bind(usage)
        .bind(agreement)
        .bind(passed)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn job_results(&self, job: JobId) -> Result<Vec<StoredResult>, StorageError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {RESULT_COLUMNS} FROM job_results WHERE job_id = $1 ORDER BY sample_key, role"
        ));
        let rows = sqlx::query(sql).bind(job.0).fetch_all(&self.pool).await?;
        rows.iter().map(result_from_row).collect()
    }

    async fn list_results(
        &self,
        job: JobId,
        flagged: Option<bool>,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredResult>, StorageError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {RESULT_COLUMNS} FROM job_results \
             WHERE job_id = $1 AND role = 'current' AND ($2::bool IS NULL OR flagged = $2) \
               AND ($3::int8 IS NULL OR sample_key > $3) \
             ORDER BY sample_key LIMIT $4"
        ));
        let rows = sqlx::query(sql)
            .bind(job.0)
            .bind(flagged)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(result_from_row).collect()
    }
}

#[async_trait]
impl JudgeCacheStore for PostgresStore {
    async fn get_verdict(&self, key: &str) -> Result<Option<serde_json::Value>, StorageError> {
        let verdict: Option<Json<serde_json::Value>> =
            sqlx::query_scalar("SELECT verdict FROM judge_cache WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        Ok(verdict.map(|Json(v)| v))
    }

    async fn put_verdict(
        &self,
        key: &str,
        verdict: &serde_json::Value,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO judge_cache (key, verdict) VALUES ($1, $2::jsonb) \
             ON CONFLICT (key) DO UPDATE SET verdict = EXCLUDED.verdict, created_at = now()",
        )
        .bind(key)
        .bind(json_text(verdict)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn put_verdicts(
        &self,
        entries: &[(String, serde_json::Value)],
    ) -> Result<(), StorageError> {
        if entries.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        let verdicts = entries
            .iter()
            .map(|(_, v)| json_text(v))
            .collect::<Result<Vec<String>, StorageError>>()?;
        // One statement; a key twice in one batch would make ON CONFLICT fail,
        // so the last verdict of each key wins before the insert.
        sqlx::query(
            "INSERT INTO judge_cache (key, verdict) \
             SELECT DISTINCT ON (k) k, v::jsonb FROM UNNEST($1::text[], $2::text[]) WITH ORDINALITY AS t(k, v, n) \
             ORDER BY k, n DESC \
             ON CONFLICT (key) DO UPDATE SET verdict = EXCLUDED.verdict, created_at = now()",
        )
        .bind(&keys)
        .bind(&verdicts)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
