//! Storage: one trait per area, each implemented for SQLite (the default,
//! embedded) and PostgreSQL (for several replicas). Handlers and workers hold
//! `Arc<dyn …>` values from [`Storage`]; nothing above this crate knows which
//! database is behind them. Queries are built at run time, so builds need no
//! database.

mod dashboard;
mod error;
pub mod model;
mod people;
pub mod postgres;
pub mod sqlite;
mod storable;
mod targets;
#[cfg(feature = "testing")]
pub mod testing;
mod trace_documents;
mod traits;

use std::sync::Arc;

pub use dashboard::{DashboardStore, ScoreDistribution, TrendPoint};
pub use error::StorageError;
pub use model::*;
pub use people::*;
pub use targets::*;
pub use traits::*;

/// Every storage area, backed by one database.
#[derive(Clone)]
pub struct Storage {
    pub access: Arc<dyn AccessStore>,
    pub projects: Arc<dyn ProjectStore>,
    pub traffic: Arc<dyn TrafficStore>,
    pub trace_context: Arc<dyn TraceContextStore>,
    pub jobs: Arc<dyn JobStore>,
    pub results: Arc<dyn ResultStore>,
    pub judge_cache: Arc<dyn JudgeCacheStore>,
    pub webhooks: Arc<dyn WebhookStore>,
    pub retention: Arc<dyn RetentionStore>,
    pub health: Arc<dyn HealthCheck>,
    pub users: Arc<dyn UserStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub targets: Arc<dyn TargetStore>,
    pub dashboard: Arc<dyn DashboardStore>,
    pub backend: Backend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Storage {
    fn from_backend<B>(db: Arc<B>, backend: Backend) -> Self
    where
        B: AccessStore
            + ProjectStore
            + TrafficStore
            + TraceContextStore
            + JobStore
            + ResultStore
            + JudgeCacheStore
            + WebhookStore
            + RetentionStore
            + HealthCheck
            + UserStore
            + SessionStore
            + TargetStore
            + DashboardStore
            + 'static,
    {
        Self {
            access: db.clone(),
            projects: db.clone(),
            traffic: db.clone(),
            trace_context: db.clone(),
            jobs: db.clone(),
            results: db.clone(),
            judge_cache: db.clone(),
            webhooks: db.clone(),
            retention: db.clone(),
            users: db.clone(),
            sessions: db.clone(),
            targets: db.clone(),
            dashboard: db.clone(),
            health: db,
            backend,
        }
    }

    /// Opens the database a URL names (`sqlite://…` or `postgres://…`) and
    /// applies its migrations. A SQLite file is created when missing.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let db = postgres::PostgresStore::connect(url).await?;
            Ok(Self::from_backend(Arc::new(db), Backend::Postgres))
        } else if url.starts_with("sqlite:") {
            let db = sqlite::SqliteStore::connect(url).await?;
            Ok(Self::from_backend(Arc::new(db), Backend::Sqlite))
        } else {
            Err(StorageError::UnsupportedUrl)
        }
    }
}
