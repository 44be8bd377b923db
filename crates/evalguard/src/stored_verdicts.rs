//! The judges' verdict cache kept in the database: the judge crate defines
//! what it needs ([`VerdictStore`]), storage provides a table; this joins them.

use std::sync::Arc;

use async_trait::async_trait;
use evalguard_judge::{VerdictStore, VerdictStoreError};
use evalguard_storage::JudgeCacheStore;
use serde_json::Value;

/// Verdicts in the `judge_cache` table of the configured database.
pub struct StoredVerdicts(pub Arc<dyn JudgeCacheStore>);

#[async_trait]
impl VerdictStore for StoredVerdicts {
    async fn get_verdict(&self, key: &str) -> Result<Option<Value>, VerdictStoreError> {
        self.0
            .get_verdict(key)
            .await
            .map_err(|e| VerdictStoreError(e.to_string()))
    }

    async fn put_verdicts(&self, entries: &[(String, Value)]) -> Result<(), VerdictStoreError> {
        self.0
            .put_verdicts(entries)
            .await
            .map_err(|e| VerdictStoreError(e.to_string()))
    }
}
