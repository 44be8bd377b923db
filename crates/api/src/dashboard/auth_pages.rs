//! Signing in and out, and the first-run setup of the first owner.

use std::net::SocketAddr;
use std::time::Instant;

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use evalguard_storage::{NewSession, UserRecord};
use serde::Deserialize;

use super::DashboardCtx;
use super::forms::{field, page, parse_form};
use super::page_error::PageError;
use super::people::{check_password, normalize_email};
use super::secrets::{decoy_hash, hash_password, random_token, token_hash, verify_password};
use super::session::{
    PRESESSION_COOKIE, SESSION_COOKIE, SignedIn, check_presession_form, presession, set_cookie,
};

const MAX_ORG_NAME_CHARS: usize = 256;

#[derive(Template)]
#[template(path = "dashboard/login.html")]
struct LoginPage {
    csrf: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: Option<String>,
    password: Option<String>,
    csrf_token: Option<String>,
}

/// A page with the pre-session cookie set when the browser had none.
fn with_presession(mut response: Response, new_cookie: Option<String>, secure: bool) -> Response {
    if let Some(value) = new_cookie
        && let Ok(v) = HeaderValue::from_str(&set_cookie(PRESESSION_COOKIE, &value, 86_400, secure))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

pub async fn login_page(
    State(ctx): State<DashboardCtx>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (csrf, new_cookie) = presession(&headers);
    let response = page(&LoginPage {
        csrf,
        email: String::new(),
        error: None,
    })?;
    Ok(with_presession(
        response,
        new_cookie,
        ctx.api.dashboard.secure_cookies,
    ))
}

pub(super) fn client_address(connect: Option<&Extension<ConnectInfo<SocketAddr>>>) -> String {
    connect.map_or_else(|| "unknown".to_owned(), |c| c.0.0.ip().to_string())
}

pub async fn login(
    State(ctx): State<DashboardCtx>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let form: LoginForm = parse_form(&body)?;
    check_presession_form(&headers, form.csrf_token.as_deref())?;
    let typed_email = field(&form.email).unwrap_or("").to_owned();
    let address = client_address(connect.as_ref());
    let (csrf, _) = presession(&headers);
    let refuse = |status: StatusCode, error: String| -> Result<Response, PageError> {
        let mut response = page(&LoginPage {
            csrf: csrf.clone(),
            email: typed_email.clone(),
            error: Some(error),
        })?;
        *response.status_mut() = status;
        Ok(response)
    };
    if let Some(wait) = ctx.throttle.blocked(&typed_email, &address, Instant::now()) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-ins for this account or from your network. Try again in {minutes} minute(s)."
            ),
        );
    }
    let password = form.password.unwrap_or_default();
    let user = match normalize_email(&typed_email) {
        Ok(email) => ctx.api.storage.users.find_user_by_email(&email).await?,
        Err(_) => None,
    };
    // An unknown email pays for a verification too: timing tells nothing.
    let phc = user
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .unwrap_or(false);
    let user = user.filter(|u| matches && u.disabled_at.is_none());
    let Some(user) = user else {
        ctx.throttle
            .record_failure(&typed_email, &address, Instant::now());
        return refuse(
            StatusCode::UNAUTHORIZED,
            "The email or the password is not right.".to_owned(),
        );
    };
    ctx.throttle.record_success(&typed_email);
    start_session(&ctx, &user, "/dashboard").await
}

/// Creates a session for `user` and answers `303` to `to` with its cookie.
pub(super) async fn start_session(
    ctx: &DashboardCtx,
    user: &UserRecord,
    to: &str,
) -> Result<Response, PageError> {
    let settings = ctx.api.dashboard;
    let session_id = random_token();
    let now = Utc::now();
    let absolute = chrono::Duration::from_std(settings.session_absolute)
        .unwrap_or(chrono::Duration::hours(24));
    ctx.api
        .storage
        .sessions
        .create_session(NewSession {
            id_hash: token_hash(&session_id),
            user_id: user.id,
            created_at: now,
            expires_at: now + absolute,
        })
        .await?;
    let cookie = set_cookie(
        SESSION_COOKIE,
        &session_id,
        absolute.num_seconds(),
        settings.secure_cookies,
    );
    let mut response = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    pub csrf_token: Option<String>,
}

pub async fn logout(
    State(ctx): State<DashboardCtx>,
    signed_in: SignedIn,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let form: CsrfOnly = parse_form(&body)?;
    signed_in.check_form(&headers, form.csrf_token.as_deref())?;
    ctx.api
        .storage
        .sessions
        .delete_session(&signed_in.session_hash())
        .await?;
    let mut response = Redirect::to("/dashboard/login").into_response();
    let expired = set_cookie(SESSION_COOKIE, "", 0, ctx.api.dashboard.secure_cookies);
    if let Ok(v) = HeaderValue::from_str(&expired) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(Template)]
#[template(path = "dashboard/setup.html")]
struct SetupPage {
    csrf: String,
    token: String,
    org: String,
    email: String,
    org_error: Option<String>,
    email_error: Option<String>,
    password_error: Option<String>,
}

#[derive(Deserialize)]
pub struct SetupQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct SetupForm {
    token: Option<String>,
    org: Option<String>,
    email: Option<String>,
    password: Option<String>,
    csrf_token: Option<String>,
}

fn setup_over() -> PageError {
    PageError::Forbidden(
        "this setup link is not valid: it was used, or the server restarted (which prints a new one), or people already sign in here"
            .to_owned(),
    )
}

pub async fn setup_page(
    State(ctx): State<DashboardCtx>,
    Query(query): Query<SetupQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if ctx.api.storage.users.count_users().await? > 0 {
        return Err(setup_over());
    }
    let (csrf, new_cookie) = presession(&headers);
    let response = page(&SetupPage {
        csrf,
        token: query.token.unwrap_or_default(),
        org: String::new(),
        email: String::new(),
        org_error: None,
        email_error: None,
        password_error: None,
    })?;
    Ok(with_presession(
        response,
        new_cookie,
        ctx.api.dashboard.secure_cookies,
    ))
}

pub async fn setup(
    State(ctx): State<DashboardCtx>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let form: SetupForm = parse_form(&body)?;
    check_presession_form(&headers, form.csrf_token.as_deref())?;
    let org = field(&form.org).unwrap_or("").to_owned();
    let org_error =
        (org.is_empty() || org.chars().count() > MAX_ORG_NAME_CHARS || org.contains('\0'))
            .then(|| format!("name your organization (1 to {MAX_ORG_NAME_CHARS} characters)"));
    let email = normalize_email(form.email.as_deref().unwrap_or(""));
    let password = form.password.unwrap_or_default();
    let password_error = check_password(&password).err();
    if org_error.is_some() || email.is_err() || password_error.is_some() {
        let mut response = page(&SetupPage {
            csrf: presession(&headers).0,
            token: form.token.unwrap_or_default(),
            org,
            email: form.email.unwrap_or_default(),
            org_error,
            email_error: email.err().map(str::to_owned),
            password_error,
        })?;
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(response);
    }
    let email = email.unwrap_or_default();
    let phc = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .ok()
        .flatten()
        .ok_or_else(|| PageError::BadRequest("the password could not be hashed".to_owned()))?;
    let token = form.token.unwrap_or_default();
    let owner = ctx
        .api
        .storage
        .users
        .create_first_owner(&token_hash(&token), &org, &email, &phc)
        .await?
        .ok_or_else(setup_over)?;
    start_session(&ctx, &owner, "/dashboard").await
}
