//! `/dashboard/projects/{id}`: the targets seen in its traffic (from the
//! ingest-time aggregate), its jobs with status and flags, the trend of each
//! judge score over each target's jobs, and a form that triggers an
//! auto-eval through the very function `POST /api/v1/auto-eval` uses.

use std::collections::BTreeMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use evalguard_domain::input::read_value;
use evalguard_domain::job::AutoEvalBody;
use evalguard_domain::{Job, JobId, ProjectId, Role};
use evalguard_storage::{JobFilter, TrendPoint};
use serde::Deserialize;
use serde_json::json;

use super::DashboardCtx;
use super::charts::trend;
use super::forms::{field, page, parse_form};
use super::overview::{JobRow, Nav};
use super::page_error::PageError;
use super::session::SignedIn;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::jobs::enqueue_auto_eval;

const JOBS_PER_PAGE: u32 = 50;
const TARGETS_PER_PAGE: u32 = 100;

pub struct TargetRow {
    pub model: String,
    pub prompt_id: String,
    pub samples: u64,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Default)]
pub struct TriggerForm {
    pub model: String,
    pub prompt_id: String,
    pub sample_count: String,
    pub model_error: Option<String>,
    pub prompt_error: Option<String>,
    pub count_error: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/project.html")]
struct ProjectPage {
    nav: Nav,
    id: String,
    name: String,
    targets: Vec<TargetRow>,
    more_targets: Option<String>,
    jobs: Vec<JobRow>,
    next_page: Option<String>,
    trends: Vec<String>,
    trend_jobs: u32,
    can_trigger: bool,
    form: TriggerForm,
}

#[derive(Deserialize)]
pub struct ProjectQuery {
    before: Option<String>,
    after_model: Option<String>,
    after_prompt: Option<String>,
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Targets whose score trends a page draws: those of its jobs, newest first.
const TREND_TARGETS: usize = 10;
/// Succeeded jobs per target in a trend.
const TREND_JOBS: u32 = 50;

/// The distinct targets of `jobs`, in order, at most [`TREND_TARGETS`].
fn trend_targets(jobs: &[Job]) -> Vec<(String, String)> {
    let mut targets: Vec<(String, String)> = Vec::new();
    for job in jobs {
        let target = (job.target.model.clone(), job.target.prompt_id.clone());
        if targets.len() < TREND_TARGETS && !targets.contains(&target) {
            targets.push(target);
        }
    }
    targets
}

/// Per target and judge score (scorers without a unit), the mean of each
/// of the target's latest succeeded jobs, oldest first.
fn trends(points: &[TrendPoint]) -> Vec<String> {
    let mut series: BTreeMap<(String, String), Vec<(String, f64)>> = BTreeMap::new();
    let mut oldest_first: Vec<&TrendPoint> = points.iter().collect();
    oldest_first.sort_by_key(|p| p.created_at);
    for point in oldest_first {
        let target = format!("{} · {}", point.model, point.prompt_id);
        series
            .entry((target, point.scorer.clone()))
            .or_default()
            .push((
                point.created_at.format("%m-%d %H:%M").to_string(),
                point.mean,
            ));
    }
    series
        .into_iter()
        .filter(|(_, points)| points.len() >= 2)
        .enumerate()
        .map(|(i, ((target, scorer), points))| {
            trend(
                &format!("trend-{i}"),
                &format!("{scorer} over the latest jobs of {target}"),
                &points,
            )
        })
        .collect()
}

async fn render(
    ctx: &DashboardCtx,
    viewer: &SignedIn,
    project_id: &str,
    query: &ProjectQuery,
    form: TriggerForm,
) -> Result<Response, PageError> {
    let org = viewer.principal.org_id;
    let not_found = || PageError::NotFound("project");
    let id = ProjectId::parse(project_id).map_err(|_| not_found())?;
    let storage = &ctx.api.storage;
    let project = storage
        .projects
        .get_project(org, &id)
        .await?
        .ok_or_else(not_found)?;
    let before = match query.before.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(JobId(raw.parse::<uuid::Uuid>().map_err(|_| {
            PageError::BadRequest("the page cursor is not valid".to_owned())
        })?)),
    };
    let filter = JobFilter {
        project: Some(id.clone()),
        status: None,
        before,
        limit: JOBS_PER_PAGE + 1,
    };
    let mut jobs = storage.jobs.list_jobs(org, &filter).await?;
    let next_page = (jobs.len() > JOBS_PER_PAGE as usize).then(|| {
        jobs.truncate(JOBS_PER_PAGE as usize);
        jobs.last().map(|j| j.id.to_string()).unwrap_or_default()
    });
    let after = match (&query.after_model, &query.after_prompt) {
        (Some(m), Some(p)) => Some((m.as_str(), p.as_str())),
        _ => None,
    };
    let mut targets = storage
        .targets
        .list_targets(org, &id, after, TARGETS_PER_PAGE + 1)
        .await?;
    let more_targets = (targets.len() > TARGETS_PER_PAGE as usize).then(|| {
        targets.truncate(TARGETS_PER_PAGE as usize);
        targets
            .last()
            .map(|t| {
                serde_urlencoded::to_string([
                    ("after_model", &t.model),
                    ("after_prompt", &t.prompt_id),
                ])
                .unwrap_or_default()
            })
            .unwrap_or_default()
    });
    let trend_points = storage
        .dashboard
        .target_trends(org, &id, &trend_targets(&jobs), TREND_JOBS)
        .await?;
    page(&ProjectPage {
        nav: Nav::new(viewer, "overview"),
        id: project.id.to_string(),
        name: project.name,
        targets: targets
            .into_iter()
            .map(|t| TargetRow {
                model: t.model,
                prompt_id: t.prompt_id,
                samples: t.sample_count,
                first_seen: when(t.first_seen),
                last_seen: when(t.last_seen),
            })
            .collect(),
        more_targets,
        trends: trends(&trend_points),
        trend_jobs: TREND_JOBS,
        jobs: jobs.iter().map(JobRow::from).collect(),
        next_page,
        can_trigger: viewer.principal.has_role(Role::Member),
        form,
    })
}

pub async fn project_page(
    State(ctx): State<DashboardCtx>,
    viewer: SignedIn,
    Path(project_id): Path<String>,
    Query(query): Query<ProjectQuery>,
) -> Result<Response, PageError> {
    let form = TriggerForm {
        sample_count: "100".to_owned(),
        ..TriggerForm::default()
    };
    render(&ctx, &viewer, &project_id, &query, form).await
}

#[derive(Deserialize)]
pub struct TriggerFields {
    model: Option<String>,
    prompt_id: Option<String>,
    sample_count: Option<String>,
    csrf_token: Option<String>,
}

pub async fn trigger(
    State(ctx): State<DashboardCtx>,
    viewer: SignedIn,
    Path(project_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let fields: TriggerFields = parse_form(&body)?;
    viewer.check_form(&headers, fields.csrf_token.as_deref())?;
    let mut form = TriggerForm {
        model: fields.model.clone().unwrap_or_default(),
        prompt_id: fields.prompt_id.clone().unwrap_or_default(),
        sample_count: fields.sample_count.clone().unwrap_or_default(),
        ..TriggerForm::default()
    };
    // The request the API would receive; a count that is not a number is
    // sent as text so that the API's own check names it.
    let count = match field(&fields.sample_count) {
        None => json!(100),
        Some(raw) => raw.parse::<i64>().map_or_else(|_| json!(raw), |n| json!(n)),
    };
    let request = json!({
        "target": {"model": field(&fields.model).unwrap_or(""),
                   "prompt_id": field(&fields.prompt_id).unwrap_or(""),
                   "project_id": project_id},
        "sample_count": count,
    });
    let caller = Caller(viewer.principal.clone());
    // Read exactly as the API reads its body, so every check and message is the API's.
    let queued = match read_value::<AutoEvalBody>(request).and_then(AutoEvalBody::into_request) {
        Ok(request) => enqueue_auto_eval(&ctx.app, &caller, request, None).await,
        Err(e) => Err(ApiError::from(e)),
    };
    match queued {
        Ok(job) => Ok(Redirect::to(&format!("/dashboard/jobs/{}", job.id)).into_response()),
        Err(ApiError::BadRequest { message, param, .. }) => {
            match param.as_deref() {
                Some("target.model") => form.model_error = Some(message),
                Some("target.prompt_id") => form.prompt_error = Some(message),
                Some("sample_count") => form.count_error = Some(message),
                Some("target.project_id") => return Err(PageError::NotFound("project")),
                _ => form.error = Some(message),
            }
            let query = ProjectQuery {
                before: None,
                after_model: None,
                after_prompt: None,
            };
            let mut response = render(&ctx, &viewer, &project_id, &query, form).await?;
            *response.status_mut() = StatusCode::BAD_REQUEST;
            Ok(response)
        }
        Err(ApiError::Forbidden { message, .. }) => Err(PageError::Forbidden(message)),
        Err(e) => Err(PageError::BadRequest(e.to_string())),
    }
}
