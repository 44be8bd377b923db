//! Projects: create, list, read, and change settings (scorer set, thresholds).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use evalguard_domain::input::Name;
use evalguard_domain::job::Thresholds;
use evalguard_domain::project::{Project, ProjectSettings};
use evalguard_domain::scoring::ScorerAvailability;
use evalguard_domain::{ProjectId, Role};
use evalguard_storage::StorageError;
use serde::{Deserialize, Deserializer, Serialize};

use super::{load_project, path_project_id};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody, QueryPairs};
use crate::pagination::{cursor_position, page, parse_limit};
use crate::state::Shared;

/// `POST /api/v1/projects`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProjectCreateBody {
    /// 1–64 of `[A-Za-z0-9._-]`, starting with a letter or digit; unique in the organization.
    #[schema(value_type = String)]
    pub id: ProjectId,
    /// Default: the id.
    #[serde(default)]
    pub name: Option<Name>,
}

/// `PATCH /api/v1/projects/{id}`: the settings to change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProjectPatchBody {
    pub settings: ProjectSettingsPatch,
}

/// A field left out is unchanged; `null` restores its default.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProjectSettingsPatch {
    /// Scorer names run when a request names none; null restores the default set.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub scorers: Option<Option<Vec<Name>>>,
    /// Null restores the default thresholds.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Thresholds>)]
    pub thresholds: Option<Option<Thresholds>>,
}

/// A field that is present, even as `null` (`Some(None)`), as opposed to absent (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ProjectList {
    pub data: Vec<Project>,
    pub next_cursor: Option<String>,
}

/// Create a project
///
/// A project groups traffic, jobs, rubric scorers and webhooks; its id is
/// unique in the organization. Role: admin, with an organization-wide key.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects",
    request_body = ProjectCreateBody,
    responses((status = 201, description = "The project", body = Project),
              (status = 409, description = "The id exists in the organization", body = crate::openapi::ErrorBody)))]
pub(crate) async fn create_project(
    State(ctx): State<Shared>,
    caller: Caller,
    JsonBody(body): JsonBody<ProjectCreateBody>,
) -> Result<(StatusCode, Json<Project>), ApiError> {
    caller.require_role(Role::Admin)?;
    caller.require_org_wide()?;
    let ProjectCreateBody { id, name } = body;
    let name = name.map_or_else(|| id.as_str().to_owned(), Name::into_string);
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

/// List projects
///
/// The projects the key can see, by id, a page at a time. Role: viewer.
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

/// Read a project
///
/// The project with its settings (scorer set and thresholds). Role: viewer.
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

/// Change a project's settings
///
/// Sets the scorers a job runs when its request names none, and the decision
/// thresholds; a setting left out is unchanged, `null` restores its default.
/// Role: admin.
#[utoipa::path(patch, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = String, Path, description = "project id")),
    request_body = ProjectPatchBody,
    responses((status = 200, description = "The project with its new settings", body = Project)))]
pub(crate) async fn patch_project(
    State(ctx): State<Shared>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<ProjectPatchBody>,
) -> Result<Json<Project>, ApiError> {
    caller.require_role(Role::Admin)?;
    let id = path_project_id(&id)?;
    let mut project = load_project(&ctx, caller.0.org_id, &id).await?;
    caller.require_project(&id)?;
    let settings = body.settings;
    if let Some(scorers) = settings.scorers {
        project.settings.scorers = match scorers {
            None => None,
            Some(names) => Some(validate_scorer_names(&ctx, caller.0.org_id, &id, names).await?),
        };
    }
    if let Some(thresholds) = settings.thresholds {
        project.settings.thresholds = match thresholds {
            None => Thresholds::default(),
            Some(t) => {
                t.check("settings.thresholds")?;
                t
            }
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
    items: Vec<Name>,
) -> Result<Vec<String>, ApiError> {
    let rubrics = ctx.api.storage.projects.list_rubrics(org, project).await?;
    let mut names: Vec<String> = Vec::with_capacity(items.len());
    for (i, name) in items.into_iter().enumerate() {
        let param = format!("settings.scorers[{i}]");
        let name = name.into_string();
        if matches!(
            ctx.api.catalog.resolve(&name, &rubrics),
            ScorerAvailability::Unknown
        ) {
            return Err(ApiError::bad_request(
                "unknown_scorer",
                format!("there is no scorer named '{name}'"),
                Some(&param),
            ));
        }
        if !names.contains(&name) {
            names.push(name);
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
