//! Form bodies (`application/x-www-form-urlencoded`) read into typed structs
//! whose fields are all optional, so that any body is either read or refused
//! with a 400, and a page response that is never cached.

use askama::Template;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::page_error::PageError;

pub fn parse_form<T: DeserializeOwned>(body: &[u8]) -> Result<T, PageError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| PageError::BadRequest(format!("the form could not be read: {e}")))
}

/// A rendered page, never stored by caches (it may show a secret).
pub fn page<T: Template>(template: &T) -> Result<Response, PageError> {
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Html(template.render()?),
    )
        .into_response())
}

/// A trimmed, non-empty value of an optional field.
pub fn field(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}
