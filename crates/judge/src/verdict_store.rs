//! Where verdicts are cached, as the judges need it: read one, write many.
//! Defined here so the judge crate needs no storage crate; the binary
//! plugs its database in with an adapter.

use async_trait::async_trait;
use serde_json::Value;

/// A failure of the verdict store (a read is then a miss, a write is lost:
/// the cache is an optimisation, never a source of truth).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("verdict store: {0}")]
pub struct VerdictStoreError(pub String);

#[async_trait]
pub trait VerdictStore: Send + Sync {
    async fn get_verdict(&self, key: &str) -> Result<Option<Value>, VerdictStoreError>;
    /// Stores several verdicts at once (one transaction per verdict costs
    /// more CPU than the judge call itself).
    async fn put_verdicts(&self, entries: &[(String, Value)]) -> Result<(), VerdictStoreError>;
}
