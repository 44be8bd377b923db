//! `Idempotency-Key` on `POST /api/v1/traffic`, over HTTP on both databases:
//! a repeat with the same body gets the first answer and stores nothing; the
//! key with another body is a `422`; keys are scoped to the organization and
//! the endpoint; concurrent repeats store the batch once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

use evalguard_domain::ProjectId;
use evalguard_domain::job::Target;
use serde_json::{Value, json};
use support::{Db, TestApp};

/// Samples without ids: without the key, a repeat would store them again.
fn batch(outputs: &[&str]) -> Value {
    let samples: Vec<Value> = outputs
        .iter()
        .map(|o| {
            json!({"project_id": "alpha", "model": "m", "prompt_id": "p",
                   "input": "question", "output": o})
        })
        .collect();
    json!({ "samples": samples })
}

async fn send_keyed(app: &TestApp, key: &str, idem: &str, body: &Value) -> (u16, Value) {
    let r = app
        .client
        .post(format!("{}/api/v1/traffic", app.base))
        .bearer_auth(key)
        .header("Idempotency-Key", idem)
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// What the organization holds for the target `alpha/m/p`: the samples, and
/// the count of the targets aggregate the dashboard lists.
async fn stored(app: &TestApp, org: &str) -> (usize, u64) {
    let org = app.storage.access.ensure_org(org).await.unwrap();
    let project = ProjectId::parse("alpha").unwrap();
    let target = Target {
        project_id: project.clone(),
        model: "m".into(),
        prompt_id: "p".into(),
    };
    let samples = app
        .storage
        .traffic
        .recent_samples(org, &target, 1000, None)
        .await
        .unwrap();
    let targets = app
        .storage
        .targets
        .list_targets(org, &project, None, 10)
        .await
        .unwrap();
    (samples.len(), targets.first().map_or(0, |t| t.sample_count))
}

async fn a_repeated_request_is_answered_again_and_stored_once(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let owner = app.project("org-a", "alpha").await;
    let body = batch(&["one", "two", "three"]);
    let (status, first) = send_keyed(&app, &owner, "batch-1", &body).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first, json!({"accepted": 3, "stored": 3}));
    let (status, again) = send_keyed(&app, &owner, "batch-1", &body).await;
    assert_eq!((status, &again), (202, &first));
    assert_eq!(stored(&app, "org-a").await, (3, 3));

    // The key with another body: refused, nothing stored.
    let (status, reused) = send_keyed(&app, &owner, "batch-1", &batch(&["four"])).await;
    assert_eq!(status, 422, "{reused}");
    assert_eq!(reused["error"]["code"], "idempotency_key_reused");
    assert_eq!(stored(&app, "org-a").await, (3, 3));

    // Without a key the same samples are new samples (they have no ids).
    let r = app.post(&owner, "/api/v1/traffic", body.clone()).await;
    assert_eq!(r.status(), 202);
    assert_eq!(stored(&app, "org-a").await, (6, 6));

    // Another organization's identical key is its own.
    let other = app.project("org-b", "alpha").await;
    let (status, theirs) = send_keyed(&app, &other, "batch-1", &body).await;
    assert_eq!((status, theirs), (202, json!({"accepted": 3, "stored": 3})));
    assert_eq!(stored(&app, "org-b").await, (3, 3));

    // So is the same key on another endpoint.
    let r = app
        .client
        .post(format!("{}/api/v1/auto-eval", app.base))
        .bearer_auth(&owner)
        .header("Idempotency-Key", "batch-1")
        .json(&json!({"target": {"model": "m", "prompt_id": "p", "project_id": "alpha"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    app.stop().await;
}

async fn concurrent_repeats_store_the_batch_once(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let owner = app.project("org-a", "alpha").await;
    let outputs: Vec<String> = (0..200).map(|i| format!("answer {i}")).collect();
    let body = batch(&outputs.iter().map(String::as_str).collect::<Vec<_>>());
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let request = app
            .client
            .post(format!("{}/api/v1/traffic", app.base))
            .bearer_auth(&owner)
            .header("Idempotency-Key", "retry-storm")
            .json(&body);
        requests.spawn(async move {
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        });
    }
    while let Some(answered) = requests.join_next().await {
        let (status, answer) = answered.unwrap();
        assert_eq!(status, 202, "{answer}");
        assert_eq!(answer, json!({"accepted": 200, "stored": 200}));
    }
    assert_eq!(stored(&app, "org-a").await, (200, 200));
    app.stop().await;
}

async fn a_bad_key_is_refused(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let owner = app.project("org-a", "alpha").await;
    let (status, answer) = send_keyed(&app, &owner, &"k".repeat(300), &batch(&["a"])).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_idempotency_key");
    assert_eq!(stored(&app, "org-a").await, (0, 0));
    app.stop().await;
}

on_both_databases!(
    a_repeated_request_is_answered_again_and_stored_once,
    concurrent_repeats_store_the_batch_once,
    a_bad_key_is_refused,
);
