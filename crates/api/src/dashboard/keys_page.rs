//! `/dashboard/api-keys`: every member of the organization sees its keys;
//! admins create keys (up to their own role) and revoke them. The same
//! checks as `POST /api/v1/keys` and `DELETE /api/v1/keys/{key_id}`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use evalguard_domain::{ApiKeySecret, ProjectId, Role};
use evalguard_storage::{ApiKeyRecord, NewApiKey};
use serde::Deserialize;

use super::DashboardCtx;
use super::forms::{field, page, parse_form};
use super::overview::Nav;
use super::page_error::PageError;
use super::session::SignedIn;

const MAX_KEY_NAME_CHARS: usize = 200;

pub struct KeyRow {
    pub key_id: String,
    pub name: String,
    pub role: Role,
    pub project: String,
    pub created: String,
    pub last_used: String,
    pub revoked: Option<String>,
    /// Whether the viewer may revoke it (an admin, up to their own role).
    pub revocable: bool,
}

#[derive(Default)]
pub struct KeyFormErrors {
    pub name: Option<String>,
    pub role: Option<String>,
    pub project_id: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/api_keys.html")]
struct KeysPage {
    nav: Nav,
    keys: Vec<KeyRow>,
    can_manage: bool,
    roles: Vec<Role>,
    projects: Vec<String>,
    errors: KeyFormErrors,
    name: String,
    new_secret: Option<String>,
}

fn when(t: chrono::DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn row(key: ApiKeyRecord, viewer: &SignedIn) -> KeyRow {
    KeyRow {
        revocable: viewer.principal.has_role(Role::Admin)
            && key.role <= viewer.principal.role
            && key.revoked_at.is_none(),
        key_id: key.key_id,
        name: key.name.unwrap_or_default(),
        role: key.role,
        project: key
            .project
            .map_or_else(|| "all projects".to_owned(), String::from),
        created: when(key.created_at),
        last_used: key.last_used_at.map_or_else(|| "never".to_owned(), when),
        revoked: key.revoked_at.map(when),
    }
}

async fn render(
    ctx: &DashboardCtx,
    viewer: &SignedIn,
    errors: KeyFormErrors,
    name: String,
    new_secret: Option<String>,
) -> Result<Response, PageError> {
    let storage = &ctx.api.storage;
    let keys = storage
        .access
        .list_api_keys(viewer.principal.org_id)
        .await?;
    let projects = storage
        .projects
        .list_projects(viewer.principal.org_id)
        .await?;
    let own = viewer.principal.role;
    page(&KeysPage {
        nav: Nav::new(viewer, "api-keys"),
        // Newest first.
        keys: keys.into_iter().rev().map(|k| row(k, viewer)).collect(),
        can_manage: viewer.principal.has_role(Role::Admin),
        roles: [Role::Viewer, Role::Member, Role::Admin, Role::Owner]
            .into_iter()
            .filter(|r| *r <= own)
            .collect(),
        projects: projects.into_iter().map(|p| p.id.to_string()).collect(),
        errors,
        name,
        new_secret,
    })
}

pub async fn keys_page(
    State(ctx): State<DashboardCtx>,
    viewer: SignedIn,
) -> Result<Response, PageError> {
    render(&ctx, &viewer, KeyFormErrors::default(), String::new(), None).await
}

#[derive(Deserialize)]
pub struct KeyForm {
    name: Option<String>,
    role: Option<String>,
    project_id: Option<String>,
    csrf_token: Option<String>,
}

pub async fn create_key(
    State(ctx): State<DashboardCtx>,
    viewer: SignedIn,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let form: KeyForm = parse_form(&body)?;
    viewer.check_form(&headers, form.csrf_token.as_deref())?;
    viewer.require_role(Role::Admin)?;
    let org = viewer.principal.org_id;
    let mut errors = KeyFormErrors::default();
    let name = field(&form.name).map(str::to_owned);
    if name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_KEY_NAME_CHARS || n.contains('\0'))
    {
        errors.name = Some(format!("at most {MAX_KEY_NAME_CHARS} characters"));
    }
    let role = match field(&form.role).map(Role::parse) {
        Some(Some(role)) if role <= viewer.principal.role => Some(role),
        Some(Some(role)) => {
            errors.role = Some(format!(
                "you have the {} role and cannot create {role} keys",
                viewer.principal.role
            ));
            None
        }
        _ => {
            errors.role = Some("choose viewer, member, admin or owner".to_owned());
            None
        }
    };
    let project = match field(&form.project_id) {
        None => None,
        Some(raw) => match ProjectId::parse(raw) {
            Ok(id)
                if ctx
                    .api
                    .storage
                    .projects
                    .get_project(org, &id)
                    .await?
                    .is_some() =>
            {
                Some(id)
            }
            _ => {
                errors.project_id = Some(format!("the organization has no project '{raw}'"));
                None
            }
        },
    };
    let (Some(role), None, None, None) = (role, &errors.name, &errors.role, &errors.project_id)
    else {
        let mut response =
            render(&ctx, &viewer, errors, form.name.unwrap_or_default(), None).await?;
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(response);
    };
    let secret = ApiKeySecret::generate();
    ctx.api
        .storage
        .access
        .create_api_key(NewApiKey {
            org_id: org,
            key_id: secret.key_id().to_owned(),
            hash: secret.hash(),
            role,
            project,
            name,
        })
        .await?;
    render(
        &ctx,
        &viewer,
        KeyFormErrors::default(),
        String::new(),
        Some(secret.expose().to_owned()),
    )
    .await
}

pub async fn revoke_key(
    State(ctx): State<DashboardCtx>,
    viewer: SignedIn,
    Path(key_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let form: super::auth_pages::CsrfOnly = parse_form(&body)?;
    viewer.check_form(&headers, form.csrf_token.as_deref())?;
    viewer.require_role(Role::Admin)?;
    let org = viewer.principal.org_id;
    let access = &ctx.api.storage.access;
    let key = access
        .find_api_key(&key_id)
        .await?
        .filter(|k| k.org_id == org)
        .ok_or(PageError::NotFound("API key"))?;
    if key.role > viewer.principal.role {
        return Err(PageError::Forbidden(format!(
            "you have the {} role and cannot revoke {} keys",
            viewer.principal.role, key.role
        )));
    }
    access.revoke_api_key(org, &key_id, Utc::now()).await?;
    // As the API route does: a cached key must not outlive its revocation.
    ctx.keys.forget(&key_id);
    Ok(Redirect::to("/dashboard/api-keys").into_response())
}
