//! EvalGuard's HTTP API: authentication and roles, the contract's JSON
//! errors, per-key rate limits, the endpoints, the OpenAPI document and
//! Prometheus metrics. [`router`] builds the whole `axum::Router` from an
//! [`ApiState`]; the binary serves it.

mod auth;
pub mod dashboard;
mod error;
mod extract;
mod key_cache;
mod metrics;
mod openapi;
mod pagination;
mod rate_limit;
mod routes;
mod state;
pub mod webhook_target;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, Method, Request};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

pub use dashboard::DashboardSettings;
pub use error::ApiError;
pub use metrics::prometheus_handle;
pub use state::{ApiLimits, ApiState, WebhookPolicy};

use crate::routes::{
    health, jobs, keys, otel, projects, scorers, traffic, traffic_deletion, webhooks,
};
use crate::state::{AppContext, Shared};

/// Whether a route needs an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    ApiKey,
}

/// One route of the router: the single table both [`router`] and
/// [`live_routes`] are built from, so the list cannot drift from the router.
fn route_table() -> Vec<(Method, &'static str, Access, MethodRouter<Shared>)> {
    use Access::{ApiKey, Public};
    vec![
        (
            Method::POST,
            "/api/v1/projects",
            ApiKey,
            post(projects::create_project),
        ),
        (
            Method::GET,
            "/api/v1/projects",
            ApiKey,
            get(projects::list_projects),
        ),
        (
            Method::GET,
            "/api/v1/projects/{id}",
            ApiKey,
            get(projects::get_project),
        ),
        (
            Method::PATCH,
            "/api/v1/projects/{id}",
            ApiKey,
            patch(projects::patch_project),
        ),
        (
            Method::POST,
            "/api/v1/projects/{id}/scorers",
            ApiKey,
            post(scorers::put_rubric),
        ),
        (
            Method::GET,
            "/api/v1/projects/{id}/scorers",
            ApiKey,
            get(scorers::list_rubrics),
        ),
        (
            Method::DELETE,
            "/api/v1/projects/{id}/scorers/{name}",
            ApiKey,
            delete(scorers::delete_rubric),
        ),
        (
            Method::POST,
            "/api/v1/projects/{id}/traffic/delete",
            ApiKey,
            post(traffic_deletion::delete_traffic),
        ),
        (
            Method::POST,
            "/api/v1/projects/{id}/webhooks",
            ApiKey,
            post(webhooks::create_webhook),
        ),
        (
            Method::GET,
            "/api/v1/projects/{id}/webhooks",
            ApiKey,
            get(webhooks::list_webhooks),
        ),
        (
            Method::DELETE,
            "/api/v1/webhooks/{id}",
            ApiKey,
            delete(webhooks::delete_webhook),
        ),
        (
            Method::GET,
            "/api/v1/webhooks/{id}/deliveries",
            ApiKey,
            get(webhooks::list_deliveries),
        ),
        (
            Method::POST,
            extract::TRAFFIC_PATH,
            ApiKey,
            post(traffic::ingest),
        ),
        (
            Method::POST,
            otel::TRACES_PATH,
            ApiKey,
            post(otel::export_traces),
        ),
        (
            Method::POST,
            "/api/v1/auto-eval",
            ApiKey,
            post(jobs::create_job),
        ),
        (
            Method::GET,
            "/api/v1/auto-eval",
            ApiKey,
            get(jobs::list_jobs),
        ),
        (
            Method::GET,
            "/api/v1/auto-eval/{job_id}",
            ApiKey,
            get(jobs::get_job),
        ),
        (
            Method::POST,
            "/api/v1/auto-eval/{job_id}/cancel",
            ApiKey,
            post(jobs::cancel_job),
        ),
        (
            Method::GET,
            "/api/v1/auto-eval/{job_id}/results",
            ApiKey,
            get(jobs::list_results),
        ),
        (Method::POST, "/api/v1/keys", ApiKey, post(keys::create_key)),
        (Method::GET, "/api/v1/keys", ApiKey, get(keys::list_keys)),
        (
            Method::DELETE,
            "/api/v1/keys/{key_id}",
            ApiKey,
            delete(keys::revoke_key),
        ),
        (
            Method::GET,
            openapi::OPENAPI_PATH,
            Public,
            get(openapi::serve),
        ),
        (Method::GET, "/healthz", Public, get(health::healthz)),
        (Method::GET, "/readyz", Public, get(health::readyz)),
        (Method::GET, "/metrics", Public, get(metrics::render)),
    ]
}

/// Every route the router serves (method, path template, access), e.g. for
/// checking the OpenAPI document against the live routes.
pub fn live_routes() -> Vec<(Method, &'static str, Access)> {
    route_table()
        .into_iter()
        .map(|(m, p, a, _)| (m, p, a))
        .collect()
}

/// The whole HTTP API.
pub fn router(state: ApiState) -> Router {
    // Installed before the first request is counted.
    let _ = prometheus_handle();
    let limits = state.limits;
    let shared: Shared = Arc::new(AppContext::new(state));

    let mut protected: Router<Shared> = Router::new();
    let mut public: Router<Shared> = Router::new();
    for (_, path, access, handler) in route_table() {
        let handler = if path == extract::TRAFFIC_PATH || path == otel::TRACES_PATH {
            handler.layer(DefaultBodyLimit::max(limits.traffic_body_bytes))
        } else {
            handler.layer(DefaultBodyLimit::max(limits.body_bytes))
        };
        match access {
            Access::ApiKey => protected = protected.route(path, handler),
            Access::Public => public = public.route(path, handler),
        }
    }
    let protected = protected.route_layer(middleware::from_fn_with_state(
        shared.clone(),
        auth::authenticate,
    ));

    let request_id = HeaderName::from_static("x-request-id");
    let dashboard = dashboard::router(shared.clone());
    public
        .merge(protected)
        .merge(dashboard)
        .fallback(|| async { ApiError::RouteNotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(limits, limit_duration))
        .layer(RequestBodyTimeoutLayer::new(limits.body_read_timeout))
        .layer(middleware::from_fn(metrics::track))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            // Method, path and request id only: never headers (Authorization) or bodies.
            let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            ApiError::Internal("a request handler panicked".into()).into_response()
        }))
        .with_state(shared)
}

/// The whole-request timeout: reading the body and handling it. A request
/// cut short is answered `408` and its work dropped; what a handler had
/// committed stays committed (each write is one transaction).
async fn limit_duration(
    State(limits): State<ApiLimits>,
    req: Request<axum::body::Body>,
    next: middleware::Next,
) -> Response {
    match tokio::time::timeout(limits.request_timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::RequestTimeout {
            limit_secs: limits.request_timeout.as_secs(),
        }
        .into_response(),
    }
}
