//! Values that one database would store and the other refuse (NUL), values
//! out of the contract's ranges, and `Idempotency-Key` reuse: the same answer
//! on SQLite and PostgreSQL, a `400` naming the field, nothing stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use evalguard_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use support::{Db, TestApp, sample};

async fn app_on(db: Db) -> Option<TestApp> {
    match db {
        Db::Sqlite => Some(TestApp::spawn_sqlite_with(|c| c.rate_limit_per_minute = 0).await),
        Db::Postgres => TestApp::spawn_postgres_with(|c| c.rate_limit_per_minute = 0).await,
    }
}

async fn answer(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, body)
}

fn assert_bad_field(status: u16, body: &Value, param: &str, what: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    assert_eq!(body["error"]["code"], "invalid_request", "{what}: {body}");
    assert_eq!(body["error"]["param"], param, "{what}: {body}");
}

fn target() -> Value {
    json!({"model": "m", "prompt_id": "p", "project_id": "alpha"})
}

async fn bad_samples_refuse_the_whole_batch(db: Db) {
    let Some(app) = app_on(db).await else { return };
    let key = app.project("org-a", "alpha").await;
    let batch = || -> Vec<Value> {
        (0..40)
            .map(|i| sample("alpha", "m", "p", &format!("s{i}"), "answer"))
            .collect()
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("input", json!("a\u{0}b"), "samples[37].input"),
        ("output", json!("\u{0}"), "samples[37].output"),
        ("model", json!("m\u{0}"), "samples[37].model"),
        ("prompt_id", json!("\u{0}p"), "samples[37].prompt_id"),
        ("id", json!("s\u{0}"), "samples[37].id"),
        ("reference", json!("r\u{0}"), "samples[37].reference"),
        ("context", json!("c\u{0}"), "samples[37].context"),
        ("context", json!(["ok", "c\u{0}"]), "samples[37].context[1]"),
        (
            "metadata",
            json!({"k\u{0}": 1}),
            "samples[37].metadata.k\\u0000",
        ),
        (
            "metadata",
            json!({"a": {"b": [1, "x\u{0}"]}}),
            "samples[37].metadata.a.b[1]",
        ),
        ("model", json!("m".repeat(200_000)), "samples[37].model"),
        ("model", json!(""), "samples[37].model"),
        ("id", json!("i".repeat(257)), "samples[37].id"),
        (
            "timestamp",
            json!("9999-01-01T00:00:00Z"),
            "samples[37].timestamp",
        ),
        (
            "timestamp",
            json!("1999-12-31T23:59:59Z"),
            "samples[37].timestamp",
        ),
        ("latency_ms", json!(1.7e308), "samples[37].latency_ms"),
        ("latency_ms", json!(86_400_001), "samples[37].latency_ms"),
        ("latency_ms", json!(-0.5), "samples[37].latency_ms"),
        (
            "prompt_tokens",
            json!(100_000_001),
            "samples[37].prompt_tokens",
        ),
        (
            "completion_tokens",
            json!(u64::MAX),
            "samples[37].completion_tokens",
        ),
    ];
    for (field, value, param) in cases {
        let mut samples = batch();
        samples[37][field] = value;
        let (s, b) = answer(
            app.post(&key, "/api/v1/traffic", json!({"samples": samples}))
                .await,
        )
        .await;
        assert_bad_field(s, &b, param, field);
        assert!(
            b["error"]["message"].as_str().unwrap().len() < 2_000,
            "the refused value is not echoed whole: {}",
            b["error"]["message"]
        );
    }
    // Nothing of the refused batches was stored: all 40 are new now.
    let (s, b) = answer(
        app.post(&key, "/api/v1/traffic", json!({"samples": batch()}))
            .await,
    )
    .await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(b["stored"], 40, "{b}");
    // The edges of the ranges are accepted.
    let mut edge = sample("alpha", "m", "p", "edge", "answer");
    edge["latency_ms"] = json!(86_400_000);
    edge["prompt_tokens"] = json!(100_000_000);
    edge["timestamp"] = json!("2000-01-01T00:00:00Z");
    edge["model"] = json!("é".repeat(256));
    let (s, b) = answer(
        app.post(&key, "/api/v1/traffic", json!({"samples": [edge]}))
            .await,
    )
    .await;
    assert_eq!(s, 202, "{b}");
    app.stop().await;
}

async fn nul_is_refused_in_every_other_body_and_path(db: Db) {
    let Some(app) = app_on(db).await else { return };
    let key = app.project("org-a", "alpha").await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/api/v1/projects",
            json!({"id": "beta", "name": "B\u{0}"}),
            "name",
        ),
        ("/api/v1/projects", json!({"id": "b\u{0}"}), "id"),
        (
            "/api/v1/keys",
            json!({"role": "viewer", "name": "k\u{0}"}),
            "name",
        ),
        (
            "/api/v1/projects/alpha/scorers",
            json!({"name": "tone", "criteria": "polite\u{0}", "score_min": 1, "score_max": 5, "pass_threshold": 3}),
            "criteria",
        ),
        (
            "/api/v1/projects/alpha/webhooks",
            json!({"url": "https://example.com/\u{0}"}),
            "url",
        ),
        (
            "/api/v1/auto-eval",
            json!({"target": {"model": "m\u{0}", "prompt_id": "p", "project_id": "alpha"}}),
            "target.model",
        ),
        (
            "/api/v1/auto-eval",
            json!({"target": {"model": "m", "prompt_id": "p\u{0}", "project_id": "alpha"}}),
            "target.prompt_id",
        ),
        (
            "/api/v1/auto-eval",
            json!({"target": target(), "scorers": ["grounding", "x\u{0}"]}),
            "scorers[1]",
        ),
        (
            "/api/v1/auto-eval",
            json!({"target": target(), "baseline": {"model": "\u{0}", "prompt_id": "p"}}),
            "baseline.model",
        ),
        (
            "/api/v1/auto-eval",
            json!({"target": {"model": "m".repeat(300), "prompt_id": "p", "project_id": "alpha"}}),
            "target.model",
        ),
    ];
    for (path, body, param) in cases {
        let (s, b) = answer(app.post(&key, path, body.clone()).await).await;
        assert_bad_field(s, &b, param, &format!("{path} {body}"));
    }
    let (s, b) = answer(
        app.request(
            Method::PATCH,
            Some(&key),
            "/api/v1/projects/alpha",
            Some(json!({"settings": {"scorers": ["grounding\u{0}"]}})),
        )
        .await,
    )
    .await;
    assert_bad_field(s, &b, "settings.scorers[0]", "patch");
    // Nothing was created by the refused requests.
    let (_, projects) = answer(app.get(&key, "/api/v1/projects").await).await;
    assert_eq!(projects["data"].as_array().unwrap().len(), 1, "{projects}");
    let (_, keys) = answer(app.get(&key, "/api/v1/keys").await).await;
    assert_eq!(keys["data"].as_array().unwrap().len(), 1, "{keys}");
    // NUL in a path or a query.
    for path in [
        "/api/v1/keys/a%00",
        "/api/v1/projects/alpha%00",
        "/api/v1/projects/alpha/scorers/t%00",
        "/api/v1/auto-eval/%00",
        "/api/v1/webhooks/%00/deliveries",
    ] {
        let method = if path.starts_with("/api/v1/keys/") || path.contains("/scorers/") {
            Method::DELETE
        } else {
            Method::GET
        };
        let (s, b) = answer(app.request(method, Some(&key), path, None).await).await;
        assert_eq!(s, 404, "{path}: {b}");
    }
    for path in [
        "/api/v1/auto-eval?project_id=a%00",
        "/api/v1/auto-eval?cursor=%00",
        "/api/v1/projects?cursor=x%00",
    ] {
        let (s, b) = answer(app.get(&key, path).await).await;
        assert_eq!(s, 400, "{path}: {b}");
    }
    app.stop().await;
}

async fn post_with_key(app: &TestApp, key: &str, idem: &str, body: Value) -> (u16, Value) {
    answer(
        app.client
            .post(format!("{}/api/v1/auto-eval", app.base))
            .bearer_auth(key)
            .header("Idempotency-Key", idem)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn idempotency_keys_compare_bodies_and_never_cross_projects(db: Db) {
    let Some(app) = app_on(db).await else { return };
    let owner = app.project("org-a", "alpha").await;
    let r = app
        .post(&owner, "/api/v1/projects", json!({"id": "beta"}))
        .await;
    assert_eq!(r.status(), 201);
    let alpha_body = json!({"target": target(), "sample_count": 5});
    let (s, first) = post_with_key(&app, &owner, "deploy-1", alpha_body.clone()).await;
    assert_eq!(s, 202, "{first}");
    // The same body, written differently (defaults spelt out, other order): the same job.
    let (s, again) = post_with_key(
        &app,
        &owner,
        "deploy-1",
        json!({"sample_count": 5, "cache": true, "target": {"project_id": "alpha", "prompt_id": "p", "model": "m"}}),
    )
    .await;
    assert_eq!(s, 202, "{again}");
    assert_eq!(again["job_id"], first["job_id"]);
    // Another body with the same key: 422, no job.
    let (s, b) = post_with_key(
        &app,
        &owner,
        "deploy-1",
        json!({"target": target(), "sample_count": 6}),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["code"], "idempotency_key_reused", "{b}");
    // A key scoped to beta reusing alpha's idempotency key gets neither
    // alpha's job nor a silent no-op.
    let beta_key = app.key("org-a", Role::Member, Some("beta")).await;
    let beta_body = json!({"target": {"model": "m", "prompt_id": "p", "project_id": "beta"}, "sample_count": 5});
    let (s, b) = post_with_key(&app, &beta_key, "deploy-1", beta_body.clone()).await;
    assert_eq!(s, 422, "{b}");
    assert_ne!(b["job_id"], first["job_id"]);
    // With alpha's exact body it is refused for its scope before any lookup.
    let (s, b) = post_with_key(&app, &beta_key, "deploy-1", alpha_body).await;
    assert_eq!(s, 403, "{b}");
    // Its own key runs its own evaluation.
    let (s, own) = post_with_key(&app, &beta_key, "deploy-beta-1", beta_body).await;
    assert_eq!(s, 202, "{own}");
    // Another organization's identical key is its own.
    let other = app.project("org-b", "alpha").await;
    let (s, theirs) = post_with_key(
        &app,
        &other,
        "deploy-1",
        json!({"target": target(), "sample_count": 5}),
    )
    .await;
    assert_eq!(s, 202, "{theirs}");
    assert_ne!(theirs["job_id"], first["job_id"]);
    let (_, list) = answer(app.get(&owner, "/api/v1/auto-eval").await).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2, "{list}");
    app.stop().await;
}

macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
              async fn $name() { super::$name(super::Db::Sqlite).await; })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
              async fn $name() { super::$name(super::Db::Postgres).await; })*
        }
    };
}

on_both_databases!(
    bad_samples_refuse_the_whole_batch,
    nul_is_refused_in_every_other_body_and_path,
    idempotency_keys_compare_bodies_and_never_cross_projects,
);
