//! `/dashboard/users`: admins list the organization's people, create them
//! (with a generated password shown once), change their role and disable
//! them, each up to the admin's own role. Disabling ends their sessions.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use evalguard_domain::Role;
use evalguard_storage::{NewUser, StorageError, UserRecord};
use serde::Deserialize;
use uuid::Uuid;

use super::DashboardCtx;
use super::forms::{field, page, parse_form};
use super::overview::Nav;
use super::page_error::PageError;
use super::people::normalize_email;
use super::secrets::{generate_password, hash_password};
use super::session::SignedIn;

const USERS_PER_PAGE: u32 = 50;
const ROLES: [Role; 4] = [Role::Viewer, Role::Member, Role::Admin, Role::Owner];

pub struct UserRow {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub created: String,
    pub disabled: Option<String>,
    /// The admin may change this person (not themselves, not above their role).
    pub manageable: bool,
}

#[derive(Default)]
pub struct UserFormErrors {
    pub email: Option<String>,
    pub role: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/users.html")]
struct UsersPage {
    nav: Nav,
    users: Vec<UserRow>,
    roles: Vec<Role>,
    errors: UserFormErrors,
    email: String,
    created: Option<(String, String)>,
    next_page: Option<String>,
}

#[derive(Deserialize)]
pub struct UsersCursor {
    after: Option<String>,
}

fn row(user: UserRecord, admin: &SignedIn) -> UserRow {
    UserRow {
        manageable: user.id != admin.user.id && user.role <= admin.principal.role,
        id: user.id.to_string(),
        email: user.email,
        role: user.role,
        created: user.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        disabled: user
            .disabled_at
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
    }
}

async fn render(
    ctx: &DashboardCtx,
    admin: &SignedIn,
    after: Option<&str>,
    errors: UserFormErrors,
    email: String,
    created: Option<(String, String)>,
) -> Result<Response, PageError> {
    let mut users = ctx
        .api
        .storage
        .users
        .list_users(admin.principal.org_id, after, USERS_PER_PAGE + 1)
        .await?;
    let next_page = (users.len() > USERS_PER_PAGE as usize).then(|| {
        users.truncate(USERS_PER_PAGE as usize);
        users.last().map(|u| u.email.clone()).unwrap_or_default()
    });
    page(&UsersPage {
        nav: Nav::new(admin, "users"),
        users: users.into_iter().map(|u| row(u, admin)).collect(),
        roles: ROLES
            .into_iter()
            .filter(|r| *r <= admin.principal.role)
            .collect(),
        errors,
        email,
        created,
        next_page,
    })
}

pub async fn users_page(
    State(ctx): State<DashboardCtx>,
    admin: SignedIn,
    Query(cursor): Query<UsersCursor>,
) -> Result<Response, PageError> {
    admin.require_role(Role::Admin)?;
    render(
        &ctx,
        &admin,
        cursor.after.as_deref(),
        UserFormErrors::default(),
        String::new(),
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct UserForm {
    email: Option<String>,
    role: Option<String>,
    csrf_token: Option<String>,
}

/// A role from a form, at most the admin's own.
fn allowed_role(raw: Option<&str>, admin: &SignedIn) -> Result<Role, String> {
    match raw.map(Role::parse) {
        Some(Some(role)) if role <= admin.principal.role => Ok(role),
        Some(Some(role)) => Err(format!(
            "you have the {} role and cannot give the {role} role",
            admin.principal.role
        )),
        _ => Err("choose viewer, member, admin or owner".to_owned()),
    }
}

pub async fn create_user(
    State(ctx): State<DashboardCtx>,
    admin: SignedIn,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let form: UserForm = parse_form(&body)?;
    admin.check_form(&headers, form.csrf_token.as_deref())?;
    admin.require_role(Role::Admin)?;
    let email = normalize_email(form.email.as_deref().unwrap_or(""));
    let role = allowed_role(field(&form.role), &admin);
    let (Ok(email), Ok(role)) = (&email, &role) else {
        let errors = UserFormErrors {
            email: email.err().map(str::to_owned),
            role: role.err(),
        };
        let typed = form.email.unwrap_or_default();
        let mut response = render(&ctx, &admin, None, errors, typed, None).await?;
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(response);
    };
    let password = generate_password();
    let to_hash = password.clone();
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&to_hash))
        .await
        .ok()
        .flatten()
        .ok_or_else(|| PageError::BadRequest("the password could not be hashed".to_owned()))?;
    let created = ctx
        .api
        .storage
        .users
        .create_user(NewUser {
            org_id: admin.principal.org_id,
            email: email.clone(),
            role: *role,
            password_hash,
        })
        .await;
    match created {
        Ok(_) => {
            render(
                &ctx,
                &admin,
                None,
                UserFormErrors::default(),
                String::new(),
                Some((email.clone(), password)),
            )
            .await
        }
        Err(StorageError::Conflict(_)) => {
            let errors = UserFormErrors {
                email: Some("someone with this email exists already".to_owned()),
                role: None,
            };
            let mut response = render(&ctx, &admin, None, errors, email.clone(), None).await?;
            *response.status_mut() = StatusCode::BAD_REQUEST;
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

/// The person a path names, if the admin may manage them.
async fn manageable(
    ctx: &DashboardCtx,
    admin: &SignedIn,
    raw_id: &str,
) -> Result<UserRecord, PageError> {
    let not_found = || PageError::NotFound("user");
    let id = raw_id.parse::<Uuid>().map_err(|_| not_found())?;
    let user = ctx
        .api
        .storage
        .users
        .get_user(admin.principal.org_id, id)
        .await?
        .ok_or_else(not_found)?;
    if user.id == admin.user.id {
        return Err(PageError::Forbidden(
            "you cannot change your own account here".to_owned(),
        ));
    }
    if user.role > admin.principal.role {
        return Err(PageError::Forbidden(format!(
            "you have the {} role and cannot change {} accounts",
            admin.principal.role, user.role
        )));
    }
    Ok(user)
}

/// A form posted on one person's row: its fields (`role` or none), after
/// the CSRF, role and manageability checks.
async fn row_form(
    ctx: &DashboardCtx,
    admin: &SignedIn,
    user_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(UserForm, UserRecord), PageError> {
    let form: UserForm = parse_form(body)?;
    admin.check_form(headers, form.csrf_token.as_deref())?;
    admin.require_role(Role::Admin)?;
    let user = manageable(ctx, admin, user_id).await?;
    Ok((form, user))
}

pub async fn change_role(
    State(ctx): State<DashboardCtx>,
    admin: SignedIn,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let (form, user) = row_form(&ctx, &admin, &user_id, &headers, &body).await?;
    let role = allowed_role(field(&form.role), &admin).map_err(PageError::BadRequest)?;
    let org = admin.principal.org_id;
    ctx.api
        .storage
        .users
        .set_user_role(org, user.id, role)
        .await?;
    Ok(Redirect::to("/dashboard/users").into_response())
}

pub async fn disable_user(
    State(ctx): State<DashboardCtx>,
    admin: SignedIn,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let (_, user) = row_form(&ctx, &admin, &user_id, &headers, &body).await?;
    let org = admin.principal.org_id;
    ctx.api
        .storage
        .users
        .disable_user(org, user.id, Utc::now())
        .await?;
    Ok(Redirect::to("/dashboard/users").into_response())
}
