//! Dashboard users, sessions and the setup token.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::{OrgId, Role};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::{PostgresStore, conflict_or};
use crate::error::StorageError;
use crate::people::{NewSession, NewUser, SessionRecord, SessionStore, UserRecord, UserStore};

type Result<T> = std::result::Result<T, StorageError>;

const USER_COLUMNS: &str = "users.id, users.org_id, users.email, users.role, users.password_hash, users.created_at, users.disabled_at";

fn user_from_row(row: &PgRow) -> Result<UserRecord> {
    let role: String = row.try_get("role")?;
    Ok(UserRecord {
        id: row.try_get("id")?,
        org_id: OrgId(row.try_get("org_id")?),
        email: row.try_get("email")?,
        role: Role::parse(&role)
            .ok_or_else(|| StorageError::Corrupt(format!("unknown role {role:?}")))?,
        password_hash: row.try_get("password_hash")?,
        created_at: row.try_get("created_at")?,
        disabled_at: row.try_get("disabled_at")?,
    })
}

async fn insert_user(conn: &mut sqlx::PgConnection, user: NewUser) -> Result<UserRecord> {
    let sql = format!(
        "INSERT INTO users (id, org_id, email, role, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::now_v7())
        .bind(user.org_id.0)
        .bind(&user.email)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(Utc::now())
        .fetch_one(conn)
        .await
        .map_err(|e| conflict_or(e, || format!("user {}", user.email)))?;
    user_from_row(&row)
}

impl PostgresStore {
    /// Runs `update` and, when it changed the user, deletes every session
    /// of theirs, in one transaction.
    async fn update_user_ending_sessions(
        &self,
        update: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
        id: Uuid,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = update.execute(&mut *tx).await?;
        if done.rows_affected() > 0 {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait]
impl UserStore for PostgresStore {
    async fn count_users(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn create_user(&self, user: NewUser) -> Result<UserRecord> {
        let mut conn = self.pool.acquire().await?;
        insert_user(&mut conn, user).await
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn get_user(&self, org: OrgId, id: Uuid) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(id)
            .fetch_optional(&self.pool)
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
            "SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND email COLLATE \"C\" > $2 \
             ORDER BY email COLLATE \"C\" LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn set_user_role(&self, org: OrgId, id: Uuid, role: Role) -> Result<bool> {
        let done = sqlx::query("UPDATE users SET role = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.0)
            .bind(id)
            .bind(role.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn disable_user(&self, org: OrgId, id: Uuid, at: DateTime<Utc>) -> Result<bool> {
        let query =
            sqlx::query("UPDATE users SET disabled_at = COALESCE(disabled_at, $3) WHERE org_id = $1 AND id = $2")
                .bind(org.0)
                .bind(id)
                .bind(at);
        self.update_user_ending_sessions(query, id).await
    }

    async fn set_password(&self, org: OrgId, id: Uuid, password_hash: &str) -> Result<bool> {
        let query =
            sqlx::query("UPDATE users SET password_hash = $3 WHERE org_id = $1 AND id = $2")
                .bind(org.0)
                .bind(id)
                .bind(password_hash);
        self.update_user_ending_sessions(query, id).await
    }

    async fn replace_setup_token(&self, token_hash: &str, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM setup_tokens")
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO setup_tokens (token_hash, created_at) VALUES ($1, $2)")
            .bind(token_hash)
            .bind(at)
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
        let mut tx = self.pool.begin().await?;
        // Two concurrent setups: the table lock makes the second see the first's user.
        sqlx::query("LOCK TABLE setup_tokens IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        let used = sqlx::query("DELETE FROM setup_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&mut *tx)
            .await?;
        if used.rows_affected() == 0 || users > 0 {
            return Ok(None);
        }
        sqlx::query("INSERT INTO orgs (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(Uuid::now_v7())
            .bind(org_name)
            .execute(&mut *tx)
            .await?;
        let org: Uuid = sqlx::query_scalar("SELECT id FROM orgs WHERE name = $1")
            .bind(org_name)
            .fetch_one(&mut *tx)
            .await?;
        let user = NewUser {
            org_id: OrgId(org),
            email: email.to_owned(),
            role: Role::Owner,
            password_hash: password_hash.to_owned(),
        };
        let record = insert_user(&mut tx, user).await?;
        tx.commit().await?;
        Ok(Some(record))
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn create_session(&self, session: NewSession) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $3, $4)",
        )
        .bind(&session.id_hash)
        .bind(session.user_id)
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, || "session".to_owned()))?;
        Ok(())
    }

    async fn find_session(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, sessions.created_at AS session_created_at, \
             sessions.last_seen_at, sessions.expires_at \
             FROM sessions JOIN users ON users.id = sessions.user_id WHERE sessions.id_hash = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(SessionRecord {
            user: user_from_row(&row)?,
            created_at: row.try_get("session_created_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_expired_sessions(
        &self,
        idle_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR expires_at <= $2")
            .bind(idle_before)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
