//! The targets seen in traffic, read from the aggregate table.

use async_trait::async_trait;
use evalguard_domain::{OrgId, ProjectId};
use sqlx::Row;

use super::{Result, SqliteStore, from_micros};

#[async_trait]
impl crate::targets::TargetStore for SqliteStore {
    async fn list_targets(
        &self,
        org: OrgId,
        project: &ProjectId,
        after: Option<(&str, &str)>,
        limit: u32,
    ) -> Result<Vec<crate::targets::TargetSeen>> {
        let (model, prompt) = after.unwrap_or(("", ""));
        let rows = sqlx::query(
            "SELECT model, prompt_id, sample_count, first_seen, last_seen FROM traffic_targets \
             WHERE org_id = ? AND project_id = ? AND (model > ? OR (model = ? AND prompt_id > ?)) \
             ORDER BY model, prompt_id LIMIT ?",
        )
        .bind(org.0.to_string())
        .bind(project.as_str())
        .bind(model)
        .bind(model)
        .bind(prompt)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(crate::targets::TargetSeen {
                    model: row.try_get("model")?,
                    prompt_id: row.try_get("prompt_id")?,
                    sample_count: u64::try_from(row.try_get::<i64, _>("sample_count")?)
                        .unwrap_or(0),
                    first_seen: from_micros(row.try_get("first_seen")?)?,
                    last_seen: from_micros(row.try_get("last_seen")?)?,
                })
            })
            .collect()
    }
}
