//! The scorer interface shared by deterministic scorers and LLM judges.
//!
//! A scorer never turns a failure into a number: every (sample, scorer) pair
//! ends as exactly one [`ScoreOutcome`], and only `Scored` enters statistics.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::traffic::TrafficSample;

/// What a scorer's value means, which decides how it is summarised and tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ScoreKind {
    /// A judge score on 0–1, higher is better. Feeds regression and drift.
    Score,
    /// A pass/fail check: value 1 (pass) or 0 (fail). Feeds regression and drift.
    PassFail,
    /// A measurement in its natural unit (`characters`, `ms`, `tokens`). Feeds drift only.
    Measurement { unit: &'static str },
}

impl ScoreKind {
    pub fn unit(self) -> Option<&'static str> {
        match self {
            ScoreKind::Measurement { unit } => Some(unit),
            _ => None,
        }
    }

    /// Whether regressions are judged on this scorer (measurements only drift).
    pub fn feeds_regression(self) -> bool {
        !matches!(self, ScoreKind::Measurement { .. })
    }
}

/// The one outcome of scoring one sample with one scorer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ScoreOutcome {
    Scored {
        value: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reasoning: Option<String>,
    },
    /// The scorer does not apply (e.g. faithfulness without context).
    NotApplicable { reason: String },
    /// The judge answered, but not in a form we can read; the raw reply is kept.
    Unparsable { raw: String, reason: String },
    /// The provider failed after retries, or the scorer was stopped.
    Error { cause: String },
}

impl ScoreOutcome {
    pub fn scored(value: f64) -> Self {
        ScoreOutcome::Scored {
            value,
            label: None,
            reasoning: None,
        }
    }

    pub fn value(&self) -> Option<f64> {
        match self {
            ScoreOutcome::Scored { value, .. } => Some(*value),
            _ => None,
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, ScoreOutcome::Error { .. })
    }
}

/// Cost accounting of one scorer run (zero for deterministic scorers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CallUsage {
    pub judge_requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cache_hits: u64,
    pub cost_usd: f64,
}

impl CallUsage {
    pub fn add(&mut self, other: &CallUsage) {
        self.judge_requests += other.judge_requests;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.cache_hits += other.cache_hits;
        self.cost_usd += other.cost_usd;
    }
}

/// What a scorer returns for one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorerRun {
    pub outcome: ScoreOutcome,
    pub usage: CallUsage,
    /// With repeats > 1: whether every repeat gave the same verdict.
    pub agreed: Option<bool>,
}

impl From<ScoreOutcome> for ScorerRun {
    fn from(outcome: ScoreOutcome) -> Self {
        Self {
            outcome,
            usage: CallUsage::default(),
            agreed: None,
        }
    }
}

/// Per-job options a scorer must honour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreOptions {
    /// Whether cached judge verdicts may be reused.
    pub cache: bool,
    /// How many times a judge scores each sample (majority verdict).
    pub repeats: u32,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        Self {
            cache: true,
            repeats: 1,
        }
    }
}

pub type ScoreFuture<'a> = Pin<Box<dyn Future<Output = ScorerRun> + Send + 'a>>;

/// A scorer: deterministic (pure, cheap, batched by the runner) or an LLM judge
/// (async, fallible, cost-accounted).
pub trait Scorer: Send + Sync {
    fn name(&self) -> &str;
    fn kind(&self) -> ScoreKind;
    /// Deterministic scorers make no calls; the runner scores them inline.
    fn is_deterministic(&self) -> bool;
    /// Whether an outcome passes this scorer's threshold; `None` when it does
    /// not apply (measurements, or outcomes other than `Scored`).
    fn passes(&self, outcome: &ScoreOutcome) -> Option<bool>;
    fn score<'a>(&'a self, sample: &'a TrafficSample, options: ScoreOptions) -> ScoreFuture<'a>;
}

/// Which side of the comparison a scored sample belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleRole {
    Current,
    Baseline,
}

impl SampleRole {
    pub fn as_str(self) -> &'static str {
        match self {
            SampleRole::Current => "current",
            SampleRole::Baseline => "baseline",
        }
    }
}

/// Every scorer's outcome for one sample of a job, with the sample it
/// judged: one item of `/results`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SampleResult {
    pub sample_id: String,
    /// One of the scores did not pass.
    pub flagged: bool,
    /// The sample as it was judged (absent only if it could not be read back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<JudgedSample>,
    pub scores: BTreeMap<String, ResultScore>,
}

/// The parts of a traffic sample a person needs to understand a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JudgedSample {
    pub input: String,
    pub output: String,
    #[serde(default)]
    pub context: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub model: String,
    pub prompt_id: String,
    pub timestamp: chrono::DateTime<chrono::Utc>,
}

impl From<&TrafficSample> for JudgedSample {
    fn from(s: &TrafficSample) -> Self {
        Self {
            input: s.input.clone(),
            output: s.output.clone(),
            context: s.context.clone(),
            reference: s.reference.clone(),
            model: s.model.clone(),
            prompt_id: s.prompt_id.clone(),
            timestamp: s.timestamp,
        }
    }
}

/// One scorer's outcome for a sample, and whether it passed the scorer's
/// threshold (absent for scorers without one, and for outcomes other than `scored`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResultScore {
    #[serde(flatten)]
    pub outcome: ScoreOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
}

/// Whether a named scorer can run for a project.
#[derive(Clone)]
pub enum ScorerAvailability {
    Ready(std::sync::Arc<dyn Scorer>),
    /// Known, but cannot run here (e.g. a judge with no provider configured).
    Skipped {
        reason: String,
    },
    /// No scorer has that name.
    Unknown,
}

/// Resolves scorer names to scorers. The binary builds one from the
/// deterministic scorers and the configured judge providers; jobs and request
/// validation both go through it.
pub trait ScorerCatalog: Send + Sync {
    /// `rubrics` are the project's own rubric scorers.
    fn resolve(
        &self,
        name: &str,
        rubrics: &[crate::project::RubricDefinition],
    ) -> ScorerAvailability;
    /// The scorer set of a project that has not chosen one.
    fn default_set(&self) -> Vec<String>;
}
