//! Records that cross the storage boundary and are not part of the public API.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use evalguard_domain::job::{
    AutoEvalRequest, BaselineInfo, Flag, JobError, JobStatus, JobWarning, Progress, ScorerSummary,
    Usage,
};
use evalguard_domain::scoring::{CallUsage, SampleRole, ScoreOutcome};
use evalguard_domain::{Job, JobId, OrgId, ProjectId, Role, TrafficSample};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub org_id: OrgId,
    /// The public part of the key (indexed, unique).
    pub key_id: String,
    /// SHA-256 of the whole key, hex.
    pub hash: String,
    pub role: Role,
    pub project: Option<ProjectId>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    pub org_id: OrgId,
    pub key_id: String,
    pub hash: String,
    pub role: Role,
    pub project: Option<ProjectId>,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A traffic sample with its storage key: a per-database increasing integer
/// that orders samples of equal timestamp by arrival and is what jobs store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSample {
    pub key: i64,
    pub sample: TrafficSample,
}

/// One model's traffic for a project and prompt: used to find the previous deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub model: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub samples: u64,
}

#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: JobId,
    pub org_id: OrgId,
    pub request: AutoEvalRequest,
    /// With the org, makes a repeated POST return the same job.
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub project: Option<ProjectId>,
    pub status: Option<JobStatus>,
    /// Jobs created before this one (ids are UUIDv7: newest first).
    pub before: Option<JobId>,
    pub limit: u32,
}

/// A job a worker holds the lease of.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub job: Job,
    pub request: AutoEvalRequest,
    /// 1 on the first claim; more when a lease expired and the job was reclaimed.
    pub attempt: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// The lease is ours and extended.
    Held,
    /// The job was cancelled: stop work, write nothing more.
    Cancelled,
    /// Another worker holds it now, or the job is terminal: stop at once.
    Lost,
}

/// The samples a job evaluates, fixed when it first starts so that a resumed
/// job scores exactly the same set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPlan {
    pub current: Vec<i64>,
    pub baseline: Vec<i64>,
    pub baseline_info: BaselineInfo,
    /// Resolved scorer names, and the ones skipped with their reasons.
    pub scorers: Vec<String>,
    pub skipped: BTreeMap<String, String>,
}

/// The final state written when a job becomes terminal.
#[derive(Debug, Clone)]
pub struct JobCompletion {
    pub status: JobStatus,
    pub finished_at: DateTime<Utc>,
    pub progress: Progress,
    pub partial: bool,
    pub stop_reason: Option<String>,
    pub summary: BTreeMap<String, ScorerSummary>,
    pub flags: Vec<Flag>,
    pub warnings: Vec<JobWarning>,
    pub usage: Usage,
    pub baseline: Option<BaselineInfo>,
    pub error: Option<JobError>,
    /// Webhook events of the job's project, queued for every subscribed
    /// endpoint in the transaction that makes the job terminal: a crash
    /// cannot finish a job and lose its events.
    pub events: Vec<JobEvent>,
}

/// One webhook event (`auto_eval.completed`, …) and its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEvent {
    pub event_type: String,
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub queued: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// When the job waiting longest was enqueued; `None` with none queued.
    pub oldest_queued_at: Option<DateTime<Utc>>,
}

/// Every scorer's outcome for one sample of one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredResult {
    pub role: SampleRole,
    pub sample_key: i64,
    pub sample_id: String,
    pub flagged: bool,
    pub scores: BTreeMap<String, ScoreOutcome>,
    pub usage: CallUsage,
    /// Per scorer, with repeats > 1: whether the repeats agreed.
    #[serde(default)]
    pub agreement: BTreeMap<String, bool>,
    /// Per scorer with a pass threshold: whether the score passed it.
    #[serde(default)]
    pub passed: BTreeMap<String, bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    #[serde(skip)]
    pub org_id: OrgId,
    pub project_id: ProjectId,
    pub url: String,
    pub events: Vec<String>,
    /// `whsec_…`; shown on creation only.
    #[serde(skip)]
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_type: String,
    pub payload: serde_json::Value,
    /// `pending`, `delivered` or `failed` (gave up).
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// What happened on one delivery attempt.
#[derive(Debug, Clone)]
pub struct DeliveryAttempt {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    /// `None` when delivered or given up; else when to try again.
    pub retry_at: Option<DateTime<Utc>>,
    pub delivered: bool,
}

/// What a retention sweep deletes, each kind by its own age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionArea {
    /// Traffic samples, by their timestamp.
    Traffic,
    /// Per-sample results, by their job's finish time (the jobs, with their
    /// summaries and flags, stay).
    Results,
    /// Cached judge verdicts, by when they were stored.
    Verdicts,
    /// Finished webhook deliveries (delivered or given up), by when they were
    /// queued; pending ones are kept.
    Deliveries,
    /// Remembered ingest `Idempotency-Key`s, by when their request came: a
    /// repeat after that is taken as a new request (sample ids still dedupe it).
    IngestKeys,
}

/// Which of a project's traffic samples to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrafficSelection {
    /// The samples with these client ids (unknown ids are ignored).
    SampleIds(Vec<String>),
    /// The samples whose timestamp is in `[from, to)`; an open end is unbounded.
    TimeRange {
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
}

/// What [`crate::TraceContextStore::ingest_traces`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TraceIngest {
    /// Samples newly stored (the others were stored before).
    pub stored: u64,
    /// Samples stored earlier whose context was set from arriving documents.
    pub contexts_updated: u64,
}

/// An ingest request sent with an `Idempotency-Key`, as
/// [`crate::TrafficStore::insert_samples_once`] remembers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyedRequest<'a> {
    /// The endpoint the key is scoped to (with the organization), e.g. `traffic`.
    pub endpoint: &'a str,
    /// The client's `Idempotency-Key`.
    pub key: &'a str,
    /// SHA-256 of the request body: the same key with another body is refused.
    pub body_sha256: [u8; 32],
    /// When the request was received.
    pub received_at: DateTime<Utc>,
}

impl KeyedRequest<'_> {
    /// What to answer this request when its key was stored with `body_sha256`
    /// and `stored`: the first request's count, or `IdempotencyKeyReused` when
    /// that request had another body.
    pub(crate) fn answer_again(
        &self,
        body_sha256: &[u8],
        stored: i64,
    ) -> Result<u64, crate::StorageError> {
        if body_sha256 != self.body_sha256 {
            return Err(crate::StorageError::IdempotencyKeyReused);
        }
        Ok(u64::try_from(stored).unwrap_or(0))
    }
}
