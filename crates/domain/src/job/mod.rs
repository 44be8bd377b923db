//! Auto-eval jobs as stored and as the API shows them; the request that
//! starts one is in [`request`].

mod request;

pub use request::*;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{JobId, OrgId, ProjectId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "queued" => Some(JobStatus::Queued),
            "running" => Some(JobStatus::Running),
            "succeeded" => Some(JobStatus::Succeeded),
            "failed" => Some(JobStatus::Failed),
            "cancelled" => Some(JobStatus::Cancelled),
            _ => None,
        }
    }

    /// A terminal job is never changed again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

/// What is evaluated: one prompt of one project, served by one model.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Target {
    pub model: String,
    pub prompt_id: String,
    #[schema(value_type = String)]
    pub project_id: ProjectId,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Progress {
    pub total: u32,
    pub done: u32,
    pub errors: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Usage {
    pub judge_requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cache_hits: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    Hallucination,
    Drift,
    Regression,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Critical,
}

/// The numbers behind a flag, named the same way for every test.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Evidence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistic: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_adjusted: Option<f64>,
    /// Current minus baseline, on the scorer's higher-is-better scale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci_low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci_high: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_current: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_baseline: Option<u64>,
    /// Test-specific extras (e.g. `threshold`, `rate`, `distance`).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Flag {
    pub kind: FlagKind,
    pub severity: Severity,
    pub metric: String,
    pub message: String,
    pub evidence: Evidence,
}

/// How many (sample, scorer) pairs ended in each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutcomeCounts {
    pub scored: u64,
    pub not_applicable: u64,
    pub unparsable: u64,
    pub error: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SideSummary {
    pub n: u64,
    pub mean: Option<f64>,
}

/// One scorer's line of the job summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScorerSummary {
    pub n: u64,
    pub mean: Option<f64>,
    /// The unit of a measurement (`characters`, `ms`, `tokens`); absent for 0–1 scores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub outcomes: OutcomeCounts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<SideSummary>,
    /// With `repeats > 1`: the share of samples whose verdicts all agreed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement: Option<f64>,
    /// Why the scorer did not run (e.g. no judge provider configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// The baseline a job used, or why it had none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BaselineInfo {
    /// `deployment`, `window`, `earlier_window` or `none`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    pub n: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Why a job's evidence is incomplete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// A scorer gave no verdict (`error` or `unparsable`) on more than 5% of
    /// the samples it applied to.
    JudgeVerdictsMissing,
    /// The request named a scorer that could not run (e.g. no judge provider).
    JudgeNotConfigured,
}

/// A reason not to trust a job's silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobWarning {
    pub code: WarningCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scorer: Option<String>,
    pub message: String,
    /// How many samples lack a verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobError {
    pub code: String,
    pub message: String,
}

/// A job as stored and as answered by the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Job {
    #[serde(rename = "job_id")]
    #[schema(value_type = String, format = Uuid)]
    pub id: JobId,
    #[serde(skip)]
    #[schema(ignore)]
    pub org_id: OrgId,
    pub status: JobStatus,
    pub target: Target,
    pub sample_count: u32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub progress: Progress,
    pub partial: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    pub summary: BTreeMap<String, ScorerSummary>,
    pub flags: Vec<Flag>,
    /// What leaves the evidence incomplete (empty when nothing does).
    #[serde(default)]
    pub warnings: Vec<JobWarning>,
    pub usage: Usage,
    pub baseline: Option<BaselineInfo>,
    pub error: Option<JobError>,
}
