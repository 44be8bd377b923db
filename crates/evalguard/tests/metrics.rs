//! `/metrics` as Prometheus scrapes it after real work: a job judged by a
//! provider that answers one 429, traffic ingested, a webhook delivered.
//! One test in this binary: the recorder is process-wide, so counts are
//! compared before and after, with nothing else running.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use evalguard_judge::{JudgeConfig, ProviderConfig};
use serde_json::{Value, json};
use support::{Db, TestApp, sample};

/// An OpenAI-compatible judge: its first request is answered 429, the
/// others find the answer supported (100 prompt + 20 completion tokens).
async fn start_judge() -> String {
    let calls = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move |Json(_body): Json<Value>| {
            let calls = calls.clone();
            async move {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    return (StatusCode::TOO_MANY_REQUESTS, [("retry-after-ms", "10")], "slow down")
                        .into_response();
                }
                let verdict = json!({"claims": [{"claim": "the answer", "verdict": "supported"}], "reasoning": "supported"});
                Json(json!({
                    "id": "chatcmpl-1", "object": "chat.completion", "model": "judge",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": verdict.to_string()}}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
                }))
                .into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

/// A webhook receiver that accepts everything.
async fn start_receiver() -> String {
    let app = axum::Router::new().route("/hook", post(|| async { StatusCode::NO_CONTENT }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

/// The exposition: `# HELP`/`# TYPE` per family, and each series' value.
struct Scrape {
    text: String,
    series: BTreeMap<String, f64>,
}

impl Scrape {
    async fn take(app: &TestApp) -> Self {
        let r = app
            .client
            .get(format!("{}/metrics", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        let series = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let (name, value) = l.rsplit_once(' ')?;
                Some((name.to_owned(), value.parse().ok()?))
            })
            .collect();
        Self { text, series }
    }

    /// The value of the one series whose name and labels start as given.
    fn value(&self, series: &str) -> f64 {
        self.series.get(series).copied().unwrap_or(0.0)
    }

    fn type_of(&self, family: &str) -> Option<&str> {
        self.text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("# TYPE {family} ")))
    }
}

async fn scrape_after_work(db: Db) {
    let judge = start_judge().await;
    let tweak = |config: &mut evalguard::Config| {
        let mut provider = ProviderConfig::openai("mockjudge", &judge, "judge-1", None);
        provider.input_price_per_million = Some(1.0);
        provider.output_price_per_million = Some(2.0);
        config.judge = JudgeConfig {
            providers: vec![provider],
            ..JudgeConfig::default()
        };
    };
    let Some(app) = TestApp::spawn_with(db, tweak).await else {
        return;
    };
    let before = Scrape::take(&app).await;
    let key = app.project("acme", "bot").await;
    let receiver = start_receiver().await;
    let r = app
        .post(
            &key,
            "/api/v1/projects/bot/webhooks",
            json!({"url": receiver}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let samples: Vec<Value> = (0..6)
        .map(|i| sample("bot", "m", "p", &format!("s{i}"), "fine"))
        .collect();
    let mut twice = samples.clone();
    twice.truncate(2);
    for batch in [samples, twice] {
        let r = app
            .post(&key, "/api/v1/traffic", json!({"samples": batch}))
            .await;
        assert_eq!(r.status(), 202);
    }
    let job = app
        .trigger(
            &key,
            json!({"target": {"model": "m", "prompt_id": "p", "project_id": "bot"},
                   "sample_count": 6, "scorers": ["hallucination"], "cache": false}),
        )
        .await;
    let finished = app.wait_for_job(&key, &job, 60).await;
    assert_eq!(finished["status"], "succeeded", "{finished}");
    // The delivery is made after the job ends: wait for it through the API.
    let hook_id = app
        .get(&key, "/api/v1/projects/bot/webhooks")
        .await
        .json::<Value>()
        .await
        .unwrap()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..200 {
        let deliveries: Value = app
            .get(&key, &format!("/api/v1/webhooks/{hook_id}/deliveries"))
            .await
            .json()
            .await
            .unwrap();
        if deliveries["data"].as_array().is_some_and(|d| {
            d.iter()
                .any(|d| d["status"] == "delivered" || d["delivered_at"].is_string())
        }) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // A job waits: the queue gauges see it (workers may take it at once;
    // the depth is read when scraped).
    let after = Scrape::take(&app).await;
    let delta = |series: &str| after.value(series) - before.value(series);

    // Every family has its help text and a type.
    let families: Vec<&str> = after
        .text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert!(!families.is_empty());
    for family in &families {
        assert!(
            after.text.contains(&format!("# HELP {family} ")),
            "no # HELP for {family}:\n{}",
            after.text
        );
    }
    for family in [
        "evalguard_job_duration_seconds",
        "evalguard_judge_call_duration_seconds",
        "http_request_duration_seconds",
    ] {
        assert_eq!(after.type_of(family), Some("histogram"), "{family}");
    }
    let finished_jobs: f64 = after
        .series
        .iter()
        .filter(|(k, _)| k.starts_with("evalguard_job_duration_seconds_count"))
        .map(|(_, v)| v)
        .sum();
    assert!(finished_jobs >= 1.0, "the job's duration was recorded");

    assert_eq!(delta("evalguard_samples_ingested_total"), 8.0);
    assert_eq!(delta("evalguard_samples_stored_total"), 6.0);
    let p = "provider=\"mockjudge\"";
    assert_eq!(
        delta(&format!(
            "evalguard_judge_calls_total{{{p},outcome=\"ok\"}}"
        )),
        6.0
    );
    assert_eq!(
        delta(&format!(
            "evalguard_judge_requests_total{{{p},outcome=\"rate_limited\"}}"
        )),
        1.0
    );
    assert_eq!(
        delta(&format!("evalguard_judge_rate_limited_total{{{p}}}")),
        1.0
    );
    assert_eq!(delta(&format!("evalguard_judge_retries_total{{{p}}}")), 1.0);
    assert_eq!(
        delta(&format!(
            "evalguard_judge_tokens_total{{{p},kind=\"prompt\"}}"
        )),
        600.0
    );
    assert_eq!(
        delta(&format!(
            "evalguard_judge_tokens_total{{{p},kind=\"completion\"}}"
        )),
        120.0
    );
    // 600 prompt tokens at $1/M + 120 completion tokens at $2/M.
    let cost = delta(&format!("evalguard_judge_cost_usd{{{p}}}"));
    assert!((cost - 0.000_84).abs() < 1e-9, "cost {cost}");
    assert!(
        delta("evalguard_webhook_deliveries_total{outcome=\"delivered\"}") >= 1.0,
        "{}",
        after.text
    );
    assert!(after.text.contains("\nevalguard_queue_depth "));
    assert!(after.text.contains("\nevalguard_queue_oldest_age_seconds "));
    app.stop().await;
}

#[tokio::test]
async fn metrics_describe_everything_and_count_what_happened() {
    scrape_after_work(Db::Sqlite).await;
    scrape_after_work(Db::Postgres).await;
}
