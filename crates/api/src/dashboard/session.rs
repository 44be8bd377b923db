//! Who is signed in: the session cookie resolved to a person and their
//! organization role, with idle and absolute expiry, and the CSRF and
//! `Origin` checks every form post passes.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use chrono::{DateTime, Utc};
use evalguard_domain::{Principal, Role};
use evalguard_storage::{SessionRecord, UserRecord};

use super::DashboardCtx;
use super::page_error::PageError;
use super::secrets::{csrf_matches, csrf_token, token_hash};

pub const SESSION_COOKIE: &str = "evalguard_session";
/// Carries the CSRF secret of the forms shown before signing in.
pub const PRESESSION_COOKIE: &str = "evalguard_presession";
/// `last_seen_at` is written at most this often per session.
const TOUCH_EVERY_SECS: i64 = 60;

/// The value of one cookie of the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value for the dashboard's path.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path=/dashboard; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    )
}

/// A person signed in to the dashboard, as a handler argument. Pages
/// without one answer `303` to the sign-in page.
#[derive(Clone)]
pub struct SignedIn {
    pub user: UserRecord,
    /// The same principal the API builds from a key: one authorization model.
    pub principal: Principal,
    /// The hidden `csrf_token` value of this session's forms.
    pub csrf: String,
    session_id: String,
}

impl SignedIn {
    pub fn require_role(&self, needed: Role) -> Result<(), PageError> {
        if self.principal.has_role(needed) {
            Ok(())
        } else {
            Err(PageError::Forbidden(format!(
                "this needs the {needed} role; you have {}",
                self.principal.role
            )))
        }
    }

    /// The CSRF token and `Origin` of a form post of this session.
    pub fn check_form(
        &self,
        headers: &HeaderMap,
        presented: Option<&str>,
    ) -> Result<(), PageError> {
        check_origin(headers)?;
        match presented {
            Some(token) if csrf_matches(&self.session_id, token) => Ok(()),
            _ => Err(PageError::csrf()),
        }
    }

    pub fn session_hash(&self) -> String {
        token_hash(&self.session_id)
    }
}

/// Whether a session is still valid at `now`.
pub fn session_alive(s: &SessionRecord, now: DateTime<Utc>, idle: chrono::Duration) -> bool {
    s.user.disabled_at.is_none() && now < s.expires_at && now - s.last_seen_at < idle
}

/// A cross-site form post carries another site's `Origin`; same-site posts
/// from browsers carry ours (or none, from old browsers: the token still holds).
pub fn check_origin(headers: &HeaderMap) -> Result<(), PageError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = origin.to_str().unwrap_or("");
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match (origin_host, host) {
        (Some(o), Some(h)) if o.eq_ignore_ascii_case(h) => Ok(()),
        _ => Err(PageError::Forbidden(
            "this form was sent from another site".to_owned(),
        )),
    }
}

/// The CSRF token of the pre-session forms (sign-in, setup) and the cookie
/// value to set when the browser has none yet.
pub fn presession(headers: &HeaderMap) -> (String, Option<String>) {
    match cookie(headers, PRESESSION_COOKIE) {
        Some(value) if !value.is_empty() => (csrf_token(value), None),
        _ => {
            let value = super::secrets::random_token();
            (csrf_token(&value), Some(value))
        }
    }
}

pub fn check_presession_form(
    headers: &HeaderMap,
    presented: Option<&str>,
) -> Result<(), PageError> {
    check_origin(headers)?;
    match (cookie(headers, PRESESSION_COOKIE), presented) {
        (Some(value), Some(token)) if csrf_matches(value, token) => Ok(()),
        _ => Err(PageError::csrf()),
    }
}

impl FromRequestParts<DashboardCtx> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &DashboardCtx,
    ) -> Result<Self, Self::Rejection> {
        let session_id = cookie(&parts.headers, SESSION_COOKIE)
            .filter(|v| !v.is_empty())
            .ok_or(PageError::SignIn)?
            .to_owned();
        let hash = token_hash(&session_id);
        let sessions = &ctx.app.api.storage.sessions;
        let session = sessions
            .find_session(&hash)
            .await?
            .ok_or(PageError::SignIn)?;
        let now = Utc::now();
        let idle = chrono::Duration::from_std(ctx.app.api.dashboard.session_idle)
            .unwrap_or(chrono::Duration::hours(1));
        if !session_alive(&session, now, idle) {
            sessions.delete_session(&hash).await?;
            return Err(PageError::SignIn);
        }
        if (now - session.last_seen_at).num_seconds() >= TOUCH_EVERY_SECS {
            sessions.touch_session(&hash, now).await?;
        }
        let user = session.user;
        Ok(SignedIn {
            principal: Principal {
                org_id: user.org_id,
                key_id: format!("user:{}", user.id),
                role: user.role,
                project: None,
            },
            csrf: csrf_token(&session_id),
            user,
            session_id,
        })
    }
}
