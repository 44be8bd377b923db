//! Projects: create, list, read, and change settings (scorer set, thresholds).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use evalguard_domain::job::Thresholds;
use evalguard_domain::project::{Project, ProjectSettings};
use evalguard_domain::scoring::ScorerAvailability;
use evalguard_domain::{ProjectId, Role};
use evalguard_storage::StorageError;
use serde::Serialize;
use serde_json::Value;

use super::{load_project, path_project_id};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody, QueryPairs, object_with, required_str};
use crate::pagination::{cursor_position, page, parse_limit};
use crate::state::Shared;

const MAX_NAME_LEN: usize = 200;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ProjectList {
    pub data: Vec<Project>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/projects", tag = "projects",
    request_body = crate::openapi::ProjectCreateBody,
    responses((status = 201, description = "The project", body = Project),
              (status = 409, description = "The id exists in the organization", body = crate::openapi::ErrorBody)))]
pub(crate) async fn create_project(
    State(ctx): State<Shared>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Project>), ApiError> {
    caller.require_role(Role::Admin)?;
    caller.require_org_wide()?;
    let obj = object_with(&body, &["id", "name"])?;
    let id = ProjectId::parse(required_str(obj, "id")?)
        .map_err(|e| ApiError::invalid_field("id", format!("id: {e}")))?;
    let name = match obj.get("name") {
        None | Some(Value::Null) => id.as_str().to_owned(),
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= MAX_NAME_LEN => {
            s.clone()
        }
        Some(_) => {
            return Err(ApiError::invalid_field(
                "name",
                format!("name: must be a string of 1 to {MAX_NAME_LEN} characters"),
            ));
        }
    };
    let project = Project {
        id,
        name,
        created_at: Utc::now(),
        settings: ProjectSettings::default(),
    };
    match ctx
        .api
        .storage
        .projects
        .create_project(caller.0.org_id, &project)
        .await
    {
        Ok(()) => Ok((StatusCode::CREATED, Json(project))),
        Err(StorageError::Conflict(_)) => Err(ApiError::Conflict {
            code: "project_exists",
            message: format!("the organization already has a project '{}'", project.id),
        }),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(get, path = "/api/v1/projects", tag = "projects",
    params(("limit" = Option<u32>, Query, description = "1 to 1000, default 100"),
           ("cursor" = Option<String>, Query, description = "next_cursor of the previous page")),
    responses((status = 200, description = "The projects the key can see", body = ProjectList)))]
pub(crate) async fn list_projects(
    State(ctx): State<Shared>,
    caller: Caller,
    query: QueryPairs,
) -> Result<Json<ProjectList>, ApiError> {
    caller.require_role(Role::Viewer)?;
    query.only(&["limit", "cursor"])?;
    let limit = parse_limit(&query)?;
    let after = cursor_position(&query, "project", |s| Some(s.to_owned()))?;
    let mut projects = ctx
        .api
        .storage
        .projects
        .list_projects(caller.0.org_id)
        .await?;
    projects.retain(|p| {
        caller.0.can_access_project(&p.id) && after.as_deref().is_none_or(|a| p.id.as_str() > a)
    });
    projects.sort_by(|a, b| a.id.cmp(&b.id));
    projects.truncate(limit as usize + 1);
    let (data, next_cursor) = page(projects, limit, |p| p.id.as_str().to_owned(), "project");
    Ok(Json(ProjectList { data, next_cursor }))
}

#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, description = "The project", body = Project)))]
pub(crate) async fn get_project(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Project>, ApiError> {
    caller.require_role(Role::Viewer)?;
    let id = path_project_id(&id)?;
    let project = load_project(&ctx, caller.0.org_id, &id).await?;
    caller.require_project(&id)?;
    Ok(Json(project))
}

#[utoipa::path(patch, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = String, Path, description = "project id")),
    request_body = crate::openapi::ProjectPatchBody,
    responses((status = 200, description = "The project with its new settings", body = Project)))]
pub(crate) async fn patch_project(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Project>, ApiError> {
    caller.require_role(Role::Admin)?;
    let id = path_project_id(&id)?;
    let mut project = load_project(&ctx, caller.0.org_id, &id).await?;
    caller.require_project(&id)?;
    let obj = object_with(&body, &["settings"])?;
    let settings = match obj.get("settings") {
        Some(Value::Object(s)) => s,
        None | Some(Value::Null) => {
            return Err(ApiError::invalid_field("settings", "settings: is required"));
        }
        Some(_) => {
            return Err(ApiError::invalid_field(
                "settings",
                "settings: must be an object",
            ));
        }
    };
    if let Some(k) = settings
        .keys()
        .find(|k| !["scorers", "thresholds"].contains(&k.as_str()))
    {
        return Err(ApiError::invalid_field(
            format!("settings.{k}"),
            format!("settings.{k}: is not a known field"),
        ));
    }
    if let Some(scorers) = settings.get("scorers") {
        project.settings.scorers = match scorers {
            Value::Null => None,
            Value::Array(items) => {
                Some(validate_scorer_names(&ctx, caller.0.org_id, &id, items).await?)
            }
            _ => {
                return Err(ApiError::invalid_field(
                    "settings.scorers",
                    "settings.scorers: must be a list of scorer names or null",
                ));
            }
        };
    }
    if let Some(thresholds) = settings.get("thresholds") {
        project.settings.thresholds = match thresholds {
            Value::Null => Thresholds::default(),
            v => Thresholds::from_json(v, "settings.thresholds")?,
        };
    }
    if !ctx
        .api
        .storage
        .projects
        .update_project_settings(caller.0.org_id, &id, &project.settings)
        .await?
    {
        return Err(ApiError::NotFound { what: "project" });
    }
    Ok(Json(project))
}

/// Scorer names as a project setting: strings the catalog resolves (with the
/// project's rubrics), without duplicates.
async fn validate_scorer_names(
    ctx: &Shared,
    org: evalguard_domain::OrgId,
    project: &ProjectId,
    items: &[Value],
) -> Result<Vec<String>, ApiError> {
    let rubrics = ctx.api.storage.projects.list_rubrics(org, project).await?;
    let mut names: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let param = format!("settings.scorers[{i}]");
        let Value::String(name) = item else {
            return Err(ApiError::invalid_field(
                param.clone(),
                format!("{param}: must be a scorer name"),
            ));
        };
        if matches!(
            ctx.api.catalog.resolve(name, &rubrics),
            ScorerAvailability::Unknown
        ) {
            return Err(ApiError::bad_request(
                "unknown_scorer",
                format!("there is no scorer named '{name}'"),
                Some(&param),
            ));
        }
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    if names.is_empty() {
        return Err(ApiError::invalid_field(
            "settings.scorers",
            "settings.scorers: must name at least one scorer",
        ));
    }
    Ok(names)
}
