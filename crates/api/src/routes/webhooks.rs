//! Webhook endpoints of a project (admin): register (secret shown once),
//! list, delete, and the delivery log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use evalguard_domain::Role;
use evalguard_domain::input::Text;
use evalguard_storage::{WebhookDelivery, WebhookEndpoint};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{load_project, path_project_id};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody, QueryPairs};
use crate::pagination::parse_limit;
use crate::state::Shared;
use crate::webhook_target::check_webhook_target;

/// The events an endpoint may subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub(crate) enum WebhookEvent {
    /// A job finished (succeeded, failed or cancelled).
    #[serde(rename = "auto_eval.completed")]
    Completed,
    /// A job finished with at least one flag.
    #[serde(rename = "auto_eval.flagged")]
    Flagged,
}

impl WebhookEvent {
    const ALL: [WebhookEvent; 2] = [WebhookEvent::Completed, WebhookEvent::Flagged];

    fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::Completed => "auto_eval.completed",
            WebhookEvent::Flagged => "auto_eval.flagged",
        }
    }
}

/// `POST /api/v1/projects/{id}/webhooks`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookCreateBody {
    /// http or https; targets on loopback, private, link-local and other
    /// special-purpose addresses are refused.
    pub url: Text,
    /// Default: both events.
    #[serde(default)]
    pub events: Option<Vec<WebhookEvent>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct WebhookInfo {
    #[schema(format = Uuid)]
    pub id: String,
    pub project_id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl From<WebhookEndpoint> for WebhookInfo {
    fn from(e: WebhookEndpoint) -> Self {
        Self {
            id: e.id.to_string(),
            project_id: e.project_id.into(),
            url: e.url,
            events: e.events,
            created_at: e.created_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct WebhookCreated {
    #[serde(flatten)]
    pub info: WebhookInfo,
    /// `whsec_…`: verifies the `webhook-signature` header; shown only now.
    pub secret: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct WebhookList {
    pub data: Vec<WebhookInfo>,
}

/// One delivery of an event to an endpoint, and how it went.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DeliveryInfo {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub endpoint_id: String,
    pub event_type: String,
    /// The event as sent (signed) to the endpoint.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// `pending`, `delivered` or `failed` (gave up after its retries).
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<WebhookDelivery> for DeliveryInfo {
    fn from(d: WebhookDelivery) -> Self {
        Self {
            id: d.id.to_string(),
            endpoint_id: d.endpoint_id.to_string(),
            event_type: d.event_type,
            payload: d.payload,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DeliveryList {
    pub data: Vec<DeliveryInfo>,
    pub next_cursor: Option<String>,
}

fn new_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// The subscribed events, without repeats; `None` subscribes to all.
fn subscribed_events(events: Option<Vec<WebhookEvent>>) -> Result<Vec<String>, ApiError> {
    let events = events.unwrap_or_else(|| WebhookEvent::ALL.to_vec());
    let mut names: Vec<String> = Vec::with_capacity(events.len());
    for event in events {
        if !names.iter().any(|n| n == event.as_str()) {
            names.push(event.as_str().to_owned());
        }
    }
    if names.is_empty() {
        return Err(ApiError::invalid_field(
            "events",
            "events: name at least one of auto_eval.completed, auto_eval.flagged",
        ));
    }
    Ok(names)
}

/// Register a webhook endpoint
///
/// The project's finished and flagged jobs are then posted to the URL,
/// signed with the secret shown in this answer only. Role: admin.
#[utoipa::path(post, path = "/api/v1/projects/{id}/webhooks", tag = "webhooks",
    params(("id" = String, Path, description = "project id")),
    request_body = WebhookCreateBody,
    responses((status = 201, description = "The endpoint, with its signing secret shown once", body = WebhookCreated)))]
pub(crate) async fn create_webhook(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<WebhookCreateBody>,
) -> Result<(StatusCode, Json<WebhookCreated>), ApiError> {
    caller.require_role(Role::Admin)?;
    let id = path_project_id(&id)?;
    load_project(&ctx, caller.0.org_id, &id).await?;
    caller.require_project(&id)?;
    let url = body.url.as_str();
    let events = subscribed_events(body.events)?;
    check_webhook_target(url, ctx.api.webhook_policy.allow_private)
        .await
        .map_err(|e| ApiError::bad_request(e.code(), e.to_string(), Some("url")))?;
    let endpoint = WebhookEndpoint {
        id: Uuid::now_v7(),
        org_id: caller.0.org_id,
        project_id: id,
        url: url.to_owned(),
        events,
        secret: new_secret(),
        created_at: Utc::now(),
    };
    ctx.api.storage.webhooks.create_endpoint(&endpoint).await?;
    let secret = endpoint.secret.clone();
    Ok((
        StatusCode::CREATED,
        Json(WebhookCreated {
            info: endpoint.into(),
            secret,
        }),
    ))
}

/// List webhook endpoints
///
/// The project's endpoints and their events; never a secret. Role: admin.
#[utoipa::path(get, path = "/api/v1/projects/{id}/webhooks", tag = "webhooks",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, description = "The project's endpoints (no secrets)", body = WebhookList)))]
pub(crate) async fn list_webhooks(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<WebhookList>, ApiError> {
    caller.require_role(Role::Admin)?;
    let id = path_project_id(&id)?;
    load_project(&ctx, caller.0.org_id, &id).await?;
    caller.require_project(&id)?;
    let endpoints = ctx
        .api
        .storage
        .webhooks
        .list_endpoints(caller.0.org_id, &id)
        .await?;
    Ok(Json(WebhookList {
        data: endpoints.into_iter().map(WebhookInfo::from).collect(),
    }))
}

/// The endpoint with this id in the caller's organization and scope. Storage
/// has no lookup by id alone, so the organization's projects are searched
/// (an admin action, rare and small).
async fn find_endpoint(
    ctx: &Shared,
    caller: &Caller,
    raw_id: &str,
) -> Result<WebhookEndpoint, ApiError> {
    let not_found = || ApiError::NotFound { what: "webhook" };
    let id = Uuid::parse_str(raw_id).map_err(|_| not_found())?;
    let org = caller.0.org_id;
    for project in ctx.api.storage.projects.list_projects(org).await? {
        let endpoints = ctx
            .api
            .storage
            .webhooks
            .list_endpoints(org, &project.id)
            .await?;
        if let Some(endpoint) = endpoints.into_iter().find(|e| e.id == id) {
            caller.require_project(&endpoint.project_id)?;
            return Ok(endpoint);
        }
    }
    Err(not_found())
}

/// Delete a webhook endpoint
///
/// Nothing more is delivered to it. Role: admin.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "webhook endpoint id")),
    responses((status = 204, description = "Deleted")))]
pub(crate) async fn delete_webhook(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_role(Role::Admin)?;
    let endpoint = find_endpoint(&ctx, &caller, &id).await?;
    if ctx
        .api
        .storage
        .webhooks
        .delete_endpoint(caller.0.org_id, endpoint.id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound { what: "webhook" })
    }
}

/// List an endpoint's deliveries
///
/// The latest deliveries to the endpoint, newest first, with their status,
/// attempts and last error. Role: admin.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "webhook endpoint id"),
           ("limit" = Option<u32>, Query, description = "1 to 1000, default 100")),
    responses((status = 200, description = "Deliveries, newest first", body = DeliveryList)))]
pub(crate) async fn list_deliveries(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    query: QueryPairs,
) -> Result<Json<DeliveryList>, ApiError> {
    caller.require_role(Role::Admin)?;
    query.only(&["limit"])?;
    let limit = parse_limit(&query)?;
    let endpoint = find_endpoint(&ctx, &caller, &id).await?;
    let data = ctx
        .api
        .storage
        .webhooks
        .list_deliveries(caller.0.org_id, endpoint.id, limit)
        .await?;
    Ok(Json(DeliveryList {
        data: data.into_iter().map(DeliveryInfo::from).collect(),
        next_cursor: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_whsec_and_32_bytes() {
        let s = new_secret();
        let raw = STANDARD.decode(s.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(raw.len(), 32);
        assert_ne!(new_secret(), s);
    }

    #[test]
    fn events_are_a_subset() {
        let events = |v: serde_json::Value| {
            crate::extract::parse_body::<WebhookCreateBody>(
                json!({"url": "https://example.com/hook", "events": v})
                    .to_string()
                    .as_bytes(),
            )
            .and_then(|body| subscribed_events(body.events))
        };
        assert_eq!(events(serde_json::Value::Null).unwrap().len(), 2);
        assert_eq!(
            events(json!(["auto_eval.flagged", "auto_eval.flagged"])).unwrap(),
            vec!["auto_eval.flagged"]
        );
        assert!(events(json!([])).is_err());
        assert!(events(json!(["job.done"])).is_err());
        assert!(events(json!("auto_eval.flagged")).is_err());
    }
}
