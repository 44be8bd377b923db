//! Projects, their settings, and their rubric scorers.

use async_trait::async_trait;
use evalguard_domain::project::{Project, ProjectSettings, RubricDefinition};
use evalguard_domain::{OrgId, ProjectId};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;

use super::{PostgresStore, conflict_or};
use crate::error::StorageError;
use crate::traits::ProjectStore;

fn project_from_row(row: &PgRow) -> Result<Project, StorageError> {
    let id: String = row.try_get("id")?;
    let Json(settings) = row.try_get::<Json<ProjectSettings>, _>("settings")?;
    Ok(Project {
        id: ProjectId::parse(&id)
            .map_err(|_| StorageError::Corrupt(format!("bad project id {id:?}")))?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        settings,
    })
}

fn rubric_from_row(row: &PgRow) -> Result<RubricDefinition, StorageError> {
    Ok(RubricDefinition {
        name: row.try_get("name")?,
        criteria: row.try_get("criteria")?,
        score_min: row.try_get("score_min")?,
        score_max: row.try_get("score_max")?,
        pass_threshold: row.try_get("pass_threshold")?,
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl ProjectStore for PostgresStore {
    async fn create_project(&self, org: OrgId, project: &Project) -> Result<(), StorageError> {
        sqlx::query("INSERT INTO projects (org_id, id, name, created_at, settings) VALUES ($1, $2, $3, $4, $5)")
            .bind(org.0)
            .bind(project.id.as_str())
            .bind(&project.name)
            .bind(project.created_at)
            .bind(Json(&project.settings))
            .execute(&self.pool)
            .await
            .map_err(|e| conflict_or(e, || format!("project {}", project.id)))?;
        Ok(())
    }

    async fn list_projects(&self, org: OrgId) -> Result<Vec<Project>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, settings FROM projects WHERE org_id = $1 ORDER BY created_at, id",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(project_from_row).collect()
    }

    async fn get_project(
        &self,
        org: OrgId,
        id: &ProjectId,
    ) -> Result<Option<Project>, StorageError> {
        let row = sqlx::query(
            "SELECT id, name, created_at, settings FROM projects WHERE org_id = $1 AND id = $2",
        )
        .bind(org.0)
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(project_from_row).transpose()
    }

    async fn update_project_settings(
        &self,
        org: OrgId,
        id: &ProjectId,
        settings: &ProjectSettings,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query("UPDATE projects SET settings = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.0)
            .bind(id.as_str())
            .bind(Json(settings))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_rubric(
        &self,
        org: OrgId,
        project: &ProjectId,
        rubric: &RubricDefinition,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO rubrics (org_id, project_id, name, criteria, score_min, score_max, pass_threshold, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (org_id, project_id, name) DO UPDATE SET criteria = EXCLUDED.criteria, \
             score_min = EXCLUDED.score_min, score_max = EXCLUDED.score_max, \
             pass_threshold = EXCLUDED.pass_threshold, created_at = EXCLUDED.created_at",
        )
        .bind(org.0)
        .bind(project.as_str())
        .bind(&rubric.name)
        .bind(&rubric.criteria)
        .bind(rubric.score_min)
        .bind(rubric.score_max)
        .bind(rubric.pass_threshold)
        .bind(rubric.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StorageError::NotFound(format!("project {project}"))
            }
            _ => StorageError::Database(e),
        })?;
        Ok(())
    }

    async fn list_rubrics(
        &self,
        org: OrgId,
        project: &ProjectId,
    ) -> Result<Vec<RubricDefinition>, StorageError> {
        let rows = sqlx::query(
            "SELECT name, criteria, score_min, score_max, pass_threshold, created_at FROM rubrics \
             WHERE org_id = $1 AND project_id = $2 ORDER BY name",
        )
        .bind(org.0)
        .bind(project.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rubric_from_row).collect()
    }

    async fn delete_rubric(
        &self,
        org: OrgId,
        project: &ProjectId,
        name: &str,
    ) -> Result<bool, StorageError> {
        let done =
            sqlx::query("DELETE FROM rubrics WHERE org_id = $1 AND project_id = $2 AND name = $3")
                .bind(org.0)
                .bind(project.as_str())
                .bind(name)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }
}
