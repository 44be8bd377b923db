//! One trait per storage area. Every method is scoped by organization where the
//! data belongs to one, so tenant isolation is enforced below the handlers too.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::job::Target;
use evalguard_domain::otlp::{RetrievedDocuments, TracedSample};
use evalguard_domain::project::{Project, ProjectSettings, RubricDefinition};
use evalguard_domain::{Job, JobId, OrgId, Progress, ProjectId, TrafficSample, Usage};
use uuid::Uuid;

use crate::error::StorageError;
use crate::model::*;

type Result<T> = std::result::Result<T, StorageError>;

#[async_trait]
pub trait AccessStore: Send + Sync {
    /// The id of the organization with this name, created when missing.
    async fn ensure_org(&self, name: &str) -> Result<OrgId>;
    /// The id of the organization with this name; `None` when there is none.
    async fn find_org(&self, name: &str) -> Result<Option<OrgId>>;
    async fn create_api_key(&self, key: NewApiKey) -> Result<ApiKeyRecord>;
    /// The key with this public id, revoked or not (the caller checks).
    async fn find_api_key(&self, key_id: &str) -> Result<Option<ApiKeyRecord>>;
    async fn touch_api_key(&self, key_id: &str, at: DateTime<Utc>) -> Result<()>;
    async fn list_api_keys(&self, org: OrgId) -> Result<Vec<ApiKeyRecord>>;
    /// `false` when no such key exists in the organization.
    async fn revoke_api_key(&self, org: OrgId, key_id: &str, at: DateTime<Utc>) -> Result<bool>;
}

/// Deletion of old data (retention) and of a project's traffic on request
/// (privacy). Every method deletes at most `limit` rows in one short
/// transaction and returns how many it deleted: callers loop until fewer
/// than `limit` come back, so SQLite's single writer is never held long.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Rows of `area` older than `cutoff` (see [`RetentionArea`] for what
    /// each one's age is).
    async fn delete_expired(
        &self,
        area: RetentionArea,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64>;
    /// One project's traffic samples that `selection` names.
    async fn delete_project_traffic(
        &self,
        org: OrgId,
        project: &ProjectId,
        selection: &TrafficSelection,
        limit: u32,
    ) -> Result<u64>;
}

#[async_trait]
pub trait ProjectStore: Send + Sync {
    /// `Conflict` when the id exists in the organization.
    async fn create_project(&self, org: OrgId, project: &Project) -> Result<()>;
    async fn list_projects(&self, org: OrgId) -> Result<Vec<Project>>;
    async fn get_project(&self, org: OrgId, id: &ProjectId) -> Result<Option<Project>>;
    /// `false` when the project does not exist.
    async fn update_project_settings(
        &self,
        org: OrgId,
        id: &ProjectId,
        settings: &ProjectSettings,
    ) -> Result<bool>;
    /// Creates or replaces the rubric of that name.
    async fn put_rubric(
        &self,
        org: OrgId,
        project: &ProjectId,
        rubric: &RubricDefinition,
    ) -> Result<()>;
    async fn list_rubrics(&self, org: OrgId, project: &ProjectId) -> Result<Vec<RubricDefinition>>;
    async fn delete_rubric(&self, org: OrgId, project: &ProjectId, name: &str) -> Result<bool>;
}

#[async_trait]
pub trait TrafficStore: Send + Sync {
    /// Stores a batch in one transaction, all or nothing. A sample whose `id`
    /// exists in its project is skipped. Returns how many were newly stored.
    async fn insert_samples(&self, org: OrgId, samples: &[TrafficSample]) -> Result<u64>;
    /// [`TrafficStore::insert_samples`] under an idempotency key, remembered in
    /// the same transaction: the first request with the key stores the batch;
    /// a repeat with the same body stores nothing and returns the first
    /// request's count; the key with another body is `IdempotencyKeyReused`.
    async fn insert_samples_once(
        &self,
        org: OrgId,
        samples: &[TrafficSample],
        request: &KeyedRequest<'_>,
    ) -> Result<u64>;
    /// The most recent samples of a target (timestamp, then key, descending),
    /// only those strictly older than `older_than` (timestamp, key) when given.
    async fn recent_samples(
        &self,
        org: OrgId,
        target: &Target,
        limit: u32,
        older_than: Option<(DateTime<Utc>, i64)>,
    ) -> Result<Vec<StoredSample>>;
    /// The most recent samples of a target with timestamps in `[from, to)`.
    async fn samples_in_window(
        &self,
        org: OrgId,
        target: &Target,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StoredSample>>;
    /// Per model, the traffic of a project's prompt (first/last seen, count).
    async fn deployments(
        &self,
        org: OrgId,
        project: &ProjectId,
        prompt_id: &str,
    ) -> Result<Vec<Deployment>>;
    /// Samples by key, in the order of `keys` (keys not found are left out).
    async fn samples_by_key(&self, org: OrgId, keys: &[i64]) -> Result<Vec<StoredSample>>;
}

/// OTLP ingest: LLM spans' samples and retriever spans' documents, joined by
/// trace whichever arrives first.
#[async_trait]
pub trait TraceContextStore: Send + Sync {
    /// Atomically and durably: deletes expired documents; keeps `documents`
    /// until `keep_until`; gives each sample its trace's unexpired documents
    /// as `context` (ordered by retriever start, span, position; a sample with
    /// no stored documents keeps its own); inserts the samples exactly as
    /// [`TrafficStore::insert_samples`] does; and sets the context of the
    /// already stored samples of every trace that received documents.
    /// Concurrent calls for the same trace are serialised, so neither order
    /// loses the context. Takes the export by value: SQLite commits the
    /// exports waiting for its writer together.
    async fn ingest_traces(
        &self,
        org: OrgId,
        samples: Vec<TracedSample>,
        documents: Vec<RetrievedDocuments>,
        now: DateTime<Utc>,
        keep_until: DateTime<Utc>,
    ) -> Result<TraceIngest>;
}

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Stores a queued job. With an idempotency key already used in the
    /// organization (keys are scoped to the organization and to this one
    /// endpoint, the only one that creates jobs), stores nothing and returns
    /// the existing job and `false` when its request is the same, else
    /// `IdempotencyKeyReused`: a key never hands out a job of another request
    /// (another project, another target, other options).
    async fn enqueue(&self, job: NewJob) -> Result<(Job, bool)>;
    async fn get_job(&self, org: OrgId, id: JobId) -> Result<Option<Job>>;
    /// Newest first.
    async fn list_jobs(&self, org: OrgId, filter: &JobFilter) -> Result<Vec<Job>>;
    /// Cancels a job that is not terminal; returns the job as it is afterwards
    /// (unchanged when it was already terminal), `None` when not found.
    async fn cancel_job(&self, org: OrgId, id: JobId) -> Result<Option<Job>>;
    /// Claims the oldest runnable job (queued, or running with an expired
    /// lease) for `worker`, with a lease of `lease`. Never hands one job to two
    /// workers: PostgreSQL uses `FOR UPDATE SKIP LOCKED`, SQLite `BEGIN IMMEDIATE`.
    async fn claim_job(&self, worker: &str, lease: Duration) -> Result<Option<ClaimedJob>>;
    /// Extends the lease if `worker` still holds it.
    async fn heartbeat(&self, id: JobId, worker: &str, lease: Duration) -> Result<LeaseState>;
    /// Gives the lease up (graceful shutdown): the job is queued again at once.
    async fn release_job(&self, id: JobId, worker: &str) -> Result<()>;
    /// Stores the plan once; a later call keeps the first plan and returns it.
    async fn save_plan(&self, id: JobId, plan: &JobPlan) -> Result<JobPlan>;
    async fn load_plan(&self, id: JobId) -> Result<Option<JobPlan>>;
    async fn update_progress(
        &self,
        id: JobId,
        worker: &str,
        progress: Progress,
        usage: &Usage,
    ) -> Result<LeaseState>;
    /// Makes the job terminal if `worker` holds its lease and it is not
    /// terminal yet; `false` otherwise (nothing written).
    async fn finish_job(&self, id: JobId, worker: &str, completion: &JobCompletion)
    -> Result<bool>;
    async fn queue_depth(&self) -> Result<QueueDepth>;
}

#[async_trait]
pub trait ResultStore: Send + Sync {
    /// Stores results; one already stored for (job, role, sample key) is kept
    /// as it is, so a resumed job never records a sample twice.
    async fn save_results(&self, job: JobId, results: &[StoredResult]) -> Result<()>;
    /// Every stored result of a job (both roles), in sample-key order.
    async fn job_results(&self, job: JobId) -> Result<Vec<StoredResult>>;
    /// A page of the current side's results, by sample key ascending, after
    /// `after`; only flagged (`Some(true)`) or only unflagged (`Some(false)`) ones.
    async fn list_results(
        &self,
        job: JobId,
        flagged: Option<bool>,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredResult>>;
}

#[async_trait]
pub trait JudgeCacheStore: Send + Sync {
    async fn get_verdict(&self, key: &str) -> Result<Option<serde_json::Value>>;
    async fn put_verdict(&self, key: &str, verdict: &serde_json::Value) -> Result<()>;
    /// Stores several verdicts in one transaction (the judges write behind
    /// their calls in batches: one transaction per verdict costs more CPU
    /// than the judge call itself).
    async fn put_verdicts(&self, entries: &[(String, serde_json::Value)]) -> Result<()>;
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn create_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<()>;
    async fn list_endpoints(&self, org: OrgId, project: &ProjectId)
    -> Result<Vec<WebhookEndpoint>>;
    async fn delete_endpoint(&self, org: OrgId, id: Uuid) -> Result<bool>;
    /// Queues one delivery per endpoint of the project subscribed to the event.
    async fn enqueue_event(
        &self,
        org: OrgId,
        project: &ProjectId,
        event_type: &str,
        payload: &serde_json::Value,
    ) -> Result<u64>;
    /// Claims a pending delivery whose time has come, with its endpoint, for `lease`.
    async fn claim_delivery(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<(WebhookDelivery, WebhookEndpoint)>>;
    async fn record_attempt(&self, delivery: Uuid, attempt: &DeliveryAttempt) -> Result<()>;
    async fn list_deliveries(
        &self,
        org: OrgId,
        endpoint: Uuid,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>>;
}

#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// A round trip to the database.
    async fn ping(&self) -> Result<()>;
}
