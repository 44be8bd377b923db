//! Organizations and API keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::{OrgId, ProjectId, Role};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::{PostgresStore, conflict_or};
use crate::error::StorageError;
use crate::model::{ApiKeyRecord, NewApiKey};
use crate::traits::AccessStore;

const KEY_COLUMNS: &str =
    "org_id, key_id, hash, role, project_id, name, created_at, last_used_at, revoked_at";

fn key_from_row(row: &PgRow) -> Result<ApiKeyRecord, StorageError> {
    let role: String = row.try_get("role")?;
    let project: Option<String> = row.try_get("project_id")?;
    Ok(ApiKeyRecord {
        org_id: OrgId(row.try_get("org_id")?),
        key_id: row.try_get("key_id")?,
        hash: row.try_get("hash")?,
        role: Role::parse(&role)
            .ok_or_else(|| StorageError::Corrupt(format!("unknown role {role:?}")))?,
        project: project
            .map(|p| {
                ProjectId::parse(&p)
                    .map_err(|_| StorageError::Corrupt(format!("bad project id {p:?}")))
            })
            .transpose()?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

#[async_trait]
impl AccessStore for PostgresStore {
    async fn ensure_org(&self, name: &str) -> Result<OrgId, StorageError> {
        // Two processes may create the same org at once: the loser's insert
        // does nothing and both read the winner's id.
        sqlx::query("INSERT INTO orgs (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(Uuid::now_v7())
            .bind(name)
            .execute(&self.pool)
            .await?;
        let id: Uuid = sqlx::query_scalar("SELECT id FROM orgs WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(OrgId(id))
    }

    async fn find_org(&self, name: &str) -> Result<Option<OrgId>, StorageError> {
        let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM orgs WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(id.map(OrgId))
    }

    async fn create_api_key(&self, key: NewApiKey) -> Result<ApiKeyRecord, StorageError> {
        let row = sqlx::query(
            "INSERT INTO api_keys (org_id, key_id, hash, role, project_id, name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING org_id, key_id, hash, role, project_id, name, created_at, last_used_at, revoked_at",
        )
        .bind(key.org_id.0)
        .bind(&key.key_id)
        .bind(&key.hash)
        .bind(key.role.as_str())
        .bind(key.project.as_ref().map(ProjectId::as_str))
        .bind(&key.name)
        .bind(Utc::now())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| conflict_or(e, || format!("API key {}", key.key_id)))?;
        key_from_row(&row)
    }

    async fn find_api_key(&self, key_id: &str) -> Result<Option<ApiKeyRecord>, StorageError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_id = $1"
        ));
        let row = sqlx::query(sql)
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn touch_api_key(&self, key_id: &str, at: DateTime<Utc>) -> Result<(), StorageError> {
        sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE key_id = $1")
            .bind(key_id)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn list_api_keys(&self, org: OrgId) -> Result<Vec<ApiKeyRecord>, StorageError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE org_id = $1 ORDER BY created_at, key_id"
        ));
        let rows = sqlx::query(sql).bind(org.0).fetch_all(&self.pool).await?;
        rows.iter().map(key_from_row).collect()
    }

    async fn revoke_api_key(
        &self,
        org: OrgId,
        key_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        // A second revoke keeps the first time.
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE org_id = $1 AND key_id = $2",
        )
        .bind(org.0)
        .bind(key_id)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
