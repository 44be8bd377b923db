//! Deleting a project's traffic on request (privacy, a customer's data):
//! by sample id or by time range. Admin only; deleted in small batches so
//! SQLite's single writer is never held for long.

use axum::Json;
use axum::extract::State;
use evalguard_domain::Role;
use evalguard_domain::input::{Name, Rfc3339};
use evalguard_storage::TrafficSelection;
use serde::{Deserialize, Serialize};

use super::{load_project, path_project_id};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody};
use crate::state::Shared;

/// Samples deleted per transaction.
const DELETE_BATCH: u32 = 500;
/// Ids per request, as for ingest.
const MAX_IDS: usize = 10_000;

/// Either `sample_ids`, or a time range (`from` and/or `to`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrafficDeleteBody {
    /// Client sample ids (1 to 10,000); ids not found are ignored.
    #[serde(default)]
    pub sample_ids: Option<Vec<Name>>,
    /// RFC 3339; samples whose timestamp is at or after it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub from: Option<Rfc3339>,
    /// RFC 3339; samples whose timestamp is before it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub to: Option<Rfc3339>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TrafficDeleted {
    pub project_id: String,
    /// Samples deleted (ids not found count for nothing).
    pub deleted: u64,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/traffic/delete", tag = "traffic",
    summary = "Delete a project's traffic",
    description = "Deletes the project's samples with the given client ids, or those whose timestamp \
        falls in [from, to) (privacy requests). Admin role. Deleted in small batches.",
    params(("id" = String, Path, description = "project id")),
    request_body = TrafficDeleteBody,
    responses((status = 200, description = "The samples are deleted", body = TrafficDeleted)))]
pub(crate) async fn delete_traffic(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<TrafficDeleteBody>,
) -> Result<Json<TrafficDeleted>, ApiError> {
    caller.require_role(Role::Admin)?;
    let id = path_project_id(&id)?;
    load_project(&ctx, caller.0.org_id, &id).await?;
    caller.require_project(&id)?;
    let selection = selection_of(body)?;
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
fn selection_of(body: TrafficDeleteBody) -> Result<TrafficSelection, ApiError> {
    let range = body.from.is_some() || body.to.is_some();
    match (body.sample_ids, range) {
        (Some(_), true) => Err(ApiError::invalid_field(
            "sample_ids",
            "give either sample_ids or a time range (from, to), not both",
        )),
        (None, false) => Err(ApiError::invalid_field(
            "body",
            "give sample_ids (a list of sample ids) or a time range (from and/or to, RFC 3339)",
        )),
        (Some(ids), false) => {
            if ids.is_empty() || ids.len() > MAX_IDS {
                return Err(ApiError::invalid_field(
                    "sample_ids",
                    format!("sample_ids: from 1 to {MAX_IDS} ids"),
                ));
            }
            Ok(TrafficSelection::SampleIds(
                ids.into_iter().map(Name::into_string).collect(),
            ))
        }
        (None, true) => {
            let from = body.from.map(|t| t.0);
            let to = body.to.map(|t| t.0);
            if let (Some(from), Some(to)) = (from, to)
                && from >= to
            {
                return Err(ApiError::invalid_field("to", "to: must be after from"));
            }
            Ok(TrafficSelection::TimeRange { from, to })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn selection(body: Value) -> Result<TrafficSelection, ApiError> {
        let bytes = serde_json::to_vec(&body).unwrap();
        selection_of(crate::extract::parse_body(&bytes)?)
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
