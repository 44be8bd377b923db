//! The dashboard's aggregate reads on SQLite (its JSON1 functions stand in
//! for PostgreSQL's `jsonb` operators).

use async_trait::async_trait;
use evalguard_domain::{JobId, OrgId, ProjectId};
use sqlx::Row;

use super::{Result, SqliteStore, from_micros};
use crate::dashboard::{
    BinRow, DashboardStore, ScoreDistribution, TrendPoint, fold_bins, role_from,
};
use crate::error::StorageError;

/// As on PostgreSQL (see there). `?2` is the number of bins; the values are
/// at least the span's low end, so `CAST … AS INTEGER` is the floor.
const DISTRIBUTIONS: &str = "\
WITH v AS (
    SELECT r.role AS role, s.key AS scorer, CAST(json_extract(s.value, '$.value') AS REAL) AS x,
           json_extract(s.value, '$.label') AS label
    FROM job_results r, json_each(r.scores) AS s
    WHERE r.job_id = ?1 AND json_extract(s.value, '$.outcome') = 'scored'
), side AS (
    SELECT scorer, role, avg(x) AS mean FROM v GROUP BY scorer, role
), span AS (
    SELECT scorer, min(x) AS lo, max(x) AS hi FROM v GROUP BY scorer
)
SELECT v.scorer AS scorer, v.role AS role, side.mean AS mean, span.lo AS lo, span.hi AS hi,
    CASE WHEN span.hi > span.lo
         THEN min(?2 - 1, CAST((v.x - span.lo) / (span.hi - span.lo) * ?2 AS INTEGER))
         ELSE 0 END AS bin,
    count(*) AS n,
    total((v.x - side.mean) * (v.x - side.mean)) AS ss,
    total(v.label = ?3) AS labelled
FROM v JOIN side ON side.scorer = v.scorer AND side.role = v.role
       JOIN span ON span.scorer = v.scorer
GROUP BY v.scorer, v.role, bin
ORDER BY v.scorer, v.role, bin";

/// One target's latest succeeded jobs, through the partial index
/// `jobs_target_succeeded` (migration 0009; the expressions are the index's).
const TRENDS: &str = "\
SELECT j.created_at AS created_at, s.key AS scorer, CAST(json_extract(s.value, '$.mean') AS REAL) AS mean
FROM (
    SELECT created_at, summary FROM jobs
    WHERE org_id = ? AND project_id = ? AND status = 'succeeded'
      AND json_extract(request, '$.target.model') = ? AND json_extract(request, '$.target.prompt_id') = ?
    ORDER BY id DESC LIMIT ?
) AS j, json_each(j.summary) AS s
WHERE json_extract(s.value, '$.unit') IS NULL AND json_extract(s.value, '$.mean') IS NOT NULL";

#[async_trait]
impl DashboardStore for SqliteStore {
    async fn score_distributions(
        &self,
        job: JobId,
        bins: u32,
        label: &str,
    ) -> Result<Vec<ScoreDistribution>> {
        let bins = bins.max(1);
        let rows = sqlx::query(DISTRIBUTIONS)
            .bind(job.0.to_string())
            .bind(i64::from(bins))
            .bind(label)
            .fetch_all(&self.reader)
            .await?;
        let rows = rows
            .iter()
            .map(|r| {
                let count: i64 = r.try_get("n")?;
                // A count kept as REAL by `total`: exact below 2^53.
                let labelled = r.try_get::<f64, _>("labelled")?.max(0.0) as u64;
                Ok(BinRow {
                    scorer: r.try_get("scorer")?,
                    role: role_from(&r.try_get::<String, _>("role")?)?,
                    bin: r.try_get("bin")?,
                    count: u64::try_from(count)
                        .map_err(|_| StorageError::Corrupt(format!("bin count {count}")))?,
                    squared_deviations: r.try_get("ss")?,
                    labelled,
                    mean: r.try_get("mean")?,
                    low: r.try_get("lo")?,
                    high: r.try_get("hi")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(fold_bins(rows, bins))
    }

    async fn target_trends(
        &self,
        org: OrgId,
        project: &ProjectId,
        targets: &[(String, String)],
        per_target: u32,
    ) -> Result<Vec<TrendPoint>> {
        let mut points = Vec::new();
        // One indexed range per target; in-process queries cost no round trip.
        for (model, prompt_id) in targets {
            let rows = sqlx::query(TRENDS)
                .bind(org.0.to_string())
                .bind(project.as_str())
                .bind(model)
                .bind(prompt_id)
                .bind(i64::from(per_target))
                .fetch_all(&self.reader)
                .await?;
            for r in &rows {
                points.push(TrendPoint {
                    model: model.clone(),
                    prompt_id: prompt_id.clone(),
                    created_at: from_micros(r.try_get("created_at")?)?,
                    scorer: r.try_get("scorer")?,
                    mean: r.try_get("mean")?,
                });
            }
        }
        Ok(points)
    }
}
