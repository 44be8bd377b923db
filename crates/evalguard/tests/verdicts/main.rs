//! Verdicts a team can trust at deploy time, over HTTP and through the CI
//! gate, on SQLite and PostgreSQL: no silent pass when the judge could not
//! look, one flag per change, the sample and the reasoning behind each verdict.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod missing_verdicts;
mod one_flag_per_change;
mod sample_behind_the_verdict;
#[path = "../support/mod.rs"]
mod support;

use std::process::{Command, Output};

use axum::Json;
use axum::routing::post;
use evalguard::Config;
use evalguard_judge::{JudgeConfig, ProviderConfig};
use serde_json::{Value, json};
pub use support::{Db, TestApp};

pub const BIN: &str = env!("CARGO_BIN_EXE_evalguard");
/// Answers containing this word are judged hallucinated by the test judge.
pub const MARKER: &str = "Globex";
/// A supported answer to every sample's question.
pub const GOOD_ANSWER: &str = "EvalGuard answers questions about deployments.";

/// An OpenAI-compatible judge: a claim is contradicted when the judge prompt
/// contains [`MARKER`], supported otherwise.
pub async fn start_judge() -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(|Json(body): Json<Value>| async move {
            let prompt = body["messages"].to_string();
            let verdict = if prompt.contains(MARKER) {
                json!({"claims": [{"claim": "Globex is a partner", "verdict": "contradicted"}],
                       "reasoning": "the context names no partner called Globex"})
            } else {
                json!({"claims": [{"claim": "the answer", "verdict": "supported"}],
                       "reasoning": "supported by the context"})
            };
            Json(support::chat_completion(&verdict.to_string()))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

/// A port nothing listens on.
pub fn unreachable_judge() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/v1")
}

pub fn with_judge(config: &mut Config, base_url: &str) {
    config.judge = JudgeConfig {
        providers: vec![ProviderConfig {
            max_attempts: Some(1),
            ..ProviderConfig::openai("mock", base_url, "judge-1", Some("test-key".into()))
        }],
        ..JudgeConfig::default()
    };
}

pub async fn spawn(db: Db, judge: Option<String>) -> Option<TestApp> {
    let tweak = move |c: &mut Config| {
        if let Some(url) = &judge {
            with_judge(c, url);
        }
    };
    match db {
        Db::Sqlite => Some(TestApp::spawn_sqlite_with(tweak).await),
        Db::Postgres => TestApp::spawn_postgres_with(tweak).await,
    }
}

pub fn sample(model: &str, day: u32, i: usize, input: &str, output: &str, context: &str) -> Value {
    json!({
        "id": format!("{model}-{i}"), "project_id": "bot", "model": model, "prompt_id": "answer-v1",
        "input": input, "output": output, "context": [context],
        "timestamp": format!("2026-11-{day:02}T10:{:02}:{:02}Z", i / 60, i % 60),
        "latency_ms": 800, "prompt_tokens": 100, "completion_tokens": 20,
    })
}

/// 100 samples of the previous deployment (`old`, a day earlier) and 100 of
/// `new`; `output(model, i)` writes each answer.
pub async fn deployments(app: &TestApp, key: &str, output: impl Fn(&str, usize) -> String) {
    let context = "EvalGuard answers questions about deployments and flags regressions.";
    let mut samples = Vec::new();
    for (model, day) in [("old", 1), ("new", 2)] {
        for i in 0..100 {
            let input = "What does EvalGuard answer questions about?";
            samples.push(sample(model, day, i, input, &output(model, i), context));
        }
    }
    let r = app
        .post(key, "/api/v1/traffic", json!({"samples": samples}))
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
}

pub fn gate(app: &TestApp, key: &str, extra: &[&str]) -> Output {
    gate_for("new", app, key, extra)
}

/// `evalguard eval` for the model's target, the server's URL in `EVALGUARD_BASE_URL`.
/// Blocks the calling worker thread (tests run on the multi-threaded runtime).
pub fn gate_for(model: &str, app: &TestApp, key: &str, extra: &[&str]) -> Output {
    tokio::task::block_in_place(|| run_gate(model, app, key, extra))
}

fn run_gate(model: &str, app: &TestApp, key: &str, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args([
            "eval",
            "--project",
            "bot",
            "--model",
            model,
            "--prompt-id",
            "answer-v1",
        ])
        .args(extra)
        .env("EVALGUARD_BASE_URL", &app.base)
        .env_remove("EVALGUARD_URL")
        .env("EVALGUARD_API_KEY", key)
        .output()
        .unwrap()
}

pub fn text(out: &Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub async fn job_of(app: &TestApp, key: &str, request: Value) -> Value {
    let id = app.trigger(key, request).await;
    app.wait_for_job(key, &id, 120).await
}

pub fn target() -> Value {
    json!({"model": "new", "prompt_id": "answer-v1", "project_id": "bot"})
}

macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Db::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Db::Postgres).await;
                }
            )*
        }
    };
}

use missing_verdicts::{
    a_judge_the_gate_needs_but_the_server_lacks_is_exit_2, an_unreachable_judge_is_never_a_pass,
};
use one_flag_per_change::{
    hallucinations_rising_fail_a_regression_gate, refusals_rising_raise_one_flag_in_plain_words,
};
use sample_behind_the_verdict::results_carry_the_sample_and_a_paraphrase_is_not_flagged;

on_both_databases!(
    an_unreachable_judge_is_never_a_pass,
    a_judge_the_gate_needs_but_the_server_lacks_is_exit_2,
    hallucinations_rising_fail_a_regression_gate,
    refusals_rising_raise_one_flag_in_plain_words,
    results_carry_the_sample_and_a_paraphrase_is_not_flagged,
);
