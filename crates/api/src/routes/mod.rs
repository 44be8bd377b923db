//! One module per resource. Handlers check the role first, then the project
//! scope, then existence in the caller's organization.

pub(crate) mod health;
pub(crate) mod jobs;
pub(crate) mod keys;
pub(crate) mod otel;
pub(crate) mod projects;
pub(crate) mod scorers;
pub(crate) mod traffic;
pub(crate) mod traffic_deletion;
pub(crate) mod webhooks;

use evalguard_domain::ProjectId;
use evalguard_domain::project::Project;

use crate::error::ApiError;
use crate::state::AppContext;

/// A project id from a path: one that cannot exist is simply not found.
pub(crate) fn path_project_id(raw: &str) -> Result<ProjectId, ApiError> {
    ProjectId::parse(raw).map_err(|_| ApiError::NotFound { what: "project" })
}

/// The project of the caller's organization named in a path, or 404.
pub(crate) async fn load_project(
    ctx: &AppContext,
    org: evalguard_domain::OrgId,
    id: &ProjectId,
) -> Result<Project, ApiError> {
    ctx.api
        .storage
        .projects
        .get_project(org, id)
        .await?
        .ok_or(ApiError::NotFound { what: "project" })
}

/// A 400 for a project named in a body that the organization does not have.
pub(crate) fn unknown_project(param: &str, id: &ProjectId) -> ApiError {
    ApiError::bad_request(
        "unknown_project",
        format!("the organization has no project '{id}'; create it with POST /api/v1/projects"),
        Some(param),
    )
}
