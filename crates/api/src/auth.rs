//! Authentication (`Authorization: Bearer <key>`), the per-key rate limit, and
//! the role and project-scope checks handlers make.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use evalguard_domain::access::PresentedKey;
use evalguard_domain::{Principal, ProjectId, Role};

use crate::error::ApiError;
use crate::extract::TRAFFIC_PATH;
use crate::rate_limit::RateDecision;
use crate::state::Shared;

/// Middleware on every `/api/v1/*` route that needs a key: resolves the key to
/// a [`Principal`], applies the rate limit (the ingest endpoints have a bucket
/// of their own), keeps project-scoped keys to their project's paths, and adds
/// the `RateLimit-*` headers to whatever the handler answers.
pub(crate) async fn authenticate(
    State(ctx): State<Shared>,
    mut req: Request,
    next: Next,
) -> Response {
    let client = client_bucket(&req);
    let principal = match resolve_principal(&ctx, req.headers(), &client).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let limiter = if is_ingest_path(req.uri().path()) {
        &ctx.ingest_limiter
    } else {
        &ctx.limiter
    };
    let decision = limiter.check(&principal.key_id, Instant::now());
    let mut response = if !decision.allowed {
        ApiError::RateLimited {
            retry_after_secs: decision.retry_after_secs,
        }
        .into_response()
    } else if let Err(e) = check_path_scope(&principal, &mut req).await {
        e.into_response()
    } else {
        req.extensions_mut().insert(principal);
        next.run(req).await
    };
    add_rate_limit_headers(response.headers_mut(), decision);
    response
}

/// The endpoints that receive traffic, limited by their own bucket so that an
/// application sending samples does not use up the budget of its other calls.
const INGEST_PATHS: [&str; 2] = [TRAFFIC_PATH, "/api/v1/otel/v1/traces"];

fn is_ingest_path(path: &str) -> bool {
    INGEST_PATHS.contains(&path)
}

/// The failed-authentication bucket of the client's address: one per IPv4
/// address, one per IPv6 /64 (what one host usually holds). Requests that did
/// not come through a socket (in-process tests) share one bucket.
fn client_bucket(req: &Request) -> String {
    match req.extensions().get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(addr)) => match addr.ip().to_canonical() {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "local".to_owned(),
    }
}

/// A project-scoped key may only use its own project's paths. Checked before
/// any handler looks the project up, so that a missing project and another
/// project get the same answer and ids cannot be probed.
async fn check_path_scope(principal: &Principal, req: &mut Request) -> Result<(), ApiError> {
    let Some(own) = &principal.project else {
        return Ok(());
    };
    let under_project = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|p| p.as_str().starts_with("/api/v1/projects/{id}"));
    if !under_project {
        return Ok(());
    }
    let (mut parts, body) = std::mem::take(req).into_parts();
    let params = RawPathParams::from_request_parts(&mut parts, &()).await;
    *req = Request::from_parts(parts, body);
    let named = params.ok().and_then(|params| {
        params
            .iter()
            .find(|(name, _)| *name == "id")
            .map(|(_, value)| value.to_owned())
    });
    if named.as_deref() == Some(own.as_str()) {
        Ok(())
    } else {
        Err(out_of_scope())
    }
}

/// The same answer whether the other project exists or not.
fn out_of_scope() -> ApiError {
    ApiError::forbidden(
        "project_out_of_scope",
        "the key is restricted to another project",
    )
}

fn add_rate_limit_headers(headers: &mut HeaderMap, d: RateDecision) {
    if d.limit == 0 {
        return;
    }
    headers.insert("ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(d.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(d.reset_secs));
}

/// A key verified recently is served from memory. Any other request first
/// needs its client address to have failed authentications left: once they
/// are used up the answer is `429` without a database lookup, so a flood of
/// bad keys costs the database nothing and valid keys in use stay fast.
async fn resolve_principal(
    ctx: &Shared,
    headers: &HeaderMap,
    client: &str,
) -> Result<Principal, ApiError> {
    let now = Instant::now();
    let presented = presented_key(headers);
    if let Ok(key) = &presented
        && let Some(principal) = ctx.keys.get(key, now)
    {
        note_use(ctx, &principal.key_id);
        return Ok(principal);
    }
    let budget = ctx.failed_auth.peek(client, now);
    let verified_before = presented
        .as_ref()
        .is_ok_and(|key| ctx.keys.was_verified(key));
    if !budget.allowed && !verified_before {
        return Err(ApiError::RateLimited {
            retry_after_secs: budget.retry_after_secs,
        });
    }
    let verified = match presented {
        Ok(key) => verify_stored(ctx, &key, now).await,
        Err(e) => Err(e),
    };
    if let Err(ApiError::Unauthorized { .. }) = &verified {
        ctx.failed_auth.check(client, now);
    }
    verified
}

fn presented_key(headers: &HeaderMap) -> Result<PresentedKey<'_>, ApiError> {
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
    PresentedKey::parse(token).ok_or_else(invalid_key)
}

fn invalid_key() -> ApiError {
    ApiError::unauthorized("invalid_api_key", "the API key is not valid")
}

async fn verify_stored(
    ctx: &Shared,
    presented: &PresentedKey<'_>,
    now: Instant,
) -> Result<Principal, ApiError> {
    let record = ctx
        .api
        .storage
        .access
        .find_api_key(presented.key_id)
        .await?
        .ok_or_else(invalid_key)?;
    if !presented.matches(&record.hash) {
        return Err(invalid_key());
    }
    if record.revoked_at.is_some() {
        return Err(ApiError::unauthorized(
            "api_key_revoked",
            "the API key has been revoked",
        ));
    }
    let principal = Principal {
        org_id: record.org_id,
        key_id: record.key_id,
        role: record.role,
        project: record.project,
    };
    ctx.keys.insert(record.hash, principal.clone(), now);
    note_use(ctx, &principal.key_id);
    Ok(principal)
}

/// Records the key's `last_used_at`, at most once a minute per key.
fn note_use(ctx: &Shared, key_id: &str) {
    if ctx.touch_due(key_id, Instant::now()) {
        // Off the request path: a slow write must not delay the answer.
        let access = ctx.api.storage.access.clone();
        let key_id = key_id.to_owned();
        tokio::spawn(async move {
            if let Err(e) = access.touch_api_key(&key_id, Utc::now()).await {
                tracing::warn!(error = %e, key_id = %key_id, "could not record the key's last use");
            }
        });
    }
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
            Err(out_of_scope())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn from(addr: &str) -> Request {
        let mut req = Request::new(axum::body::Body::empty());
        req.extensions_mut()
            .insert(ConnectInfo::<SocketAddr>(addr.parse().unwrap()));
        req
    }

    #[test]
    fn failures_are_counted_per_ipv4_address_and_per_ipv6_64() {
        assert_eq!(client_bucket(&from("203.0.113.7:5000")), "203.0.113.7");
        // An IPv4 client on a dual-stack socket counts as its IPv4 address.
        assert_eq!(
            client_bucket(&from("[::ffff:203.0.113.7]:5000")),
            "203.0.113.7"
        );
        // One host usually holds a whole /64: changing the low bits does not
        // give an attacker a fresh budget.
        let a = client_bucket(&from("[2001:db8:1:2:aaaa::1]:5000"));
        let b = client_bucket(&from("[2001:db8:1:2:bbbb::9]:5000"));
        let c = client_bucket(&from("[2001:db8:1:3::1]:5000"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            client_bucket(&Request::new(axum::body::Body::empty())),
            "local"
        );
    }

    #[test]
    fn only_the_ingest_endpoints_use_the_ingest_bucket() {
        assert!(is_ingest_path("/api/v1/traffic"));
        assert!(is_ingest_path("/api/v1/otel/v1/traces"));
        for path in ["/api/v1/auto-eval", "/api/v1/traffic/x", "/api/v1/projects"] {
            assert!(!is_ingest_path(path), "{path}");
        }
    }
}
