//! OTLP ingest on SQLite: documents and samples in one `BEGIN IMMEDIATE`
//! transaction, which also serialises concurrent exports of a trace.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::otlp::{RetrievedDocuments, TracedSample};
use evalguard_domain::{OrgId, TrafficSample};
use sqlx::{Row, SqliteConnection};

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

#[async_trait]
impl TraceContextStore for SqliteStore {
    async fn ingest_traces(
        &self,
        org: OrgId,
        samples: &[TracedSample],
        documents: &[RetrievedDocuments],
        now: DateTime<Utc>,
        keep_until: DateTime<Utc>,
    ) -> Result<TraceIngest> {
        let org_text = org.0.to_string();
        let sample_traces: BTreeSet<&str> = samples.iter().map(|s| s.trace_id.as_str()).collect();
        let document_traces: BTreeSet<&str> =
            documents.iter().map(|d| d.trace_id.as_str()).collect();
        let rows = to_json(&document_rows(documents))?;
        // Encoded before the write lock is taken; only the samples whose trace
        // has stored documents are encoded again under it.
        let plain: Vec<&TrafficSample> = samples.iter().map(|t| &t.sample).collect();
        let mut encoded = encode_rows(&plain)?;
        let mut tx = self.write_tx().await?;
        if !documents.is_empty() {
            sqlx::query("DELETE FROM otel_trace_documents WHERE expires_at <= ?")
                .bind(micros(now))
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO otel_trace_documents
                     (org_id, trace_id, span_id, position, span_start, content, expires_at)
                 SELECT ?, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, ?
                 FROM json_each(?) WHERE true
                 ON CONFLICT (org_id, trace_id, span_id, position) DO NOTHING",
            )
            .bind(org_text.as_str())
            .bind(micros(keep_until))
            .bind(rows)
            .execute(&mut *tx)
            .await?;
        }
        let mut outcome = TraceIngest::default();
        if !samples.is_empty() {
            let contexts = documents_of(&mut tx, &org_text, &sample_traces, now).await?;
            for (traced, context) in samples.iter().zip(encoded.iter_mut()) {
                if let Some(documents) = contexts.get(&traced.trace_id) {
                    *context = to_json(documents)?;
                }
            }
            outcome.stored = insert_rows(&mut tx, org, &plain, &encoded).await?;
        }
        if !documents.is_empty() {
            // Samples of these traces stored by earlier exports get the
            // documents too, in one statement for all the traces, each one
            // range of the unique (org_id, project_id, sample_id) index per
            // project of the organization.
            let contexts = documents_of(&mut tx, &org_text, &document_traces, now).await?;
            let updates = contexts
                .iter()
                .map(|(trace, context)| {
                    let (from, to) = sample_id_range(trace);
                    Ok((from, to, to_json(context)?))
                })
                .collect::<Result<Vec<_>>>()?;
            // Materialised so that SQLite looks each trace up by its index
            // range; left to flatten the join, it scans the organization's traffic.
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
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(outcome)
    }
}
