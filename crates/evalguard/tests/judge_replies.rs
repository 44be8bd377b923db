//! Judge replies that a database cannot store as they are: a real local
//! provider (OpenAI chat completions protocol) answers with NUL characters,
//! inside a verdict and in a reply that is not a verdict at all. The job must
//! succeed on both databases, every result must be kept, and both databases
//! must show the same, storable text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::Json;
use axum::routing::post;
use evalguard_judge::{JudgeConfig, ProviderConfig};
use serde_json::{Value, json};
use support::{Db, TestApp, sample};

const BROKEN: &str = "broken reply please";

/// Answers a verdict whose claim and reasoning hold NUL characters, or, when
/// the sample's output asks for it, a reply made of NULs and garbage.
async fn start_nul_judge() -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(|Json(body): Json<Value>| async move {
            let content = if body.to_string().contains(BROKEN) {
                "\u{0}not a verdict\u{0}".to_owned()
            } else {
                json!({"claims": [{"claim": "office\u{0}hours", "verdict": "supported"}],
                       "reasoning": "supported\u{0} by the context"})
                .to_string()
            };
            Json(json!({
                "id": "chatcmpl-1", "object": "chat.completion", "model": "judge",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
            }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push(k.clone());
            strings(v, out);
        }),
        _ => {}
    }
}

async fn nul_replies_are_stored_and_the_job_succeeds(db: Db) {
    let judge = start_nul_judge().await;
    let tweak = move |c: &mut evalguard::Config| {
        c.rate_limit_per_minute = 0;
        c.judge = JudgeConfig {
            providers: vec![ProviderConfig::openai(
                "judge",
                &judge,
                "judge-1",
                Some("test-key".into()),
            )],
            scorers: Default::default(),
        };
    };
    let app = match db {
        Db::Sqlite => TestApp::spawn_sqlite_with(tweak).await,
        Db::Postgres => match TestApp::spawn_postgres_with(tweak).await {
            Some(app) => app,
            None => return,
        },
    };
    let key = app.project("acme", "bot").await;
    let samples: Vec<Value> = (0..12)
        .map(|i| {
            let output = if i % 3 == 0 {
                BROKEN.to_owned()
            } else {
                format!("We are open 9 to 5 ({i}).")
            };
            sample("bot", "m", "p", &format!("s{i}"), &output)
        })
        .collect();
    let r = app
        .post(&key, "/api/v1/traffic", json!({"samples": samples}))
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let job_id = app
        .trigger(
            &key,
            json!({"target": {"model": "m", "prompt_id": "p", "project_id": "bot"},
                   "scorers": ["hallucination"], "sample_count": 12}),
        )
        .await;
    let job = app.wait_for_job(&key, &job_id, 60).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let outcomes = &job["summary"]["hallucination"]["outcomes"];
    assert_eq!(outcomes["scored"], 8, "{job}");
    assert_eq!(outcomes["unparsable"], 4, "{job}");
    assert_eq!(outcomes["error"], 0, "{job}");

    let results: Value = app
        .get(&key, &format!("/api/v1/auto-eval/{job_id}/results"))
        .await
        .json()
        .await
        .unwrap();
    let data = results["data"].as_array().unwrap();
    assert_eq!(data.len(), 12, "{results}");
    for result in data {
        let score = &result["scores"]["hallucination"];
        let mut texts = Vec::new();
        strings(score, &mut texts);
        assert!(
            texts.iter().all(|t| !t.contains('\0')),
            "a NUL reached the API: {score}"
        );
        match score["outcome"].as_str() {
            Some("scored") => assert!(
                texts.iter().any(|t| t.contains("supported\\u0000 by")),
                "the reasoning is kept, escaped: {score}"
            ),
            Some("unparsable") => assert_eq!(
                score["raw"], "\\u0000not a verdict\\u0000",
                "the raw reply is kept, escaped: {score}"
            ),
            other => panic!("unexpected outcome {other:?}: {score}"),
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_replies_on_sqlite() {
    nul_replies_are_stored_and_the_job_succeeds(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_replies_on_postgres() {
    nul_replies_are_stored_and_the_job_succeeds(Db::Postgres).await;
}
