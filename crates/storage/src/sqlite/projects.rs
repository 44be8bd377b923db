//! Projects and their rubrics.

use async_trait::async_trait;
use evalguard_domain::project::{Project, ProjectSettings, RubricDefinition};
use evalguard_domain::{OrgId, ProjectId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{
    Result, SqliteStore, conflict_or, from_json, from_micros, micros, parse_project, to_json,
};
use crate::traits::ProjectStore;

fn project_from_row(row: &SqliteRow) -> Result<Project> {
    Ok(Project {
        id: parse_project(&row.try_get::<String, _>("id")?)?,
        name: row.try_get("name")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        settings: from_json(&row.try_get::<String, _>("settings")?)?,
    })
}

fn rubric_from_row(row: &SqliteRow) -> Result<RubricDefinition> {
    Ok(RubricDefinition {
        name: row.try_get("name")?,
        criteria: row.try_get("criteria")?,
        score_min: row.try_get("score_min")?,
        score_max: row.try_get("score_max")?,
        pass_threshold: row.try_get("pass_threshold")?,
        created_at: from_micros(row.try_get("created_at")?)?,
    })
}

#[async_trait]
impl ProjectStore for SqliteStore {
    async fn create_project(&self, org: OrgId, project: &Project) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO projects (org_id, id, name, settings, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(org.0.to_string())
        .bind(project.id.as_str())
        .bind(&project.name)
        .bind(to_json(&project.settings)?)
        .bind(micros(project.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, format!("project {}", project.id)))?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_projects(&self, org: OrgId) -> Result<Vec<Project>> {
        let rows = sqlx::query(
            "SELECT id, name, settings, created_at FROM projects WHERE org_id = ? ORDER BY created_at, id",
        )
        .bind(org.0.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(project_from_row).collect()
    }

    async fn get_project(&self, org: OrgId, id: &ProjectId) -> Result<Option<Project>> {
        let row = sqlx::query(
            "SELECT id, name, settings, created_at FROM projects WHERE org_id = ? AND id = ?",
        )
        .bind(org.0.to_string())
        .bind(id.as_str())
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(project_from_row).transpose()
    }

    async fn update_project_settings(
        &self,
        org: OrgId,
        id: &ProjectId,
        settings: &ProjectSettings,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE projects SET settings = ? WHERE org_id = ? AND id = ?")
            .bind(to_json(settings)?)
            .bind(org.0.to_string())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_rubric(
        &self,
        org: OrgId,
        project: &ProjectId,
        rubric: &RubricDefinition,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO rubrics (org_id, project_id, name, criteria, score_min, score_max, pass_threshold, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (org_id, project_id, name) DO UPDATE SET
                criteria = excluded.criteria, score_min = excluded.score_min,
                score_max = excluded.score_max, pass_threshold = excluded.pass_threshold,
                created_at = excluded.created_at",
        )
        .bind(org.0.to_string())
        .bind(project.as_str())
        .bind(&rubric.name)
        .bind(&rubric.criteria)
        .bind(rubric.score_min)
        .bind(rubric.score_max)
        .bind(rubric.pass_threshold)
        .bind(micros(rubric.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                crate::error::StorageError::NotFound(format!("project {project}"))
            }
            _ => e.into(),
        })?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_rubrics(&self, org: OrgId, project: &ProjectId) -> Result<Vec<RubricDefinition>> {
        let rows = sqlx::query(
            "SELECT name, criteria, score_min, score_max, pass_threshold, created_at
             FROM rubrics WHERE org_id = ? AND project_id = ? ORDER BY name",
        )
        .bind(org.0.to_string())
        .bind(project.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(rubric_from_row).collect()
    }

    async fn delete_rubric(&self, org: OrgId, project: &ProjectId, name: &str) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done =
            sqlx::query("DELETE FROM rubrics WHERE org_id = ? AND project_id = ? AND name = ?")
                .bind(org.0.to_string())
                .bind(project.as_str())
                .bind(name)
                .execute(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
