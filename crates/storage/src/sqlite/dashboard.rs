//! The dashboard's aggregate reads on SQLite (its JSON1 functions stand in
//! for PostgreSQL's `jsonb` operators).

use std::collections::BTreeMap;

use async_trait::async_trait;
use evalguard_domain::{JobId, OrgId, ProjectId};
use sqlx::Row;

use super::{Result, SqliteStore, from_json, from_micros};
use crate::dashboard::{
    DashboardStore, ScoreDistribution, ScoredValue, TrendPoint, distributions_of, role_from,
};

/// Every result's scores: SQLite's JSON functions (`json_each`, then
/// `json_extract` per value) cost more than reading the scores here, so the
/// values are counted in Rust (the other result columns are not read).
const SCORES: &str = "SELECT role, scores FROM job_results WHERE job_id = ?";

/// What the counting needs of a score outcome; the reasoning is skipped.
#[derive(serde::Deserialize)]
struct ScoredFields {
    outcome: String,
    value: Option<f64>,
    label: Option<String>,
}

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
        let rows = sqlx::query(SCORES)
            .bind(job.0.to_string())
            .fetch_all(&self.reader)
            .await?;
        let mut values = Vec::new();
        for r in &rows {
            let role = role_from(&r.try_get::<String, _>("role")?)?;
            let scores: BTreeMap<String, ScoredFields> =
                from_json(&r.try_get::<String, _>("scores")?)?;
            for (scorer, fields) in scores {
                if let ("scored", Some(value)) = (fields.outcome.as_str(), fields.value) {
                    values.push(ScoredValue {
                        scorer,
                        role,
                        value,
                        labelled: fields.label.as_deref() == Some(label),
                    });
                }
            }
        }
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
