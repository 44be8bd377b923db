//! Auto-eval jobs end to end, on SQLite and PostgreSQL: traffic in, a job
//! triggered over HTTP, run by the in-process workers, read back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

use evalguard::Config;
use serde_json::{Value, json};
use support::{Db, TestApp, sample};

async fn send(app: &TestApp, key: &str, samples: Vec<Value>) {
    let r = app
        .post(key, "/api/v1/traffic", json!({"samples": samples}))
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
}

fn traffic(model: &str, day: u32, n: usize, output: &str) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let mut s = sample("bot", model, "answer-v1", &format!("{model}-{i}"), output);
            s["timestamp"] = json!(format!("2026-11-{day:02}T10:{:02}:{:02}Z", i / 60, i % 60));
            s
        })
        .collect()
}

async fn job_runs_against_the_previous_deployment(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let key = app.project("acme", "bot").await;
    send(
        &app,
        &key,
        traffic(
            "old-model",
            1,
            150,
            "EvalGuard answers questions about deployments.",
        ),
    )
    .await;
    send(
        &app,
        &key,
        traffic(
            "new-model",
            2,
            150,
            "I'm sorry, but I can't help with that.",
        ),
    )
    .await;

    let r = app
        .post(&key, "/api/v1/auto-eval", json!({"target": {"model": "new-model", "prompt_id": "answer-v1", "project_id": "bot"}, "sample_count": 120}))
        .await;
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    let job_id = body["job_id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&job_id).unwrap().get_version_num(), 7);
    assert_eq!(location, format!("/api/v1/auto-eval/{job_id}"));

    let job = app.wait_for_job(&key, &job_id, 60).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["progress"]["total"], 120);
    assert_eq!(job["progress"]["done"], 120);
    assert_eq!(job["partial"], false);
    assert_eq!(job["baseline"]["kind"], "deployment", "{job}");
    assert_eq!(job["baseline"]["model"], "old-model");
    let refusal = &job["summary"]["refusal"];
    assert_eq!(refusal["n"], 120, "{job}");
    assert_eq!(
        refusal["mean"].as_f64().unwrap(),
        0.0,
        "every answer is a refusal: {job}"
    );
    assert_eq!(refusal["baseline"]["mean"].as_f64().unwrap(), 1.0);
    assert_eq!(job["summary"]["latency"]["unit"], "ms");
    // Judges are named but skipped: no provider is configured in tests.
    assert!(
        job["summary"]["hallucination"]["skipped"].is_string(),
        "{job}"
    );
    // Every answer became a refusal: that is a regression of a pass/fail check.
    let flags = job["flags"].as_array().unwrap();
    assert!(
        flags
            .iter()
            .any(|f| f["kind"] == "regression" && f["metric"] == "refusal"),
        "{job}"
    );

    // Results: paginated, every current sample once.
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/auto-eval/{job_id}/results?limit=50&cursor={c}"),
            None => format!("/api/v1/auto-eval/{job_id}/results?limit=50"),
        };
        let page: Value = app.get(&key, &path).await.json().await.unwrap();
        for item in page["data"].as_array().unwrap() {
            assert!(seen.insert(item["sample_id"].as_str().unwrap().to_owned()));
            assert_eq!(item["scores"]["refusal"]["outcome"], "scored");
            assert_eq!(item["flagged"], true);
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 120);
    app.stop().await;
}

async fn a_target_without_samples_fails_with_no_samples(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let key = app.project("acme", "bot").await;
    let job_id = app
        .trigger(
            &key,
            json!({"target": {"model": "m", "prompt_id": "p", "project_id": "bot"}}),
        )
        .await;
    let job = app.wait_for_job(&key, &job_id, 30).await;
    assert_eq!(job["status"], "failed");
    assert_eq!(job["error"]["code"], "no_samples");
    app.stop().await;
}

async fn idempotency_key_returns_the_same_job(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let key = app.project("acme", "bot").await;
    let body = json!({"target": {"model": "m", "prompt_id": "p", "project_id": "bot"}});
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = app
            .client
            .post(format!("{}/api/v1/auto-eval", app.base))
            .bearer_auth(&key)
            .header("Idempotency-Key", "deploy-42")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        ids.push(r.json::<Value>().await.unwrap()["job_id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
    let list: Value = app
        .get(&key, "/api/v1/auto-eval?project_id=bot")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn cancel_makes_a_queued_job_terminal(db: Db) {
    // No workers: the job is certainly still queued when the cancel arrives.
    let no_workers = |config: &mut Config| config.workers = 0;
    let Some(app) = TestApp::spawn_with(db, no_workers).await else {
        return;
    };
    let key = app.project("acme", "bot").await;
    send(&app, &key, traffic("m", 3, 20, "fine")).await;
    let r = app
        .post(
            &key,
            "/api/v1/auto-eval",
            json!({"target": {"model": "m", "prompt_id": "answer-v1", "project_id": "bot"}}),
        )
        .await;
    let job_id = r.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = || async {
        app.get(&key, &format!("/api/v1/auto-eval/{job_id}"))
            .await
            .json::<Value>()
            .await
            .unwrap()
    };
    let cancel = || async {
        let r = app
            .post(
                &key,
                &format!("/api/v1/auto-eval/{job_id}/cancel"),
                json!({}),
            )
            .await;
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()
    };
    let queued = read().await;
    assert_eq!(queued["status"], "queued", "{queued}");
    let job = cancel().await;
    assert_eq!(job["status"], "cancelled", "{job}");
    assert!(job["finished_at"].is_string(), "{job}");
    // No worker that starts later can take it: the queue hands out nothing.
    let claimed = app
        .storage
        .jobs
        .claim_job("late-worker", std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert!(claimed.is_none(), "a cancelled job was handed out");
    let again = read().await;
    assert_eq!(again["status"], "cancelled");
    assert_eq!(again["finished_at"], job["finished_at"]);
    // Cancelling again changes nothing.
    let twice = cancel().await;
    assert_eq!(twice["status"], "cancelled");
    assert_eq!(twice["finished_at"], job["finished_at"]);
    app.stop().await;
}

on_both_databases!(
    job_runs_against_the_previous_deployment,
    a_target_without_samples_fails_with_no_samples,
    idempotency_key_returns_the_same_job,
    cancel_makes_a_queued_job_terminal,
);
