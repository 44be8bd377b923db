//! Auto-eval jobs: trigger, read, list, cancel, and the per-sample results.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use evalguard_domain::job::AutoEvalBody;
use evalguard_domain::job::JobStatus;
use evalguard_domain::scoring::{JudgedSample, ResultScore, SampleResult, ScorerAvailability};
use evalguard_domain::{AutoEvalRequest, Job, JobId, ProjectId, Role};
use evalguard_storage::{JobFilter, NewJob};
use serde::Serialize;
use uuid::Uuid;

use super::unknown_project;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody, QueryPairs};
use crate::pagination::{cursor_position, page, parse_limit};
use crate::state::Shared;

const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct JobCreated {
    #[schema(format = Uuid)]
    pub job_id: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct JobList {
    pub data: Vec<Job>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ResultList {
    pub data: Vec<SampleResult>,
    pub next_cursor: Option<String>,
}

/// The `Idempotency-Key` header, checked (auto-eval and traffic ingest).
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let bad = || {
        ApiError::bad_request(
            "invalid_idempotency_key",
            format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"
            ),
            Some("Idempotency-Key"),
        )
    };
    let key = raw.to_str().map_err(|_| bad())?;
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY_LEN
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(bad());
    }
    Ok(Some(key.to_owned()))
}

/// Checks and queues an auto-eval request as `POST /api/v1/auto-eval` does
/// (the dashboard's trigger form calls it too): role, project scope, the
/// project's existence, the scorers' names. Returns the job (the existing
/// one when the idempotency key was used before).
pub(crate) async fn enqueue_auto_eval(
    ctx: &Shared,
    caller: &Caller,
    request: AutoEvalRequest,
    idempotency_key: Option<String>,
) -> Result<Job, ApiError> {
    caller.require_role(Role::Member)?;
    let org = caller.0.org_id;
    let project_id = &request.target.project_id;
    caller.require_project(project_id)?;
    if ctx
        .api
        .storage
        .projects
        .get_project(org, project_id)
        .await?
        .is_none()
    {
        return Err(unknown_project("target.project_id", project_id));
    }
    if let Some(names) = &request.scorers {
        let rubrics = ctx
            .api
            .storage
            .projects
            .list_rubrics(org, project_id)
            .await?;
        if let Some((i, name)) = names.iter().enumerate().find(|(_, n)| {
            matches!(
                ctx.api.catalog.resolve(n, &rubrics),
                ScorerAvailability::Unknown
            )
        }) {
            return Err(ApiError::bad_request(
                "unknown_scorer",
                format!("there is no scorer named '{name}' for this project"),
                Some(&format!("scorers[{i}]")),
            ));
        }
    }
    let (job, created) = ctx
        .api
        .storage
        .jobs
        .enqueue(NewJob {
            id: JobId::new(),
            org_id: org,
            request,
            idempotency_key,
            created_at: Utc::now(),
        })
        .await?;
    if created {
        ctx.api.job_wakeup.notify_one();
    }
    Ok(job)
}

/// Trigger an auto-eval
///
/// Queues a job over the target's most recent traffic and answers `202` at
/// once with its id; poll `GET /api/v1/auto-eval/{job_id}`. An
/// `Idempotency-Key` is scoped to the organization and this endpoint: a repeat
/// with the same body returns the same job, with a different body a `422`
/// `idempotency_key_reused`. Role: member.
#[utoipa::path(post, path = "/api/v1/auto-eval", tag = "auto-eval",
    request_body = AutoEvalBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "a repeated request with the same key and body returns the same job")),
    responses((status = 202, description = "The job is queued", body = JobCreated,
               headers(("Location" = String, description = "/api/v1/auto-eval/{job_id}"))),
              (status = 422, description = "The Idempotency-Key was used with a different body (`idempotency_key_reused`)", body = crate::openapi::ErrorBody)))]
pub(crate) async fn create_job(
    State(ctx): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<AutoEvalBody>,
) -> Result<Response, ApiError> {
    // The role before anything else, as on every endpoint.
    caller.require_role(Role::Member)?;
    let idempotency_key = idempotency_key(&headers)?;
    let request = body.into_request()?;
    let job = enqueue_auto_eval(&ctx, &caller, request, idempotency_key).await?;
    let location = HeaderValue::try_from(format!("/api/v1/auto-eval/{}", job.id))
        .map_err(|e| ApiError::Internal(format!("job location header: {e}")))?;
    let mut response = (
        StatusCode::ACCEPTED,
        Json(JobCreated {
            job_id: job.id.to_string(),
        }),
    )
        .into_response();
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// The job of the caller's organization and project scope, or 404 / 403.
async fn load_job(ctx: &Shared, caller: &Caller, raw_id: &str) -> Result<Job, ApiError> {
    let not_found = ApiError::NotFound { what: "job" };
    let Ok(uuid) = Uuid::parse_str(raw_id) else {
        return Err(not_found);
    };
    let job = ctx
        .api
        .storage
        .jobs
        .get_job(caller.0.org_id, JobId(uuid))
        .await?
        .ok_or(not_found)?;
    caller.require_project(&job.target.project_id)?;
    Ok(job)
}

/// Read a job
///
/// The job's status, progress, baseline, per-scorer summary, flags with their
/// evidence, usage and error. Role: viewer.
#[utoipa::path(get, path = "/api/v1/auto-eval/{job_id}", tag = "auto-eval",
    params(("job_id" = String, Path, description = "job id")),
    responses((status = 200, description = "The job", body = Job)))]
pub(crate) async fn get_job(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Job>, ApiError> {
    caller.require_role(Role::Viewer)?;
    Ok(Json(load_job(&ctx, &caller, &id).await?))
}

/// List jobs
///
/// The jobs of the organization (or of the key's project), newest first,
/// filtered by project and status, a page at a time. Role: viewer.
#[utoipa::path(get, path = "/api/v1/auto-eval", tag = "auto-eval",
    params(("project_id" = Option<String>, Query, description = "only this project's jobs"),
           ("status" = Option<JobStatus>, Query, description = "only jobs in this status"),
           ("limit" = Option<u32>, Query, description = "1 to 1000, default 100"),
           ("cursor" = Option<String>, Query, description = "next_cursor of the previous page")),
    responses((status = 200, description = "Jobs, newest first", body = JobList)))]
pub(crate) async fn list_jobs(
    State(ctx): State<Shared>,
    caller: Caller,
    query: QueryPairs,
) -> Result<Json<JobList>, ApiError> {
    caller.require_role(Role::Viewer)?;
    query.only(&["project_id", "status", "limit", "cursor"])?;
    let limit = parse_limit(&query)?;
    let before = cursor_position(&query, "job", |s| Uuid::parse_str(s).ok().map(JobId))?;
    let status = match query.get("status") {
        None | Some("") => None,
        Some(raw) => Some(JobStatus::parse(raw).ok_or_else(|| {
            ApiError::invalid_field(
                "status",
                "status must be queued, running, succeeded, failed or cancelled",
            )
        })?),
    };
    let project = match query.get("project_id") {
        None | Some("") => caller.0.project.clone(),
        Some(raw) => {
            let id = ProjectId::parse(raw)
                .map_err(|e| ApiError::invalid_field("project_id", format!("project_id: {e}")))?;
            caller.require_project(&id)?;
            Some(id)
        }
    };
    let filter = JobFilter {
        project,
        status,
        before,
        limit: limit + 1,
    };
    let jobs = ctx
        .api
        .storage
        .jobs
        .list_jobs(caller.0.org_id, &filter)
        .await?;
    let (data, next_cursor) = page(jobs, limit, |j| j.id.to_string(), "job");
    Ok(Json(JobList { data, next_cursor }))
}

/// Cancel a job
///
/// Makes a queued or running job `cancelled`; a finished job is returned
/// unchanged, since a finished job never changes again. Role: member.
#[utoipa::path(post, path = "/api/v1/auto-eval/{job_id}/cancel", tag = "auto-eval",
    params(("job_id" = String, Path, description = "job id")),
    responses((status = 200, description = "The job after cancellation (unchanged if it had finished)", body = Job)))]
pub(crate) async fn cancel_job(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Job>, ApiError> {
    caller.require_role(Role::Member)?;
    let job = load_job(&ctx, &caller, &id).await?;
    let job = ctx
        .api
        .storage
        .jobs
        .cancel_job(caller.0.org_id, job.id)
        .await?
        .ok_or(ApiError::NotFound { what: "job" })?;
    Ok(Json(job))
}

/// List a job's per-sample results
///
/// Every sample's scores with the judge's reasoning, a page at a time;
/// `flagged=true` lists only flagged samples. Role: viewer.
#[utoipa::path(get, path = "/api/v1/auto-eval/{job_id}/results", tag = "auto-eval",
    params(("job_id" = String, Path, description = "job id"),
           ("flagged" = Option<bool>, Query, description = "true: only flagged samples; false: only the others"),
           ("limit" = Option<u32>, Query, description = "1 to 1000, default 100"),
           ("cursor" = Option<String>, Query, description = "next_cursor of the previous page")),
    responses((status = 200, description = "Per-sample scores with the judge's reasoning", body = ResultList)))]
pub(crate) async fn list_results(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    query: QueryPairs,
) -> Result<Json<ResultList>, ApiError> {
    caller.require_role(Role::Viewer)?;
    query.only(&["flagged", "limit", "cursor"])?;
    let limit = parse_limit(&query)?;
    let after = cursor_position(&query, "result", |s| s.parse::<i64>().ok())?;
    let flagged = match query.get("flagged") {
        None | Some("") => None,
        Some("false") => Some(false),
        Some("true") => Some(true),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "flagged",
                "flagged must be true or false",
            ));
        }
    };
    let job = load_job(&ctx, &caller, &id).await?;
    let storage = &ctx.api.storage;
    let rows = storage
        .results
        .list_results(job.id, flagged, after, limit + 1)
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| r.sample_key.to_string(), "result");
    let keys: Vec<i64> = rows.iter().map(|r| r.sample_key).collect();
    let samples: HashMap<i64, JudgedSample> = storage
        .traffic
        .samples_by_key(job.org_id, &keys)
        .await?
        .iter()
        .map(|s| (s.key, JudgedSample::from(&s.sample)))
        .collect();
    let data = rows
        .into_iter()
        .map(|r| SampleResult {
            sample: samples.get(&r.sample_key).cloned(),
            scores: r
                .scores
                .into_iter()
                .map(|(name, outcome)| {
                    let passed = r.passed.get(&name).copied();
                    (name, ResultScore { outcome, passed })
                })
                .collect(),
            sample_id: r.sample_id,
            flagged: r.flagged,
        })
        .collect();
    Ok(Json(ResultList { data, next_cursor }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_checked() {
        let mut h = HeaderMap::new();
        assert_eq!(idempotency_key(&h).unwrap(), None);
        h.insert("idempotency-key", HeaderValue::from_static("deploy-42"));
        assert_eq!(idempotency_key(&h).unwrap().as_deref(), Some("deploy-42"));
        h.insert(
            "idempotency-key",
            HeaderValue::from_str(&"k".repeat(256)).unwrap(),
        );
        assert!(idempotency_key(&h).is_err());
        h.insert("idempotency-key", HeaderValue::from_static("has space"));
        assert!(idempotency_key(&h).is_err());
    }
}
