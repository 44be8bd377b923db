//! Every error case of the contract, with exact statuses, codes and headers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{TestApp, sample};

fn target() -> Value {
    json!({"model": "m", "prompt_id": "p", "project_id": "alpha"})
}

/// Sends raw bytes with a content type; returns status, headers and JSON body.
async fn raw(
    app: &TestApp,
    key: Option<&str>,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("content-type", content_type)
        .body(body);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, headers, body)
}

fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], want_code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_eval_body_errors() {
    let app = TestApp::spawn_sqlite_with(|c| c.rate_limit_per_minute = 0).await;
    let owner = app.project("org-a", "alpha").await;
    let post = |body: Vec<u8>| {
        raw(
            &app,
            Some(&owner),
            Method::POST,
            "/api/v1/auto-eval",
            "application/json",
            body,
        )
    };

    for bad in ["{", "not json", "", "{\"target\": }", "[1,2"] {
        let (s, _, b) = post(bad.as_bytes().to_vec()).await;
        assert_error(s, &b, 400, "invalid_json");
    }
    let cases: Vec<(Value, &str)> = vec![
        (json!([]), "body"),
        (json!("string"), "body"),
        (json!({}), "target"),
        (json!({"target": null}), "target"),
        (json!({"target": "alpha"}), "target"),
        (
            json!({"target": {"prompt_id": "p", "project_id": "alpha"}}),
            "target.model",
        ),
        (
            json!({"target": {"model": "m", "project_id": "alpha"}}),
            "target.prompt_id",
        ),
        (
            json!({"target": {"model": "m", "prompt_id": "p"}}),
            "target.project_id",
        ),
        (
            json!({"target": {"model": 1, "prompt_id": "p", "project_id": "alpha"}}),
            "target.model",
        ),
        (
            json!({"target": target(), "sample_count": 0}),
            "sample_count",
        ),
        (
            json!({"target": target(), "sample_count": -1}),
            "sample_count",
        ),
        (
            json!({"target": target(), "sample_count": 10001}),
            "sample_count",
        ),
        (
            json!({"target": target(), "sample_count": 1.5}),
            "sample_count",
        ),
        (
            json!({"target": target(), "sample_count": "100"}),
            "sample_count",
        ),
        (
            json!({"target": target(), "sample_count": 1e300}),
            "sample_count",
        ),
        (
            json!({"target": target(), "unknown_option": true}),
            "unknown_option",
        ),
    ];
    for (body, param) in cases {
        let (s, _, b) = post(body.to_string().into_bytes()).await;
        assert_error(s, &b, 400, "invalid_request");
        assert_eq!(b["error"]["param"], param, "{body}");
    }
    let (s, _, b) = post(
        json!({"target": {"model": "m", "prompt_id": "p", "project_id": "nope"}})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_error(s, &b, 400, "unknown_project");
    assert_eq!(b["error"]["param"], "target.project_id");
    let (s, _, b) = post(
        json!({"target": target(), "scorers": ["no_such_scorer"]})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_error(s, &b, 400, "unknown_scorer");
    // The boundaries themselves are accepted.
    for n in [1, 10_000] {
        let (s, h, b) = post(
            json!({"target": target(), "sample_count": n})
                .to_string()
                .into_bytes(),
        )
        .await;
        assert_eq!(s, 202, "{b}");
        let id = b["job_id"].as_str().unwrap();
        assert_eq!(h["location"], format!("/api/v1/auto-eval/{id}").as_str());
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_key_returns_the_same_job() {
    let app = TestApp::spawn_sqlite().await;
    let owner = app.project("org-a", "alpha").await;
    let send = |key: &'static str| {
        app.client
            .post(format!("{}/api/v1/auto-eval", app.base))
            .bearer_auth(&owner)
            .header("idempotency-key", key)
            .json(&json!({"target": target()}))
            .send()
    };
    let a: Value = send("deploy-1").await.unwrap().json().await.unwrap();
    let b: Value = send("deploy-1").await.unwrap().json().await.unwrap();
    let c: Value = send("deploy-2").await.unwrap().json().await.unwrap();
    assert_eq!(a["job_id"], b["job_id"]);
    assert_ne!(a["job_id"], c["job_id"]);
    let r = app
        .client
        .post(format!("{}/api/v1/auto-eval", app.base))
        .bearer_auth(&owner)
        .header("idempotency-key", "k".repeat(256))
        .json(&json!({"target": target()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffic_errors_name_the_sample() {
    let app = TestApp::spawn_sqlite_with(|c| c.rate_limit_per_minute = 0).await;
    let owner = app.project("org-a", "alpha").await;
    let post = |body: Value| {
        raw(
            &app,
            Some(&owner),
            Method::POST,
            "/api/v1/traffic",
            "application/json",
            body.to_string().into_bytes(),
        )
    };
    let good = |i: usize| sample("alpha", "m", "p", &format!("s{i}"), "answer");
    let mut samples: Vec<Value> = (0..20).map(good).collect();
    samples[17]["model"] = json!(42);
    let (s, _, b) = post(json!({"samples": samples})).await;
    assert_error(s, &b, 400, "invalid_request");
    assert_eq!(b["error"]["param"], "samples[17].model");
    let mut samples: Vec<Value> = (0..5).map(good).collect();
    samples[3]["project_id"] = json!("nope");
    let (s, _, b) = post(json!({"samples": samples})).await;
    assert_error(s, &b, 400, "unknown_project");
    assert_eq!(b["error"]["param"], "samples[3].project_id");
    // All or nothing: nothing of the refused batches was stored.
    let (s, _, b) = post(json!({"samples": (0..20).map(good).collect::<Vec<_>>()})).await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(b["accepted"], 20);
    assert_eq!(b["stored"], 20);
    let (_, _, b) = post(json!({"samples": (15..25).map(good).collect::<Vec<_>>()})).await;
    assert_eq!(b["accepted"], 10);
    assert_eq!(b["stored"], 5);
    for (body, param) in [
        (json!({"samples": []}), "samples"),
        (json!({}), "samples"),
        (json!({"samples": {}}), "samples"),
        (json!({"samples": vec![good(0); 10_001]}), "samples"),
        (json!({"samples": [1]}), "samples[0]"),
    ] {
        let (s, _, b) = post(body).await;
        assert_error(s, &b, 400, "invalid_request");
        assert_eq!(b["error"]["param"], param);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_and_media_type_errors() {
    let app = TestApp::spawn_sqlite_with(|c| c.rate_limit_per_minute = 0).await;
    let owner = app.project("org-a", "alpha").await;
    // 256 KiB for ordinary endpoints.
    let big = format!(
        "{{\"target\": {}, \"pad\": \"{}\"}}",
        target(),
        "x".repeat(256 * 1024)
    );
    let (s, _, b) = raw(
        &app,
        Some(&owner),
        Method::POST,
        "/api/v1/auto-eval",
        "application/json",
        big.into_bytes(),
    )
    .await;
    assert_error(s, &b, 413, "payload_too_large");
    let (s, _, b) = raw(
        &app,
        Some(&owner),
        Method::POST,
        "/api/v1/projects",
        "application/json",
        vec![b' '; 300 * 1024],
    )
    .await;
    assert_error(s, &b, 413, "payload_too_large");
    // 16 MiB for traffic: 1 MiB passes the limit, 16 MiB + 1 does not.
    let one_mib =
        json!({"samples": [sample("alpha", "m", "p", "big", &"y".repeat(1 << 20))]}).to_string();
    let (s, _, b) = raw(
        &app,
        Some(&owner),
        Method::POST,
        "/api/v1/traffic",
        "application/json",
        one_mib.into_bytes(),
    )
    .await;
    assert_eq!(s, 202, "{b}");
    let (s, _, b) = raw(
        &app,
        Some(&owner),
        Method::POST,
        "/api/v1/traffic",
        "application/json",
        vec![b' '; 16 * 1024 * 1024 + 1],
    )
    .await;
    assert_error(s, &b, 413, "payload_too_large");
    for ct in ["text/plain", "application/x-www-form-urlencoded", ""] {
        let (s, _, b) = raw(
            &app,
            Some(&owner),
            Method::POST,
            "/api/v1/auto-eval",
            ct,
            json!({"target": target()}).to_string().into_bytes(),
        )
        .await;
        assert_error(s, &b, 415, "unsupported_media_type");
    }
    let (s, _, b) = raw(
        &app,
        Some(&owner),
        Method::GET,
        "/api/v1/nothing-here",
        "application/json",
        vec![],
    )
    .await;
    assert_error(s, &b, 404, "route_not_found");
    let (s, _, b) = raw(
        &app,
        Some(&owner),
        Method::PUT,
        "/api/v1/projects",
        "application/json",
        b"{}".to_vec(),
    )
    .await;
    assert_error(s, &b, 405, "method_not_allowed");
    let (s, _, b) = raw(
        &app,
        Some(&owner),
        Method::GET,
        "/api/v1/auto-eval/not-a-uuid",
        "application/json",
        vec![],
    )
    .await;
    assert_error(s, &b, 404, "not_found");
    for q in [
        "limit=0",
        "limit=1001",
        "limit=x",
        "cursor=%%%",
        "cursor=bm9wZQ",
        "status=done",
    ] {
        let (s, _, b) = raw(
            &app,
            Some(&owner),
            Method::GET,
            &format!("/api/v1/auto-eval?{q}"),
            "application/json",
            vec![],
        )
        .await;
        assert_error(s, &b, 400, "invalid_request");
    }
    app.stop().await;
}
