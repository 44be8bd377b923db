//! Authentication (`Authorization: Bearer <key>`), the per-key rate limit, and
//! the role and project-scope checks handlers make.

use std::time::Instant;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use evalguard_domain::access::PresentedKey;
use evalguard_domain::{Principal, ProjectId, Role};

use crate::error::ApiError;
use crate::rate_limit::RateDecision;
use crate::state::Shared;

/// Middleware on every `/api/v1/*` route that needs a key: resolves the key to
/// a [`Principal`], applies the rate limit, and adds the `RateLimit-*` headers
/// to whatever the handler answers.
pub(crate) async fn authenticate(
    State(ctx): State<Shared>,
    mut req: Request,
    next: Next,
) -> Response {
    let principal = match resolve_principal(&ctx, req.headers()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let decision = ctx.limiter.check(&principal.key_id, Instant::now());
    let mut response = if decision.allowed {
        req.extensions_mut().insert(principal);
        next.run(req).await
    } else {
        ApiError::RateLimited {
            retry_after_secs: decision.retry_after_secs,
        }
        .into_response()
    };
    add_rate_limit_headers(response.headers_mut(), decision);
    response
}

fn add_rate_limit_headers(headers: &mut HeaderMap, d: RateDecision) {
    if d.limit == 0 {
        return;
    }
    headers.insert("ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(d.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(d.reset_secs));
}

async fn resolve_principal(ctx: &Shared, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let Some(raw) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "missing_api_key",
            "send your API key as 'Authorization: Bearer <key>'",
        ));
    };
    let raw = raw.to_str().unwrap_or("");
    let token = match raw.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => {
            return Err(ApiError::unauthorized(
                "invalid_authorization",
                "the Authorization header must be 'Bearer <key>'",
            ));
        }
    };
    let invalid = || ApiError::unauthorized("invalid_api_key", "the API key is not valid");
    let presented = PresentedKey::parse(token).ok_or_else(invalid)?;
    let record = ctx
        .api
        .storage
        .access
        .find_api_key(presented.key_id)
        .await?
        .ok_or_else(invalid)?;
    if !presented.matches(&record.hash) {
        return Err(invalid());
    }
    if record.revoked_at.is_some() {
        return Err(ApiError::unauthorized(
            "api_key_revoked",
            "the API key has been revoked",
        ));
    }
    if ctx.touch_due(&record.key_id, Instant::now()) {
        // Off the request path: a slow write must not delay the answer.
        let access = ctx.api.storage.access.clone();
        let key_id = record.key_id.clone();
        tokio::spawn(async move {
            if let Err(e) = access.touch_api_key(&key_id, Utc::now()).await {
                tracing::warn!(error = %e, key_id = %key_id, "could not record the key's last use");
            }
        });
    }
    Ok(Principal {
        org_id: record.org_id,
        key_id: record.key_id,
        role: record.role,
        project: record.project,
    })
}

/// The authenticated caller, as a handler argument.
pub(crate) struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| {
                ApiError::Internal("a protected route was mounted without authentication".into())
            })
    }
}

impl Caller {
    pub fn require_role(&self, needed: Role) -> Result<(), ApiError> {
        if self.0.has_role(needed) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "insufficient_role",
                format!(
                    "this action needs the {needed} role; the key has {}",
                    self.0.role
                ),
            ))
        }
    }

    pub fn require_project(&self, project: &ProjectId) -> Result<(), ApiError> {
        if self.0.can_access_project(project) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "project_out_of_scope",
                format!("the key is restricted to another project than '{project}'"),
            ))
        }
    }

    /// Organization-wide actions (creating projects, managing keys) are not
    /// open to keys restricted to one project.
    pub fn require_org_wide(&self) -> Result<(), ApiError> {
        match &self.0.project {
            None => Ok(()),
            Some(p) => Err(ApiError::forbidden(
                "project_out_of_scope",
                format!(
                    "the key is restricted to project '{p}' and cannot act on the whole organization"
                ),
            )),
        }
    }
}
