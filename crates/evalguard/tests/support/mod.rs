//! The end-to-end test harness: a real EvalGuard on port 0 against a fresh
//! database (a temporary SQLite file, or a new PostgreSQL database when
//! `EVALGUARD_TEST_POSTGRES_URL` is set), called over HTTP.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use evalguard::{Application, Config};
use evalguard_domain::{ProjectId, Role};
use evalguard_storage::Storage;
use reqwest::{Method, Response};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub storage: Storage,
    pub database_url: String,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

impl TestApp {
    pub async fn spawn_sqlite() -> Self {
        Self::spawn_sqlite_with(|_| {}).await
    }

    pub async fn spawn_sqlite_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("evalguard.db").display());
        let mut config = Config::for_tests(&url);
        tweak(&mut config);
        Self::start(config, Some(dir)).await
    }

    /// `None` (with a printed notice) when `EVALGUARD_TEST_POSTGRES_URL` is unset.
    pub async fn spawn_postgres_with(tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        let url = evalguard_storage::testing::fresh_postgres().await?;
        let mut config = Config::for_tests(&url);
        tweak(&mut config);
        Some(Self::start(config, None).await)
    }

    /// On `db` with a tweaked configuration; `None` when PostgreSQL is not configured.
    pub async fn spawn_with(db: Db, tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        match db {
            Db::Sqlite => Some(Self::spawn_sqlite_with(tweak).await),
            Db::Postgres => Self::spawn_postgres_with(tweak).await,
        }
    }

    pub async fn spawn(db: Db) -> Option<Self> {
        Self::spawn_with(db, |_| {}).await
    }

    pub async fn start(config: Config, dir: Option<tempfile::TempDir>) -> Self {
        let database_url = config.database_url.clone();
        let app = Application::build(config)
            .await
            .expect("the application starts");
        let addr = app.local_addr().expect("serves HTTP");
        let storage = app.storage().clone();
        let shutdown = app.shutdown_token();
        let server = tokio::spawn(async move {
            app.run_until_stopped().await.expect("the server runs");
        });
        evalguard::install_tls_provider();
        Self {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            storage,
            database_url,
            shutdown,
            server: Some(server),
            _dir: dir,
        }
    }

    /// Stops the server and its workers gracefully.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// A new key straight from storage (as `evalguard keys create` does).
    pub async fn key(&self, org: &str, role: Role, project: Option<&str>) -> String {
        let secret = evalguard::keys::create_key(
            &self.storage,
            evalguard::keys::CreateKey {
                org: org.to_owned(),
                role,
                project: project.map(|p| ProjectId::parse(p).unwrap()),
                name: None,
            },
        )
        .await
        .unwrap();
        secret.expose().to_owned()
    }

    pub async fn request(
        &self,
        method: Method,
        key: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request
            .send()
            .await
            .expect("the request reaches the server")
    }

    pub async fn get(&self, key: &str, path: &str) -> Response {
        self.request(Method::GET, Some(key), path, None).await
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> Response {
        self.request(Method::POST, Some(key), path, Some(body))
            .await
    }

    /// Creates a project with an owner key of `org`; returns that key.
    pub async fn project(&self, org: &str, project: &str) -> String {
        let owner = self.key(org, Role::Owner, None).await;
        let response = self
            .post(
                &owner,
                "/api/v1/projects",
                json!({"id": project, "name": project}),
            )
            .await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        owner
    }

    /// `POST /api/v1/auto-eval`, asserting the `202`; returns the job id.
    pub async fn trigger(&self, key: &str, request: Value) -> String {
        let r = self.post(key, "/api/v1/auto-eval", request).await;
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
        r.json::<Value>().await.unwrap()["job_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Polls a job until it is terminal (or panics after `secs`).
    pub async fn wait_for_job(&self, key: &str, job_id: &str, secs: u64) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let job: Value = self
                .get(key, &format!("/api/v1/auto-eval/{job_id}"))
                .await
                .json()
                .await
                .unwrap();
            if matches!(
                job["status"].as_str(),
                Some("succeeded" | "failed" | "cancelled")
            ) {
                return job;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "job did not finish: {job}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Generates, per scenario `async fn name(db: Db)` of the test file,
/// `sqlite::name` and `postgres::name` (use with `#[macro_use] mod support;`).
#[allow(unused_macros)]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name(super::Db::Sqlite).await; })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name(super::Db::Postgres).await; })*
        }
    };
}

/// A traffic sample with the given id and output.
pub fn sample(project: &str, model: &str, prompt: &str, id: &str, output: &str) -> Value {
    json!({
        "id": id, "project_id": project, "model": model, "prompt_id": prompt,
        "input": format!("question {id}"), "output": output,
        "context": ["EvalGuard answers questions about deployments."],
        "latency_ms": 800, "prompt_tokens": 100, "completion_tokens": 20,
    })
}

/// An OpenAI chat-completion answer whose message is `content`, as a judge
/// provider sends it.
pub fn chat_completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "judge",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    })
}

/// A port free at the time of the call, for a server started as a process.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process (a server or worker) that is killed when the test ends,
/// also when it fails half-way.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
