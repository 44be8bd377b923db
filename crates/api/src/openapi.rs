//! The OpenAPI 3.1 document, generated from the handlers' annotations. Error
//! answers and the bearer requirement are the same on every `/api/v1`
//! operation, so a modifier adds them instead of repeating them per handler.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use evalguard_domain::Job;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::routes::{
    health, jobs, keys, otel, projects, scorers, traffic, traffic_deletion, webhooks,
};

/// Every error answer: `{"error": {"code", "message", "param"?}}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// A stable snake_case code, e.g. `invalid_request`, `unknown_project`.
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
    /// The request field at fault, e.g. `samples[17].model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "EvalGuard API", description = "Auto-eval of LLM applications' production traffic: drift, regression and hallucination flags."),
    paths(
        projects::create_project, projects::list_projects, projects::get_project, projects::patch_project,
        scorers::put_rubric, scorers::list_rubrics, scorers::delete_rubric,
        traffic::ingest, traffic_deletion::delete_traffic, otel::export_traces,
        jobs::create_job, jobs::list_jobs, jobs::get_job, jobs::cancel_job, jobs::list_results,
        keys::create_key, keys::list_keys, keys::revoke_key,
        webhooks::create_webhook, webhooks::list_webhooks, webhooks::delete_webhook, webhooks::list_deliveries,
        health::healthz, health::readyz, health::metrics_doc, serve,
    ),
    components(schemas(ErrorBody, ErrorDetail, Job)),
    modifiers(&CommonAnswers),
)]
pub(crate) struct ApiDoc;

struct CommonAnswers;

const ERROR_ANSWERS: [(&str, &str); 7] = [
    (
        "400",
        "Malformed JSON, wrong types, missing fields, values out of range, or an unknown project in the body",
    ),
    (
        "401",
        "No key, a malformed, unknown or revoked key (with `WWW-Authenticate: Bearer`)",
    ),
    (
        "403",
        "The key's role is too low, or the resource is outside its project scope",
    ),
    (
        "404",
        "An id in the path that does not exist in the key's organization",
    ),
    ("413", "The body is larger than the limit"),
    ("415", "The body is not application/json"),
    ("429", "Rate limit hit (with `Retry-After`)"),
];

impl Modify for CommonAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("eg_<key id>_<secret>")
                    .build(),
            ),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") || path == OPENAPI_PATH {
                continue;
            }
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                operation.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
                for (status, description) in ERROR_ANSWERS {
                    let answer = ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorBody")))
                                .build(),
                        )
                        .build();
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert(answer.into());
                }
            }
        }
    }
}

pub(crate) const OPENAPI_PATH: &str = "/api/v1/openapi.json";

static DOCUMENT: OnceLock<String> = OnceLock::new();

/// The document as JSON text, built once per process.
pub(crate) fn document() -> &'static str {
    DOCUMENT.get_or_init(|| {
        ApiDoc::openapi().to_json().unwrap_or_else(|e| {
            format!("{{\"error\":{{\"code\":\"internal_error\",\"message\":\"{e}\"}}}}")
        })
    })
}

/// This OpenAPI document
///
/// The OpenAPI 3.1 description of every endpoint, generated from the types
/// the handlers use. No key needed.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "This document", content_type = "application/json")))]
pub(crate) async fn serve() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_is_openapi_31_with_the_seed_request_schema() {
        let doc: serde_json::Value = serde_json::from_str(document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let schemas = &doc["components"]["schemas"];
        let req = &schemas["AutoEvalBody"];
        assert!(
            req["required"]
                .as_array()
                .unwrap()
                .contains(&"target".into())
        );
        let sc = &req["properties"]["sample_count"];
        assert_eq!(sc["default"], 100);
        assert_eq!(sc["minimum"], 1);
        assert_eq!(sc["maximum"], 10000);
        let target = &schemas["TargetInput"];
        for f in ["model", "prompt_id", "project_id"] {
            assert!(
                target["required"].as_array().unwrap().contains(&f.into()),
                "{f}"
            );
        }
        let op = &doc["paths"]["/api/v1/auto-eval"]["post"];
        for status in ["202", "400", "401", "403", "404", "413", "415", "429"] {
            assert!(op["responses"][status].is_object(), "{status}");
        }
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }

    #[test]
    fn every_operation_has_a_summary_and_a_description() {
        let doc: serde_json::Value = serde_json::from_str(document()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let mut operations = 0;
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                operations += 1;
                for field in ["summary", "description"] {
                    assert!(
                        op[field].as_str().is_some_and(|s| !s.trim().is_empty()),
                        "{method} {path} has no {field}"
                    );
                }
            }
        }
        assert!(operations >= 20, "{operations}");
    }
}
