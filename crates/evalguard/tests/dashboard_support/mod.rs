//! A running EvalGuard for dashboard tests, and a minimal browser-like HTTP
//! client: it keeps cookies, does not follow redirects and sends the
//! `Origin` a browser sends with form posts.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use evalguard::{Application, Config};
use evalguard_domain::{OrgId, Role};
use evalguard_storage::{NewUser, Storage};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use tokio_util::sync::CancellationToken;

/// A port nothing listens on at the moment.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct DashboardApp {
    pub base: String,
    pub storage: Storage,
    pub setup_url: Option<String>,
    shutdown: CancellationToken,
    _dir: Option<tempfile::TempDir>,
}

#[derive(Debug, Clone, Copy)]
pub enum Db {
    Sqlite,
    Postgres,
}

impl DashboardApp {
    /// `None` for PostgreSQL when `EVALGUARD_TEST_POSTGRES_URL` is unset.
    pub async fn start(db: Db, tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        let (url, dir) = match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("evalguard.db").display());
                (url, Some(dir))
            }
            Db::Postgres => (evalguard_storage::testing::fresh_postgres().await?, None),
        };
        let mut config = Config::for_tests(&url);
        tweak(&mut config);
        let app = Application::build(config)
            .await
            .expect("the application starts");
        let base = format!("http://{}", app.local_addr().unwrap());
        let storage = app.storage().clone();
        let setup_url = app.setup_url().map(str::to_owned);
        let shutdown = app.shutdown_token();
        tokio::spawn(async move {
            app.run_until_stopped().await.expect("the server runs");
        });
        Some(Self {
            base,
            storage,
            setup_url,
            shutdown,
            _dir: dir,
        })
    }

    /// A person with this password, straight in the database.
    pub async fn user(&self, org: &str, email: &str, role: Role, password: &str) -> OrgId {
        let org_id = self.storage.access.ensure_org(org).await.unwrap();
        self.storage
            .users
            .create_user(NewUser {
                org_id,
                email: email.to_owned(),
                role,
                password_hash: evalguard_api::dashboard::secrets::hash_password(password).unwrap(),
            })
            .await
            .unwrap();
        org_id
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    /// A browser signed in as this person.
    pub async fn signed_in(&self, email: &str, password: &str) -> Browser {
        let mut browser = self.browser();
        let page = browser.login(email, password).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        browser
    }
}

impl Drop for DashboardApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of the first hidden `csrf_token` field.
    pub fn csrf(&self) -> String {
        attribute_after(&self.body, "name=\"csrf_token\" value=\"").expect("the page has a form")
    }
}

/// The text between `marker` and the next `"`.
pub fn attribute_after(body: &str, marker: &str) -> Option<String> {
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

pub struct Browser {
    pub base: String,
    client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    /// A cookie-keeping client of the server at `base`.
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, response: reqwest::Response) -> Page {
        for set in response.headers().get_all(SET_COOKIE) {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Page {
            status: response.status(),
            location: response
                .headers()
                .get(LOCATION)
                .map(|l| l.to_str().unwrap().to_owned()),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// A form post as a browser on our own origin sends it.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let origin = self.base.clone();
        self.post_from(path, form, Some(&origin)).await
    }

    pub async fn post_from(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Page {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded_body(form));
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        let response = request.send().await.unwrap();
        self.read(response).await
    }

    pub async fn login(&mut self, email: &str, password: &str) -> Page {
        let csrf = self.get("/dashboard/login").await.csrf();
        self.post(
            "/dashboard/login",
            &[
                ("email", email),
                ("password", password),
                ("csrf_token", &csrf),
            ],
        )
        .await
    }

    pub fn session_cookie(&self) -> Option<&str> {
        self.cookies.get("evalguard_session").map(String::as_str)
    }
}

fn serde_urlencoded_body(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl DashboardApp {
    /// An API key of the organization (created if missing).
    pub async fn api_key(&self, org: &str, role: Role) -> String {
        let org_id = self.storage.access.ensure_org(org).await.unwrap();
        let secret = evalguard_domain::ApiKeySecret::generate();
        self.storage
            .access
            .create_api_key(evalguard_storage::NewApiKey {
                org_id,
                key_id: secret.key_id().to_owned(),
                hash: secret.hash(),
                role,
                project: None,
                name: None,
            })
            .await
            .unwrap();
        secret.expose().to_owned()
    }

    /// `POST {path}` on the API with `key` and a JSON body.
    pub async fn post_api(
        &self,
        key: &str,
        path: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// The job once it is terminal (polls the API for up to a minute).
    pub async fn wait_for_job(&self, key: &str, job_id: &str) -> serde_json::Value {
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let job: serde_json::Value = client
                .get(format!("{}/api/v1/auto-eval/{job_id}", self.base))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let status = job["status"].as_str().unwrap_or("");
            if matches!(status, "succeeded" | "failed" | "cancelled") {
                return job;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the job did not finish: {job}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Generates, per scenario `async fn name(db: Db)` of the test file,
/// `on_sqlite::name` and `on_postgres::name` (use with `#[macro_use] mod dashboard_support;`).
#[allow(unused_macros)]
macro_rules! on_both_databases {
    ($($case:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Db::Sqlite).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Db::Postgres).await;
                }
            )*
        }
    };
}
