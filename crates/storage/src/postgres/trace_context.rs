//! OTLP ingest on PostgreSQL: documents and samples in one transaction.
//!
//! Under READ COMMITTED an export of a trace's LLM span and a concurrent one
//! of its retriever span could miss each other's uncommitted rows. Rather than
//! lock every trace of every export (which serialised concurrent exports), each
//! export, once committed, settles again the traces that may have been missed:
//! those it brought documents for, and those whose documents changed since it
//! looked them up. Of two racing exports the one that settles last sees the
//! other's committed rows, so neither order loses the context.
//!
//! Every write of a trace's samples' context happens under an advisory lock on
//! that trace, taken only for traces with documents, with the context computed
//! in SQL from the committed documents: two writers never leave an older
//! document list behind a newer one.

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

/// Advisory lock namespaces (the two-`int4` form, whose keys never meet the
/// single-`int8` keys other code takes). Per trace: the trace id's low bits
/// (two traces sharing them only wait for each other).
const TRACE_LOCKS: i32 = 0x6f74_6c70;
/// Held shared beside the per-trace locks, and exclusive instead of them by an
/// export with more than [`MAX_TRACE_LOCKS`] traces to lock, which bounds the
/// entries a transaction takes in the shared lock table.
const ALL_TRACES_LOCK: (i32, i32) = (TRACE_LOCKS + 1, 0);
const MAX_TRACE_LOCKS: usize = 256;

fn trace_lock(trace: &str) -> i32 {
    let low = trace.get(trace.len().saturating_sub(8)..).unwrap_or("0");
    u32::from_str_radix(low, 16).map_or(0, |bits| bits as i32)
}

/// Locks `traces` for writing their documents or their samples' context,
/// until the transaction ends. Keys are taken in one order, so two
/// transactions never wait for each other in a cycle.
async fn lock_traces(conn: &mut PgConnection, traces: &BTreeSet<&str>) -> Result<(), StorageError> {
    if traces.len() > MAX_TRACE_LOCKS {
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(ALL_TRACES_LOCK.0)
            .bind(ALL_TRACES_LOCK.1)
            .execute(&mut *conn)
            .await?;
        return Ok(());
    }
    sqlx::query("SELECT pg_advisory_xact_lock_shared($1, $2)")
        .bind(ALL_TRACES_LOCK.0)
        .bind(ALL_TRACES_LOCK.1)
        .execute(&mut *conn)
        .await?;
    let keys: Vec<i32> = traces
        .iter()
        .map(|t| trace_lock(t))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    sqlx::query(
        "SELECT pg_advisory_xact_lock($1, k) FROM unnest($2::int4[]) WITH ORDINALITY AS u(k, n) ORDER BY n",
    )
    .bind(TRACE_LOCKS)
    .bind(&keys)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets the context of the trace's stored samples to its unexpired documents
/// (the caller holds the trace's lock); returns the samples changed.
async fn settle_trace(
    conn: &mut PgConnection,
    org: OrgId,
    trace: &str,
    now: DateTime<Utc>,
) -> Result<u64, StorageError> {
    let (prefix, _) = sample_id_range(trace);
    // Trace ids are hex: the prefix holds no LIKE wildcard.
    let done = sqlx::query(
        "WITH docs AS (
             SELECT jsonb_agg(content ORDER BY span_start, span_id, position) AS context
             FROM otel_trace_documents WHERE org_id = $1 AND trace_id = $2 AND expires_at > $3)
         UPDATE traffic_samples s SET context = docs.context FROM docs
         WHERE s.org_id = $1 AND s.sample_id LIKE $4
           AND docs.context IS NOT NULL AND s.context <> docs.context",
    )
    .bind(org.0)
    .bind(trace)
    .bind(now)
    .bind(format!("{prefix}%"))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

async fn documents_of<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
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
    .fetch_all(executor)
    .await?;
    let rows = rows
        .iter()
        .map(|row| Ok((row.try_get("trace_id")?, row.try_get("content")?)))
        .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?;
    Ok(group_by_trace(rows))
}

async fn store_documents(
    conn: &mut PgConnection,
    org: OrgId,
    documents: &[RetrievedDocuments],
    now: DateTime<Utc>,
    keep_until: DateTime<Utc>,
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM otel_trace_documents WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    let rows = document_rows(documents);
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
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl TraceContextStore for PostgresStore {
    async fn ingest_traces(
        &self,
        org: OrgId,
        samples: &[TracedSample],
        documents: &[RetrievedDocuments],
        now: DateTime<Utc>,
        keep_until: DateTime<Utc>,
    ) -> Result<TraceIngest, StorageError> {
        let sample_traces: BTreeSet<&str> = samples.iter().map(|s| s.trace_id.as_str()).collect();
        let document_traces: BTreeSet<&str> =
            documents.iter().map(|d| d.trace_id.as_str()).collect();
        let mut outcome = TraceIngest::default();
        let mut tx = self.pool().begin().await?;
        if !documents.is_empty() {
            lock_traces(&mut tx, &document_traces).await?;
            store_documents(&mut tx, org, documents, now, keep_until).await?;
            for trace in &document_traces {
                outcome.contexts_updated += settle_trace(&mut tx, org, trace, now).await?;
            }
        }
        // Last, so that the targets aggregate's row (its trigger) is locked
        // only until the commit that follows.
        let mut seen = HashMap::new();
        if !samples.is_empty() {
            seen = documents_of(&mut *tx, org, &sample_traces, now).await?;
            let samples = with_trace_context(samples, &seen);
            outcome.stored = insert_rows(&mut *tx, org, &samples).await?;
        }
        tx.commit().await?;

        let mut unsettled = document_traces;
        if !samples.is_empty() {
            let now_seen = documents_of(self.pool(), org, &sample_traces, now).await?;
            unsettled.extend(
                sample_traces
                    .iter()
                    .filter(|t| now_seen.get(**t) != seen.get(**t)),
            );
        }
        if !unsettled.is_empty() {
            let mut tx = self.pool().begin().await?;
            lock_traces(&mut tx, &unsettled).await?;
            for trace in &unsettled {
                outcome.contexts_updated += settle_trace(&mut tx, org, trace, now).await?;
            }
            tx.commit().await?;
        }
        Ok(outcome)
    }
}
