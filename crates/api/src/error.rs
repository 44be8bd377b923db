//! The one error type of the API and its one mapping to an HTTP answer, so
//! that every failure is the contract's JSON error object with the right status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use evalguard_domain::input::RequestFieldError;
use evalguard_storage::StorageError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or a value is out of range.
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        param: Option<String>,
    },
    /// 401 with `WWW-Authenticate: Bearer`: no key, a malformed, unknown or revoked key.
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// 403: the key's role is too low, or the resource is outside its project scope.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: an id in the path that does not exist in the key's organization.
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// 404: no route has this path.
    #[error("no route for this path")]
    RouteNotFound,
    /// 405: the path exists, but not with this method.
    #[error("method not allowed on this path")]
    MethodNotAllowed,
    /// 409: the resource exists already (e.g. a project id).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 422: a well-formed request that cannot be carried out (e.g. an
    /// idempotency key reused with another body).
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// 408: the request took longer than the server's request timeout.
    #[error("the request took longer than {limit_secs} s")]
    RequestTimeout { limit_secs: u64 },
    /// 413: the body is larger than the route's limit.
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415: the body is not `application/json`.
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// 415 on endpoints that take other formats than JSON (OTLP): says which.
    #[error("{message}")]
    UnsupportedFormat { message: String },
    /// 429 with `Retry-After`: the key's rate limit is used up.
    #[error("rate limit exceeded; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// 500: a storage failure; logged, never shown to the client.
    #[error("storage failure")]
    Storage(StorageError),
    /// 500: an unexpected failure (e.g. a panic caught); logged, never shown.
    #[error("internal error")]
    Internal(String),
    /// 503: the database cannot be reached (readiness).
    #[error("the service is not ready")]
    NotReady,
}

impl ApiError {
    pub fn bad_request(
        code: &'static str,
        message: impl Into<String>,
        param: Option<&str>,
    ) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }

    /// A 400 `invalid_request` naming the field that is wrong.
    pub fn invalid_field(param: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code: "invalid_request",
            message: message.into(),
            param: Some(param.into()),
        }
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Forbidden {
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Unauthorized {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } | ApiError::RouteNotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType | ApiError::UnsupportedFormat { .. } => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Storage(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Unprocessable { code, .. } => code,
            ApiError::NotFound { .. } => "not_found",
            ApiError::RouteNotFound => "route_not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::RequestTimeout { .. } => "request_timeout",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType | ApiError::UnsupportedFormat { .. } => {
                "unsupported_media_type"
            }
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Storage(_) | ApiError::Internal(_) => "internal_error",
            ApiError::NotReady => "not_ready",
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::IdempotencyKeyReused => ApiError::Unprocessable {
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was already used with a different request body; \
                          use a new key for a new request"
                    .to_owned(),
            },
            other => ApiError::Storage(other),
        }
    }
}

impl From<RequestFieldError> for ApiError {
    fn from(e: RequestFieldError) -> Self {
        ApiError::BadRequest {
            code: "invalid_request",
            message: format!("{}: {}", e.param, e.message),
            param: Some(e.param),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Storage(e) => {
                tracing::error!(error = %e, "storage failure while answering a request");
                "an internal error occurred; it has been logged".to_owned()
            }
            ApiError::Internal(detail) => {
                tracing::error!(detail = %detail, "internal error while answering a request");
                "an internal error occurred; it has been logged".to_owned()
            }
            other => other.to_string(),
        };
        let mut error = json!({"code": self.code(), "message": message});
        if let ApiError::BadRequest { param: Some(p), .. } = &self {
            error["param"] = json!(p);
        }
        let mut response = (status, axum::Json(json!({ "error": error }))).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized { .. } => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::RateLimited { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn body_of(e: ApiError) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
        let r = e.into_response();
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = to_bytes(r.into_body(), 1 << 20).await.unwrap();
        (status, headers, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn errors_are_json_with_code_and_message() {
        let (s, _, b) = body_of(ApiError::invalid_field(
            "sample_count",
            "must be between 1 and 10000",
        ))
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(b["error"]["code"], "invalid_request");
        assert_eq!(b["error"]["param"], "sample_count");
        assert!(b["error"]["message"].as_str().unwrap().contains("between"));
    }

    #[tokio::test]
    async fn unauthorized_carries_www_authenticate() {
        let (s, h, b) = body_of(ApiError::unauthorized("missing_api_key", "no key")).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(h[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(b["error"]["code"], "missing_api_key");
    }

    #[tokio::test]
    async fn rate_limited_carries_retry_after() {
        let (s, h, _) = body_of(ApiError::RateLimited {
            retry_after_secs: 3,
        })
        .await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(h[header::RETRY_AFTER], "3");
    }

    #[tokio::test]
    async fn internal_errors_never_leak_details() {
        let (s, _, b) = body_of(ApiError::Internal("secret table name t_keys".into())).await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!b.to_string().contains("t_keys"));
        let (s, _, b) = body_of(ApiError::Storage(StorageError::Corrupt(
            "row 7 of api_keys".into(),
        )))
        .await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!b.to_string().contains("api_keys"));
    }

    #[tokio::test]
    async fn every_variant_has_its_status() {
        let cases = [
            (ApiError::NotFound { what: "job" }, 404, "not_found"),
            (ApiError::RouteNotFound, 404, "route_not_found"),
            (ApiError::MethodNotAllowed, 405, "method_not_allowed"),
            (
                ApiError::PayloadTooLarge { limit: 10 },
                413,
                "payload_too_large",
            ),
            (
                ApiError::UnsupportedMediaType,
                415,
                "unsupported_media_type",
            ),
            (
                ApiError::forbidden("insufficient_role", "x"),
                403,
                "insufficient_role",
            ),
            (ApiError::NotReady, 503, "not_ready"),
        ];
        for (e, status, code) in cases {
            let (s, _, b) = body_of(e).await;
            assert_eq!(s.as_u16(), status);
            assert_eq!(b["error"]["code"], code);
        }
    }
}
