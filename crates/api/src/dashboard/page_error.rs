//! What a dashboard page answers when it cannot show itself: a small HTML
//! page with the reason and the right status, never a 500 for bad input.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use evalguard_storage::StorageError;

#[derive(Debug)]
pub enum PageError {
    /// Not signed in (or the session ended): `303` to the sign-in page.
    SignIn,
    Forbidden(String),
    NotFound(&'static str),
    BadRequest(String),
    Storage(StorageError),
    Render(askama::Error),
}

impl PageError {
    pub fn csrf() -> Self {
        PageError::Forbidden(
            "the form's security token is missing or stale; reload the page and try again"
                .to_owned(),
        )
    }
}

impl From<StorageError> for PageError {
    fn from(e: StorageError) -> Self {
        PageError::Storage(e)
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::Render(e)
    }
}

#[derive(Template)]
#[template(path = "dashboard/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            PageError::SignIn => return Redirect::to("/dashboard/login").into_response(),
            PageError::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m.clone()),
            PageError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "Not found",
                format!("no such {what} in your organization"),
            ),
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad request", m.clone()),
            PageError::Storage(e) => {
                tracing::error!(error = %e, "dashboard storage error");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Unavailable",
                    "the database did not answer; try again shortly".to_owned(),
                )
            }
            PageError::Render(e) => {
                tracing::error!(error = %e, "dashboard template error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Error",
                    "the page could not be drawn".to_owned(),
                )
            }
        };
        let body = ErrorPage {
            title,
            message: &message,
        }
        .render()
        .unwrap_or_else(|_| message.clone());
        (status, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
    }
}
