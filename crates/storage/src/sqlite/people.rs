//! Dashboard users, sessions and the setup token.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::{OrgId, Role};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use super::{Result, SqliteStore, conflict_or, from_micros, from_micros_opt, micros, parse_uuid};
use crate::error::StorageError;
use crate::people::{NewSession, NewUser, SessionRecord, SessionStore, UserRecord, UserStore};

const USER_COLUMNS: &str = "users.id, users.org_id, users.email, users.role, users.password_hash, users.created_at, users.disabled_at";

fn user_from_row(row: &SqliteRow) -> Result<UserRecord> {
    let role: String = row.try_get("role")?;
    Ok(UserRecord {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        org_id: OrgId(parse_uuid(&row.try_get::<String, _>("org_id")?)?),
        email: row.try_get("email")?,
        role: Role::parse(&role)
            .ok_or_else(|| StorageError::Corrupt(format!("unknown role {role:?}")))?,
        password_hash: row.try_get("password_hash")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        disabled_at: from_micros_opt(row.try_get("disabled_at")?)?,
    })
}

/// The value an [`SqliteStore::update_user_ending_sessions`] statement sets.
enum UserChange<'a> {
    Time(i64),
    Text(&'a str),
}

impl SqliteStore {
    /// Runs `sql` (binding the change, the org and the id) and, when it
    /// changed the user, deletes every session of theirs, in one transaction.
    async fn update_user_ending_sessions(
        &self,
        sql: &'static str,
        change: UserChange<'_>,
        org: OrgId,
        id: Uuid,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let query = match change {
            UserChange::Time(t) => sqlx::query(sql).bind(t),
            UserChange::Text(t) => sqlx::query(sql).bind(t),
        };
        let done = query
            .bind(org.0.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() > 0 {
            sqlx::query("DELETE FROM sessions WHERE user_id = ?")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_user(tx: &mut sqlx::SqliteConnection, user: NewUser) -> Result<UserRecord> {
        let id = Uuid::now_v7();
        // As stored: microsecond precision.
        let created_at = from_micros(micros(Utc::now()))?;
        sqlx::query(
            "INSERT INTO users (id, org_id, email, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(user.org_id.0.to_string())
        .bind(&user.email)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(micros(created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, format!("user {}", user.email)))?;
        Ok(UserRecord {
            id,
            org_id: user.org_id,
            email: user.email,
            role: user.role,
            password_hash: user.password_hash,
            created_at,
            disabled_at: None,
        })
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn count_users(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.reader)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn create_user(&self, user: NewUser) -> Result<UserRecord> {
        let mut tx = self.write_tx().await?;
        let record = Self::insert_user(&mut tx, user).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn get_user(&self, org: OrgId, id: Uuid) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = ? AND id = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(
        &self,
        org: OrgId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<UserRecord>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE org_id = ? AND email > ? ORDER BY email LIMIT ?"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0.to_string())
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn set_user_role(&self, org: OrgId, id: Uuid, role: Role) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE users SET role = ? WHERE org_id = ? AND id = ?")
            .bind(role.as_str())
            .bind(org.0.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn disable_user(&self, org: OrgId, id: Uuid, at: DateTime<Utc>) -> Result<bool> {
        self.update_user_ending_sessions(
            "UPDATE users SET disabled_at = COALESCE(disabled_at, ?) WHERE org_id = ? AND id = ?",
            UserChange::Time(micros(at)),
            org,
            id,
        )
        .await
    }

    async fn set_password(&self, org: OrgId, id: Uuid, password_hash: &str) -> Result<bool> {
        self.update_user_ending_sessions(
            "UPDATE users SET password_hash = ? WHERE org_id = ? AND id = ?",
            UserChange::Text(password_hash),
            org,
            id,
        )
        .await
    }

    async fn replace_setup_token(&self, token_hash: &str, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM setup_tokens")
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO setup_tokens (token_hash, created_at) VALUES (?, ?)")
            .bind(token_hash)
            .bind(micros(at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_first_owner(
        &self,
        token_hash: &str,
        org_name: &str,
        email: &str,
        password_hash: &str,
    ) -> Result<Option<UserRecord>> {
        let mut tx = self.write_tx().await?;
        let used = sqlx::query("DELETE FROM setup_tokens WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&mut *tx)
            .await?;
        if used.rows_affected() == 0 || users > 0 {
            return Ok(None);
        }
        sqlx::query("INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING")
            .bind(Uuid::now_v7().to_string())
            .bind(org_name)
            .bind(micros(Utc::now()))
            .execute(&mut *tx)
            .await?;
        let org: String = sqlx::query_scalar("SELECT id FROM orgs WHERE name = ?")
            .bind(org_name)
            .fetch_one(&mut *tx)
            .await?;
        let user = NewUser {
            org_id: OrgId(parse_uuid(&org)?),
            email: email.to_owned(),
            role: Role::Owner,
            password_hash: password_hash.to_owned(),
        };
        let record = Self::insert_user(&mut tx, user).await?;
        tx.commit().await?;
        Ok(Some(record))
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, session: NewSession) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&session.id_hash)
        .bind(session.user_id.to_string())
        .bind(micros(session.created_at))
        .bind(micros(session.created_at))
        .bind(micros(session.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "session"))?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_session(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, sessions.created_at AS session_created_at, \
             sessions.last_seen_at, sessions.expires_at \
             FROM sessions JOIN users ON users.id = sessions.user_id WHERE sessions.id_hash = ?"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id_hash)
            .fetch_optional(&self.reader)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(SessionRecord {
            user: user_from_row(&row)?,
            created_at: from_micros(row.try_get("session_created_at")?)?,
            last_seen_at: from_micros(row.try_get("last_seen_at")?)?,
            expires_at: from_micros(row.try_get("expires_at")?)?,
        }))
    }

    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?")
            .bind(micros(at))
            .bind(id_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_expired_sessions(
        &self,
        idle_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE last_seen_at < ? OR expires_at <= ?")
            .bind(micros(idle_before))
            .bind(micros(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
