//! The dashboard's aggregate reads on SQLite (its JSON1 functions stand in
//! for PostgreSQL's `jsonb` operators).

use async_trait::async_trait;
use evalguard_domain::{JobId, OrgId, ProjectId};
use sqlx::Row;

use super::{Result, SqliteStore, from_micros};
use crate::dashboard::{
    DashboardStore, ScoreDistribution, ScoredValue, TrendPoint, distributions_of, role_from,
};

/// Every scored value of a job, one `json_each` pass; SQLite's JSON
/// functions make a grouped and joined query (as on PostgreSQL) slower than
/// counting these few columns in Rust.
const SCORED_VALUES: &str = "\
SELECT r.role AS role, s.key AS scorer, CAST(json_extract(s.value, '$.value') AS REAL) AS x,
       coalesce(json_extract(s.value, '$.label') = ?2, 0) AS hit
FROM job_results r, json_each(r.scores) AS s
WHERE r.job_id = ?1 AND json_extract(s.value, '$.outcome') = 'scored'
ORDER BY s.key, r.role";

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
        let rows = sqlx::query(SCORED_VALUES)
            .bind(job.0.to_string())
            .bind(label)
            .fetch_all(&self.reader)
            .await?;
        let values = rows
            .iter()
            .map(|r| {
                Ok(ScoredValue {
                    scorer: r.try_get("scorer")?,
                    role: role_from(&r.try_get::<String, _>("role")?)?,
                    value: r.try_get("x")?,
                    labelled: r.try_get::<i64, _>("hit")? != 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(distributions_of(&values, bins.max(1)))
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
