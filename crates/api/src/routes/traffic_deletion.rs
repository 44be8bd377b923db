//! Deleting a project's traffic on request (privacy, a customer's data):
//! by sample id or by time range. Admin only; deleted in small batches so
//! SQLite's single writer is never held for long.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use evalguard_domain::Role;
use evalguard_storage::TrafficSelection;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{load_project, path_project_id};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody, object_with};
use crate::state::Shared;

/// Samples deleted per transaction.
const DELETE_BATCH: u32 = 500;
/// Ids per request, as for ingest.
const MAX_IDS: usize = 10_000;
/// Longest sample id, as for ingest.
const MAX_ID_CHARS: usize = 256;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TrafficDeleted {
    pub project_id: String,
    /// Samples deleted (ids not found count for nothing).
    pub deleted: u64,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/traffic/delete", tag = "traffic",
    params(("id" = String, Path, description = "project id")),
    request_body = crate::openapi::TrafficDeleteBody,
    responses((status = 200, description = "The samples are deleted", body = TrafficDeleted)))]
pub(crate) async fn delete_traffic(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<TrafficDeleted>, ApiError> {
    caller.require_role(Role::Admin)?;
    let id = path_project_id(&id)?;
    load_project(&ctx, caller.0.org_id, &id).await?;
    caller.require_project(&id)?;
    let selection = parse_selection(object_with(&body, &["sample_ids", "from", "to"])?)?;
    let mut deleted = 0;
    loop {
        let n = ctx
            .api
            .storage
            .retention
            .delete_project_traffic(caller.0.org_id, &id, &selection, DELETE_BATCH)
            .await?;
        deleted += n;
        if n < u64::from(DELETE_BATCH) {
            break;
        }
    }
    tracing::info!(project = %id, deleted, "traffic deleted on request");
    Ok(Json(TrafficDeleted {
        project_id: id.to_string(),
        deleted,
    }))
}

/// `sample_ids`, or `from` and/or `to`: one way, not both.
fn parse_selection(obj: &Map<String, Value>) -> Result<TrafficSelection, ApiError> {
    let present = |k: &str| obj.get(k).is_some_and(|v| !v.is_null());
    match (present("sample_ids"), present("from") || present("to")) {
        (true, true) => Err(ApiError::invalid_field(
            "sample_ids",
            "give either sample_ids or a time range (from, to), not both",
        )),
        (false, false) => Err(ApiError::invalid_field(
            "body",
            "give sample_ids (a list of sample ids) or a time range (from and/or to, RFC 3339)",
        )),
        (true, false) => parse_ids(&obj["sample_ids"]).map(TrafficSelection::SampleIds),
        (false, true) => {
            let from = parse_time(obj, "from")?;
            let to = parse_time(obj, "to")?;
            if let (Some(from), Some(to)) = (from, to)
                && from >= to
            {
                return Err(ApiError::invalid_field("to", "to: must be after from"));
            }
            Ok(TrafficSelection::TimeRange { from, to })
        }
    }
}

fn parse_ids(value: &Value) -> Result<Vec<String>, ApiError> {
    let Value::Array(items) = value else {
        return Err(ApiError::invalid_field(
            "sample_ids",
            "sample_ids: must be a list of strings",
        ));
    };
    if items.is_empty() || items.len() > MAX_IDS {
        return Err(ApiError::invalid_field(
            "sample_ids",
            format!("sample_ids: from 1 to {MAX_IDS} ids"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.as_str() {
            Some(s) if !s.is_empty() && s.chars().count() <= MAX_ID_CHARS && !s.contains('\0') => {
                Ok(s.to_owned())
            }
            _ => Err(ApiError::invalid_field(
                format!("sample_ids[{i}]"),
                format!("sample_ids[{i}]: a sample id is a string of 1 to {MAX_ID_CHARS} characters without NUL"),
            )),
        })
        .collect()
}

fn parse_time(obj: &Map<String, Value>, field: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                ApiError::invalid_field(
                    field,
                    format!("{field}: an RFC 3339 time such as 2026-11-24T12:00:00Z"),
                )
            }),
        Some(_) => Err(ApiError::invalid_field(
            field,
            format!("{field}: an RFC 3339 time such as 2026-11-24T12:00:00Z"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn selection(body: Value) -> Result<TrafficSelection, ApiError> {
        parse_selection(body.as_object().unwrap())
    }

    fn param_of(body: Value) -> String {
        match selection(body) {
            Err(ApiError::BadRequest { param, .. }) => param.unwrap_or_default(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ids_or_a_range() {
        assert_eq!(
            selection(json!({"sample_ids": ["a", "b"]})).unwrap(),
            TrafficSelection::SampleIds(vec!["a".into(), "b".into()])
        );
        let range = selection(json!({"from": "2026-01-01T00:00:00Z"})).unwrap();
        assert!(matches!(
            range,
            TrafficSelection::TimeRange {
                from: Some(_),
                to: None
            }
        ));
    }

    #[test]
    fn bad_bodies_name_the_field() {
        assert_eq!(param_of(json!({})), "body");
        assert_eq!(
            param_of(json!({"sample_ids": ["a"], "to": "2026-01-01T00:00:00Z"})),
            "sample_ids"
        );
        assert_eq!(param_of(json!({"sample_ids": []})), "sample_ids");
        assert_eq!(param_of(json!({"sample_ids": "a"})), "sample_ids");
        assert_eq!(param_of(json!({"sample_ids": ["a", 3]})), "sample_ids[1]");
        assert_eq!(param_of(json!({"sample_ids": ["a\u{0}"]})), "sample_ids[0]");
        assert_eq!(param_of(json!({"from": "yesterday"})), "from");
        assert_eq!(param_of(json!({"to": 5})), "to");
        assert_eq!(
            param_of(json!({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"})),
            "to"
        );
    }
}
