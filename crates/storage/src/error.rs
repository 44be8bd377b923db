#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("the database URL must start with sqlite: or postgres://")]
    UnsupportedUrl,
    /// A unique constraint was hit (e.g. a project id that exists).
    #[error("already exists: {0}")]
    Conflict(String),
    /// An idempotency key already used in the organization with another request.
    #[error("the idempotency key was used with a different request")]
    IdempotencyKeyReused,
    /// A row the operation depends on is missing (e.g. an unknown project).
    #[error("not found: {0}")]
    NotFound(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The shared transaction of a group of job enqueues failed (SQLite's
    /// group commit): none of the group was stored.
    #[error("the enqueue was not stored: {0}")]
    GroupCommit(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}
