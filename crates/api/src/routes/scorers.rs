//! A project's rubric scorers: user-defined judges with criteria, a score
//! range and a pass threshold, used by name in a request's `scorers`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use evalguard_domain::Role;
use evalguard_domain::input::Text;
use evalguard_domain::project::RubricDefinition;
use evalguard_domain::scoring::ScorerAvailability;
use serde::{Deserialize, Serialize};

use super::{load_project, path_project_id};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody};
use crate::state::Shared;

const MAX_NAME_LEN: usize = 64;
const MAX_CRITERIA_LEN: usize = 20_000;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RubricList {
    pub data: Vec<RubricDefinition>,
}

/// `POST /api/v1/projects/{id}/scorers`: a rubric scorer, created or replaced.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RubricBody {
    /// 1–64 of `a-z`, `0-9`, `_`, `-`, starting with a letter; not a built-in scorer's name.
    #[schema(max_length = 64)]
    pub name: Text,
    /// What the judge checks, in plain words (at most 20,000 characters).
    #[schema(max_length = 20000)]
    pub criteria: Text,
    pub score_min: f64,
    /// Greater than `score_min`.
    pub score_max: f64,
    /// Between `score_min` and `score_max`; a score below it fails.
    pub pass_threshold: f64,
}

fn valid_name(name: &str) -> bool {
    name.len() <= MAX_NAME_LEN
        && name.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Define a rubric scorer
///
/// A judge of the project's own: criteria in plain words, a score range and
/// a pass threshold. Its name may then be used in a request's `scorers` or in
/// the project's scorer set; a rubric of the same name is replaced. Role: admin.
#[utoipa::path(post, path = "/api/v1/projects/{id}/scorers", tag = "scorers",
    params(("id" = String, Path, description = "project id")),
    request_body = RubricBody,
    responses((status = 201, description = "The rubric scorer (created or replaced)", body = RubricDefinition)))]
pub(crate) async fn put_rubric(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<RubricBody>,
) -> Result<(StatusCode, Json<RubricDefinition>), ApiError> {
    caller.require_role(Role::Admin)?;
    let id = path_project_id(&id)?;
    load_project(&ctx, caller.0.org_id, &id).await?;
    caller.require_project(&id)?;
    let RubricBody {
        name,
        criteria,
        score_min,
        score_max,
        pass_threshold,
    } = body;
    let name = name.as_str();
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
    if criteria.as_str().chars().count() > MAX_CRITERIA_LEN {
        return Err(ApiError::invalid_field(
            "criteria",
            format!("criteria: at most {MAX_CRITERIA_LEN} characters"),
        ));
    }
    if score_max <= score_min {
        return Err(ApiError::invalid_field(
            "score_max",
            "score_max: must be greater than score_min",
        ));
    }
    if !(score_min..=score_max).contains(&pass_threshold) {
        return Err(ApiError::invalid_field(
            "pass_threshold",
            "pass_threshold: must lie between score_min and score_max",
        ));
    }
    let rubric = RubricDefinition {
        name: name.to_owned(),
        criteria: criteria.into_string(),
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

/// List rubric scorers
///
/// The project's rubric scorers with their criteria. Role: viewer.
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

/// Delete a rubric scorer
///
/// Removes the rubric scorer from the project. Role: admin.
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
