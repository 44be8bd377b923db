//! The overview (projects with their latest jobs), and the navigation and
//! job rows the other pages share.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use evalguard_domain::job::JobStatus;
use evalguard_domain::{Job, Role};
use evalguard_storage::JobFilter;

use super::DashboardCtx;
use super::forms::page;
use super::page_error::PageError;
use super::session::SignedIn;

/// Jobs shown per project on the overview.
const LATEST_JOBS: u32 = 5;

/// The header of every signed-in page.
pub struct Nav {
    pub email: String,
    pub role: Role,
    pub csrf: String,
    pub current: &'static str,
    /// Whether the People page is offered.
    pub is_admin: bool,
}

impl Nav {
    pub fn new(viewer: &SignedIn, current: &'static str) -> Self {
        Self {
            email: viewer.user.email.clone(),
            role: viewer.principal.role,
            csrf: viewer.csrf.clone(),
            current,
            is_admin: viewer.principal.has_role(Role::Admin),
        }
    }
}

/// A job as a row of a list.
pub struct JobRow {
    pub id: String,
    pub status: &'static str,
    pub target: String,
    pub created: String,
    pub flags: Vec<String>,
}

pub fn status_name(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Queued => "queued",
        JobStatus::Running => "running",
        JobStatus::Succeeded => "succeeded",
        JobStatus::Failed => "failed",
        JobStatus::Cancelled => "cancelled",
    }
}

impl From<&Job> for JobRow {
    fn from(job: &Job) -> Self {
        Self {
            id: job.id.to_string(),
            status: status_name(job.status),
            target: format!("{} · {}", job.target.model, job.target.prompt_id),
            created: job.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            flags: job
                .flags
                .iter()
                .map(|f| format!("{} ({})", f.metric, serde_name(&f.kind)))
                .collect(),
        }
    }
}

/// The JSON name of a closed-set value (flag kinds, severities).
pub fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

pub struct ProjectBlock {
    pub id: String,
    pub name: String,
    pub jobs: Vec<JobRow>,
}

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct OverviewPage {
    nav: Nav,
    projects: Vec<ProjectBlock>,
}

pub async fn overview(
    State(ctx): State<DashboardCtx>,
    viewer: SignedIn,
) -> Result<Response, PageError> {
    let org = viewer.principal.org_id;
    let storage = &ctx.api.storage;
    let mut projects = Vec::new();
    for project in storage.projects.list_projects(org).await? {
        let filter = JobFilter {
            project: Some(project.id.clone()),
            status: None,
            before: None,
            limit: LATEST_JOBS,
        };
        let jobs = storage.jobs.list_jobs(org, &filter).await?;
        projects.push(ProjectBlock {
            id: project.id.to_string(),
            name: project.name,
            jobs: jobs.iter().map(JobRow::from).collect(),
        });
    }
    page(&OverviewPage {
        nav: Nav::new(&viewer, "overview"),
        projects,
    })
}
