//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::Shared;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct HealthStatus {
    pub status: &'static str,
}

/// Liveness
///
/// Answers `200` while the process serves requests; it does not touch the database.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is alive", body = HealthStatus)))]
pub(crate) async fn healthz() -> Json<HealthStatus> {
    Json(HealthStatus { status: "ok" })
}

/// Readiness
///
/// Answers `200` when a round trip to the database succeeds, else `503`.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "The database is reachable", body = HealthStatus),
              (status = 503, description = "The database is not reachable", body = crate::openapi::ErrorBody)))]
pub(crate) async fn readyz(State(ctx): State<Shared>) -> Result<Json<HealthStatus>, ApiError> {
    match ctx.api.storage.health.ping().await {
        Ok(()) => Ok(Json(HealthStatus { status: "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::NotReady)
        }
    }
}

/// Prometheus metrics
///
/// Request counts and durations per route template, queue depth and jobs by
/// status, in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
#[allow(dead_code)] // documents `crate::metrics::render`, which serves the route
pub(crate) async fn metrics_doc() {}
