//! Fresh databases for tests (this crate's contract suite and the binary's
//! end-to-end tests). Enabled by the `testing` feature.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use uuid::Uuid;

use crate::{Storage, StorageError};

/// The variable naming a PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "EVALGUARD_TEST_POSTGRES_URL";

/// A `sqlite://` URL for a new database file inside `dir`.
pub fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("evalguard.db").display())
}

/// A migrated SQLite database in a new temporary directory (removed when the
/// returned `TempDir` is dropped, so keep it alive as long as the storage).
/// Panics when the database cannot be created: it is a test fixture.
#[allow(clippy::panic)]
pub async fn fresh_sqlite() -> (Storage, tempfile::TempDir) {
    match try_fresh_sqlite().await {
        Ok(fresh) => fresh,
        Err(e) => panic!("cannot create a SQLite test database: {e}"),
    }
}

/// [`fresh_sqlite`] returning errors instead of panicking.
pub async fn try_fresh_sqlite() -> Result<(Storage, tempfile::TempDir), StorageError> {
    let dir = tempfile::tempdir()
        .map_err(|e| StorageError::Corrupt(format!("cannot create a temporary directory: {e}")))?;
    let storage = Storage::connect(&sqlite_url(&dir)).await?;
    Ok((storage, dir))
}

/// The URL of a new, empty PostgreSQL database on the server named by
/// `EVALGUARD_TEST_POSTGRES_URL`; `None` (with a printed notice) when unset
/// on a developer's machine. Panics when the variable is set but the server
/// cannot be used, and when it is unset while `CI` is set: a test run that
/// must cover PostgreSQL never passes by skipping it.
#[allow(clippy::panic)]
pub async fn fresh_postgres() -> Option<String> {
    let Some(base) = postgres_base_url(
        std::env::var(POSTGRES_URL_VAR).ok(),
        std::env::var_os("CI").is_some(),
    ) else {
        eprintln!("{POSTGRES_URL_VAR} is unset: skipping PostgreSQL");
        return None;
    };
    match create_postgres_database(&base).await {
        Ok(url) => Some(url),
        Err(e) => panic!("{POSTGRES_URL_VAR}={base}: cannot create a test database: {e}"),
    }
}

/// The server to create test databases on: the variable's value, or `None`
/// to skip. Unset (or empty) under CI is a failure, not a skip.
#[allow(clippy::panic)]
fn postgres_base_url(configured: Option<String>, in_ci: bool) -> Option<String> {
    match configured.filter(|url| !url.trim().is_empty()) {
        Some(url) => Some(url),
        None if in_ci => panic!(
            "CI is set but {POSTGRES_URL_VAR} is not: the PostgreSQL tests cannot run \
             (point {POSTGRES_URL_VAR} at a server, e.g. postgres://postgres@127.0.0.1:5432/postgres)"
        ),
        None => None,
    }
}

async fn create_postgres_database(base: &str) -> Result<String, String> {
    let name = format!("evalguard_test_{}", Uuid::new_v4().simple());
    let options = PgConnectOptions::from_str(base).map_err(|e| e.to_string())?;
    let mut conn = options.connect().await.map_err(|e| e.to_string())?;
    // The name is generated above (letters, digits, underscore): safe to splice.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let mut url = url::Url::parse(base).map_err(|e| e.to_string())?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

/// Moves the lease clock on: every running job's lease ends as if its worker
/// had stopped heartbeating a lease ago. Lease tests call this instead of
/// sleeping past a short lease, so they hold on a loaded machine too.
/// `url` is the database's URL (`sqlite://…` or `postgres://…`); returns how
/// many leases expired.
pub async fn expire_running_leases(url: &str) -> Result<u64, StorageError> {
    // Leases are compared with the database's clock (PostgreSQL) or the
    // writer's (SQLite, microseconds since the epoch): an hour ago, and the
    // epoch, are in the past for each whatever lease length the test used.
    let done = if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        sqlx::query(
            "UPDATE jobs SET lease_expires_at = 0 \
             WHERE status = 'running' AND lease_expires_at IS NOT NULL",
        )
        .execute(&mut conn)
        .await?
        .rows_affected()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query(
            "UPDATE jobs SET lease_expires_at = now() - interval '1 hour' \
             WHERE status = 'running' AND lease_expires_at IS NOT NULL",
        )
        .execute(&mut conn)
        .await?
        .rows_affected()
    };
    Ok(done)
}

/// Benchmarks at size: every queued job becomes a succeeded one with the
/// summary and flags of the finished job `like` (so lists, trends and
/// overviews read real-sized rows); returns how many. Only the benchmark's
/// seeding needs this: jobs finish one by one through their worker otherwise.
pub async fn succeed_queued_jobs_like(url: &str, like: uuid::Uuid) -> Result<u64, StorageError> {
    let done = if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        sqlx::query(
            "UPDATE jobs SET status = 'succeeded', started_at = created_at, finished_at = created_at, \
                 summary = (SELECT summary FROM jobs WHERE id = ?1), \
                 flags = (SELECT flags FROM jobs WHERE id = ?1) \
             WHERE status = 'queued'",
        )
        .bind(like.to_string())
        .execute(&mut conn)
        .await?
        .rows_affected()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query(
            "UPDATE jobs j SET status = 'succeeded', started_at = j.created_at, \
                 finished_at = j.created_at, summary = l.summary, flags = l.flags \
             FROM jobs l WHERE l.id = $1 AND j.status = 'queued'",
        )
        .bind(like)
        .execute(&mut conn)
        .await?
        .rows_affected()
    };
    Ok(done)
}

/// Gives a freshly bulk-loaded PostgreSQL database the planner statistics a
/// running deployment has (autovacuum analyses a table once a tenth of it
/// changed). Nothing on SQLite: a deployment there has none either, as
/// nothing runs `ANALYZE`, so a benchmark must not give it any.
pub async fn analyze_like_autovacuum(url: &str) -> Result<(), StorageError> {
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query("ANALYZE").execute(&mut conn).await?;
    }
    Ok(())
}

/// Storage on a fresh PostgreSQL database, or `None` when none is configured.
pub async fn fresh_postgres_storage() -> Option<Storage> {
    let url = fresh_postgres().await?;
    match Storage::connect(&url).await {
        Ok(storage) => Some(storage),
        #[allow(clippy::panic)]
        Err(e) => panic!("cannot open the PostgreSQL test database {url}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::postgres_base_url;

    #[test]
    fn a_configured_server_is_used_in_and_out_of_ci() {
        let url = "postgres://postgres@127.0.0.1:5432/postgres".to_owned();
        assert_eq!(
            postgres_base_url(Some(url.clone()), false),
            Some(url.clone())
        );
        assert_eq!(postgres_base_url(Some(url.clone()), true), Some(url));
    }

    #[test]
    fn no_server_outside_ci_skips() {
        assert_eq!(postgres_base_url(None, false), None);
        assert_eq!(postgres_base_url(Some("  ".to_owned()), false), None);
    }

    #[test]
    #[should_panic(expected = "CI is set")]
    fn no_server_in_ci_fails() {
        postgres_base_url(None, true);
    }

    #[test]
    #[should_panic(expected = "CI is set")]
    fn an_empty_server_url_in_ci_fails() {
        postgres_base_url(Some(String::new()), true);
    }
}
