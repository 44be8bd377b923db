//! EvalGuard's domain: what a traffic sample, a job, a key, a score and a flag
//! are, and the pure decisions made about them. Nothing here does I/O, so every
//! rule can be unit- and property-tested without a database or a network.

pub mod access;
pub mod analysis;
pub mod ids;
pub mod input;
pub mod job;
pub mod otlp;
pub mod project;
pub mod retry_backoff;
pub mod sample_metadata;
pub mod scorers;
pub mod scoring;
pub mod traffic;
pub mod webhook_target;

pub use access::{ApiKeySecret, Principal, Role};
pub use ids::{JobId, OrgId, ProjectId};
pub use job::{
    AutoEvalRequest, BaselineSpec, Flag, FlagKind, Job, JobStatus, Progress, Severity, Target,
    Usage,
};
pub use retry_backoff::BackoffPolicy;
pub use sample_metadata::SampleMetadata;
pub use scoring::{ScoreKind, ScoreOutcome, Scorer, ScorerRun};
pub use traffic::TrafficSample;
