//! People who sign in to the dashboard and their sessions: records and the
//! two storage traits. Session ids and setup tokens reach the database only
//! as hashes; the callers hash them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use evalguard_domain::{OrgId, Role};
use uuid::Uuid;

use crate::error::StorageError;

type Result<T> = std::result::Result<T, StorageError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: Uuid,
    pub org_id: OrgId,
    /// Lower-cased; unique across organizations (people sign in by email alone).
    pub email: String,
    pub role: Role,
    /// An Argon2id PHC string.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub org_id: OrgId,
    pub email: String,
    pub role: Role,
    pub password_hash: String,
}

/// A stored session with the person it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user: UserRecord,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end, whatever the activity.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id_hash: String,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn count_users(&self) -> Result<u64>;
    /// `Conflict` when the email is taken.
    async fn create_user(&self, user: NewUser) -> Result<UserRecord>;
    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserRecord>>;
    async fn get_user(&self, org: OrgId, id: Uuid) -> Result<Option<UserRecord>>;
    /// By email, after `after` (exclusive), at most `limit`.
    async fn list_users(
        &self,
        org: OrgId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<UserRecord>>;
    /// `false` when no such user is in the organization.
    async fn set_user_role(&self, org: OrgId, id: Uuid, role: Role) -> Result<bool>;
    /// Disables the user and ends every session of theirs, in one transaction.
    async fn disable_user(&self, org: OrgId, id: Uuid, at: DateTime<Utc>) -> Result<bool>;
    /// Replaces the password hash and ends every session of the user, in one transaction.
    async fn set_password(&self, org: OrgId, id: Uuid, password_hash: &str) -> Result<bool>;
    /// Forgets every earlier setup token and stores this one (a fresh token each start).
    async fn replace_setup_token(&self, token_hash: &str, at: DateTime<Utc>) -> Result<()>;
    /// In one transaction: when the token is stored and no user exists yet,
    /// deletes the token, creates the organization `org_name` (if missing) and
    /// the user as its owner. `None` (nothing written) otherwise.
    async fn create_first_owner(
        &self,
        token_hash: &str,
        org_name: &str,
        email: &str,
        password_hash: &str,
    ) -> Result<Option<UserRecord>>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: NewSession) -> Result<()>;
    /// The session with this id hash and its user, expired or not (the caller decides).
    async fn find_session(&self, id_hash: &str) -> Result<Option<SessionRecord>>;
    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<()>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    /// Deletes sessions idle since before `idle_before` or past their absolute end.
    async fn delete_expired_sessions(
        &self,
        idle_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64>;
}
