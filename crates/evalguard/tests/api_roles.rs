//! Every endpoint × role × (own organization / another organization's
//! resource / another project for a project-scoped key), with the exact status.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use evalguard_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use support::{Db, TestApp, sample};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// An unscoped key acting on its own organization's project `alpha`.
    Own,
    /// An unscoped key naming organization B's resources.
    OtherOrg,
    /// A key scoped to project `beta` acting on `alpha`.
    OtherProject,
}

#[derive(Debug, Clone, Copy)]
enum Ep {
    CreateProject,
    ListProjects,
    GetProject,
    PatchProject,
    CreateRubric,
    ListRubrics,
    DeleteRubric,
    CreateWebhook,
    ListWebhooks,
    DeleteWebhook,
    ListDeliveries,
    Traffic,
    CreateJob,
    GetJob,
    ListJobs,
    CancelJob,
    Results,
    CreateKey,
    ListKeys,
    RevokeKey,
}

const ALL: [Ep; 20] = [
    Ep::CreateProject,
    Ep::ListProjects,
    Ep::GetProject,
    Ep::PatchProject,
    Ep::CreateRubric,
    Ep::ListRubrics,
    Ep::DeleteRubric,
    Ep::CreateWebhook,
    Ep::ListWebhooks,
    Ep::DeleteWebhook,
    Ep::ListDeliveries,
    Ep::Traffic,
    Ep::CreateJob,
    Ep::GetJob,
    Ep::ListJobs,
    Ep::CancelJob,
    Ep::Results,
    Ep::CreateKey,
    Ep::ListKeys,
    Ep::RevokeKey,
];

/// (least role, status on success, status for another organization's resource,
/// status for another project with a scoped key).
fn rule(ep: Ep) -> (Role, u16, u16, u16) {
    use Role::*;
    match ep {
        Ep::CreateProject => (Admin, 201, 201, 403),
        Ep::ListProjects => (Viewer, 200, 200, 200),
        Ep::GetProject => (Viewer, 200, 404, 403),
        Ep::PatchProject => (Admin, 200, 404, 403),
        Ep::CreateRubric => (Admin, 201, 404, 403),
        Ep::ListRubrics => (Viewer, 200, 404, 403),
        Ep::DeleteRubric => (Admin, 204, 404, 403),
        Ep::CreateWebhook => (Admin, 201, 404, 403),
        Ep::ListWebhooks => (Admin, 200, 404, 403),
        Ep::DeleteWebhook => (Admin, 204, 404, 403),
        Ep::ListDeliveries => (Admin, 200, 404, 403),
        // A project in the body that the organization does not have: 400.
        Ep::Traffic => (Member, 202, 400, 403),
        Ep::CreateJob => (Member, 202, 400, 403),
        Ep::GetJob => (Viewer, 200, 404, 403),
        // Filtering by a project the organization lacks finds nothing.
        Ep::ListJobs => (Viewer, 200, 200, 403),
        Ep::CancelJob => (Member, 200, 404, 403),
        Ep::Results => (Viewer, 200, 404, 403),
        Ep::CreateKey => (Admin, 201, 400, 403),
        Ep::ListKeys => (Admin, 200, 200, 403),
        Ep::RevokeKey => (Admin, 200, 404, 403),
    }
}

fn expected(ep: Ep, role: Role, ctx: Ctx) -> u16 {
    let (least, ok, other_org, other_project) = rule(ep);
    if role < least {
        return 403;
    }
    match ctx {
        Ctx::Own => ok,
        Ctx::OtherOrg => other_org,
        Ctx::OtherProject => other_project,
    }
}

struct Fixture {
    app: TestApp,
    owner_a: String,
    owner_b: String,
    job_a: String,
    job_b: String,
    webhook_b: String,
    key_b: String,
    counter: AtomicUsize,
}

impl Fixture {
    async fn new(app: TestApp) -> Self {
        let owner_a = app.project("org-a", "alpha").await;
        let r = app
            .post(
                &owner_a,
                "/api/v1/projects",
                json!({"id": "beta", "name": "Beta"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let owner_b = app.project("org-b", "gamma").await;
        let job_a = job(&app, &owner_a, "alpha").await;
        let job_b = job(&app, &owner_b, "gamma").await;
        let webhook_b = webhook(&app, &owner_b, "gamma").await;
        rubric(&app, &owner_b, "gamma", "tone").await;
        let key_b = key_id(&app, &owner_b).await;
        Self {
            app,
            owner_a,
            owner_b,
            job_a,
            job_b,
            webhook_b,
            key_b,
            counter: AtomicUsize::new(0),
        }
    }

    fn unique(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.counter.fetch_add(1, Ordering::Relaxed))
    }

    /// The request of one case; destructive cases get a fresh resource.
    async fn request(&self, ep: Ep, ctx: Ctx) -> (Method, String, Option<Value>) {
        let other = ctx == Ctx::OtherOrg;
        let project = if other { "gamma" } else { "alpha" };
        let job = if other { &self.job_b } else { &self.job_a };
        let p = |s: &str| s.to_owned();
        match ep {
            Ep::CreateProject => (
                Method::POST,
                p("/api/v1/projects"),
                Some(json!({"id": self.unique("p-")})),
            ),
            Ep::ListProjects => (Method::GET, p("/api/v1/projects"), None),
            Ep::GetProject => (Method::GET, format!("/api/v1/projects/{project}"), None),
            Ep::PatchProject => (
                Method::PATCH,
                format!("/api/v1/projects/{project}"),
                Some(json!({"settings": {"thresholds": {"alpha": 0.01}}})),
            ),
            Ep::CreateRubric => (
                Method::POST,
                format!("/api/v1/projects/{project}/scorers"),
                Some(rubric_body(&self.unique("r-"))),
            ),
            Ep::ListRubrics => (
                Method::GET,
                format!("/api/v1/projects/{project}/scorers"),
                None,
            ),
            Ep::DeleteRubric => {
                let name = if other {
                    "tone".to_owned()
                } else {
                    let name = self.unique("d-");
                    rubric(&self.app, &self.owner_a, "alpha", &name).await;
                    name
                };
                (
                    Method::DELETE,
                    format!("/api/v1/projects/{project}/scorers/{name}"),
                    None,
                )
            }
            Ep::CreateWebhook => (
                Method::POST,
                format!("/api/v1/projects/{project}/webhooks"),
                Some(json!({"url": "http://127.0.0.1:9/hook"})),
            ),
            Ep::ListWebhooks => (
                Method::GET,
                format!("/api/v1/projects/{project}/webhooks"),
                None,
            ),
            Ep::DeleteWebhook => {
                let id = if other {
                    self.webhook_b.clone()
                } else {
                    webhook(&self.app, &self.owner_a, "alpha").await
                };
                (Method::DELETE, format!("/api/v1/webhooks/{id}"), None)
            }
            Ep::ListDeliveries => {
                let id = if other {
                    self.webhook_b.clone()
                } else {
                    webhook(&self.app, &self.owner_a, "alpha").await
                };
                (
                    Method::GET,
                    format!("/api/v1/webhooks/{id}/deliveries"),
                    None,
                )
            }
            Ep::Traffic => (
                Method::POST,
                p("/api/v1/traffic"),
                Some(
                    json!({"samples": [sample(project, "m", "p", &self.unique("s-"), "an answer")]}),
                ),
            ),
            Ep::CreateJob => (
                Method::POST,
                p("/api/v1/auto-eval"),
                Some(
                    json!({"target": {"model": "m", "prompt_id": "p", "project_id": project}, "sample_count": 10}),
                ),
            ),
            Ep::GetJob => (Method::GET, format!("/api/v1/auto-eval/{job}"), None),
            Ep::ListJobs => (
                Method::GET,
                format!("/api/v1/auto-eval?project_id={project}"),
                None,
            ),
            Ep::CancelJob => (
                Method::POST,
                format!("/api/v1/auto-eval/{job}/cancel"),
                None,
            ),
            Ep::Results => (
                Method::GET,
                format!("/api/v1/auto-eval/{job}/results"),
                None,
            ),
            Ep::CreateKey => {
                let body = if other {
                    json!({"role": "viewer", "project_id": "gamma"})
                } else {
                    json!({"role": "viewer"})
                };
                (Method::POST, p("/api/v1/keys"), Some(body))
            }
            Ep::ListKeys => (Method::GET, p("/api/v1/keys"), None),
            Ep::RevokeKey => {
                let id = if other {
                    self.key_b.clone()
                } else {
                    key_id(&self.app, &self.owner_a).await
                };
                (Method::DELETE, format!("/api/v1/keys/{id}"), None)
            }
        }
    }
}

fn rubric_body(name: &str) -> Value {
    json!({"name": name, "criteria": "Is the answer polite?", "score_min": 1, "score_max": 5, "pass_threshold": 3})
}

async fn job(app: &TestApp, key: &str, project: &str) -> String {
    let r = app
        .post(
            key,
            "/api/v1/auto-eval",
            json!({"target": {"model": "m", "prompt_id": "p", "project_id": project}}),
        )
        .await;
    assert_eq!(r.status(), 202);
    r.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn webhook(app: &TestApp, key: &str, project: &str) -> String {
    let r = app
        .post(
            key,
            &format!("/api/v1/projects/{project}/webhooks"),
            json!({"url": "http://127.0.0.1:9/hook"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn rubric(app: &TestApp, key: &str, project: &str, name: &str) {
    let r = app
        .post(
            key,
            &format!("/api/v1/projects/{project}/scorers"),
            rubric_body(name),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

async fn key_id(app: &TestApp, owner: &str) -> String {
    let r = app
        .post(owner, "/api/v1/keys", json!({"role": "viewer"}))
        .await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn run_table(db: Db) {
    let app = match db {
        Db::Sqlite => TestApp::spawn_sqlite_with(|c| c.rate_limit_per_minute = 0).await,
        Db::Postgres => match TestApp::spawn_postgres_with(|c| c.rate_limit_per_minute = 0).await {
            Some(app) => app,
            None => return,
        },
    };
    let fx = Fixture::new(app).await;
    let roles = [Role::Viewer, Role::Member, Role::Admin, Role::Owner];
    let mut failures = Vec::new();
    let mut cases = 0;
    for role in roles {
        let unscoped = fx.app.key("org-a", role, None).await;
        let scoped = fx.app.key("org-a", role, Some("beta")).await;
        for ep in ALL {
            for ctx in [Ctx::Own, Ctx::OtherOrg, Ctx::OtherProject] {
                let key = if ctx == Ctx::OtherProject {
                    &scoped
                } else {
                    &unscoped
                };
                let (method, path, body) = fx.request(ep, ctx).await;
                let response = fx.app.request(method.clone(), Some(key), &path, body).await;
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                let want = expected(ep, role, ctx);
                cases += 1;
                if status != want {
                    failures.push(format!(
                        "{ep:?} {role:?} {ctx:?}: {method} {path} → {status}, want {want}: {text}"
                    ));
                } else if status == 403 {
                    let code =
                        serde_json::from_str::<Value>(&text).unwrap()["error"]["code"].clone();
                    // A scoped key is kept to its project's paths before
                    // anything else is checked, so ids cannot be probed.
                    let scoped_path =
                        ctx == Ctx::OtherProject && path.starts_with("/api/v1/projects/");
                    let want_code = if role < rule(ep).0 && !scoped_path {
                        "insufficient_role"
                    } else {
                        "project_out_of_scope"
                    };
                    if code != want_code {
                        failures.push(format!(
                            "{ep:?} {role:?} {ctx:?}: code {code}, want {want_code}"
                        ));
                    }
                }
            }
        }
    }
    assert_eq!(cases, 4 * ALL.len() * 3);
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The fixture's other organization was never touched by organization A.
    let r = fx
        .app
        .get(&fx.owner_b, "/api/v1/projects/gamma/scorers")
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    fx.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_role_and_scope_sqlite() {
    run_table(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_role_and_scope_postgres() {
    run_table(Db::Postgres).await;
}
