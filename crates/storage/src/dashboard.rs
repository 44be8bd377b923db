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

/// One scored value of a job (SQLite reads them and counts them here).
pub(crate) struct ScoredValue {
    pub scorer: String,
    pub role: SampleRole,
    pub value: f64,
    pub labelled: bool,
}

/// The distributions of `values` in `bins` bins, counted as the PostgreSQL
/// query counts them: each scorer's span over both sides, the last bin closed.
pub(crate) fn distributions_of(values: &[ScoredValue], bins: u32) -> Vec<ScoreDistribution> {
    use std::collections::BTreeMap;
    let mut span: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    let mut sides: BTreeMap<(&str, &str), (SampleRole, u64, f64)> = BTreeMap::new();
    for v in values {
        let range = span.entry(&v.scorer).or_insert((v.value, v.value));
        *range = (range.0.min(v.value), range.1.max(v.value));
        let side = sides
            .entry((&v.scorer, v.role.as_str()))
            .or_insert((v.role, 0, 0.0));
        side.1 += 1;
        side.2 += v.value;
    }
    let mut rows: Vec<BinRow> = Vec::with_capacity(values.len());
    for v in values {
        let (low, high) = span.get(v.scorer.as_str()).copied().unwrap_or_default();
        let (_, n, sum) = sides
            .get(&(v.scorer.as_str(), v.role.as_str()))
            .copied()
            .unwrap_or((v.role, 1, v.value));
        let mean = sum / n as f64;
        let bin = if high > low {
            (((v.value - low) / (high - low)) * f64::from(bins))
                .floor()
                .min(f64::from(bins) - 1.0) as i64
        } else {
            0
        };
        rows.push(BinRow {
            scorer: v.scorer.clone(),
            role: v.role,
            bin,
            count: 1,
            squared_deviations: (v.value - mean) * (v.value - mean),
            labelled: u64::from(v.labelled),
            mean,
            low,
            high,
        });
    }
    rows.sort_by(|a, b| (&a.scorer, a.role.as_str()).cmp(&(&b.scorer, b.role.as_str())));
    fold_bins(rows, bins)
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
