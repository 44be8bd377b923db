//! Request extractors whose failures are our own JSON errors: the body is read
//! as bytes and deserialized with the path of any bad field (not with axum's
//! `Json`), so every message, status and `param` is the one the contract asks for.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Path, Request};
use axum::http::header;
use axum::http::request::Parts;
use evalguard_domain::input::{BodyError, read_body};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::Shared;

/// Path of traffic ingest, which (with OTLP trace ingest) has the larger body limit.
pub(crate) const TRAFFIC_PATH: &str = "/api/v1/traffic";

/// A JSON body deserialized into its typed form `T`.
pub(crate) struct JsonBody<T>(pub T);

/// A JSON body as raw bytes (content type and size checked), for handlers
/// that parse large bodies off the async threads.
pub(crate) struct JsonBytes(pub Bytes);

/// The media type of a `Content-Type` value, lower-cased, without parameters.
pub(crate) fn media_type(raw: &str) -> String {
    raw.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_json_content_type(raw: &str) -> bool {
    let mime = media_type(raw);
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

impl FromRequest<Shared> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Shared) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !is_json_content_type(content_type) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let limit = match req.extensions().get::<MatchedPath>() {
            Some(p) if p.as_str() == TRAFFIC_PATH => state.api.limits.traffic_body_bytes,
            _ => state.api.limits.body_bytes,
        };
        Bytes::from_request(req, state)
            .await
            .map(JsonBytes)
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge { limit }
                } else {
                    ApiError::bad_request(
                        "unreadable_body",
                        "the request body could not be read",
                        None,
                    )
                }
            })
    }
}

impl<T: DeserializeOwned> FromRequest<Shared> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Shared) -> Result<Self, Self::Rejection> {
        let JsonBytes(bytes) = JsonBytes::from_request(req, state).await?;
        parse_body(&bytes).map(JsonBody)
    }
}

/// Deserializes a body: `invalid_json` when it is not JSON, else
/// `invalid_request` naming the field at fault.
pub(crate) fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    read_body(bytes).map_err(|e| match e {
        BodyError::NotJson(message) => ApiError::bad_request("invalid_json", message, None),
        BodyError::Field(field) => field.into(),
    })
}

/// Path parameters; a segment that cannot be decoded, or that holds a NUL
/// (`%00`, which no id contains and no database stores alike), is a 404 like
/// any unknown id.
pub(crate) struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.path().contains("%00") {
            return Err(ApiError::RouteNotFound);
        }
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|_| ApiError::RouteNotFound)
    }
}

/// The query string as name/value pairs (decoded), for hand validation.
pub(crate) struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Refuses names other than `known`, so a misspelt filter is not ignored.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            Some((k, _)) => Err(ApiError::invalid_field(
                k.clone(),
                format!("unknown query parameter '{k}'"),
            )),
            None => Ok(()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs: Vec<(String, String)> = parts
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        if let Some((k, _)) = pairs
            .iter()
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            let name = k.replace('\0', "\\u0000");
            return Err(ApiError::invalid_field(
                name.clone(),
                format!("{name}: must not contain the NUL character (U+0000)"),
            ));
        }
        Ok(QueryPairs(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert!(is_json_content_type(ok), "{ok}");
        }
        for bad in [
            "",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "text/json",
        ] {
            assert!(!is_json_content_type(bad), "{bad}");
        }
    }

    #[test]
    fn bodies_that_are_not_json_are_400() {
        let parse = |bytes: &[u8]| parse_body::<serde_json::Value>(bytes);
        for bad in [
            &b""[..],
            b"{",
            b"nul",
            b"{\"a\":}",
            b"\xff\xfe",
            b"\"\\ud800\"",
            b"{} x",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_json");
        }
        let deep = "[".repeat(100_000);
        assert_eq!(parse(deep.as_bytes()).unwrap_err().code(), "invalid_json");
    }
}
