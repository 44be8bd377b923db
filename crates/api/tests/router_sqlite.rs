//! The router over a real SQLite database, called in-process: a smoke test of
//! the main paths that needs no binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use evalguard_api::{ApiLimits, ApiState, WebhookPolicy, router};
use evalguard_domain::project::RubricDefinition;
use evalguard_domain::scoring::{ScorerAvailability, ScorerCatalog};
use evalguard_domain::{ApiKeySecret, Role};
use evalguard_storage::{NewApiKey, Storage};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Catalog;

impl ScorerCatalog for Catalog {
    fn resolve(&self, name: &str, rubrics: &[RubricDefinition]) -> ScorerAvailability {
        if ["empty_output", "hallucination"].contains(&name)
            || rubrics.iter().any(|r| r.name == name)
        {
            ScorerAvailability::Skipped {
                reason: "test".into(),
            }
        } else {
            ScorerAvailability::Unknown
        }
    }
    fn default_set(&self) -> Vec<String> {
        vec!["empty_output".into()]
    }
}

async fn setup() -> (axum::Router, String, Storage) {
    let path = std::env::temp_dir().join(format!("evalguard-api-{}.db", uuid::Uuid::now_v7()));
    let storage = Storage::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let org = storage.access.ensure_org("org-a").await.unwrap();
    let secret = ApiKeySecret::generate();
    storage
        .access
        .create_api_key(NewApiKey {
            org_id: org,
            key_id: secret.key_id().to_owned(),
            hash: secret.hash(),
            role: Role::Owner,
            project: None,
            name: None,
        })
        .await
        .unwrap();
    let app = router(ApiState {
        storage: storage.clone(),
        catalog: Arc::new(Catalog),
        limits: ApiLimits::default(),
        job_wakeup: Arc::new(tokio::sync::Notify::new()),
        webhook_policy: WebhookPolicy {
            allow_private: true,
        },
        dashboard: Default::default(),
    });
    (app, secret.expose().to_owned(), storage)
}

async fn call(
    app: &axum::Router,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {key}"));
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let response = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), 1 << 24).await.unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, value)
}

#[tokio::test]
async fn main_paths_work_over_sqlite() {
    let (app, key, _storage) = setup().await;
    let (s, b) = call(
        &app,
        &key,
        "POST",
        "/api/v1/projects",
        Some(json!({"id": "alpha", "name": "Alpha"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, _) = call(
        &app,
        &key,
        "POST",
        "/api/v1/projects",
        Some(json!({"id": "alpha"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, b) = call(&app, &key, "GET", "/api/v1/projects", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["data"][0]["id"], "alpha");

    let (s, b) = call(
        &app,
        &key,
        "PATCH",
        "/api/v1/projects/alpha",
        Some(json!({"settings": {"scorers": ["empty_output"], "thresholds": {"alpha": 0.01}}})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = call(&app, &key, "GET", "/api/v1/projects/alpha", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["settings"]["thresholds"]["alpha"], 0.01);
    let (s, b) = call(
        &app,
        &key,
        "PATCH",
        "/api/v1/projects/alpha",
        Some(json!({"settings": {"scorers": ["nope"]}})),
    )
    .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_scorer"))
    );

    let rubric = json!({"name": "tone", "criteria": "polite?", "score_min": 1, "score_max": 5, "pass_threshold": 3});
    let (s, b) = call(
        &app,
        &key,
        "POST",
        "/api/v1/projects/alpha/scorers",
        Some(rubric),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let reserved = json!({"name": "hallucination", "criteria": "x", "score_min": 0, "score_max": 1, "pass_threshold": 0.5});
    let (s, b) = call(
        &app,
        &key,
        "POST",
        "/api/v1/projects/alpha/scorers",
        Some(reserved),
    )
    .await;
    assert_eq!(b["error"]["code"], "reserved_scorer_name", "{s}");

    let samples: Vec<Value> = (0..30)
        .map(|i| json!({"id": format!("s{i}"), "project_id": "alpha", "model": "m", "prompt_id": "p", "input": "q", "output": "a"}))
        .collect();
    let (s, b) = call(
        &app,
        &key,
        "POST",
        "/api/v1/traffic",
        Some(json!({"samples": samples})),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b, json!({"accepted": 30, "stored": 30}));

    let mut ids = Vec::new();
    for _ in 0..3 {
        let (s, b) = call(&app, &key, "POST", "/api/v1/auto-eval",
            Some(json!({"target": {"model": "m", "prompt_id": "p", "project_id": "alpha"}, "scorers": ["tone"]}))).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        ids.push(b["job_id"].as_str().unwrap().to_owned());
    }
    // Pages of 2, newest first, then the last page.
    let (s, b) = call(&app, &key, "GET", "/api/v1/auto-eval?limit=2", None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["data"].as_array().unwrap().len(), 2);
    assert_eq!(b["data"][0]["job_id"], ids[2].as_str());
    let cursor = b["next_cursor"].as_str().unwrap().to_owned();
    let (_, b) = call(
        &app,
        &key,
        "GET",
        &format!("/api/v1/auto-eval?limit=2&cursor={cursor}"),
        None,
    )
    .await;
    assert_eq!(b["data"].as_array().unwrap().len(), 1);
    assert_eq!(b["data"][0]["job_id"], ids[0].as_str());
    assert!(b["next_cursor"].is_null());

    let (s, b) = call(
        &app,
        &key,
        "POST",
        &format!("/api/v1/auto-eval/{}/cancel", ids[0]),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "cancelled");
    let (s, b) = call(
        &app,
        &key,
        "GET",
        &format!("/api/v1/auto-eval/{}/results?flagged=true", ids[0]),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b, json!({"data": [], "next_cursor": null}));

    let (s, b) = call(
        &app,
        &key,
        "POST",
        "/api/v1/projects/alpha/webhooks",
        Some(json!({"url": "http://127.0.0.1:9/x"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let hook = b["id"].as_str().unwrap().to_owned();
    let (s, b) = call(
        &app,
        &key,
        "GET",
        &format!("/api/v1/webhooks/{hook}/deliveries"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, _) = call(
        &app,
        &key,
        "DELETE",
        &format!("/api/v1/webhooks/{hook}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(
        &app,
        &key,
        "DELETE",
        &format!("/api/v1/webhooks/{hook}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, b) = call(
        &app,
        &key,
        "POST",
        "/api/v1/keys",
        Some(json!({"role": "member", "project_id": "alpha"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let scoped = b["key"].as_str().unwrap().to_owned();
    let (s, b) = call(
        &app,
        &scoped,
        "POST",
        "/api/v1/projects",
        Some(json!({"id": "beta"})),
    )
    .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("insufficient_role"))
    );
    let (s, _) = call(&app, &scoped, "GET", "/api/v1/projects/alpha", None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = call(&app, &key, "GET", "/api/v1/keys", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["data"].as_array().unwrap().len(), 2);
    assert!(!b.to_string().contains("hash"));
}
