//! A project's rubric scorers: user-defined judges with criteria, a score
//! range and a pass threshold, used by name in a request's `scorers`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use evalguard_domain::Role;
use evalguard_domain::project::RubricDefinition;
use evalguard_domain::scoring::ScorerAvailability;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{load_project, path_project_id};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody, object_with, required_str};
use crate::state::Shared;

const MAX_NAME_LEN: usize = 64;
const MAX_CRITERIA_LEN: usize = 20_000;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RubricList {
    pub data: Vec<RubricDefinition>,
}

fn number(obj: &Map<String, Value>, field: &str) -> Result<f64, ApiError> {
    match obj.get(field) {
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite())
            .ok_or_else(|| ApiError::invalid_field(field, format!("{field}: must be a number"))),
        None => Err(ApiError::invalid_field(
            field,
            format!("{field}: is required"),
        )),
    }
}

fn valid_name(name: &str) -> bool {
    name.len() <= MAX_NAME_LEN
        && name.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/scorers", tag = "scorers",
    params(("id" = String, Path, description = "project id")),
    request_body = crate::openapi::RubricBody,
    responses((status = 201, description = "The rubric scorer (created or replaced)", body = RubricDefinition)))]
pub(crate) async fn put_rubric(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<RubricDefinition>), ApiError> {
    caller.require_role(Role::Admin)?;
    let id = path_project_id(&id)?;
    load_project(&ctx, caller.0.org_id, &id).await?;
    caller.require_project(&id)?;
    let obj = object_with(
        &body,
        &[
            "name",
            "criteria",
            "score_min",
            "score_max",
            "pass_threshold",
        ],
    )?;
    let name = required_str(obj, "name")?;
    if !valid_name(name) {
        return Err(ApiError::invalid_field(
            "name",
            format!(
                "name: 1 to {MAX_NAME_LEN} characters of a-z, 0-9, '_' or '-', starting with a letter"
            ),
        ));
    }
    if !matches!(
        ctx.api.catalog.resolve(name, &[]),
        ScorerAvailability::Unknown
    ) {
        return Err(ApiError::bad_request(
            "reserved_scorer_name",
            format!("'{name}' is the name of a built-in scorer; choose another"),
            Some("name"),
        ));
    }
    let criteria = required_str(obj, "criteria")?;
    if criteria.chars().count() > MAX_CRITERIA_LEN {
        return Err(ApiError::invalid_field(
            "criteria",
            format!("criteria: at most {MAX_CRITERIA_LEN} characters"),
        ));
    }
    let score_min = number(obj, "score_min")?;
    let score_max = number(obj, "score_max")?;
    if score_max <= score_min {
        return Err(ApiError::invalid_field(
            "score_max",
            "score_max: must be greater than score_min",
        ));
    }
    let pass_threshold = number(obj, "pass_threshold")?;
    if !(score_min..=score_max).contains(&pass_threshold) {
        return Err(ApiError::invalid_field(
            "pass_threshold",
            "pass_threshold: must lie between score_min and score_max",
        ));
    }
    let rubric = RubricDefinition {
        name: name.to_owned(),
        criteria: criteria.to_owned(),
        score_min,
        score_max,
        pass_threshold,
        created_at: Utc::now(),
    };
    ctx.api
        .storage
        .projects
        .put_rubric(caller.0.org_id, &id, &rubric)
        .await?;
    Ok((StatusCode::CREATED, Json(rubric)))
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/scorers", tag = "scorers",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, description = "The project's rubric scorers", body = RubricList)))]
pub(crate) async fn list_rubrics(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RubricList>, ApiError> {
    caller.require_role(Role::Viewer)?;
    let id = path_project_id(&id)?;
    load_project(&ctx, caller.0.org_id, &id).await?;
    caller.require_project(&id)?;
    let data = ctx
        .api
        .storage
        .projects
        .list_rubrics(caller.0.org_id, &id)
        .await?;
    Ok(Json(RubricList { data }))
}

#[utoipa::path(delete, path = "/api/v1/projects/{id}/scorers/{name}", tag = "scorers",
    params(("id" = String, Path, description = "project id"), ("name" = String, Path, description = "rubric name")),
    responses((status = 204, description = "Deleted")))]
pub(crate) async fn delete_rubric(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath((id, name)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require_role(Role::Admin)?;
    let id = path_project_id(&id)?;
    load_project(&ctx, caller.0.org_id, &id).await?;
    caller.require_project(&id)?;
    if ctx
        .api
        .storage
        .projects
        .delete_rubric(caller.0.org_id, &id, &name)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound { what: "scorer" })
    }
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn rubric_names() {
        assert!(valid_name("tone"));
        assert!(valid_name("brand_voice-2"));
        for bad in ["", "Tone", "2x", "has space", "_x", &"a".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
