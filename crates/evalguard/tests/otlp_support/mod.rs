//! What the OTLP ingest tests share: a mock judge that checks the context it
//! is shown, an EvalGuard using it, OTLP/JSON builders, and reading back.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::routing::post;
use evalguard_domain::job::Target;
use evalguard_domain::{OrgId, ProjectId};
use evalguard_judge::{JudgeConfig, ProviderConfig};
use evalguard_storage::StoredSample;
use serde_json::{Value, json};

use crate::support::{Db, TestApp};

pub const TRACES_PATH: &str = "/api/v1/otel/v1/traces";
/// The passage every test trace retrieves; the judge looks for it.
pub const DOCUMENT: &str = "The office is open 9:00-17:00, Monday to Friday.";

/// An OpenAI-compatible judge that finds every claim supported and counts
/// the calls whose prompt showed it [`DOCUMENT`].
pub struct MockJudge {
    pub base: String,
    pub calls: Arc<AtomicU64>,
    pub calls_with_document: Arc<AtomicU64>,
}

impl MockJudge {
    pub async fn start() -> Self {
        let calls = Arc::new(AtomicU64::new(0));
        let with_document = Arc::new(AtomicU64::new(0));
        let (c, w) = (calls.clone(), with_document.clone());
        let app = axum::Router::new().route(
            "/v1/chat/completions",
            post(move |Json(body): Json<Value>| {
                let (c, w) = (c.clone(), w.clone());
                async move {
                    c.fetch_add(1, Ordering::SeqCst);
                    if body.to_string().contains(DOCUMENT) {
                        w.fetch_add(1, Ordering::SeqCst);
                    }
                    let verdict = json!({"claims": [{"claim": "open 9 to 5 on weekdays",
                        "verdict": "supported"}], "reasoning": "the documents say so"});
                    Json(json!({
                        "id": "chatcmpl-1", "object": "chat.completion", "model": "judge",
                        "choices": [{"index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": verdict.to_string()}}],
                        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
                    }))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base: format!("http://{addr}/v1"),
            calls,
            calls_with_document: with_document,
        }
    }
}

/// EvalGuard judging with `judge`, on `db`; `None` when PostgreSQL is not configured.
pub async fn spawn_with_judge(db: Db, judge: &MockJudge) -> Option<TestApp> {
    let base = judge.base.clone();
    let tweak = move |config: &mut evalguard::Config| {
        config.judge = JudgeConfig {
            providers: vec![ProviderConfig::openai(
                "mock",
                &base,
                "judge-1",
                Some("test-judge-key".into()),
            )],
            scorers: Default::default(),
        };
    };
    match db {
        Db::Sqlite => Some(TestApp::spawn_sqlite_with(tweak).await),
        Db::Postgres => TestApp::spawn_postgres_with(tweak).await,
    }
}

/// EvalGuard with a traffic (and OTLP) body limit of `bytes`.
pub async fn spawn_with_body_limit(db: Db, bytes: usize) -> Option<TestApp> {
    let tweak = move |config: &mut evalguard::Config| config.traffic_body_bytes = bytes;
    match db {
        Db::Sqlite => Some(TestApp::spawn_sqlite_with(tweak).await),
        Db::Postgres => TestApp::spawn_postgres_with(tweak).await,
    }
}

pub fn string(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

pub fn int(key: &str, value: i64) -> Value {
    // As the OTLP/JSON encoders write 64-bit integers: a string.
    json!({"key": key, "value": {"intValue": value.to_string()}})
}

/// An OTLP/JSON span starting `start_secs` after 2026-12-01T00:00:00Z, lasting 640 ms.
pub fn json_span(
    trace: &str,
    span: &str,
    name: &str,
    start_secs: u64,
    attributes: Vec<Value>,
) -> Value {
    let start = (1_796_083_200 + start_secs) * 1_000_000_000;
    json!({
        "traceId": trace, "spanId": span, "name": name, "kind": 3,
        "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + 640_000_000).to_string(),
        "attributes": attributes, "status": {}
    })
}

/// An OpenLLMetry-shaped chat span.
pub fn llm_span(trace: &str, span: &str, start_secs: u64) -> Value {
    json_span(
        trace,
        span,
        "openai.chat",
        start_secs,
        vec![
            string("llm.request.type", "chat"),
            string("gen_ai.system", "openai"),
            string("gen_ai.request.model", "gpt-4o-mini"),
            string("gen_ai.prompt.0.role", "user"),
            string("gen_ai.prompt.0.content", "When is the office open?"),
            string("gen_ai.completion.0.role", "assistant"),
            string("gen_ai.completion.0.content", "From 9 to 5 on weekdays."),
            int("gen_ai.usage.prompt_tokens", 31),
            int("gen_ai.usage.completion_tokens", 8),
        ],
    )
}

/// An OpenInference retriever span returning [`DOCUMENT`] and one more.
pub fn retriever_span(trace: &str, span: &str, start_secs: u64) -> Value {
    json_span(
        trace,
        span,
        "retrieve",
        start_secs,
        vec![
            string("openinference.span.kind", "RETRIEVER"),
            string("retrieval.documents.0.document.id", "d1"),
            string("retrieval.documents.0.document.content", DOCUMENT),
            string(
                "retrieval.documents.1.document.content",
                "Closed on public holidays.",
            ),
        ],
    )
}

/// An `ExportTraceServiceRequest` of one resource naming the project.
pub fn export(project: &str, spans: Vec<Value>) -> Value {
    json!({"resourceSpans": [{
        "resource": {"attributes": [string("service.name", "support-bot"), string("evalguard.project_id", project)]},
        "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai", "version": "0.40.0"}, "spans": spans}]
    }]})
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// POSTs a raw body to the traces endpoint.
pub async fn post_traces(
    app: &TestApp,
    key: Option<&str>,
    content_type: &str,
    content_encoding: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}{TRACES_PATH}", app.base))
        .header("content-type", content_type)
        .body(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(encoding) = content_encoding {
        request = request.header("content-encoding", encoding);
    }
    request.send().await.unwrap()
}

pub async fn org(app: &TestApp, name: &str) -> OrgId {
    app.storage.access.ensure_org(name).await.unwrap()
}

/// The stored samples of a target, newest first.
pub async fn stored(
    app: &TestApp,
    org: OrgId,
    project: &str,
    model: &str,
    prompt: &str,
) -> Vec<StoredSample> {
    let target = Target {
        project_id: ProjectId::parse(project).unwrap(),
        model: model.to_owned(),
        prompt_id: prompt.to_owned(),
    };
    app.storage
        .traffic
        .recent_samples(org, &target, 10_000, None)
        .await
        .unwrap()
}

/// Triggers a hallucination-only job on a target and waits for it.
pub async fn judge_hallucinations(
    app: &TestApp,
    key: &str,
    project: &str,
    model: &str,
    prompt: &str,
    n: usize,
) -> Value {
    let job_id = app
        .trigger(
            key,
            json!({
                "target": {"project_id": project, "model": model, "prompt_id": prompt},
                "sample_count": n, "scorers": ["hallucination"], "cache": false
            }),
        )
        .await;
    app.wait_for_job(key, &job_id, 60).await
}
