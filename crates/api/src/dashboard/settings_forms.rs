//! The settings page's forms (admin). Each form becomes the JSON body the
//! API route takes and is handed to that very route's handler, so that the
//! checks (value ranges, rubric rules, the webhook SSRF guard), the storage
//! and the messages are the API's; a refusal shows next to its field.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use evalguard_domain::Role;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::DashboardCtx;
use super::forms::{field, parse_form};
use super::page_error::PageError;
use super::session::SignedIn;
use super::settings::{Outcome, RubricForm, WebhookForm, render, threshold_fields};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody, parse_body};
use crate::routes::{projects, scorers, webhooks};

/// A number as JSON when it reads as a finite one, else the text itself, so
/// that the API's own parser refuses it and names the field.
fn number_or_text(raw: &str) -> Value {
    match raw.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => json!(x),
        _ => json!(raw),
    }
}

/// The API's reading of a JSON body built from a form.
fn api_body<T: DeserializeOwned>(body: &Value) -> Result<JsonBody<T>, ApiError> {
    parse_body(body.to_string().as_bytes()).map(JsonBody)
}

/// A refusal the form shows (`param`, message), or the page error it becomes.
fn refusal(error: ApiError) -> Result<(Option<String>, String), PageError> {
    match error {
        ApiError::BadRequest { message, param, .. } => Ok((param, message)),
        ApiError::Forbidden { message, .. } => Err(PageError::Forbidden(message)),
        ApiError::NotFound { what } => Err(PageError::NotFound(what)),
        other => Err(PageError::BadRequest(other.to_string())),
    }
}

/// Reads the form, refuses it without a valid token or below admin.
fn admin_form<T: DeserializeOwned>(
    viewer: &SignedIn,
    headers: &HeaderMap,
    body: &[u8],
    csrf: impl Fn(&T) -> Option<&str>,
) -> Result<T, PageError> {
    let form: T = parse_form(body)?;
    viewer.check_form(headers, csrf(&form))?;
    viewer.require_role(Role::Admin)?;
    Ok(form)
}

fn back_to_settings(project_id: &str) -> Response {
    Redirect::to(&format!("/dashboard/projects/{project_id}/settings")).into_response()
}

#[derive(Deserialize)]
pub struct ThresholdFields {
    alpha: Option<String>,
    min_effect: Option<String>,
    hallucination_rate: Option<String>,
    drift_fdr: Option<String>,
    drift_distance: Option<String>,
    csrf_token: Option<String>,
}

/// Saves the thresholds as `PATCH /api/v1/projects/{id}` does; an empty
/// field restores its default.
pub async fn save_thresholds(
    State(ctx): State<DashboardCtx>,
    viewer: SignedIn,
    Path(project_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let form: ThresholdFields = admin_form(&viewer, &headers, &body, |f: &ThresholdFields| {
        f.csrf_token.as_deref()
    })?;
    let posted = [
        ("alpha", &form.alpha),
        ("min_effect", &form.min_effect),
        ("hallucination_rate", &form.hallucination_rate),
        ("drift_fdr", &form.drift_fdr),
        ("drift_distance", &form.drift_distance),
    ];
    let thresholds: Map<String, Value> = posted
        .iter()
        .filter_map(|(name, value)| field(value).map(|v| ((*name).to_owned(), number_or_text(v))))
        .collect();
    let request = json!({"settings": {"thresholds": thresholds}});
    let result = match api_body(&request) {
        Ok(body) => {
            let caller = Caller(viewer.principal.clone());
            projects::patch_project(
                State(ctx.app.clone()),
                caller,
                ApiPath(project_id.clone()),
                body,
            )
            .await
        }
        Err(e) => Err(e),
    };
    let (param, message) = match result {
        Ok(_) => {
            let outcome = Outcome {
                saved: true,
                ..Outcome::default()
            };
            return render(&ctx, &viewer, &project_id, outcome, StatusCode::OK).await;
        }
        Err(e) => refusal(e)?,
    };
    let mut fields = threshold_fields(&Default::default());
    for (f, (_, value)) in fields.iter_mut().zip(posted) {
        f.value = value.clone().unwrap_or_default();
    }
    let named = param
        .as_deref()
        .and_then(|p| p.strip_prefix("settings.thresholds."))
        .and_then(|name| fields.iter_mut().find(|f| f.name == name));
    let mut outcome = Outcome::default();
    match named {
        Some(f) => f.error = Some(message),
        None => outcome.thresholds_error = Some(message),
    }
    outcome.thresholds = Some(fields);
    render(&ctx, &viewer, &project_id, outcome, StatusCode::BAD_REQUEST).await
}

#[derive(Deserialize)]
pub struct RubricFields {
    name: Option<String>,
    criteria: Option<String>,
    score_min: Option<String>,
    score_max: Option<String>,
    pass_threshold: Option<String>,
    csrf_token: Option<String>,
}

/// Adds (or replaces) a rubric scorer as `POST /api/v1/projects/{id}/scorers` does.
pub async fn add_rubric(
    State(ctx): State<DashboardCtx>,
    viewer: SignedIn,
    Path(project_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let fields: RubricFields = admin_form(&viewer, &headers, &body, |f: &RubricFields| {
        f.csrf_token.as_deref()
    })?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let request = json!({
        "name": text(&fields.name).trim(),
        "criteria": text(&fields.criteria),
        "score_min": number_or_text(&text(&fields.score_min)),
        "score_max": number_or_text(&text(&fields.score_max)),
        "pass_threshold": number_or_text(&text(&fields.pass_threshold)),
    });
    let result = match api_body(&request) {
        Ok(body) => {
            let caller = Caller(viewer.principal.clone());
            scorers::put_rubric(
                State(ctx.app.clone()),
                caller,
                ApiPath(project_id.clone()),
                body,
            )
            .await
            .map(|_| ())
        }
        Err(e) => Err(e),
    };
    let Err(e) = result else {
        return Ok(back_to_settings(&project_id));
    };
    let (param, message) = refusal(e)?;
    let mut form = RubricForm {
        name: text(&fields.name),
        criteria: text(&fields.criteria),
        score_min: text(&fields.score_min),
        score_max: text(&fields.score_max),
        pass_threshold: text(&fields.pass_threshold),
        ..RubricForm::default()
    };
    let slot = match param.as_deref() {
        Some("name") => &mut form.name_error,
        Some("criteria") => &mut form.criteria_error,
        Some("score_min") => &mut form.score_min_error,
        Some("score_max") => &mut form.score_max_error,
        Some("pass_threshold") => &mut form.pass_threshold_error,
        _ => &mut form.error,
    };
    *slot = Some(message);
    let outcome = Outcome {
        rubric: form,
        ..Outcome::default()
    };
    render(&ctx, &viewer, &project_id, outcome, StatusCode::BAD_REQUEST).await
}

#[derive(Deserialize)]
pub struct WebhookFields {
    url: Option<String>,
    /// Checkboxes: present when ticked.
    event_completed: Option<String>,
    event_flagged: Option<String>,
    csrf_token: Option<String>,
}

/// Registers a webhook as `POST /api/v1/projects/{id}/webhooks` does (its
/// SSRF guard included) and shows its signing secret this once.
pub async fn add_webhook(
    State(ctx): State<DashboardCtx>,
    viewer: SignedIn,
    Path(project_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let fields: WebhookFields = admin_form(&viewer, &headers, &body, |f: &WebhookFields| {
        f.csrf_token.as_deref()
    })?;
    let url = field(&fields.url).unwrap_or_default().to_owned();
    let events: Vec<&str> = [
        (&fields.event_completed, "auto_eval.completed"),
        (&fields.event_flagged, "auto_eval.flagged"),
    ]
    .into_iter()
    .filter_map(|(ticked, event)| ticked.is_some().then_some(event))
    .collect();
    let request = json!({"url": url, "events": events});
    let result = match api_body(&request) {
        Ok(body) => {
            let caller = Caller(viewer.principal.clone());
            webhooks::create_webhook(
                State(ctx.app.clone()),
                caller,
                ApiPath(project_id.clone()),
                body,
            )
            .await
        }
        Err(e) => Err(e),
    };
    let (param, message) = match result {
        Ok((_, created)) => {
            let outcome = Outcome {
                new_secret: Some(created.0.secret),
                ..Outcome::default()
            };
            return render(&ctx, &viewer, &project_id, outcome, StatusCode::OK).await;
        }
        Err(e) => refusal(e)?,
    };
    let mut form = WebhookForm {
        url,
        ..WebhookForm::default()
    };
    match param.as_deref() {
        Some("url") => form.url_error = Some(message),
        Some(p) if p.starts_with("events") => form.events_error = Some(message),
        _ => form.error = Some(message),
    }
    let outcome = Outcome {
        webhook: form,
        ..Outcome::default()
    };
    render(&ctx, &viewer, &project_id, outcome, StatusCode::BAD_REQUEST).await
}

/// Deletes a webhook as `DELETE /api/v1/webhooks/{id}` does.
pub async fn delete_webhook(
    State(ctx): State<DashboardCtx>,
    viewer: SignedIn,
    Path((project_id, webhook_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let _: super::auth_pages::CsrfOnly = admin_form(
        &viewer,
        &headers,
        &body,
        |f: &super::auth_pages::CsrfOnly| f.csrf_token.as_deref(),
    )?;
    let caller = Caller(viewer.principal.clone());
    match webhooks::delete_webhook(State(ctx.app.clone()), caller, ApiPath(webhook_id)).await {
        Ok(_) => Ok(back_to_settings(&project_id)),
        Err(e) => {
            let (_, message) = refusal(e)?;
            Err(PageError::BadRequest(message))
        }
    }
}
