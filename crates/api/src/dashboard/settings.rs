//! `/dashboard/projects/{id}/settings`: the project's decision thresholds,
//! its rubric scorers and its webhooks with their latest deliveries. Every
//! member sees them; admins change them through the forms of
//! [`super::settings_forms`], which call the API's own handlers.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use evalguard_domain::analysis::{
    DEFAULT_ALPHA, DEFAULT_DRIFT_DISTANCE, DEFAULT_DRIFT_FDR, DEFAULT_HALLUCINATION_RATE,
    DEFAULT_MIN_EFFECT,
};
use evalguard_domain::job::Thresholds;
use evalguard_domain::{ProjectId, Role};

use super::DashboardCtx;
use super::forms::page;
use super::overview::Nav;
use super::page_error::PageError;
use super::session::SignedIn;

/// Deliveries shown per webhook: the latest ones (the API pages further).
const DELIVERIES_PER_WEBHOOK: u32 = 10;

/// One threshold's input: the posted or stored value, its default, its error.
pub struct ThresholdField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub default: f64,
    pub error: Option<String>,
}

pub struct RubricRow {
    pub name: String,
    pub criteria: String,
    pub score_min: f64,
    pub score_max: f64,
    pub pass_threshold: f64,
}

pub struct DeliveryRow {
    pub event_type: String,
    pub status: String,
    pub attempts: u32,
    pub last_status_code: String,
    pub created: String,
}

pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub events: String,
    pub created: String,
    pub deliveries: Vec<DeliveryRow>,
}

/// The values and errors of the rubric form, kept when it is refused.
#[derive(Default)]
pub struct RubricForm {
    pub name: String,
    pub criteria: String,
    pub score_min: String,
    pub score_max: String,
    pub pass_threshold: String,
    pub name_error: Option<String>,
    pub criteria_error: Option<String>,
    pub score_min_error: Option<String>,
    pub score_max_error: Option<String>,
    pub pass_threshold_error: Option<String>,
    pub error: Option<String>,
}

/// The values and errors of the webhook form, kept when it is refused.
#[derive(Default)]
pub struct WebhookForm {
    pub url: String,
    pub url_error: Option<String>,
    pub events_error: Option<String>,
    pub error: Option<String>,
}

/// What a POST hands back to the page: the refused form, or a secret to show once.
#[derive(Default)]
pub struct Outcome {
    pub thresholds: Option<Vec<ThresholdField>>,
    pub thresholds_error: Option<String>,
    pub rubric: RubricForm,
    pub webhook: WebhookForm,
    pub new_secret: Option<String>,
    pub saved: bool,
}

#[derive(Template)]
#[template(path = "dashboard/settings.html")]
struct SettingsPage {
    nav: Nav,
    id: String,
    name: String,
    can_manage: bool,
    thresholds: Vec<ThresholdField>,
    thresholds_error: Option<String>,
    saved: bool,
    rubrics: Vec<RubricRow>,
    rubric: RubricForm,
    webhooks: Vec<WebhookRow>,
    webhook: WebhookForm,
    new_secret: Option<String>,
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The five thresholds with their stored values (empty: the default applies).
pub fn threshold_fields(stored: &Thresholds) -> Vec<ThresholdField> {
    let show = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    [
        (
            "alpha",
            "Significance level (alpha)",
            stored.alpha,
            DEFAULT_ALPHA,
        ),
        (
            "min_effect",
            "Smallest effect worth flagging",
            stored.min_effect,
            DEFAULT_MIN_EFFECT,
        ),
        (
            "hallucination_rate",
            "Hallucination rate",
            stored.hallucination_rate,
            DEFAULT_HALLUCINATION_RATE,
        ),
        (
            "drift_fdr",
            "Drift false discovery rate",
            stored.drift_fdr,
            DEFAULT_DRIFT_FDR,
        ),
        (
            "drift_distance",
            "Drift distance",
            stored.drift_distance,
            DEFAULT_DRIFT_DISTANCE,
        ),
    ]
    .into_iter()
    .map(|(name, label, value, default)| ThresholdField {
        name,
        label,
        value: show(value),
        default,
        error: None,
    })
    .collect()
}

/// The page, with a refused form's values and errors when `outcome` has them
/// (then answered with `status`).
pub async fn render(
    ctx: &DashboardCtx,
    viewer: &SignedIn,
    project_id: &str,
    outcome: Outcome,
    status: StatusCode,
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
    let rubrics = storage.projects.list_rubrics(org, &id).await?;
    let mut webhooks = Vec::new();
    for endpoint in storage.webhooks.list_endpoints(org, &id).await? {
        let deliveries = storage
            .webhooks
            .list_deliveries(org, endpoint.id, DELIVERIES_PER_WEBHOOK)
            .await?;
        webhooks.push(WebhookRow {
            id: endpoint.id.to_string(),
            url: endpoint.url,
            events: endpoint.events.join(", "),
            created: when(endpoint.created_at),
            deliveries: deliveries
                .into_iter()
                .map(|d| DeliveryRow {
                    event_type: d.event_type,
                    status: d.status,
                    attempts: d.attempts,
                    last_status_code: d
                        .last_status_code
                        .map_or_else(|| "—".to_owned(), |c| c.to_string()),
                    created: when(d.created_at),
                })
                .collect(),
        });
    }
    let mut response = page(&SettingsPage {
        nav: Nav::new(viewer, "overview"),
        id: project.id.to_string(),
        can_manage: viewer.principal.has_role(Role::Admin),
        thresholds: outcome
            .thresholds
            .unwrap_or_else(|| threshold_fields(&project.settings.thresholds)),
        thresholds_error: outcome.thresholds_error,
        saved: outcome.saved,
        name: project.name,
        rubrics: rubrics
            .into_iter()
            .map(|r| RubricRow {
                name: r.name,
                criteria: r.criteria,
                score_min: r.score_min,
                score_max: r.score_max,
                pass_threshold: r.pass_threshold,
            })
            .collect(),
        rubric: outcome.rubric,
        webhooks,
        webhook: outcome.webhook,
        new_secret: outcome.new_secret,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

pub async fn settings_page(
    State(ctx): State<DashboardCtx>,
    viewer: SignedIn,
    Path(project_id): Path<String>,
) -> Result<Response, PageError> {
    render(
        &ctx,
        &viewer,
        &project_id,
        Outcome::default(),
        StatusCode::OK,
    )
    .await
}
