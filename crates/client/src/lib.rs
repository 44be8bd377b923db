//! A typed client of the EvalGuard HTTP API: projects, traffic, and auto-eval
//! jobs (create, get, list, cancel, results). The answers are the domain's
//! own types (`Job`, `Project`, `SampleResult`), so the client and the server
//! cannot disagree on a field; requests have their own wire types here, with
//! every optional field left out when unset.
//!
//! The client uses rustls without a built-in crypto provider: install one
//! (`rustls::crypto::ring::default_provider().install_default()`) before
//! [`Client::new`].

mod error;
mod wire;

pub use error::ClientError;
pub use evalguard_domain::job::{
    BaselineSpec, Flag, FlagKind, Job, JobStatus, JobWarning, ScorerSummary, Severity, Target,
    Thresholds, WarningCode,
};
pub use evalguard_domain::project::Project;
pub use evalguard_domain::scoring::{JudgedSample, ResultScore, SampleResult, ScoreOutcome};
pub use wire::{CreateAutoEval, CreateProject, JobCreated, NewSample, Page, TrafficAccepted};

use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The base URL used when none is given: a server on this machine.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";

/// A connection to one EvalGuard server with one API key.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    api_key: String,
}

impl std::fmt::Debug for Client {
    // The key is a secret: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base).finish()
    }
}

impl Client {
    /// A client of the server at `base_url` (e.g. `http://127.0.0.1:8080`),
    /// with a 30 s timeout per request.
    pub fn new(base_url: &str, api_key: &str) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(ClientError::Transport)?;
        Ok(Self {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `POST /api/v1/projects`.
    pub async fn create_project(&self, project: &CreateProject) -> Result<Project, ClientError> {
        self.send(self.request(Method::POST, "/api/v1/projects").json(project))
            .await
    }

    /// `GET /api/v1/projects`.
    pub async fn list_projects(&self) -> Result<Vec<Project>, ClientError> {
        let page: Page<Project> = self
            .send(self.request(Method::GET, "/api/v1/projects"))
            .await?;
        Ok(page.data)
    }

    /// `POST /api/v1/traffic` (1 to 10,000 samples a call).
    pub async fn send_traffic(
        &self,
        samples: &[NewSample],
    ) -> Result<TrafficAccepted, ClientError> {
        #[derive(Serialize)]
        struct Body<'a> {
            samples: &'a [NewSample],
        }
        self.send(
            self.request(Method::POST, "/api/v1/traffic")
                .json(&Body { samples }),
        )
        .await
    }

    /// `POST /api/v1/auto-eval`: the job is queued; poll [`Client::job`].
    pub async fn create_auto_eval(
        &self,
        request: &CreateAutoEval,
    ) -> Result<JobCreated, ClientError> {
        self.send(
            self.request(Method::POST, "/api/v1/auto-eval")
                .json(request),
        )
        .await
    }

    /// `GET /api/v1/auto-eval/{job_id}`.
    pub async fn job(&self, job_id: &str) -> Result<Job, ClientError> {
        self.send(self.request(Method::GET, &format!("/api/v1/auto-eval/{job_id}")))
            .await
    }

    /// `GET /api/v1/auto-eval`: one page of a project's jobs, newest first.
    pub async fn list_jobs(
        &self,
        project_id: Option<&str>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Job>, ClientError> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(p) = project_id {
            query.push(("project_id", p.to_owned()));
        }
        push_page_query(&mut query, limit, cursor);
        let path = with_query("/api/v1/auto-eval", &query);
        self.send(self.request(Method::GET, &path)).await
    }

    /// `POST /api/v1/auto-eval/{job_id}/cancel`.
    pub async fn cancel_job(&self, job_id: &str) -> Result<Job, ClientError> {
        let path = format!("/api/v1/auto-eval/{job_id}/cancel");
        self.send(self.request(Method::POST, &path)).await
    }

    /// `GET /api/v1/auto-eval/{job_id}/results`: one page; `flagged` keeps only
    /// flagged (`Some(true)`) or only unflagged (`Some(false)`) samples.
    pub async fn results(
        &self,
        job_id: &str,
        flagged: Option<bool>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<SampleResult>, ClientError> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(f) = flagged {
            query.push(("flagged", f.to_string()));
        }
        push_page_query(&mut query, limit, cursor);
        let path = with_query(&format!("/api/v1/auto-eval/{job_id}/results"), &query);
        self.send(self.request(Method::GET, &path)).await
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.api_key)
    }

    async fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ClientError> {
        let response = request.send().await.map_err(ClientError::Transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(ClientError::Transport)?;
        if !status.is_success() {
            return Err(ClientError::from_answer(status.as_u16(), &body));
        }
        serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()))
    }
}

/// `path?k=v&…`, every value form-encoded (cursors are opaque).
fn with_query(path: &str, query: &[(&str, String)]) -> String {
    if query.is_empty() {
        return path.to_owned();
    }
    let mut encoded = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in query {
        encoded.append_pair(k, v);
    }
    format!("{path}?{}", encoded.finish())
}

fn push_page_query(query: &mut Vec<(&str, String)>, limit: Option<u32>, cursor: Option<&str>) {
    if let Some(l) = limit {
        query.push(("limit", l.to_string()));
    }
    if let Some(c) = cursor {
        query.push(("cursor", c.to_owned()));
    }
}
