//! The OpenAPI 3.1 document, generated from the handlers' annotations. Error
//! answers and the bearer requirement are the same on every `/api/v1`
//! operation, so a modifier adds them instead of repeating them per handler.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use evalguard_domain::job::{BaselineSpec, Target, Thresholds};
use evalguard_domain::{Job, Role};
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

// Request bodies are validated by hand (see `extract`); these types only
// describe them in the document.
#[allow(dead_code)]
mod bodies {
    use super::*;

    /// `POST /api/v1/auto-eval`.
    #[derive(ToSchema)]
    pub(crate) struct AutoEvalRequestBody {
        pub target: Target,
        /// How many of the target's most recent samples to evaluate.
        #[schema(default = 100, minimum = 1, maximum = 10000)]
        pub sample_count: Option<u32>,
        /// Scorer names; default: the project's scorer set.
        pub scorers: Option<Vec<String>>,
        pub baseline: Option<BaselineSpec>,
        /// Stop judging when this much has been spent (the job is then partial).
        pub max_cost_usd: Option<f64>,
        /// Reuse cached judge verdicts (default true).
        #[schema(default = true)]
        pub cache: Option<bool>,
        /// Judge each sample this many times (majority verdict).
        #[schema(default = 1, minimum = 1, maximum = 5)]
        pub repeats: Option<u32>,
        pub thresholds: Option<Thresholds>,
    }

    /// Retrieved passages: one string or a list.
    #[derive(Serialize, ToSchema)]
    #[serde(untagged)]
    pub(crate) enum ContextBody {
        One(String),
        Many(Vec<String>),
    }

    /// One traffic sample.
    #[derive(ToSchema)]
    pub(crate) struct TrafficSampleBody {
        /// The client's id, unique per project; a repeated id is stored once.
        pub id: Option<String>,
        pub project_id: String,
        pub model: String,
        pub prompt_id: String,
        pub input: String,
        pub output: String,
        pub context: Option<ContextBody>,
        pub reference: Option<String>,
        /// RFC 3339; default: the time of receipt.
        pub timestamp: Option<String>,
        pub metadata: Option<Object>,
        pub latency_ms: Option<f64>,
        pub prompt_tokens: Option<u64>,
        pub completion_tokens: Option<u64>,
    }

    /// `POST /api/v1/traffic`.
    #[derive(ToSchema)]
    pub(crate) struct TrafficBody {
        #[schema(min_items = 1, max_items = 10000)]
        pub samples: Vec<TrafficSampleBody>,
    }

    #[derive(ToSchema)]
    pub(crate) struct ProjectCreateBody {
        /// 1–64 of `[A-Za-z0-9._-]`, unique in the organization.
        pub id: String,
        /// Default: the id.
        pub name: Option<String>,
    }

    #[derive(ToSchema)]
    pub(crate) struct ProjectSettingsPatch {
        /// Scorer names run when a request names none; null restores the default set.
        pub scorers: Option<Vec<String>>,
        pub thresholds: Option<Thresholds>,
    }

    #[derive(ToSchema)]
    pub(crate) struct ProjectPatchBody {
        pub settings: ProjectSettingsPatch,
    }

    #[derive(ToSchema)]
    pub(crate) struct RubricBody {
        /// Lower-case name, not one of the built-in scorers.
        pub name: String,
        pub criteria: String,
        pub score_min: f64,
        pub score_max: f64,
        pub pass_threshold: f64,
    }

    #[derive(ToSchema)]
    pub(crate) struct KeyCreateBody {
        /// At most the creating key's role.
        pub role: Role,
        /// Restrict the key to this project.
        pub project_id: Option<String>,
        pub name: Option<String>,
    }

    #[derive(ToSchema)]
    pub(crate) struct WebhookCreateBody {
        /// http or https; private, loopback and link-local targets are refused.
        pub url: String,
        /// Subset of `auto_eval.completed`, `auto_eval.flagged` (default both).
        pub events: Option<Vec<String>>,
    }

    /// Either `sample_ids`, or a time range (`from` and/or `to`).
    #[derive(ToSchema)]
    pub(crate) struct TrafficDeleteBody {
        /// Client sample ids (1 to 10,000); ids not found are ignored.
        pub sample_ids: Option<Vec<String>>,
        /// RFC 3339; samples whose timestamp is at or after it.
        pub from: Option<String>,
        /// RFC 3339; samples whose timestamp is before it.
        pub to: Option<String>,
    }

    /// Stands for any JSON object.
    #[derive(ToSchema)]
    pub(crate) struct Object {}
}

pub(crate) use bodies::*;

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
        let req = &schemas["AutoEvalRequestBody"];
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
        let target = &schemas["Target"];
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
}
