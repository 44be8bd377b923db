//! SQLite backend. One file, WAL journal, a single writer connection (every
//! write transaction opens with `BEGIN IMMEDIATE`, so two writers never
//! deadlock upgrading a read lock) and a pool of readers.
//!
//! Durability is chosen per write transaction ([`Durability`]): a commit
//! that accepts something a client is told is stored (a job, an ingested
//! batch, a key) runs with `synchronous=FULL`, i.e. it is fsynced to the WAL
//! before the client hears about it and survives an OS crash or power loss.
//! Worker bookkeeping commits with `NORMAL` (no fsync); see [`Durability`]
//! for why losing one is safe. Concurrent job enqueues share one commit
//! (see `group_commit`), so the fsync is paid once per group, not per job.
//!
//! Times are stored as integer microseconds since the epoch; JSON values as TEXT.

mod access;
mod dashboard;
mod group_commit;
mod ingest_keys;
mod jobs;
mod people;
mod projects;
mod results;
mod retention;
mod targets;
mod trace_context;
mod traffic;
mod webhooks;

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{SqlSafeStr, Sqlite, Transaction};

use crate::error::StorageError;
use crate::traits::HealthCheck;

type Result<T> = std::result::Result<T, StorageError>;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const READ_CONNECTIONS: u32 = 8;
/// How often the checkpointer looks at the write count (see [`spawn_checkpointer`]).
const CHECKPOINT_TICK: Duration = Duration::from_millis(250);
/// Write transactions after which a tick checkpoints at once…
const CHECKPOINT_AFTER_WRITES: u64 = 64;
/// …and the longest a smaller, non-zero number waits for a checkpoint.
const CHECKPOINT_AT_LEAST_EVERY: Duration = Duration::from_secs(1);
/// The writer's own automatic checkpoint, kept as a safety net for when the
/// background checkpoints fall behind: 16,384 pages (64 MB of WAL).
const WRITER_AUTOCHECKPOINT_PAGES: &str = "16384";

/// The migrations of `migrations/sqlite`, embedded in the binary. Listed by
/// hand rather than with `sqlx::migrate!`, which needs sqlx's `macros` feature
/// (a second sqlx build with a bundled SQLite).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        4,
        "people",
        include_str!("../../migrations/sqlite/0004_people.sql"),
    ),
    (
        5,
        "otel trace documents",
        include_str!("../../migrations/sqlite/0005_otel_trace_documents.sql"),
    ),
    (
        6,
        "retention",
        include_str!("../../migrations/sqlite/0006_retention.sql"),
    ),
    (
        7,
        "warnings and passed",
        include_str!("../../migrations/sqlite/0007_warnings_and_passed.sql"),
    ),
    (
        8,
        "ingest keys",
        include_str!("../../migrations/sqlite/0008_ingest_keys.sql"),
    ),
    (
        9,
        "dashboard indexes",
        include_str!("../../migrations/sqlite/0009_dashboard_indexes.sql"),
    ),
];

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// What a write transaction's commit must survive: an explicit choice at
/// every write, because it decides both the cost of the commit (an fsync or
/// not) and what a power loss can take back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// The commit accepts something a client is told is stored (a `202` for
    /// a job or traffic, a key, a person, a project, a deletion): fsynced to
    /// the WAL before the commit returns (`synchronous=FULL`).
    Accepted,
    /// Worker bookkeeping (claims, leases, plans, progress, results, verdict
    /// cache, finishing, webhook delivery attempts): written to the WAL
    /// without an fsync (`synchronous=NORMAL`). A power loss can lose only
    /// the newest WAL frames (each frame's checksum chains on the previous
    /// one, so recovery stops at the first missing frame), and the next
    /// `Accepted` commit's fsync makes every earlier frame durable. So what
    /// can be lost is a suffix of bookkeeping written after the last accepted
    /// commit: the job is still in the durable queue and runs again from the
    /// state before it, as after a worker crash.
    Bookkeeping,
}

impl Durability {
    /// `PRAGMA synchronous` is per connection and stays set, so every write
    /// transaction sets its own on the single writer connection, in the
    /// same round trip as its `BEGIN` (SQLite runs both statements).
    fn begin_statement(self) -> &'static str {
        match self {
            Durability::Accepted => "PRAGMA synchronous = FULL; BEGIN IMMEDIATE",
            Durability::Bookkeeping => "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE",
        }
    }
}

/// The SQLite implementation of every storage trait.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Exactly one connection: SQLite allows one writer at a time anyway, and
    /// queueing in the pool is cheaper than retrying on `SQLITE_BUSY`.
    writer: SqlitePool,
    reader: SqlitePool,
    /// Write transactions begun, for the checkpointer.
    writes: Arc<AtomicU64>,
    /// Job enqueues waiting to be committed together.
    enqueues: group_commit::GroupCommit<group_commit::Enqueue>,
    /// OTLP exports waiting to be committed together.
    exports: group_commit::GroupCommit<trace_context::PendingExport>,
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url` and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL would let the last commits roll back after a power
            // loss, although the client was already told `202`.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .statement_cache_capacity(256)
            // A job reads its samples and results back several times; the
            // default 2 MB page cache makes those reads go to the kernel.
            .pragma("cache_size", "-65536")
            .pragma("mmap_size", "268435456")
            .pragma("temp_store", "memory")
            .pragma("wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES);
        // The writer connection is never recycled: it keeps its statement
        // cache warm, and an in-memory database lives only as long as it.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.clone())
            .await?;
        // An in-memory database exists per connection: readers must share the writer.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let reader = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(READ_CONNECTIONS)
                .connect_with(options)
                .await?
        };
        let writes = Arc::new(AtomicU64::new(0));
        let enqueues = group_commit::GroupCommit::spawn(writer.clone(), writes.clone());
        let exports = group_commit::GroupCommit::spawn(writer.clone(), writes.clone());
        let store = Self {
            writer,
            reader,
            writes,
            enqueues,
            exports,
        };
        store.migrate().await?;
        if !in_memory {
            spawn_checkpointer(store.reader.clone(), store.writes.clone());
        }
        Ok(store)
    }

    /// Applies the migrations that are not applied yet.
    pub async fn migrate(&self) -> Result<()> {
        migrator().run(&self.writer).await?;
        Ok(())
    }

    /// The writer's `PRAGMA synchronous` as the last write transaction set
    /// it (2 = FULL for [`Durability::Accepted`], 1 = NORMAL for
    /// [`Durability::Bookkeeping`]): what that commit waited for.
    pub async fn writer_synchronous(&self) -> Result<i64> {
        let (mode,): (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(&self.writer)
            .await?;
        Ok(mode)
    }

    /// A write transaction that accepts what a client is told is stored
    /// ([`Durability::Accepted`]): the default, so a write that does not
    /// say otherwise is durable.
    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>> {
        self.write_tx_for(Durability::Accepted).await
    }

    /// A write transaction holding the database's write lock from its start,
    /// committing with the given durability.
    async fn write_tx_for(&self, durability: Durability) -> Result<Transaction<'static, Sqlite>> {
        begin_write(&self.writer, &self.writes, durability).await
    }
}

/// Begins a write transaction on the single writer connection.
async fn begin_write(
    writer: &SqlitePool,
    writes: &AtomicU64,
    durability: Durability,
) -> Result<Transaction<'static, Sqlite>> {
    writes.fetch_add(1, Ordering::Relaxed);
    Ok(writer.begin_with(durability.begin_statement()).await?)
}

/// Checkpoints the WAL into the database file off the write path. With
/// SQLite's default, the commit that takes the WAL past 1,000 pages copies
/// them into the database and fsyncs it before returning, and every write
/// queued behind the single writer waits: that was most of the trigger
/// latency's p99. A PASSIVE checkpoint from a reader connection runs beside
/// the writer and never blocks it. It runs every 250 ms under heavy writes,
/// at most once a second under light ones, and not at all when nothing was
/// written (each checkpoint costs an fsync). The task ends with the pool.
fn spawn_checkpointer(reader: SqlitePool, writes: Arc<AtomicU64>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut checkpointed_at = (0u64, tokio::time::Instant::now());
        loop {
            tick.tick().await;
            if reader.is_closed() {
                break;
            }
            let (done, at) = checkpointed_at;
            let written = writes.load(Ordering::Relaxed).saturating_sub(done);
            let due = written >= CHECKPOINT_AFTER_WRITES
                || (written > 0 && at.elapsed() >= CHECKPOINT_AT_LEAST_EVERY);
            if !due {
                continue;
            }
            checkpointed_at = (writes.load(Ordering::Relaxed), tokio::time::Instant::now());
            if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&reader)
                .await
            {
                tracing::debug!(%error, "WAL checkpoint did not run");
            }
        }
    });
}

#[async_trait]
impl HealthCheck for SqliteStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }
}

pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub(crate) fn from_micros(raw: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(raw)
        .ok_or_else(|| StorageError::Corrupt(format!("timestamp out of range: {raw}")))
}

pub(crate) fn from_micros_opt(raw: Option<i64>) -> Result<Option<DateTime<Utc>>> {
    raw.map(from_micros).transpose()
}

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| StorageError::Corrupt(format!("cannot encode JSON: {e}")))
}

pub(crate) fn from_json<T: DeserializeOwned>(raw: &str) -> Result<T> {
    serde_json::from_str(raw)
        .map_err(|e| StorageError::Corrupt(format!("stored JSON does not decode: {e}")))
}

pub(crate) fn from_json_opt<T: DeserializeOwned>(raw: Option<String>) -> Result<Option<T>> {
    raw.as_deref().map(from_json).transpose()
}

pub(crate) fn parse_uuid(raw: &str) -> Result<uuid::Uuid> {
    uuid::Uuid::parse_str(raw).map_err(|e| StorageError::Corrupt(format!("bad uuid {raw:?}: {e}")))
}

pub(crate) fn parse_project(raw: &str) -> Result<evalguard_domain::ProjectId> {
    evalguard_domain::ProjectId::parse(raw)
        .map_err(|_| StorageError::Corrupt(format!("bad project id {raw:?}")))
}

/// A lease length as microseconds, saturating rather than overflowing.
pub(crate) fn lease_micros(lease: Duration) -> i64 {
    i64::try_from(lease.as_micros()).unwrap_or(i64::MAX / 4)
}

/// Turns a unique-constraint violation into `Conflict`.
pub(crate) fn conflict_or(err: sqlx::Error, what: impl Into<String>) -> StorageError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StorageError::Conflict(what.into())
        }
        _ => StorageError::Database(err),
    }
}
