//! Group commit for job enqueues. Each accepted job must be fsynced before
//! its `202` (see [`Durability::Accepted`]), and SQLite has one writer: one
//! transaction per job would cap the trigger rate at one job per fsync and
//! queue every request behind the fsyncs before it. Instead one task owns
//! enqueueing: it takes every enqueue waiting for it (up to [`MAX_GROUP`]),
//! stores each in its own savepoint, so one that fails (an idempotency key
//! reused with another body, a constraint) is rolled back alone, commits them
//! together with one fsync, and only then answers each caller. While one
//! group commits the next one gathers, so the fsyncs per second stay bounded
//! whatever the request rate.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use evalguard_domain::{Job, Progress, Usage};
use sqlx::sqlite::{SqliteConnection, SqlitePool};
use sqlx::{Acquire, Sqlite, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::{Durability, Result, SqliteStore, begin_write, conflict_or, micros, to_json};
use crate::error::StorageError;
use crate::model::NewJob;

/// The most enqueues one transaction commits: bounds how long a group holds
/// the write lock from the other writers.
const MAX_GROUP: usize = 256;
/// Enqueues waiting beyond this make callers wait for room (backpressure),
/// not fail.
const QUEUE_CAPACITY: usize = 4096;

type Answer = Result<(Job, bool)>;

struct PendingEnqueue {
    job: NewJob,
    answer: oneshot::Sender<Answer>,
}

/// The callers' side of the enqueue task. The task ends when the last
/// clone (i.e. the last handle on the store) is dropped.
#[derive(Debug, Clone)]
pub(super) struct Enqueuer {
    pending: mpsc::Sender<PendingEnqueue>,
}

impl Enqueuer {
    pub(super) fn spawn(writer: SqlitePool, writes: Arc<AtomicU64>) -> Self {
        let (pending, mut waiting) = mpsc::channel::<PendingEnqueue>(QUEUE_CAPACITY);
        tokio::spawn(async move {
            let mut group = Vec::with_capacity(MAX_GROUP);
            while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
                commit_group(&writer, &writes, std::mem::take(&mut group)).await;
            }
        });
        Self { pending }
    }

    /// Stores `job` (or finds the job its idempotency key names) and returns
    /// once that is durable: (the job, whether it is new).
    pub(super) async fn enqueue(&self, job: NewJob) -> Answer {
        let (answer, answered) = oneshot::channel();
        self.pending
            .send(PendingEnqueue { job, answer })
            .await
            .map_err(|_| StorageError::GroupCommit("the enqueue task has stopped".to_owned()))?;
        answered.await.map_err(|_| {
            StorageError::GroupCommit("the enqueue task stopped before answering".to_owned())
        })?
    }
}

/// Commits `group` in one transaction and answers every caller after the
/// commit: with its job or its own error when the commit succeeded, with the
/// commit's error when it did not (then nothing of the group was stored).
async fn commit_group(writer: &SqlitePool, writes: &AtomicU64, group: Vec<PendingEnqueue>) {
    match store_group(writer, writes, &group).await {
        Ok(answers) => {
            for (pending, answer) in group.into_iter().zip(answers) {
                // A caller that went away (its request was dropped) still
                // has its job stored, as with any committed write.
                let _ = pending.answer.send(answer);
            }
        }
        Err(error) => {
            tracing::warn!(%error, jobs = group.len(), "a group of job enqueues did not commit");
            let message = error.to_string();
            for pending in group {
                let _ = pending
                    .answer
                    .send(Err(StorageError::GroupCommit(message.clone())));
            }
        }
    }
}

/// One answer per job, in order; `Err` when the transaction as a whole
/// failed (begin, a savepoint statement, or the commit).
async fn store_group(
    writer: &SqlitePool,
    writes: &AtomicU64,
    group: &[PendingEnqueue],
) -> std::result::Result<Vec<Answer>, StorageError> {
    let mut tx = begin_write(writer, writes, Durability::Accepted).await?;
    let mut answers = Vec::with_capacity(group.len());
    for pending in group {
        answers.push(
            in_savepoint(&mut tx, async |conn| {
                insert_or_find_job(conn, &pending.job).await
            })
            .await?,
        );
    }
    tx.commit().await?;
    Ok(answers)
}

/// Runs `store` inside its own savepoint of `tx`: on its error only its own
/// changes are rolled back, and the rest of the group commits. The outer
/// `Err` is a failure of the savepoint itself, after which the transaction's
/// state is unknown. (Also the OTLP exports' group commit.)
pub(super) async fn in_savepoint<T>(
    tx: &mut Transaction<'static, Sqlite>,
    store: impl AsyncFnOnce(&mut SqliteConnection) -> Result<T>,
) -> std::result::Result<Result<T>, sqlx::Error> {
    let mut savepoint = tx.begin().await?;
    let answer = store(&mut savepoint).await;
    if answer.is_ok() {
        savepoint.commit().await?;
    } else {
        savepoint.rollback().await?;
    }
    Ok(answer)
}

/// Stores `job`, or finds the job its idempotency key already names: (the
/// job, whether it is new). Runs inside its savepoint of a group, so it
/// neither begins nor commits.
async fn insert_or_find_job(conn: &mut SqliteConnection, job: &NewJob) -> Result<(Job, bool)> {
    if let Some(key) = &job.idempotency_key {
        let existing: Option<String> =
            sqlx::query_scalar("SELECT id FROM jobs WHERE org_id = ? AND idempotency_key = ?")
                .bind(job.org_id.0.to_string())
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(id) = existing {
            let (existing, request, _) = SqliteStore::fetch_job(&mut *conn, &id)
                .await?
                .ok_or_else(|| StorageError::NotFound(format!("job {id}")))?;
            if request != job.request {
                return Err(StorageError::IdempotencyKeyReused);
            }
            return Ok((existing, false));
        }
    }
    let id = job.id.0.to_string();
    sqlx::query(
        "INSERT INTO jobs (id, org_id, project_id, status, request, created_at, progress, usage, summary, flags,
                           idempotency_key)
         VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, '{}', '[]', ?)",
    )
    .bind(&id)
    .bind(job.org_id.0.to_string())
    .bind(job.request.target.project_id.as_str())
    .bind(to_json(&job.request)?)
    .bind(micros(job.created_at))
    // `total` is the number of samples selected, known once the job is planned.
    .bind(to_json(&Progress::default())?)
    .bind(to_json(&Usage::default())?)
    .bind(&job.idempotency_key)
    .execute(&mut *conn)
    .await
    .map_err(|e| conflict_or(e, format!("job {id}")))?;
    let (stored, _, _) = SqliteStore::fetch_job(&mut *conn, &id)
        .await?
        .ok_or_else(|| StorageError::NotFound(format!("job {id}")))?;
    Ok((stored, true))
}
