//! The dashboard in a real browser (see `browser_support`): first-run
//! setup, sign-in and sign-out, API keys, a viewer's limits, and a job's
//! report. Screenshots of the pages visited go to `target/screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_support;
mod dashboard_support;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::routing::post;
use evalguard_domain::Role;
use evalguard_judge::{JudgeConfig, ProviderConfig};
use fantoccini::Locator;
use serde_json::{Value, json};

use browser_support::{
    PASSWORD, browser, click, fill, path, screenshot, sign_in, signed_in, text_once_it_holds,
};
use dashboard_support::{DashboardApp, Db};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_setup_then_sign_out_and_sign_in() {
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    let app = DashboardApp::start(Db::Sqlite, |_| {}).await.unwrap();
    let setup = app.setup_url.clone().unwrap();

    c.goto(&setup).await.unwrap();
    screenshot(c, "setup").await;
    fill(c, "#org", "acme").await;
    fill(c, "#email", "owner@acme.example").await;
    fill(c, "#password", PASSWORD).await;
    click(c, "#create-owner").await;
    assert_eq!(path(c, "/dashboard").await, "/dashboard");
    let header = c
        .find(Locator::Css(".signout span"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(header, "owner@acme.example (owner)");
    screenshot(c, "overview").await;

    // Sign-out ends the session: the dashboard sends the browser to sign in.
    click(c, "#sign-out").await;
    assert_eq!(path(c, "/dashboard/login").await, "/dashboard/login");
    c.goto(&format!("{}/dashboard/api-keys", app.base))
        .await
        .unwrap();
    assert_eq!(path(c, "/dashboard/login").await, "/dashboard/login");
    screenshot(c, "login").await;
    // The setup link was single-use.
    c.goto(&setup).await.unwrap();
    let message = c
        .find(Locator::Css("#error-message"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(message.contains("not valid"), "{message}");

    sign_in(c, &app.base, "owner@acme.example").await;
    driver.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_shown_once_work_on_the_api_and_stop_when_revoked() {
    let Some((driver, app)) = signed_in("ann@acme.example", Role::Admin).await else {
        return;
    };
    let c = &driver.client;

    c.goto(&format!("{}/dashboard/api-keys", app.base))
        .await
        .unwrap();
    fill(c, "#key-name", "deploy gate").await;
    click(c, "#create-key-button").await;
    let shown = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("[data-secret]"))
        .await
        .unwrap();
    let secret = shown.attr("data-secret").await.unwrap().unwrap();
    assert!(secret.starts_with("eg_"), "{secret}");
    screenshot(c, "api-keys-created").await;

    let api = reqwest::Client::new();
    let projects = format!("{}/api/v1/projects", app.base);
    let answer = api
        .get(&projects)
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    // Shown once: a reload lists the key by its prefix only.
    c.goto(&format!("{}/dashboard/api-keys", app.base))
        .await
        .unwrap();
    assert!(
        c.find_all(Locator::Css("[data-secret]"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!c.source().await.unwrap().contains(&secret));

    let key_id = &secret[3..15];
    click(c, &format!("#key-{key_id} button.danger")).await;
    // Until the new page loads, the cell shows "—".
    let revoked = text_once_it_holds(c, &format!("#key-{key_id} td.revoked"), "UTC").await;
    assert!(
        revoked.contains("UTC"),
        "the revoked column shows when: {revoked}"
    );
    assert_eq!(path(c, "/dashboard/api-keys").await, "/dashboard/api-keys");
    screenshot(c, "api-keys").await;
    let answer = api
        .get(&projects)
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    driver.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_cannot_create_keys() {
    let Some((driver, app)) = signed_in("vic@acme.example", Role::Viewer).await else {
        return;
    };
    let c = &driver.client;
    c.goto(&format!("{}/dashboard/api-keys", app.base))
        .await
        .unwrap();
    assert!(
        c.find_all(Locator::Css("#create-key"))
            .await
            .unwrap()
            .is_empty()
    );
    let note = c
        .find(Locator::Css("#read-only"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(note.contains("admins create"), "{note}");
    screenshot(c, "api-keys-viewer").await;
    driver.client.clone().close().await.unwrap();
}

/// An OpenAI-compatible judge: an answer that puts the office on Mars
/// contradicts its context; every other claim is supported.
async fn start_judge() -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(|Json(body): Json<Value>| async move {
            let prompt = body.to_string();
            let verdict = if prompt.contains("Mars") {
                json!({"claims": [{"claim": "the office is on Mars", "verdict": "contradicted"}],
                       "reasoning": "the answer puts the office on Mars; the context says Berlin"})
            } else {
                json!({"claims": [{"claim": "the office is in Berlin", "verdict": "supported"}],
                       "reasoning": "the context says Berlin"})
            };
            Json(json!({
                "id": "chatcmpl-1", "object": "chat.completion", "model": "judge-1",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": verdict.to_string()}}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
            }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

fn samples(model: &str, count: usize, on_mars: usize, hours_ago: i64) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let output = if i < on_mars {
                format!("Our office {i} is on Mars, open from 9 to 5.")
            } else {
                format!("Our office {i} is in Berlin, open from 9 to 5.")
            };
            let ts = chrono::Utc::now() - chrono::Duration::hours(hours_ago)
                + chrono::Duration::seconds(i as i64);
            json!({"id": format!("{model}-{i}"), "project_id": "support-bot", "model": model,
                   "prompt_id": "answer-v3", "input": format!("Where is office {i}?"),
                   "output": output, "context": ["The office is in Berlin, open 9:00-17:00."],
                   "timestamp": ts.to_rfc3339(), "latency_ms": 500 + i})
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_finds_hallucinations_shows_flags_charts_and_samples() {
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    let judge = start_judge().await;
    let app = DashboardApp::start(Db::Sqlite, |config| {
        config.judge = JudgeConfig {
            providers: vec![ProviderConfig::openai("local", &judge, "judge-1", None)],
            scorers: BTreeMap::new(),
        };
    })
    .await
    .unwrap();
    app.user("acme", "ann@acme.example", Role::Owner, PASSWORD)
        .await;
    let key = app.api_key("acme", Role::Owner).await;
    let api = reqwest::Client::new();
    let call = |path: &str, body: Value| {
        api.post(format!("{}{path}", app.base))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    assert_eq!(
        call(
            "/api/v1/projects",
            json!({"id": "support-bot", "name": "Support bot"})
        )
        .await
        .unwrap()
        .status(),
        201
    );
    let mut traffic = samples("old-model", 40, 0, 48);
    traffic.extend(samples("new-model", 40, 16, 2));
    assert_eq!(
        call("/api/v1/traffic", json!({"samples": traffic}))
            .await
            .unwrap()
            .status(),
        202
    );
    let created: Value = call(
        "/api/v1/auto-eval",
        json!({"target": {"model": "new-model", "prompt_id": "answer-v3", "project_id": "support-bot"},
               "sample_count": 40, "scorers": ["hallucination", "output_length", "refusal"]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let job_id = created["job_id"].as_str().unwrap().to_owned();
    let job = app.wait_for_job(&key, &job_id).await;
    assert_eq!(job["status"], "succeeded", "{job}");

    sign_in(c, &app.base, "ann@acme.example").await;
    c.goto(&format!("{}/dashboard/jobs/{job_id}", app.base))
        .await
        .unwrap();
    assert_eq!(
        c.find(Locator::Css("#job-status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "succeeded"
    );
    let baseline = c
        .find(Locator::Css("#baseline"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(baseline.contains("old-model"), "{baseline}");
    let flags = c
        .find(Locator::Css("#flags"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(flags.contains("hallucination"), "{flags}");
    assert!(flags.contains("Evidence:"), "{flags}");
    let charts = c
        .find_all(Locator::Css("#charts svg[role=img] title"))
        .await
        .unwrap();
    assert!(
        charts.len() >= 3,
        "a distribution per scorer and the hallucination rate"
    );
    let rate = c
        .find(Locator::Css(
            "#charts svg[aria-labelledby^=hallucination-rate] desc",
        ))
        .await
        .unwrap();
    let words = rate.prop("textContent").await.unwrap().unwrap_or_default();
    assert!(
        words.contains("40.0%") && words.contains("above the threshold"),
        "{words}"
    );
    let samples = c
        .find(Locator::Css("#samples"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(samples.contains("is on Mars"), "{samples}");
    assert!(
        samples.contains("the context says Berlin"),
        "the judge's reasoning: {samples}"
    );
    assert!(
        samples.contains("The office is in Berlin"),
        "the context: {samples}"
    );
    screenshot(c, "job-report").await;

    c.goto(&format!("{}/dashboard/projects/support-bot", app.base))
        .await
        .unwrap();
    let jobs = c
        .find(Locator::Css("#jobs table"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        jobs.contains(&job_id) && jobs.contains("hallucination"),
        "{jobs}"
    );
    screenshot(c, "project").await;
    driver.client.clone().close().await.unwrap();
}
