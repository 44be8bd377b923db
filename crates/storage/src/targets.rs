//! The targets (model, prompt) seen in each project's traffic, with counts
//! and first/last seen, kept in an aggregate table that database triggers
//! update at ingest (see migration 0004).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::{OrgId, ProjectId};

use crate::error::StorageError;

type Result<T> = std::result::Result<T, StorageError>;

/// A target seen in a project's traffic (kept up to date at ingest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSeen {
    pub model: String,
    pub prompt_id: String,
    pub sample_count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

#[async_trait]
pub trait TargetStore: Send + Sync {
    /// A project's targets by (model, prompt id), after `after` (exclusive);
    /// read from the aggregate, never from the traffic table.
    async fn list_targets(
        &self,
        org: OrgId,
        project: &ProjectId,
        after: Option<(&str, &str)>,
        limit: u32,
    ) -> Result<Vec<TargetSeen>>;
}
