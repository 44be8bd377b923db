//! Drift of the inputs' meaning with a configured `/v1/embeddings` provider:
//! a real HTTP server speaking the OpenAI embeddings protocol, started here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use evalguard_judge::EmbeddingConfig;
use serde_json::{Value, json};
use support::{TestApp, sample};

/// An embeddings server: a "topic" vector per input (billing or travel, with
/// a little spread by length), or 500 on every call when `broken`.
#[derive(Clone)]
struct MockEmbeddings {
    calls: Arc<AtomicUsize>,
    texts: Arc<AtomicUsize>,
    broken: bool,
}

async fn embeddings(
    State(mock): State<MockEmbeddings>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    mock.calls.fetch_add(1, Ordering::SeqCst);
    if mock.broken {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": {"message": "overloaded"}})),
        );
    }
    assert_eq!(body["model"], "test-embed");
    let inputs = body["input"].as_array().unwrap();
    mock.texts.fetch_add(inputs.len(), Ordering::SeqCst);
    // Listed in reverse: the client must order vectors by `index`.
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .rev()
        .map(|(index, text)| {
            let text = text.as_str().unwrap();
            let spread = (text.len() % 7) as f64 / 20.0;
            let v = if text.contains("invoice") {
                vec![1.0, spread, 0.0]
            } else {
                vec![0.0, spread, 1.0]
            };
            json!({"object": "embedding", "index": index, "embedding": v})
        })
        .collect();
    (
        StatusCode::OK,
        Json(json!({"object": "list", "data": data, "model": "test-embed"})),
    )
}

async fn start_mock(broken: bool) -> (String, MockEmbeddings) {
    let mock = MockEmbeddings {
        calls: Arc::default(),
        texts: Arc::default(),
        broken,
    };
    let app = axum::Router::new()
        .route("/v1/embeddings", post(embeddings))
        .with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/v1"), mock)
}

/// Baseline questions about invoices, current ones about travel; returns the
/// finished job.
async fn run_job(app: &TestApp) -> Value {
    let key = app.project("acme", "bot").await;
    let mut samples = Vec::new();
    for (model, day, topic) in [("old-model", 1, "invoice"), ("new-model", 2, "trip")] {
        for i in 0..60 {
            let mut s = sample("bot", model, "p1", &format!("{model}-{i}"), "Done.");
            s["input"] = json!(format!("A question about my {topic} number {i}"));
            s["timestamp"] = json!(format!("2026-11-{day:02}T10:00:{:02}Z", i));
            samples.push(s);
        }
    }
    let r = app
        .post(&key, "/api/v1/traffic", json!({"samples": samples}))
        .await;
    assert_eq!(r.status(), 202);
    let job_id = app
        .trigger(&key, json!({"target": {"model": "new-model", "prompt_id": "p1", "project_id": "bot"}, "sample_count": 60, "scorers": ["output_length"]}))
        .await;
    let job = app.wait_for_job(&key, &job_id, 60).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    job
}

fn embedding_flag(job: &Value) -> Value {
    job["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["metric"] == "input_embedding")
        .cloned()
        .unwrap_or_else(|| panic!("no input_embedding flag: {job}"))
}

async fn app_with_embeddings(base_url: &str) -> TestApp {
    TestApp::spawn_sqlite_with(|config| {
        config.embeddings = Some(EmbeddingConfig::new(base_url, "test-embed"));
    })
    .await
}

#[tokio::test]
async fn a_configured_embeddings_provider_embeds_the_inputs() {
    let (base_url, mock) = start_mock(false).await;
    let app = app_with_embeddings(&base_url).await;
    let job = run_job(&app).await;
    let flag = embedding_flag(&job);
    assert_eq!(flag["kind"], "drift");
    assert_eq!(
        flag["evidence"]["embedding"], "openai-compatible:test-embed",
        "{flag}"
    );
    assert!(flag["evidence"].get("embedding_fallback_reason").is_none());
    assert!(
        flag["message"].as_str().unwrap().contains("test-embed"),
        "{flag}"
    );
    // Both sides' 60 inputs, in one batch.
    assert_eq!(mock.texts.load(Ordering::SeqCst), 120);
    assert_eq!(mock.calls.load(Ordering::SeqCst), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_failing_embeddings_provider_falls_back_to_the_builtin_embedding() {
    let (base_url, mock) = start_mock(true).await;
    let app = app_with_embeddings(&base_url).await;
    let job = run_job(&app).await;
    let flag = embedding_flag(&job);
    assert_eq!(
        flag["evidence"]["embedding"],
        "builtin:hashed-char-3gram-256"
    );
    let reason = flag["evidence"]["embedding_fallback_reason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("500"), "{reason}");
    // 500 is retried, a bounded number of times.
    assert_eq!(mock.calls.load(Ordering::SeqCst), 4);
    app.stop().await;
}
