//! Prometheus metrics: request counts and latencies by route template (never
//! raw paths, which would carry ids), samples ingested, and queue gauges set
//! when scraped. Every metric is described (`# HELP`); durations are
//! histograms with buckets, not summaries.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::Shared;

const LATENCY_BUCKETS: [f64; 14] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// For the workers' and judges' durations (`evalguard_*_seconds`): a judge
/// call takes from milliseconds to a minute, a job up to an hour.
const WORK_BUCKETS: [f64; 16] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0,
];

const HTTP_REQUESTS: &str = "http_requests_total";
const HTTP_DURATION: &str = "http_request_duration_seconds";
/// Counter: samples in accepted `POST /api/v1/traffic` requests.
const SAMPLES_INGESTED: &str = "evalguard_samples_ingested_total";
/// Counter: of those, samples stored (a repeated sample id is not).
const SAMPLES_STORED: &str = "evalguard_samples_stored_total";
const QUEUE_DEPTH: &str = "evalguard_queue_depth";
const OLDEST_QUEUED_AGE: &str = "evalguard_queue_oldest_age_seconds";
const JOBS_BY_STATUS: &str = "evalguard_jobs";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use. Several apps in
/// one process (tests) share it: a global recorder can be installed only once.
pub fn prometheus_handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), &LATENCY_BUCKETS)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Prefix("evalguard_".to_owned()), &WORK_BUCKETS))
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let handle = match builder.install_recorder() {
                Ok(handle) => handle,
                Err(e) => {
                    // Another recorder owns the process: render an empty registry
                    // rather than fail to start.
                    tracing::warn!(error = %e, "a metrics recorder is already installed; /metrics will be empty");
                    PrometheusBuilder::new().build_recorder().handle()
                }
            };
            describe();
            handle
        })
        .clone()
}

/// The help text of the API's own metrics (other crates describe theirs).
fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by method, route template and status."
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "HTTP request latency by method and route template."
    );
    metrics::describe_counter!(
        SAMPLES_INGESTED,
        "Traffic samples received in accepted ingest requests."
    );
    metrics::describe_counter!(
        SAMPLES_STORED,
        "Traffic samples stored (a sample id seen before in its project is not stored again)."
    );
    metrics::describe_gauge!(QUEUE_DEPTH, "Auto-eval jobs waiting to be claimed.");
    metrics::describe_gauge!(
        OLDEST_QUEUED_AGE,
        metrics::Unit::Seconds,
        "How long the job waiting longest has been queued; 0 when none waits."
    );
    metrics::describe_gauge!(JOBS_BY_STATUS, "Auto-eval jobs in the database by status.");
}

/// Counts an accepted ingest request's samples.
pub(crate) fn record_ingest(accepted: usize, stored: u64) {
    metrics::counter!(SAMPLES_INGESTED).increment(accepted as u64);
    metrics::counter!(SAMPLES_STORED).increment(stored);
}

/// Keeps the `method` label bounded whatever a client sends.
fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

/// Middleware recording `http_requests_total` and `http_request_duration_seconds`.
pub(crate) async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method());
    let started = Instant::now();
    let response = next.run(req).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    // Debug level: one line per request is too many for `info` in production.
    tracing::debug!(method, route = %route, status, latency_ms = took.as_secs_f64() * 1000.0, "request");
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route)
        .record(took.as_secs_f64());
    response
}

/// `GET /metrics`: the Prometheus text format.
pub(crate) async fn render(State(ctx): State<Shared>) -> Response {
    match ctx.api.storage.jobs.queue_depth().await {
        Ok(depth) => {
            metrics::gauge!(QUEUE_DEPTH).set(depth.queued as f64);
            let waited = depth.oldest_queued_at.map_or(0.0, |at| {
                (chrono::Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0
            });
            metrics::gauge!(OLDEST_QUEUED_AGE).set(waited);
            for (status, n) in [
                ("queued", depth.queued),
                ("running", depth.running),
                ("succeeded", depth.succeeded),
                ("failed", depth.failed),
                ("cancelled", depth.cancelled),
            ] {
                metrics::gauge!(JOBS_BY_STATUS, "status" => status).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not read the queue depth for /metrics"),
    }
    let body = prometheus_handle().render();
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
