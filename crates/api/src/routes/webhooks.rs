//! Webhook endpoints of a project (admin): register (secret shown once),
//! list, delete, and the delivery log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use evalguard_domain::Role;
use evalguard_storage::{WebhookDelivery, WebhookEndpoint};
use rand::RngExt;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::{load_project, path_project_id};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody, QueryPairs, object_with, required_str};
use crate::pagination::parse_limit;
use crate::state::Shared;
use crate::webhook_target::check_webhook_target;

pub(crate) const EVENTS: [&str; 2] = ["auto_eval.completed", "auto_eval.flagged"];

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

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DeliveryList {
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<WebhookDelivery>,
    pub next_cursor: Option<String>,
}

fn new_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("whsec_{}", STANDARD.encode(bytes))
}

fn parse_events(value: Option<&Value>) -> Result<Vec<String>, ApiError> {
    let bad = || {
        ApiError::invalid_field(
            "events",
            format!("events: a non-empty list of {}", EVENTS.join(", ")),
        )
    };
    match value {
        None | Some(Value::Null) => Ok(EVENTS.iter().map(|e| (*e).to_owned()).collect()),
        Some(Value::Array(items)) => {
            let mut events: Vec<String> = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(e) if EVENTS.contains(&e) => {
                        if !events.iter().any(|x| x == e) {
                            events.push(e.to_owned());
                        }
                    }
                    _ => return Err(bad()),
                }
            }
            if events.is_empty() {
                Err(bad())
            } else {
                Ok(events)
            }
        }
        Some(_) => Err(bad()),
    }
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/webhooks", tag = "webhooks",
    params(("id" = String, Path, description = "project id")),
    request_body = crate::openapi::WebhookCreateBody,
    responses((status = 201, description = "The endpoint, with its signing secret shown once", body = WebhookCreated)))]
pub(crate) async fn create_webhook(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<WebhookCreated>), ApiError> {
    caller.require_role(Role::Admin)?;
    let id = path_project_id(&id)?;
    load_project(&ctx, caller.0.org_id, &id).await?;
    caller.require_project(&id)?;
    let obj = object_with(&body, &["url", "events"])?;
    let url = required_str(obj, "url")?;
    let events = parse_events(obj.get("events"))?;
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
        data,
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
        assert_eq!(parse_events(None).unwrap().len(), 2);
        assert_eq!(
            parse_events(Some(&json!(["auto_eval.flagged"]))).unwrap(),
            vec!["auto_eval.flagged"]
        );
        assert!(parse_events(Some(&json!([]))).is_err());
        assert!(parse_events(Some(&json!(["job.done"]))).is_err());
        assert!(parse_events(Some(&json!("auto_eval.flagged"))).is_err());
    }
}
