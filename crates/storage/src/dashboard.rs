//! Read-only queries only the dashboard makes, answered by the database in
//! aggregate so that a page's cost does not grow with a job's sample count
//! or a project's job count.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::scoring::SampleRole;
use evalguard_domain::{JobId, OrgId, ProjectId};

use crate::error::StorageError;

type Result<T> = std::result::Result<T, StorageError>;

/// One scorer's scored values on one side of a job, in aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreDistribution {
    pub scorer: String,
    pub role: SampleRole,
    pub n: u64,
    pub mean: f64,
    /// The sum of squared deviations from `mean` (the variance times n − 1).
    pub squared_deviations: f64,
    /// The scorer's lowest and highest value over both sides: the bins' span,
    /// the same for both sides so that they compare bin by bin.
    pub low: f64,
    pub high: f64,
    /// Values per bin of `[low, high]`, equal widths, the last bin closed.
    pub bins: Vec<u64>,
    /// How many values carry the label asked for.
    pub labelled: u64,
}

/// One judge score (a scorer without a unit) of a succeeded job of a
/// target: a point of the score's trend.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    pub model: String,
    pub prompt_id: String,
    pub created_at: DateTime<Utc>,
    pub scorer: String,
    /// The job's mean of the score.
    pub mean: f64,
}

#[async_trait]
pub trait DashboardStore: Send + Sync {
    /// Per scorer and side, the job's scored values counted into `bins`
    /// bins, with their mean and spread and how many carry `label`.
    async fn score_distributions(
        &self,
        job: JobId,
        bins: u32,
        label: &str,
    ) -> Result<Vec<ScoreDistribution>>;

    /// For each (model, prompt id) of `targets`, the judge scores' means of
    /// its latest `per_target` succeeded jobs of the project (read from the
    /// jobs' summaries by the database: a few numbers per job).
    async fn target_trends(
        &self,
        org: OrgId,
        project: &ProjectId,
        targets: &[(String, String)],
        per_target: u32,
    ) -> Result<Vec<TrendPoint>>;
}

/// Folds per-bin rows `(scorer, role, bin, count, squared deviations,
/// labelled, mean, low, high)`, ordered by scorer and role, into one
/// distribution per scorer and side. Both backends answer in these rows.
pub(crate) fn fold_bins(rows: Vec<BinRow>, bins: u32) -> Vec<ScoreDistribution> {
    let mut out: Vec<ScoreDistribution> = Vec::new();
    for row in rows {
        let same = out
            .last()
            .is_some_and(|d| d.scorer == row.scorer && d.role == row.role);
        if !same {
            out.push(ScoreDistribution {
                scorer: row.scorer.clone(),
                role: row.role,
                n: 0,
                mean: row.mean,
                squared_deviations: 0.0,
                low: row.low,
                high: row.high,
                bins: vec![0; bins as usize],
                labelled: 0,
            });
        }
        if let Some(d) = out.last_mut() {
            d.n += row.count;
            d.squared_deviations += row.squared_deviations;
            d.labelled += row.labelled;
            if let Some(slot) = usize::try_from(row.bin)
                .ok()
                .and_then(|b| d.bins.get_mut(b))
            {
                *slot += row.count;
            }
        }
    }
    out
}

/// One bin of one scorer's side, as the queries return it.
pub(crate) struct BinRow {
    pub scorer: String,
    pub role: SampleRole,
    pub bin: i64,
    pub count: u64,
    pub squared_deviations: f64,
    pub labelled: u64,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

pub(crate) fn role_from(raw: &str) -> Result<SampleRole> {
    match raw {
        "current" => Ok(SampleRole::Current),
        "baseline" => Ok(SampleRole::Baseline),
        other => Err(StorageError::Corrupt(format!(
            "unknown sample role {other:?}"
        ))),
    }
}
