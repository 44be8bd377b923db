//! The dashboard's aggregate reads on PostgreSQL.

use async_trait::async_trait;
use evalguard_domain::{JobId, OrgId, ProjectId};
use sqlx::Row;

use super::{PostgresStore, unsigned};
use crate::dashboard::{
    BinRow, DashboardStore, ScoreDistribution, TrendPoint, fold_bins, role_from,
};
use crate::error::StorageError;

/// Per scorer and side: the mean, the scorer's span over both sides, then
/// per bin the count, the squared deviations from the side's mean and the
/// labelled values. `$2` is the number of bins; a constant scorer is one bin.
const DISTRIBUTIONS: &str = "\
WITH v AS (
    SELECT r.role, s.key AS scorer, (s.value->>'value')::float8 AS x, s.value->>'label' AS label
    FROM job_results r CROSS JOIN LATERAL jsonb_each(r.scores) AS s
    WHERE r.job_id = $1 AND s.value->>'outcome' = 'scored'
), side AS (
    SELECT scorer, role, avg(x) AS mean FROM v GROUP BY scorer, role
), span AS (
    SELECT scorer, min(x) AS lo, max(x) AS hi FROM v GROUP BY scorer
)
SELECT v.scorer, v.role, side.mean, span.lo, span.hi,
    CASE WHEN span.hi > span.lo
         THEN LEAST($2::float8 - 1, floor((v.x - span.lo) / (span.hi - span.lo) * $2::float8))::int8
         ELSE 0 END AS bin,
    count(*) AS n,
    sum((v.x - side.mean) * (v.x - side.mean)) AS ss,
    count(*) FILTER (WHERE v.label = $3) AS labelled
FROM v JOIN side ON side.scorer = v.scorer AND side.role = v.role
       JOIN span ON span.scorer = v.scorer
GROUP BY v.scorer, v.role, side.mean, span.lo, span.hi, bin
ORDER BY v.scorer, v.role, bin";

/// Each target's latest succeeded jobs, through the partial index
/// `jobs_target_succeeded` (migration 0009): one index range per target.
const TRENDS: &str = "\
SELECT t.model, t.prompt_id, j.created_at, s.key AS scorer, (s.value->>'mean')::float8 AS mean
FROM UNNEST($3::text[], $4::text[]) AS t(model, prompt_id)
CROSS JOIN LATERAL (
    SELECT created_at, summary FROM jobs
    WHERE org_id = $1 AND project_id = $2 AND status = 'succeeded'
      AND request->'target'->>'model' = t.model AND request->'target'->>'prompt_id' = t.prompt_id
    ORDER BY id DESC LIMIT $5
) AS j
CROSS JOIN LATERAL jsonb_each(j.summary) AS s
WHERE s.value->>'unit' IS NULL AND s.value->>'mean' IS NOT NULL";

#[async_trait]
impl DashboardStore for PostgresStore {
    async fn score_distributions(
        &self,
        job: JobId,
        bins: u32,
        label: &str,
    ) -> Result<Vec<ScoreDistribution>, StorageError> {
        let rows = sqlx::query(DISTRIBUTIONS)
            .bind(job.0)
            .bind(i32::try_from(bins.max(1)).unwrap_or(i32::MAX))
            .bind(label)
            .fetch_all(&self.pool)
            .await?;
        let rows = rows
            .iter()
            .map(|r| {
                Ok(BinRow {
                    scorer: r.try_get("scorer")?,
                    role: role_from(&r.try_get::<String, _>("role")?)?,
                    bin: r.try_get("bin")?,
                    count: unsigned(r.try_get("n")?, "n")?,
                    squared_deviations: r.try_get("ss")?,
                    labelled: unsigned(r.try_get("labelled")?, "labelled")?,
                    mean: r.try_get("mean")?,
                    low: r.try_get("lo")?,
                    high: r.try_get("hi")?,
                })
            })
            .collect::<Result<Vec<_>, StorageError>>()?;
        Ok(fold_bins(rows, bins.max(1)))
    }

    async fn target_trends(
        &self,
        org: OrgId,
        project: &ProjectId,
        targets: &[(String, String)],
        per_target: u32,
    ) -> Result<Vec<TrendPoint>, StorageError> {
        let (models, prompts): (Vec<&str>, Vec<&str>) = targets
            .iter()
            .map(|(m, p)| (m.as_str(), p.as_str()))
            .unzip();
        let rows = sqlx::query(TRENDS)
            .bind(org.0)
            .bind(project.as_str())
            .bind(models)
            .bind(prompts)
            .bind(i64::from(per_target))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TrendPoint {
                    model: r.try_get("model")?,
                    prompt_id: r.try_get("prompt_id")?,
                    created_at: r.try_get("created_at")?,
                    scorer: r.try_get("scorer")?,
                    mean: r.try_get("mean")?,
                })
            })
            .collect()
    }
}
