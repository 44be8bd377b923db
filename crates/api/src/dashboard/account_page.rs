//! `/dashboard/account`: a signed-in person changes their own password. The
//! current password is checked under the sign-in throttle (a stolen session
//! cannot guess it faster than sign-in could); the change ends every session
//! of the person and signs this browser in again with a fresh one.

use std::net::SocketAddr;
use std::time::Instant;

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::DashboardCtx;
use super::auth_pages::{client_address, start_session};
use super::forms::{page, parse_form};
use super::overview::Nav;
use super::page_error::PageError;
use super::people::check_password;
use super::secrets::{hash_password, verify_password};
use super::session::SignedIn;

/// Where a successful change lands: the account page saying so.
const CHANGED: &str = "/dashboard/account?changed=1";

#[derive(Default)]
pub struct PasswordErrors {
    pub current: Option<String>,
    pub new: Option<String>,
    pub confirm: Option<String>,
    /// Not about one field: the throttle.
    pub form: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/account.html")]
struct AccountPage {
    nav: Nav,
    changed: bool,
    errors: PasswordErrors,
}

#[derive(Deserialize)]
pub struct AccountQuery {
    changed: Option<String>,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: Option<String>,
    new_password: Option<String>,
    confirm_password: Option<String>,
    csrf_token: Option<String>,
}

pub async fn account_page(
    viewer: SignedIn,
    Query(query): Query<AccountQuery>,
) -> Result<Response, PageError> {
    page(&AccountPage {
        nav: Nav::new(&viewer, "account"),
        changed: query.changed.is_some(),
        errors: PasswordErrors::default(),
    })
}

fn refused(
    viewer: &SignedIn,
    status: StatusCode,
    errors: PasswordErrors,
) -> Result<Response, PageError> {
    let mut response = page(&AccountPage {
        nav: Nav::new(viewer, "account"),
        changed: false,
        errors,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

pub async fn change_password(
    State(ctx): State<DashboardCtx>,
    viewer: SignedIn,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let form: PasswordForm = parse_form(&body)?;
    viewer.check_form(&headers, form.csrf_token.as_deref())?;
    let email = viewer.user.email.clone();
    let address = client_address(connect.as_ref());
    if let Some(wait) = ctx.throttle.blocked(&email, &address, Instant::now()) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let errors = PasswordErrors {
            form: Some(format!(
                "Too many wrong passwords for this account or from your network. Try again in {minutes} minute(s)."
            )),
            ..PasswordErrors::default()
        };
        return refused(&viewer, StatusCode::TOO_MANY_REQUESTS, errors);
    }

    let current = form.current_password.unwrap_or_default();
    let new = form.new_password.unwrap_or_default();
    let confirm = form.confirm_password.unwrap_or_default();
    let phc = viewer.user.password_hash.clone();
    let checked = current.clone();
    let matches = tokio::task::spawn_blocking(move || verify_password(&checked, &phc))
        .await
        .unwrap_or(false);
    if !matches {
        ctx.throttle
            .record_failure(&email, &address, Instant::now());
        let errors = PasswordErrors {
            current: Some("this is not your current password".to_owned()),
            ..PasswordErrors::default()
        };
        return refused(&viewer, StatusCode::BAD_REQUEST, errors);
    }
    let mut errors = PasswordErrors {
        new: check_password(&new).err(),
        ..PasswordErrors::default()
    };
    if errors.new.is_none() && new == current {
        errors.new = Some("choose a password other than the current one".to_owned());
    }
    if confirm != new {
        errors.confirm = Some("this does not match the new password".to_owned());
    }
    if errors.new.is_some() || errors.confirm.is_some() {
        return refused(&viewer, StatusCode::BAD_REQUEST, errors);
    }

    let phc = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .ok()
        .flatten()
        .ok_or_else(|| PageError::BadRequest("the password could not be hashed".to_owned()))?;
    // Ends every session of the person, this one included, in one transaction.
    let stored = ctx
        .api
        .storage
        .users
        .set_password(viewer.principal.org_id, viewer.user.id, &phc)
        .await?;
    if !stored {
        return Err(PageError::SignIn);
    }
    ctx.throttle.record_success(&email);
    let user = evalguard_storage::UserRecord {
        password_hash: phc,
        ..viewer.user
    };
    start_session(&ctx, &user, CHANGED).await
}
