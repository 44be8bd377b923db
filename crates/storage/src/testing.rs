//! Fresh databases for tests (this crate's contract suite and the binary's
//! end-to-end tests). Enabled by the `testing` feature.

use std::str::FromStr;

use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;
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
/// `EVALGUARD_TEST_POSTGRES_URL`; `None` (with a printed notice) when unset.
/// Panics when the variable is set but the server cannot be used: a test
/// run that asked for PostgreSQL must not silently skip it.
#[allow(clippy::panic)]
pub async fn fresh_postgres() -> Option<String> {
    let Ok(base) = std::env::var(POSTGRES_URL_VAR) else {
        eprintln!("{POSTGRES_URL_VAR} is unset: skipping PostgreSQL");
        return None;
    };
    match create_postgres_database(&base).await {
        Ok(url) => Some(url),
        Err(e) => panic!("{POSTGRES_URL_VAR}={base}: cannot create a test database: {e}"),
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

/// Storage on a fresh PostgreSQL database, or `None` when none is configured.
pub async fn fresh_postgres_storage() -> Option<Storage> {
    let url = fresh_postgres().await?;
    match Storage::connect(&url).await {
        Ok(storage) => Some(storage),
        #[allow(clippy::panic)]
        Err(e) => panic!("cannot open the PostgreSQL test database {url}: {e}"),
    }
}
