//! Group commit: SQLite has one writer, and every write a client is told is
//! stored must be fsynced before it is answered (see [`Durability::Accepted`]).
//! One transaction per request would cap the rate at one request per fsync and
//! queue every request behind the fsyncs before it. Instead one task owns each
//! kind of such write ([`GroupedWrite`]: job enqueues here, OTLP exports in
//! `trace_context`): it takes the writes waiting for it (up to the group's
//! budget), stores each in its own savepoint, so one that fails (an idempotency
//! key reused with another body, a constraint) is rolled back alone, commits
//! them together with one fsync, and only then answers each caller. While one
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

/// One kind of write that a [`GroupCommit`] task commits in groups.
pub(super) trait GroupedWrite: Send + Sized + 'static {
    type Answer: Send + 'static;
    /// What the writes are, in errors and logs (e.g. `job enqueues`).
    const WHAT: &'static str;
    /// Writes waiting beyond this make callers wait for room (backpressure),
    /// not fail.
    const QUEUE_CAPACITY: usize;
    /// A group's budget beyond its first write: bounds how long a group holds
    /// the write lock from the other writers.
    const GROUP_BUDGET: usize;

    /// What this write takes of the group's budget.
    fn weight(&self) -> usize;

    /// Work in the group's transaction before its writes.
    fn before_group(
        tx: &mut SqliteConnection,
        group: &[Self],
    ) -> impl Future<Output = Result<()>> + Send;

    /// Stores this write inside its savepoint of the group, so it neither
    /// begins nor commits.
    fn store(
        &mut self,
        conn: &mut SqliteConnection,
    ) -> impl Future<Output = Result<Self::Answer>> + Send;
}

type Pending<W> = (W, oneshot::Sender<Result<<W as GroupedWrite>::Answer>>);

/// The callers' side of a group-commit task. The task ends when the last
/// clone (i.e. the last handle on the store) is dropped.
pub(super) struct GroupCommit<W: GroupedWrite> {
    pending: mpsc::Sender<Pending<W>>,
}

impl<W: GroupedWrite> Clone for GroupCommit<W> {
    fn clone(&self) -> Self {
        Self {
            pending: self.pending.clone(),
        }
    }
}

impl<W: GroupedWrite> std::fmt::Debug for GroupCommit<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("what", &W::WHAT)
            .finish()
    }
}

impl<W: GroupedWrite> GroupCommit<W> {
    pub(super) fn spawn(writer: SqlitePool, writes: Arc<AtomicU64>) -> Self {
        let (pending, mut waiting) = mpsc::channel::<Pending<W>>(W::QUEUE_CAPACITY);
        tokio::spawn(async move {
            while let Some(first) = waiting.recv().await {
                let mut weight = first.0.weight();
                let mut group = vec![first];
                while weight < W::GROUP_BUDGET {
                    let Ok(next) = waiting.try_recv() else { break };
                    weight += next.0.weight();
                    group.push(next);
                }
                commit_group(&writer, &writes, group).await;
            }
        });
        Self { pending }
    }

    /// Stores `write` and returns its answer once that is durable.
    pub(super) async fn submit(&self, write: W) -> Result<W::Answer> {
        let (answer, answered) = oneshot::channel();
        self.pending.send((write, answer)).await.map_err(|_| {
            StorageError::GroupCommit(format!("the task committing {} has stopped", W::WHAT))
        })?;
        answered.await.map_err(|_| {
            StorageError::GroupCommit(format!(
                "the task committing {} stopped before answering",
                W::WHAT
            ))
        })?
    }
}

/// Commits `group` in one transaction and answers every caller after the
/// commit: with its answer or its own error when the commit succeeded, with
/// the commit's error when it did not (then nothing of the group was stored).
async fn commit_group<W: GroupedWrite>(
    writer: &SqlitePool,
    writes: &AtomicU64,
    group: Vec<Pending<W>>,
) {
    let (mut items, callers): (Vec<W>, Vec<_>) = group.into_iter().unzip();
    match store_group(writer, writes, &mut items).await {
        Ok(answers) => {
            for (caller, answer) in callers.into_iter().zip(answers) {
                // A caller that went away (its request was dropped) still
                // has its write stored, as with any committed write.
                let _ = caller.send(answer);
            }
        }
        Err(error) => {
            tracing::warn!(%error, writes = items.len(), "a group of {} did not commit", W::WHAT);
            let message = error.to_string();
            for caller in callers {
                let _ = caller.send(Err(StorageError::GroupCommit(message.clone())));
            }
        }
    }
}

/// One answer per write, in order; `Err` when the transaction as a whole
/// failed (begin, the group's own work, a savepoint statement, or the commit).
async fn store_group<W: GroupedWrite>(
    writer: &SqlitePool,
    writes: &AtomicU64,
    group: &mut [W],
) -> std::result::Result<Vec<Result<W::Answer>>, StorageError> {
    let mut tx = begin_write(writer, writes, Durability::Accepted).await?;
    W::before_group(&mut tx, group).await?;
    let mut answers = Vec::with_capacity(group.len());
    for write in group.iter_mut() {
        answers.push(in_savepoint(&mut tx, async |conn| write.store(conn).await).await?);
    }
    tx.commit().await?;
    Ok(answers)
}

/// A job to enqueue: stored, or found by its idempotency key, as
/// (the job, whether it is new).
pub(super) struct Enqueue(pub NewJob);

impl GroupedWrite for Enqueue {
    type Answer = (Job, bool);
    const WHAT: &'static str = "job enqueues";
    const QUEUE_CAPACITY: usize = 4096;
    /// At most 256 enqueues a transaction.
    const GROUP_BUDGET: usize = 256;

    fn weight(&self) -> usize {
        1
    }

    async fn before_group(_: &mut SqliteConnection, _: &[Self]) -> Result<()> {
        Ok(())
    }

    async fn store(&mut self, conn: &mut SqliteConnection) -> Result<(Job, bool)> {
        insert_or_find_job(conn, &self.0).await
    }
}

/// Runs `store` inside its own savepoint of `tx`: on its error only its own
/// changes are rolled back, and the rest of the group commits. The outer
/// `Err` is a failure of the savepoint itself, after which the transaction's
/// state is unknown.
async fn in_savepoint<T>(
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
