//! Traffic samples. A batch is one `INSERT … SELECT FROM UNNEST(arrays)`
//! statement: one round trip and one plan however many samples it holds.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::job::Target;
use evalguard_domain::{OrgId, ProjectId, SampleMetadata, TrafficSample};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;

use super::{PostgresStore, ingest_keys, unsigned};
use crate::error::StorageError;
use crate::model::{Deployment, KeyedRequest, StoredSample};
use crate::traits::TrafficStore;

const SAMPLE_COLUMNS: &str = "s.key, s.sample_id, s.project_id, s.model, s.prompt_id, s.input, s.output, \
     s.context, s.reference, s.ts, s.metadata, s.latency_ms, s.prompt_tokens, s.completion_tokens";

fn sample_from_row(row: &PgRow) -> Result<StoredSample, StorageError> {
    let project: String = row.try_get("project_id")?;
    let Json(context) = row.try_get::<Json<Vec<String>>, _>("context")?;
    let metadata = row.try_get::<Option<Json<SampleMetadata>>, _>("metadata")?;
    Ok(StoredSample {
        key: row.try_get("key")?,
        sample: TrafficSample {
            id: row.try_get("sample_id")?,
            project_id: ProjectId::parse(&project)
                .map_err(|_| StorageError::Corrupt(format!("bad project id {project:?}")))?,
            model: row.try_get("model")?,
            prompt_id: row.try_get("prompt_id")?,
            input: row.try_get("input")?,
            output: row.try_get("output")?,
            context,
            reference: row.try_get("reference")?,
            timestamp: row.try_get("ts")?,
            metadata: metadata.map(|Json(m)| m),
            latency_ms: row.try_get("latency_ms")?,
            prompt_tokens: row.try_get("prompt_tokens")?,
            completion_tokens: row.try_get("completion_tokens")?,
        },
    })
}

/// The batch as one array per column, the shape `UNNEST` takes.
#[derive(Default)]
struct Columns {
    project_id: Vec<String>,
    sample_id: Vec<String>,
    model: Vec<String>,
    prompt_id: Vec<String>,
    input: Vec<String>,
    output: Vec<String>,
    context: Vec<String>,
    reference: Vec<Option<String>>,
    ts: Vec<DateTime<Utc>>,
    metadata: Vec<Option<String>>,
    latency_ms: Vec<Option<f64>>,
    prompt_tokens: Vec<Option<i64>>,
    completion_tokens: Vec<Option<i64>>,
}

impl Columns {
    fn of(samples: &[TrafficSample]) -> Result<Self, StorageError> {
        let mut c = Columns::default();
        for s in samples {
            c.project_id.push(s.project_id.as_str().to_owned());
            c.sample_id.push(s.id.clone());
            c.model.push(s.model.clone());
            c.prompt_id.push(s.prompt_id.clone());
            c.input.push(s.input.clone());
            c.output.push(s.output.clone());
            // JSON text, cast to JSONB in SQL: a list of lists cannot be a
            // PostgreSQL array (they must be rectangular).
            c.context.push(
                serde_json::to_string(&s.context)
                    .map_err(|e| StorageError::Corrupt(e.to_string()))?,
            );
            c.reference.push(s.reference.clone());
            c.ts.push(s.timestamp);
            c.metadata
                .push(s.metadata.as_ref().map(|m| m.as_json().to_owned()));
            c.latency_ms.push(s.latency_ms);
            c.prompt_tokens.push(s.prompt_tokens);
            c.completion_tokens.push(s.completion_tokens);
        }
        Ok(c)
    }
}

/// Inserts a batch in one statement (on the pool, or inside a caller's
/// transaction: OTLP ingest stores documents and samples together).
pub(super) async fn insert_rows<'e, E>(
    executor: E,
    org: OrgId,
    samples: &[TrafficSample],
) -> Result<u64, StorageError>
where
    E: sqlx::PgExecutor<'e>,
{
    let c = Columns::of(samples)?;
    // One statement is atomic on its own: all rows or none. Repeated ids
    // (stored before, or twice in this batch) are skipped by ON CONFLICT.
    let done = sqlx::query(
            "INSERT INTO traffic_samples (org_id, project_id, sample_id, model, prompt_id, input, output, \
                 context, reference, ts, metadata, latency_ms, prompt_tokens, completion_tokens) \
             SELECT $1, u.project_id, u.sample_id, u.model, u.prompt_id, u.input, u.output, \
                 u.context::jsonb, u.reference, u.ts, u.metadata::jsonb, u.latency_ms, u.prompt_tokens, \
                 u.completion_tokens \
             FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], \
                 $9::text[], $10::timestamptz[], $11::text[], $12::float8[], $13::int8[], $14::int8[]) \
                 AS u(project_id, sample_id, model, prompt_id, input, output, context, reference, ts, \
                 metadata, latency_ms, prompt_tokens, completion_tokens) \
             ON CONFLICT (org_id, project_id, sample_id) DO NOTHING",
        )
        .bind(org.0)
        .bind(c.project_id)
        .bind(c.sample_id)
        .bind(c.model)
        .bind(c.prompt_id)
        .bind(c.input)
        .bind(c.output)
        .bind(c.context)
        .bind(c.reference)
        .bind(c.ts)
        .bind(c.metadata)
        .bind(c.latency_ms)
        .bind(c.prompt_tokens)
        .bind(c.completion_tokens)
        .execute(executor)
        .await?;
    Ok(done.rows_affected())
}

#[async_trait]
impl TrafficStore for PostgresStore {
    async fn insert_samples(
        &self,
        org: OrgId,
        samples: &[TrafficSample],
    ) -> Result<u64, StorageError> {
        if samples.is_empty() {
            return Ok(0);
        }
        insert_rows(&self.pool, org, samples).await
    }

    async fn insert_samples_once(
        &self,
        org: OrgId,
        samples: &[TrafficSample],
        request: &KeyedRequest<'_>,
    ) -> Result<u64, StorageError> {
        let mut tx = self.pool.begin().await?;
        if let Some(stored) = ingest_keys::claim(&mut tx, org, request).await? {
            return Ok(stored);
        }
        let stored = insert_rows(&mut *tx, org, samples).await?;
        ingest_keys::record(&mut tx, org, request, stored).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn recent_samples(
        &self,
        org: OrgId,
        target: &Target,
        limit: u32,
        older_than: Option<(DateTime<Utc>, i64)>,
    ) -> Result<Vec<StoredSample>, StorageError> {
        // Two statements rather than one with `$n IS NULL OR …`, so that each
        // plan walks the (…, ts DESC, key DESC) index from the right place.
        let cursor = if older_than.is_some() {
            "AND (s.ts, s.key) < ($5, $6)"
        } else {
            "AND $5::timestamptz IS NULL AND $6::int8 IS NULL"
        };
        let (before_ts, before_key) = older_than.unzip();
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {SAMPLE_COLUMNS} FROM traffic_samples s \
             WHERE s.org_id = $1 AND s.project_id = $2 AND s.model = $3 AND s.prompt_id = $4 {cursor} \
             ORDER BY s.ts DESC, s.key DESC LIMIT $7"
        ));
        let rows = sqlx::query(sql)
            .bind(org.0)
            .bind(target.project_id.as_str())
            .bind(&target.model)
            .bind(&target.prompt_id)
            .bind(before_ts)
            .bind(before_key)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(sample_from_row).collect()
    }

    async fn samples_in_window(
        &self,
        org: OrgId,
        target: &Target,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StoredSample>, StorageError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {SAMPLE_COLUMNS} FROM traffic_samples s \
             WHERE s.org_id = $1 AND s.project_id = $2 AND s.model = $3 AND s.prompt_id = $4 \
               AND s.ts >= $5 AND s.ts < $6 \
             ORDER BY s.ts DESC, s.key DESC LIMIT $7"
        ));
        let rows = sqlx::query(sql)
            .bind(org.0)
            .bind(target.project_id.as_str())
            .bind(&target.model)
            .bind(&target.prompt_id)
            .bind(from)
            .bind(to)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(sample_from_row).collect()
    }

    async fn deployments(
        &self,
        org: OrgId,
        project: &ProjectId,
        prompt_id: &str,
    ) -> Result<Vec<Deployment>, StorageError> {
        let rows = sqlx::query(
            "SELECT model, min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS samples \
             FROM traffic_samples WHERE org_id = $1 AND project_id = $2 AND prompt_id = $3 \
             GROUP BY model ORDER BY first_seen, model",
        )
        .bind(org.0)
        .bind(project.as_str())
        .bind(prompt_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Deployment {
                    model: row.try_get("model")?,
                    first_seen: row.try_get("first_seen")?,
                    last_seen: row.try_get("last_seen")?,
                    samples: unsigned(row.try_get("samples")?, "samples")?,
                })
            })
            .collect()
    }

    async fn samples_by_key(
        &self,
        org: OrgId,
        keys: &[i64],
    ) -> Result<Vec<StoredSample>, StorageError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // WITH ORDINALITY keeps the caller's order in the database.
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {SAMPLE_COLUMNS} FROM UNNEST($2::int8[]) WITH ORDINALITY AS k(key, ord) \
             JOIN traffic_samples s ON s.key = k.key AND s.org_id = $1 ORDER BY k.ord"
        ));
        let rows = sqlx::query(sql)
            .bind(org.0)
            .bind(keys)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(sample_from_row).collect()
    }
}
