//! Traffic samples. Ingest is the hot path: a batch goes in one `BEGIN
//! IMMEDIATE` transaction as multi-row `INSERT … ON CONFLICT DO NOTHING`
//! statements of a fixed size, so the statement is prepared once and cached.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::job::Target;
use evalguard_domain::{OrgId, ProjectId, SampleMetadata, TrafficSample};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row};

use super::{
    Result, SqliteStore, from_json, from_json_opt, from_micros, ingest_keys, micros, parse_project,
    to_json,
};
use crate::model::{Deployment, KeyedRequest, StoredSample};
use crate::traits::TrafficStore;

const INSERT_HEAD: &str = "INSERT INTO traffic (org_id, project_id, sample_id, model, prompt_id, input, output, \
     context, reference, ts, metadata, latency_ms, prompt_tokens, completion_tokens) VALUES ";
const COLUMNS_PER_ROW: usize = 14;
const ROW_PLACEHOLDERS: &str = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
/// Rows per statement: 500 × 14 = 7,000 variables, below SQLite's 32,766. Bigger
/// statements mean fewer round trips into SQLite; a batch of 1,000 takes two.
const ROWS_PER_STATEMENT: usize = 500;

const SAMPLE_COLUMNS: &str = "key, project_id, sample_id, model, prompt_id, input, output, context, reference, ts, \
     metadata, latency_ms, prompt_tokens, completion_tokens";

fn insert_sql(rows: usize) -> String {
    let mut sql =
        String::with_capacity(INSERT_HEAD.len() + rows * (ROW_PLACEHOLDERS.len() + 1) + 40);
    sql.push_str(INSERT_HEAD);
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(ROW_PLACEHOLDERS);
    }
    sql.push_str(" ON CONFLICT (org_id, project_id, sample_id) DO NOTHING");
    sql
}

/// The full-size statement, built once.
fn full_insert_sql() -> Arc<str> {
    static SQL: OnceLock<Arc<str>> = OnceLock::new();
    SQL.get_or_init(|| Arc::from(insert_sql(ROWS_PER_STATEMENT)))
        .clone()
}

fn sample_from_row(row: &SqliteRow) -> Result<StoredSample> {
    Ok(StoredSample {
        key: row.try_get("key")?,
        sample: TrafficSample {
            id: row.try_get("sample_id")?,
            project_id: parse_project(&row.try_get::<String, _>("project_id")?)?,
            model: row.try_get("model")?,
            prompt_id: row.try_get("prompt_id")?,
            input: row.try_get("input")?,
            output: row.try_get("output")?,
            context: from_json(&row.try_get::<String, _>("context")?)?,
            reference: row.try_get("reference")?,
            timestamp: from_micros(row.try_get("ts")?)?,
            metadata: from_json_opt(row.try_get("metadata")?)?,
            latency_ms: row.try_get("latency_ms")?,
            prompt_tokens: row.try_get("prompt_tokens")?,
            completion_tokens: row.try_get("completion_tokens")?,
        },
    })
}

/// Each sample's `context` as JSON text, encoded before the write lock is
/// taken so that the lock is held for SQL only (`metadata` already is text).
pub(super) fn encode_rows<S: Borrow<TrafficSample>>(samples: &[S]) -> Result<Vec<EncodedJson>> {
    samples
        .iter()
        .map(|s| to_json(&s.borrow().context))
        .collect()
}

/// The `context` of one sample as JSON text.
pub(super) type EncodedJson = String;

/// Inserts a batch inside the caller's write transaction (traffic ingest, and
/// OTLP ingest which stores documents in the same transaction).
pub(super) async fn insert_rows<S: Borrow<TrafficSample>>(
    conn: &mut sqlx::SqliteConnection,
    org: OrgId,
    samples: &[S],
    encoded: &[EncodedJson],
) -> Result<u64> {
    let org = org.0.to_string();
    // Keys only grow (AUTOINCREMENT), and the write lock is held: the rows
    // this call stores are exactly those above the largest key now.
    let last_key: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(key), 0) FROM traffic")
        .fetch_one(&mut *conn)
        .await?;
    let mut stored = 0;
    for (chunk, json) in samples
        .chunks(ROWS_PER_STATEMENT)
        .zip(encoded.chunks(ROWS_PER_STATEMENT))
    {
        let sql = if chunk.len() == ROWS_PER_STATEMENT {
            full_insert_sql()
        } else {
            Arc::from(insert_sql(chunk.len()))
        };
        debug_assert_eq!(sql.matches('?').count(), chunk.len() * COLUMNS_PER_ROW);
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (s, context) in chunk.iter().zip(json) {
            let s: &TrafficSample = s.borrow();
            query = query
                .bind(org.as_str())
                .bind(s.project_id.as_str())
                .bind(s.id.as_str())
                .bind(s.model.as_str())
                .bind(s.prompt_id.as_str())
                .bind(s.input.as_str())
                .bind(s.output.as_str())
                .bind(context.as_str())
                .bind(s.reference.as_deref())
                .bind(micros(s.timestamp))
                .bind(s.metadata.as_ref().map(SampleMetadata::as_json))
                .bind(s.latency_ms)
                .bind(s.prompt_tokens)
                .bind(s.completion_tokens);
        }
        stored += query.execute(&mut *conn).await?.rows_affected();
    }
    if stored > 0 {
        count_targets(conn, last_key).await?;
    }
    Ok(stored)
}

/// Adds the rows stored after `last_key` to the targets aggregate: one upsert
/// per distinct target of the batch (a row trigger did one per row).
/// `NOT INDEXED` keeps the planner on the key range: left to itself it scans
/// the whole by-target index, which covers the columns.
async fn count_targets(conn: &mut sqlx::SqliteConnection, last_key: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO traffic_targets (org_id, project_id, model, prompt_id, sample_count, first_seen, last_seen)
         SELECT org_id, project_id, model, prompt_id, COUNT(*), MIN(ts), MAX(ts) FROM traffic NOT INDEXED
         WHERE key > ? GROUP BY org_id, project_id, model, prompt_id
         ON CONFLICT (org_id, project_id, model, prompt_id) DO UPDATE SET
             sample_count = sample_count + excluded.sample_count,
             first_seen = MIN(first_seen, excluded.first_seen),
             last_seen = MAX(last_seen, excluded.last_seen)",
    )
    .bind(last_key)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl TrafficStore for SqliteStore {
    async fn insert_samples(&self, org: OrgId, samples: &[TrafficSample]) -> Result<u64> {
        if samples.is_empty() {
            return Ok(0);
        }
        let encoded = encode_rows(samples)?;
        let mut tx = self.write_tx().await?;
        let stored = insert_rows(&mut tx, org, samples, &encoded).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn insert_samples_once(
        &self,
        org: OrgId,
        samples: &[TrafficSample],
        request: &KeyedRequest<'_>,
    ) -> Result<u64> {
        let encoded = encode_rows(samples)?;
        let org_text = org.0.to_string();
        let mut tx = self.write_tx().await?;
        if let Some(stored) = ingest_keys::first_answer(&mut tx, &org_text, request).await? {
            return Ok(stored);
        }
        let stored = insert_rows(&mut tx, org, samples, &encoded).await?;
        ingest_keys::remember(&mut tx, &org_text, request, stored).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn recent_samples(
        &self,
        org: OrgId,
        target: &Target,
        limit: u32,
        older_than: Option<(DateTime<Utc>, i64)>,
    ) -> Result<Vec<StoredSample>> {
        let cursor = if older_than.is_some() {
            "AND (ts < ? OR (ts = ? AND key < ?))"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {SAMPLE_COLUMNS} FROM traffic
             WHERE org_id = ? AND project_id = ? AND model = ? AND prompt_id = ? {cursor}
             ORDER BY ts DESC, key DESC LIMIT ?"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql))
            .bind(org.0.to_string())
            .bind(target.project_id.as_str())
            .bind(target.model.as_str())
            .bind(target.prompt_id.as_str());
        if let Some((at, key)) = older_than {
            query = query.bind(micros(at)).bind(micros(at)).bind(key);
        }
        let rows = query.bind(i64::from(limit)).fetch_all(&self.reader).await?;
        rows.iter().map(sample_from_row).collect()
    }

    async fn samples_in_window(
        &self,
        org: OrgId,
        target: &Target,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StoredSample>> {
        let sql = format!(
            "SELECT {SAMPLE_COLUMNS} FROM traffic
             WHERE org_id = ? AND project_id = ? AND model = ? AND prompt_id = ? AND ts >= ? AND ts < ?
             ORDER BY ts DESC, key DESC LIMIT ?"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org.0.to_string())
            .bind(target.project_id.as_str())
            .bind(target.model.as_str())
            .bind(target.prompt_id.as_str())
            .bind(micros(from))
            .bind(micros(to))
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(sample_from_row).collect()
    }

    async fn deployments(
        &self,
        org: OrgId,
        project: &ProjectId,
        prompt_id: &str,
    ) -> Result<Vec<Deployment>> {
        let rows = sqlx::query(
            "SELECT model, MIN(ts) AS first_seen, MAX(ts) AS last_seen, COUNT(*) AS samples FROM traffic
             WHERE org_id = ? AND project_id = ? AND prompt_id = ?
             GROUP BY model ORDER BY first_seen, model",
        )
        .bind(org.0.to_string())
        .bind(project.as_str())
        .bind(prompt_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Deployment {
                    model: row.try_get("model")?,
                    first_seen: from_micros(row.try_get("first_seen")?)?,
                    last_seen: from_micros(row.try_get("last_seen")?)?,
                    samples: u64::try_from(row.try_get::<i64, _>("samples")?).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn samples_by_key(&self, org: OrgId, keys: &[i64]) -> Result<Vec<StoredSample>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // One bound JSON array instead of thousands of variables. The unary
        // `+` keeps SQLite from answering `org_id = ?` with the by-target
        // index (a scan of the organization's traffic): the keys are the
        // primary key, and the organization only filters what they find.
        let sql = format!(
            "SELECT {SAMPLE_COLUMNS} FROM traffic
             WHERE +org_id = ? AND key IN (SELECT value FROM json_each(?))"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org.0.to_string())
            .bind(to_json(keys)?)
            .fetch_all(&self.reader)
            .await?;
        let mut by_key: HashMap<i64, StoredSample> = rows
            .iter()
            .map(|row| sample_from_row(row).map(|s| (s.key, s)))
            .collect::<Result<_>>()?;
        Ok(keys.iter().filter_map(|k| by_key.remove(k)).collect())
    }
}
