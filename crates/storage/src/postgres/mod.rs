//! PostgreSQL backend, for several API replicas and worker processes sharing
//! one database. Queries are built at run time (no compile-time database);
//! leases use the database clock so that every machine agrees on expiry.

mod access;
mod dashboard;
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
use std::time::Duration;

use async_trait::async_trait;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::error::StorageError;
use crate::traits::HealthCheck;

/// Enough for a handful of concurrent requests and a worker per process;
/// PostgreSQL's default `max_connections` (100) allows several replicas.
const POOL_SIZE: u32 = 10;

/// The migrations of `migrations/postgres`, embedded in the binary. Built by
/// hand rather than with `sqlx::migrate!`, which needs sqlx's `macros` feature
/// (a second sqlx build); sqlx's migrator still takes its advisory lock, so
/// processes starting together apply them once.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        4,
        "people",
        include_str!("../../migrations/postgres/0004_people.sql"),
    ),
    (
        5,
        "otel trace documents",
        include_str!("../../migrations/postgres/0005_otel_trace_documents.sql"),
    ),
    (
        6,
        "retention",
        include_str!("../../migrations/postgres/0006_retention.sql"),
    ),
    (
        7,
        "warnings and passed",
        include_str!("../../migrations/postgres/0007_warnings_and_passed.sql"),
    ),
    (
        8,
        "ingest keys",
        include_str!("../../migrations/postgres/0008_ingest_keys.sql"),
    ),
    (
        9,
        "dashboard indexes",
        include_str!("../../migrations/postgres/0009_dashboard_indexes.sql"),
    ),
];

fn migrator() -> Migrator {
    let migrations = MIGRATIONS
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
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

/// Every storage trait over one PostgreSQL pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects (a pool of [`POOL_SIZE`]) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        migrator().run(&pool).await?;
        Ok(Self { pool })
    }

    /// The pool, for tests and tools that need raw SQL.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl HealthCheck for PostgresStore {
    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// Turns a unique-constraint violation into `Conflict`, anything else into `Database`.
fn conflict_or(err: sqlx::Error, what: impl FnOnce() -> String) -> StorageError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StorageError::Conflict(what()),
        _ => StorageError::Database(err),
    }
}

/// A lease length as whole microseconds, for `now() + $n * interval '1 microsecond'`.
fn lease_micros(lease: Duration) -> i64 {
    i64::try_from(lease.as_micros()).unwrap_or(i64::MAX)
}

/// A count stored as BIGINT/INTEGER back into the unsigned type the model uses;
/// a negative value can only come from a corrupt row.
fn unsigned<T: TryFrom<i64>>(value: i64, column: &str) -> Result<T, StorageError> {
    T::try_from(value)
        .map_err(|_| StorageError::Corrupt(format!("{column} = {value} is out of range")))
}
