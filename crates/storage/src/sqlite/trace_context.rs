//! OTLP ingest on SQLite. Exports are group-committed (see
//! [`super::group_commit`]): an export of 1,000 spans holds the single writer
//! for about 15 ms, 3 of them committing, and exporters send concurrently, so
//! one transaction per export made the commit a fifth of the time under the
//! write lock, the bound on ingest throughput. The single writer also
//! serialises concurrent exports of a trace, so neither misses the other's rows.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::otlp::{RetrievedDocuments, TracedSample};
use evalguard_domain::{OrgId, TrafficSample};
use sqlx::{Row, SqliteConnection};

use super::group_commit::GroupedWrite;
use super::traffic::{encode_rows, insert_rows};
use super::{Result, SqliteStore, micros, to_json};
use crate::model::TraceIngest;
use crate::trace_documents::{document_rows, group_by_trace, sample_id_range};
use crate::traits::TraceContextStore;

/// The unexpired documents of `traces`, in context order, by trace.
async fn documents_of(
    conn: &mut SqliteConnection,
    org: &str,
    traces: &BTreeSet<&str>,
    now: DateTime<Utc>,
) -> Result<HashMap<String, Vec<String>>> {
    let rows = sqlx::query(
        "SELECT trace_id, content FROM otel_trace_documents
         WHERE org_id = ? AND trace_id IN (SELECT value FROM json_each(?)) AND expires_at > ?
         ORDER BY trace_id, span_start, span_id, position",
    )
    .bind(org)
    .bind(to_json(traces)?)
    .bind(micros(now))
    .fetch_all(&mut *conn)
    .await?;
    let rows = rows
        .iter()
        .map(|row| Ok((row.try_get("trace_id")?, row.try_get("content")?)))
        .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?;
    Ok(group_by_trace(rows))
}

/// One export, its samples' contexts already encoded (`contexts[i]` is the
/// JSON of `samples[i]`'s own context).
pub(super) struct PendingExport {
    org: OrgId,
    samples: Vec<TracedSample>,
    contexts: Vec<String>,
    documents: Vec<RetrievedDocuments>,
    now: DateTime<Utc>,
    keep_until: DateTime<Utc>,
}

impl GroupedWrite for PendingExport {
    type Answer = TraceIngest;
    const WHAT: &'static str = "OTLP exports";
    const QUEUE_CAPACITY: usize = 64;
    /// At most 4,000 samples beyond the first export: a group holds the
    /// writer for about four exports' worth.
    const GROUP_BUDGET: usize = 4_000;

    fn weight(&self) -> usize {
        self.samples.len()
    }

    /// Expired documents go once per group that brings documents.
    async fn before_group(tx: &mut SqliteConnection, group: &[Self]) -> Result<()> {
        let with_documents = group.iter().filter(|e| !e.documents.is_empty());
        if let Some(now) = with_documents.map(|e| e.now).max() {
            sqlx::query("DELETE FROM otel_trace_documents WHERE expires_at <= ?")
                .bind(micros(now))
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }

    async fn store(&mut self, conn: &mut SqliteConnection) -> Result<TraceIngest> {
        store_export(conn, self).await
    }
}

/// Stores one export inside its savepoint of a group: its documents, its
/// samples with their traces' documents as context, and the context of the
/// samples that earlier exports stored for the traces it brings documents for.
async fn store_export(
    conn: &mut SqliteConnection,
    export: &mut PendingExport,
) -> Result<TraceIngest> {
    let org_text = export.org.0.to_string();
    let mut outcome = TraceIngest::default();
    if !export.documents.is_empty() {
        sqlx::query(
            "INSERT INTO otel_trace_documents
                 (org_id, trace_id, span_id, position, span_start, content, expires_at)
             SELECT ?, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, ?
             FROM json_each(?) WHERE true
             ON CONFLICT (org_id, trace_id, span_id, position) DO NOTHING",
        )
        .bind(org_text.as_str())
        .bind(micros(export.keep_until))
        .bind(to_json(&document_rows(&export.documents))?)
        .execute(&mut *conn)
        .await?;
    }
    if !export.samples.is_empty() {
        let traces: BTreeSet<&str> = export.samples.iter().map(|s| s.trace_id.as_str()).collect();
        let contexts = documents_of(conn, &org_text, &traces, export.now).await?;
        for (traced, context) in export.samples.iter().zip(export.contexts.iter_mut()) {
            if let Some(documents) = contexts.get(&traced.trace_id) {
                *context = to_json(documents)?;
            }
        }
        let plain: Vec<&TrafficSample> = export.samples.iter().map(|t| &t.sample).collect();
        outcome.stored = insert_rows(conn, export.org, &plain, &export.contexts).await?;
    }
    if !export.documents.is_empty() {
        let traces: BTreeSet<&str> = export
            .documents
            .iter()
            .map(|d| d.trace_id.as_str())
            .collect();
        let contexts = documents_of(conn, &org_text, &traces, export.now).await?;
        let updates = contexts
            .iter()
            .map(|(trace, context)| {
                let (from, to) = sample_id_range(trace);
                Ok((from, to, to_json(context)?))
            })
            .collect::<Result<Vec<_>>>()?;
        // One statement for all the traces, each one range of the unique
        // (org_id, project_id, sample_id) index per project of the
        // organization. Materialised so that SQLite looks each trace up by
        // that range; left to flatten the join, it scans the organization's
        // traffic.
        outcome.contexts_updated = sqlx::query(
            "WITH stale AS MATERIALIZED (
                 SELECT t.key AS key, u.value ->> 2 AS context
                 FROM json_each(?1) AS u CROSS JOIN projects AS p CROSS JOIN traffic AS t
                 WHERE p.org_id = ?2 AND t.org_id = ?2 AND t.project_id = p.id
                   AND t.sample_id >= u.value ->> 0 AND t.sample_id < u.value ->> 1
                   AND t.context <> u.value ->> 2)
             UPDATE traffic SET context = stale.context FROM stale WHERE traffic.key = stale.key",
        )
        .bind(to_json(&updates)?)
        .bind(org_text.as_str())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(outcome)
}

#[async_trait]
impl TraceContextStore for SqliteStore {
    async fn ingest_traces(
        &self,
        org: OrgId,
        samples: Vec<TracedSample>,
        documents: Vec<RetrievedDocuments>,
        now: DateTime<Utc>,
        keep_until: DateTime<Utc>,
    ) -> Result<TraceIngest> {
        // Encoded here, beside the request, so that the writer does SQL only;
        // the samples whose trace has stored documents are encoded again there.
        let contexts = encode_rows(
            &samples
                .iter()
                .map(|t| &t.sample)
                .collect::<Vec<&TrafficSample>>(),
        )?;
        self.exports
            .submit(PendingExport {
                org,
                samples,
                contexts,
                documents,
                now,
                keep_until,
            })
            .await
    }
}
