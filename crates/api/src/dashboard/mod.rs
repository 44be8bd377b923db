//! The web dashboard under `/dashboard`: people sign in with an email and a
//! password, manage API keys and read each job's report. Pages are askama
//! templates rendered on the server; the stylesheet and the one small script
//! are embedded in the binary. Authorization is the API's: a signed-in
//! person becomes the same [`evalguard_domain::Principal`] a key does.

mod account_page;
mod assets;
mod auth_pages;
mod charts;
mod forms;
mod job_report;
mod keys_page;
mod overview;
mod page_error;
pub mod people;
mod project_page;
mod report_words;
pub mod secrets;
mod session;
mod settings;
mod settings_forms;
mod throttle;
mod users_page;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use crate::state::{AppContext, Shared};

/// Largest form body the dashboard reads.
const FORM_BODY_BYTES: usize = 64 * 1024;

/// How sessions live; part of [`crate::ApiState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DashboardSettings {
    /// Mark the session cookie `Secure` (serve the dashboard over HTTPS).
    pub secure_cookies: bool,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however active.
    pub session_absolute: Duration,
}

impl Default for DashboardSettings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_idle: Duration::from_secs(2 * 60 * 60),
            session_absolute: Duration::from_secs(24 * 60 * 60),
        }
    }
}

pub(crate) struct DashboardState {
    pub app: Shared,
    pub throttle: throttle::SignInThrottle,
}

pub(crate) type DashboardCtx = Arc<DashboardState>;

impl std::ops::Deref for DashboardState {
    type Target = AppContext;
    fn deref(&self) -> &AppContext {
        &self.app
    }
}

/// Every dashboard route, with its own state; merged into the API's router.
pub(crate) fn router<S: Clone + Send + Sync + 'static>(app: Shared) -> Router<S> {
    let ctx: DashboardCtx = Arc::new(DashboardState {
        app,
        throttle: throttle::SignInThrottle::default(),
    });
    Router::new()
        .route("/dashboard", get(overview::overview))
        .route(
            "/dashboard/login",
            get(auth_pages::login_page).post(auth_pages::login),
        )
        .route("/dashboard/logout", post(auth_pages::logout))
        .route("/dashboard/account", get(account_page::account_page))
        .route(
            "/dashboard/account/password",
            post(account_page::change_password),
        )
        .route(
            "/dashboard/setup",
            get(auth_pages::setup_page).post(auth_pages::setup),
        )
        .route(
            "/dashboard/api-keys",
            get(keys_page::keys_page).post(keys_page::create_key),
        )
        .route(
            "/dashboard/api-keys/{key_id}/revoke",
            post(keys_page::revoke_key),
        )
        .route(
            "/dashboard/users",
            get(users_page::users_page).post(users_page::create_user),
        )
        .route(
            "/dashboard/users/{user_id}/role",
            post(users_page::change_role),
        )
        .route(
            "/dashboard/users/{user_id}/disable",
            post(users_page::disable_user),
        )
        .route(
            "/dashboard/projects/{project_id}",
            get(project_page::project_page),
        )
        .route(
            "/dashboard/projects/{project_id}/auto-eval",
            post(project_page::trigger),
        )
        .route(
            "/dashboard/projects/{project_id}/settings",
            get(settings::settings_page),
        )
        .route(
            "/dashboard/projects/{project_id}/settings/thresholds",
            post(settings_forms::save_thresholds),
        )
        .route(
            "/dashboard/projects/{project_id}/settings/scorers",
            post(settings_forms::add_rubric),
        )
        .route(
            "/dashboard/projects/{project_id}/settings/webhooks",
            post(settings_forms::add_webhook),
        )
        .route(
            "/dashboard/projects/{project_id}/settings/webhooks/{webhook_id}/delete",
            post(settings_forms::delete_webhook),
        )
        .route("/dashboard/jobs/{job_id}", get(job_report::job_page))
        .route("/dashboard/assets/{name}", get(assets::serve))
        .layer(DefaultBodyLimit::max(FORM_BODY_BYTES))
        .layer(middleware::from_fn(security_headers))
        .with_state(ctx)
}

/// Pages allow only their own stylesheet and script (no inline script or
/// style), cannot be framed, and do not leak their URLs (job ids) to others.
async fn security_headers(req: axum::extract::Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
