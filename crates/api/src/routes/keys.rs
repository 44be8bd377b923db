//! API keys of the organization: create (secret shown once), list (never a
//! hash or a secret), revoke. Admins manage keys up to their own role.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use evalguard_domain::input::Name;
use evalguard_domain::{ApiKeySecret, ProjectId, Role};
use evalguard_storage::{ApiKeyRecord, NewApiKey};
use serde::{Deserialize, Serialize};

use super::unknown_project;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody};
use crate::state::Shared;

/// `POST /api/v1/keys`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyCreateBody {
    /// At most the creating key's role.
    pub role: Role,
    /// Restrict the key to this project of the organization.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub project_id: Option<ProjectId>,
    #[serde(default)]
    pub name: Option<Name>,
}

/// A key as listed: public id and metadata only.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct KeyInfo {
    pub key_id: String,
    pub role: Role,
    pub project_id: Option<String>,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRecord> for KeyInfo {
    fn from(r: ApiKeyRecord) -> Self {
        Self {
            key_id: r.key_id,
            role: r.role,
            project_id: r.project.map(String::from),
            name: r.name,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// A new key, with its secret: the only time it is shown.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct KeyCreated {
    #[serde(flatten)]
    pub info: KeyInfo,
    /// The whole key; store it now, it cannot be shown again.
    pub key: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct KeyList {
    pub data: Vec<KeyInfo>,
}

fn role_too_high(role: Role, own: Role) -> ApiError {
    ApiError::forbidden(
        "role_too_high",
        format!("a key with the {own} role cannot manage {role} keys"),
    )
}

/// Create an API key
///
/// A key of the organization, with a role up to the creating key's own and
/// optionally restricted to one project. The secret is shown in this answer
/// only; EvalGuard keeps only its hash. Role: admin, organization-wide key.
#[utoipa::path(post, path = "/api/v1/keys", tag = "keys",
    request_body = KeyCreateBody,
    responses((status = 201, description = "The key, with its secret shown once", body = KeyCreated)))]
pub(crate) async fn create_key(
    State(ctx): State<Shared>,
    caller: Caller,
    JsonBody(body): JsonBody<KeyCreateBody>,
) -> Result<(StatusCode, Json<KeyCreated>), ApiError> {
    caller.require_role(Role::Admin)?;
    caller.require_org_wide()?;
    let KeyCreateBody {
        role,
        project_id: project,
        name,
    } = body;
    if role > caller.0.role {
        return Err(role_too_high(role, caller.0.role));
    }
    if let Some(id) = &project
        && ctx
            .api
            .storage
            .projects
            .get_project(caller.0.org_id, id)
            .await?
            .is_none()
    {
        return Err(unknown_project("project_id", id));
    }
    let name = name.map(Name::into_string);
    let secret = ApiKeySecret::generate();
    let record = ctx
        .api
        .storage
        .access
        .create_api_key(NewApiKey {
            org_id: caller.0.org_id,
            key_id: secret.key_id().to_owned(),
            hash: secret.hash(),
            role,
            project,
            name,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(KeyCreated {
            info: record.into(),
            key: secret.expose().to_owned(),
        }),
    ))
}

/// List API keys
///
/// The organization's keys: public id, role, project, name and dates; never
/// a secret or a hash. Role: admin, organization-wide key.
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys",
    responses((status = 200, description = "The organization's keys (no secrets)", body = KeyList)))]
pub(crate) async fn list_keys(
    State(ctx): State<Shared>,
    caller: Caller,
) -> Result<Json<KeyList>, ApiError> {
    caller.require_role(Role::Admin)?;
    caller.require_org_wide()?;
    let keys = ctx
        .api
        .storage
        .access
        .list_api_keys(caller.0.org_id)
        .await?;
    Ok(Json(KeyList {
        data: keys.into_iter().map(KeyInfo::from).collect(),
    }))
}

/// Revoke an API key
///
/// The key stops working at once; revoking a revoked key changes nothing.
/// Role: admin (up to its own role), organization-wide key.
#[utoipa::path(delete, path = "/api/v1/keys/{key_id}", tag = "keys",
    params(("key_id" = String, Path, description = "the key's public id")),
    responses((status = 200, description = "The revoked key", body = KeyInfo)))]
pub(crate) async fn revoke_key(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(key_id): ApiPath<String>,
) -> Result<Json<KeyInfo>, ApiError> {
    caller.require_role(Role::Admin)?;
    caller.require_org_wide()?;
    let not_found = || ApiError::NotFound { what: "API key" };
    let record = ctx
        .api
        .storage
        .access
        .find_api_key(&key_id)
        .await?
        .filter(|r| r.org_id == caller.0.org_id)
        .ok_or_else(not_found)?;
    if record.role > caller.0.role {
        return Err(role_too_high(record.role, caller.0.role));
    }
    let now = Utc::now();
    if record.revoked_at.is_none()
        && !ctx
            .api
            .storage
            .access
            .revoke_api_key(caller.0.org_id, &key_id, now)
            .await?
    {
        return Err(not_found());
    }
    // Effective at once in this process; other processes stop trusting the
    // key when their cached verification expires.
    ctx.keys.forget(&key_id);
    let mut info = KeyInfo::from(record);
    info.revoked_at.get_or_insert(now);
    Ok(Json(info))
}
