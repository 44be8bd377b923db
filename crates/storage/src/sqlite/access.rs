//! Organizations and API keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::{OrgId, Role};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use super::{
    Result, SqliteStore, conflict_or, from_micros, from_micros_opt, micros, parse_project,
    parse_uuid,
};
use crate::error::StorageError;
use crate::model::{ApiKeyRecord, NewApiKey};
use crate::traits::AccessStore;

const KEY_COLUMNS: &str =
    "org_id, key_id, hash, role, project_id, name, created_at, last_used_at, revoked_at";

fn key_from_row(row: &SqliteRow) -> Result<ApiKeyRecord> {
    let role: String = row.try_get("role")?;
    let project: Option<String> = row.try_get("project_id")?;
    Ok(ApiKeyRecord {
        org_id: OrgId(parse_uuid(&row.try_get::<String, _>("org_id")?)?),
        key_id: row.try_get("key_id")?,
        hash: row.try_get("hash")?,
        role: Role::parse(&role)
            .ok_or_else(|| StorageError::Corrupt(format!("unknown role {role:?}")))?,
        project: project.as_deref().map(parse_project).transpose()?,
        name: row.try_get("name")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        last_used_at: from_micros_opt(row.try_get("last_used_at")?)?,
        revoked_at: from_micros_opt(row.try_get("revoked_at")?)?,
    })
}

#[async_trait]
impl AccessStore for SqliteStore {
    async fn ensure_org(&self, name: &str) -> Result<OrgId> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING")
            .bind(Uuid::now_v7().to_string())
            .bind(name)
            .bind(micros(Utc::now()))
            .execute(&mut *tx)
            .await?;
        let id: String = sqlx::query_scalar("SELECT id FROM orgs WHERE name = ?")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(OrgId(parse_uuid(&id)?))
    }

    async fn find_org(&self, name: &str) -> Result<Option<OrgId>> {
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM orgs WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.reader)
            .await?;
        id.map(|id| parse_uuid(&id).map(OrgId)).transpose()
    }

    async fn create_api_key(&self, key: NewApiKey) -> Result<ApiKeyRecord> {
        let created_at = Utc::now();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO api_keys (org_id, key_id, hash, role, project_id, name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(key.org_id.0.to_string())
        .bind(&key.key_id)
        .bind(&key.hash)
        .bind(key.role.as_str())
        .bind(key.project.as_ref().map(|p| p.as_str().to_owned()))
        .bind(&key.name)
        .bind(micros(created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, format!("API key {}", key.key_id)))?;
        tx.commit().await?;
        Ok(ApiKeyRecord {
            org_id: key.org_id,
            key_id: key.key_id,
            hash: key.hash,
            role: key.role,
            project: key.project,
            name: key.name,
            // As stored: microsecond precision.
            created_at: from_micros(micros(created_at))?,
            last_used_at: None,
            revoked_at: None,
        })
    }

    async fn find_api_key(&self, key_id: &str) -> Result<Option<ApiKeyRecord>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_id = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key_id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn touch_api_key(&self, key_id: &str, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE api_keys SET last_used_at = ? WHERE key_id = ?")
            .bind(micros(at))
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_api_keys(&self, org: OrgId) -> Result<Vec<ApiKeyRecord>> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE org_id = ? ORDER BY created_at, key_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0.to_string())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(key_from_row).collect()
    }

    async fn revoke_api_key(&self, org: OrgId, key_id: &str, at: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE org_id = ? AND key_id = ?",
        )
        .bind(micros(at))
        .bind(org.0.to_string())
        .bind(key_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
