//! Group commit for OTLP exports. An export of 1,000 spans holds SQLite's
//! single writer for about 15 ms, 3 of them committing (the WAL write and
//! its fsync, which must happen before the exporter is answered), and
//! exporters send concurrently: one transaction per export made the commit a
//! fifth of the time under the write lock, the bound on ingest throughput.
//! One task owns OTLP writes: it takes the exports waiting for it (up to
//! [`MAX_GROUP_SAMPLES`]), stores each in its own savepoint, so one that fails
//! is rolled back alone, commits them together with one fsync, and only then
//! answers each caller.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use chrono::{DateTime, Utc};
use evalguard_domain::OrgId;
use evalguard_domain::otlp::{RetrievedDocuments, TracedSample};
use sqlx::sqlite::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use super::group_commit::in_savepoint;
use super::trace_context::store_export;
use super::{Durability, Result, begin_write, micros};
use crate::error::StorageError;
use crate::model::TraceIngest;

/// The samples one transaction takes at most, beyond its first export:
/// bounds how long a group holds the write lock from the other writers
/// (job claims, results, the enqueue group) to about four exports' worth.
const MAX_GROUP_SAMPLES: usize = 4_000;
/// Exports waiting beyond this make callers wait for room (backpressure).
const QUEUE_CAPACITY: usize = 64;

/// One export, its samples' contexts already encoded (`contexts[i]` is the
/// JSON of `samples[i]`'s own context).
pub(super) struct PendingExport {
    pub org: OrgId,
    pub samples: Vec<TracedSample>,
    pub contexts: Vec<String>,
    pub documents: Vec<RetrievedDocuments>,
    pub now: DateTime<Utc>,
    pub keep_until: DateTime<Utc>,
}

type Answer = Result<TraceIngest>;

/// The callers' side of the OTLP write task. The task ends when the last
/// clone (the last handle on the store) is dropped.
#[derive(Debug, Clone)]
pub(super) struct ExportWriter {
    pending: mpsc::Sender<(PendingExport, oneshot::Sender<Answer>)>,
}

impl ExportWriter {
    pub(super) fn spawn(writer: SqlitePool, writes: Arc<AtomicU64>) -> Self {
        let (pending, mut waiting) =
            mpsc::channel::<(PendingExport, oneshot::Sender<Answer>)>(QUEUE_CAPACITY);
        tokio::spawn(async move {
            while let Some(first) = waiting.recv().await {
                let mut samples = first.0.samples.len();
                let mut group = vec![first];
                while samples < MAX_GROUP_SAMPLES {
                    let Ok(next) = waiting.try_recv() else { break };
                    samples += next.0.samples.len();
                    group.push(next);
                }
                commit_group(&writer, &writes, group).await;
            }
        });
        Self { pending }
    }

    /// Stores `export` and returns once that is durable.
    pub(super) async fn ingest(&self, export: PendingExport) -> Answer {
        let (answer, answered) = oneshot::channel();
        self.pending
            .send((export, answer))
            .await
            .map_err(|_| StorageError::GroupCommit("the OTLP write task has stopped".to_owned()))?;
        answered.await.map_err(|_| {
            StorageError::GroupCommit("the OTLP write task stopped before answering".to_owned())
        })?
    }
}

/// Commits `group` in one transaction and answers every caller after the
/// commit: with its outcome or its own error when the commit succeeded, with
/// the commit's error when it did not (then nothing of the group was stored).
async fn commit_group(
    writer: &SqlitePool,
    writes: &AtomicU64,
    mut group: Vec<(PendingExport, oneshot::Sender<Answer>)>,
) {
    match store_group(writer, writes, &mut group).await {
        Ok(answers) => {
            for ((_, answer), outcome) in group.into_iter().zip(answers) {
                // A caller that went away still has its export stored, as
                // with any committed write.
                let _ = answer.send(outcome);
            }
        }
        Err(error) => {
            tracing::warn!(%error, exports = group.len(), "a group of OTLP exports did not commit");
            let message = error.to_string();
            for (_, answer) in group {
                let _ = answer.send(Err(StorageError::GroupCommit(message.clone())));
            }
        }
    }
}

/// One answer per export, in order; `Err` when the transaction as a whole
/// failed (begin, the expiry, a savepoint statement, or the commit).
async fn store_group(
    writer: &SqlitePool,
    writes: &AtomicU64,
    group: &mut [(PendingExport, oneshot::Sender<Answer>)],
) -> std::result::Result<Vec<Answer>, StorageError> {
    let mut tx = begin_write(writer, writes, Durability::Accepted).await?;
    if let Some(now) = group
        .iter()
        .filter(|(e, _)| !e.documents.is_empty())
        .map(|(e, _)| e.now)
        .max()
    {
        sqlx::query("DELETE FROM otel_trace_documents WHERE expires_at <= ?")
            .bind(micros(now))
            .execute(&mut *tx)
            .await?;
    }
    let mut answers = Vec::with_capacity(group.len());
    for (export, _) in group.iter_mut() {
        answers.push(in_savepoint(&mut tx, async |conn| store_export(conn, export).await).await?);
    }
    tx.commit().await?;
    Ok(answers)
}
