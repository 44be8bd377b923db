//! OTLP ingest on PostgreSQL: documents and samples in one transaction.
//! READ COMMITTED alone would let an export of a trace's LLM span and one of
//! its retriever span miss each other's uncommitted rows, so each
//! transaction first takes advisory locks on its traces' buckets.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::OrgId;
use evalguard_domain::otlp::{RetrievedDocuments, TracedSample};
use sqlx::{PgConnection, Row};

use super::PostgresStore;
use super::traffic::insert_rows;
use crate::error::StorageError;
use crate::model::TraceIngest;
use crate::trace_documents::{document_rows, group_by_trace, sample_id_range, with_trace_context};
use crate::traits::TraceContextStore;

/// Advisory lock keys: a fixed base plus one of [`LOCK_BUCKETS`] buckets. A
/// lock per trace could exhaust the shared lock table (1,000 traces an
/// export); buckets bound it at the price of serialising unrelated traces
/// that share one.
const LOCK_BASE: i64 = 0x6f74_6c70_0000_0000;
const LOCK_BUCKETS: u64 = 64;

fn lock_key(trace: &str) -> i64 {
    let bucket = u64::from_str_radix(trace.get(..8).unwrap_or("0"), 16).unwrap_or(0) % LOCK_BUCKETS;
    LOCK_BASE + i64::try_from(bucket).unwrap_or(0)
}

async fn documents_of(
    conn: &mut PgConnection,
    org: OrgId,
    traces: &BTreeSet<&str>,
    now: DateTime<Utc>,
) -> Result<HashMap<String, Vec<String>>, StorageError> {
    let traces: Vec<&str> = traces.iter().copied().collect();
    let rows = sqlx::query(
        "SELECT trace_id, content FROM otel_trace_documents
         WHERE org_id = $1 AND trace_id = ANY($2) AND expires_at > $3
         ORDER BY trace_id, span_start, span_id, position",
    )
    .bind(org.0)
    .bind(traces)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    let rows = rows
        .iter()
        .map(|row| Ok((row.try_get("trace_id")?, row.try_get("content")?)))
        .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?;
    Ok(group_by_trace(rows))
}

#[async_trait]
impl TraceContextStore for PostgresStore {
    async fn ingest_traces(
        &self,
        org: OrgId,
        samples: Vec<TracedSample>,
        documents: Vec<RetrievedDocuments>,
        now: DateTime<Utc>,
        keep_until: DateTime<Utc>,
    ) -> Result<TraceIngest, StorageError> {
        let sample_traces: BTreeSet<&str> = samples.iter().map(|s| s.trace_id.as_str()).collect();
        let document_traces: BTreeSet<&str> =
            documents.iter().map(|d| d.trace_id.as_str()).collect();
        // Sorted, so that two transactions take shared buckets in one order.
        let locks: Vec<i64> = sample_traces
            .iter()
            .chain(&document_traces)
            .map(|t| lock_key(t))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut tx = self.pool().begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(k) FROM unnest($1::int8[]) WITH ORDINALITY AS u(k, n) ORDER BY n")
            .bind(&locks)
            .execute(&mut *tx)
            .await?;
        if !documents.is_empty() {
            sqlx::query("DELETE FROM otel_trace_documents WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let rows = document_rows(&documents);
            let column = |f: fn(&(&str, &str, i64, i64, &str)) -> String| -> Vec<String> {
                rows.iter().map(f).collect()
            };
            sqlx::query(
                "INSERT INTO otel_trace_documents
                     (org_id, trace_id, span_id, position, span_start, content, expires_at)
                 SELECT $1, u.trace_id, u.span_id, u.position, u.span_start, u.content, $7
                 FROM UNNEST($2::text[], $3::text[], $4::int4[], $5::int8[], $6::text[])
                     AS u(trace_id, span_id, position, span_start, content)
                 ON CONFLICT (org_id, trace_id, span_id, position) DO NOTHING",
            )
            .bind(org.0)
            .bind(column(|r| r.0.to_owned()))
            .bind(column(|r| r.1.to_owned()))
            .bind(
                rows.iter()
                    .map(|r| i32::try_from(r.2).unwrap_or(i32::MAX))
                    .collect::<Vec<i32>>(),
            )
            .bind(rows.iter().map(|r| r.3).collect::<Vec<i64>>())
            .bind(column(|r| r.4.to_owned()))
            .bind(keep_until)
            .execute(&mut *tx)
            .await?;
        }
        let mut outcome = TraceIngest::default();
        if !samples.is_empty() {
            let contexts = documents_of(&mut tx, org, &sample_traces, now).await?;
            let samples = with_trace_context(&samples, &contexts);
            outcome.stored = insert_rows(&mut *tx, org, &samples).await?;
        }
        if !documents.is_empty() {
            let contexts = documents_of(&mut tx, org, &document_traces, now).await?;
            for (trace, context) in contexts {
                let context = serde_json::to_string(&context)
                    .map_err(|e| StorageError::Corrupt(e.to_string()))?;
                let (prefix, _) = sample_id_range(&trace);
                // Trace ids are hex: the prefix holds no LIKE wildcard.
                outcome.contexts_updated += sqlx::query(
                    "UPDATE traffic_samples SET context = $1::jsonb
                     WHERE org_id = $2 AND sample_id LIKE $3 AND context <> $1::jsonb",
                )
                .bind(&context)
                .bind(org.0)
                .bind(format!("{prefix}%"))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
        }
        tx.commit().await?;
        Ok(outcome)
    }
}
