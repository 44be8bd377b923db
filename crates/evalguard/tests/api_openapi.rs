//! The OpenAPI document against the live router: every route documented,
//! every documented operation served.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use evalguard_api::Access;
use reqwest::Method;
use serde_json::Value;
use support::TestApp;

/// A concrete path for a template: `{x}` segments filled with a dummy id.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_matches_the_live_routes() {
    let app = TestApp::spawn_sqlite().await;
    let r = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();

    let live = evalguard_api::live_routes();
    assert!(live.len() >= 24);
    for (method, path, _) in &live {
        let op = &paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not documented"))[method.as_str().to_lowercase()];
        assert!(op.is_object(), "{method} {path} is not documented");
    }

    let mut documented = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            if !op.is_object() {
                continue;
            }
            documented += 1;
            assert!(
                live.iter().any(|(m, p, _)| *m == method && p == path),
                "{method} {path} is documented but not routed"
            );
            let access = live
                .iter()
                .find(|(m, p, _)| *m == method && p == path)
                .unwrap()
                .2;
            let r = app
                .client
                .request(method.clone(), format!("{}{}", app.base, concrete(path)))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            assert!(
                !body.contains("route_not_found") && status != 405,
                "{method} {path}: {status} {body}"
            );
            if access == Access::ApiKey {
                assert_eq!(status, 401, "{method} {path} answers without a key");
                for code in ["400", "401", "403", "404", "413", "415", "429"] {
                    assert!(
                        op["responses"][code].is_object(),
                        "{method} {path} lacks {code}"
                    );
                }
                assert!(
                    op["security"][0]["bearer"].is_array(),
                    "{method} {path} lacks bearer security"
                );
            } else {
                assert_eq!(status, 200, "{method} {path}");
            }
        }
    }
    assert_eq!(documented, live.len());

    // The seed's request schema.
    let schemas = &doc["components"]["schemas"];
    let op = &doc["paths"]["/api/v1/auto-eval"]["post"];
    assert!(op["responses"]["202"].is_object());
    let req = &schemas["AutoEvalBody"];
    assert_eq!(req["required"], serde_json::json!(["target"]));
    assert_eq!(req["properties"]["sample_count"]["default"], 100);
    assert_eq!(req["properties"]["sample_count"]["minimum"], 1);
    assert_eq!(req["properties"]["sample_count"]["maximum"], 10000);
    let mut required: Vec<&str> = schemas["TargetInput"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort_unstable();
    assert_eq!(required, ["model", "project_id", "prompt_id"]);
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_use_route_templates() {
    let app = TestApp::spawn_sqlite().await;
    let owner = app.project("org-a", "alpha").await;
    let r = app
        .get(
            &owner,
            "/api/v1/auto-eval/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        )
        .await;
    assert_eq!(r.status(), 404);
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(
        text.contains("route=\"/api/v1/auto-eval/{job_id}\""),
        "{text}"
    );
    assert!(
        !text.contains("0190a1b2-c3d4"),
        "raw paths leak into metrics"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("evalguard_queue_depth"));
    assert!(text.contains("evalguard_jobs{status=\"queued\"}"));
    app.stop().await;
}
