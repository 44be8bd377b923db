//! Arbitrary bodies and query strings to every endpoint: never a 500, always
//! JSON (an error object or a success).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use proptest::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};
use support::TestApp;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        Just(json!("alpha")),
        Just(json!(100)),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("target".to_owned()),
                    Just("sample_count".to_owned()),
                    Just("samples".to_owned()),
                    Just("model".to_owned()),
                    Just("project_id".to_owned()),
                    Just("settings".to_owned()),
                    Just("url".to_owned()),
                    Just("role".to_owned()),
                    Just("name".to_owned()),
                    ".{0,12}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bodies: random bytes, random JSON, valid bodies with one field replaced,
/// deep nesting, huge numbers.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let target = || json!({"model": "m", "prompt_id": "p", "project_id": "alpha"});
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        (json_value(), prop::sample::select(vec!["target", "sample_count", "scorers", "baseline", "thresholds", "repeats", "cache", "max_cost_usd"]))
            .prop_map(move |(v, field)| {
                let mut body = json!({"target": target(), "sample_count": 5});
                body[field] = v;
                body.to_string().into_bytes()
            }),
        (json_value(), prop::sample::select(vec!["project_id", "model", "prompt_id", "input", "output", "context", "timestamp", "metadata", "latency_ms", "prompt_tokens", "id"]))
            .prop_map(|(v, field)| {
                let mut s = json!({"project_id": "alpha", "model": "m", "prompt_id": "p", "input": "q", "output": "a"});
                s[field] = v;
                json!({"samples": [s]}).to_string().into_bytes()
            }),
        (1usize..50_000).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes()),
        (1usize..5_000).prop_map(|n| format!("{{\"target\":{}1{}}}", "{\"a\":".repeat(n), "}".repeat(n)).into_bytes()),
        prop::sample::select(vec!["1e999999", "-1e999999", "123456789012345678901234567890", "{\"sample_count\": 1e400}",
            "{\"target\": {\"model\": \"\u{0}\u{fffd}\u{1F600}\", \"prompt_id\": \"\u{202e}\", \"project_id\": \"alpha\"}}",
            "\"\\ud800\"", "{\"samples\": [{\"input\": \"\\udfff\"}]}"])
            .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

const ENDPOINTS: [(&str, &str); 14] = [
    ("POST", "/api/v1/projects"),
    ("PATCH", "/api/v1/projects/alpha"),
    ("POST", "/api/v1/projects/alpha/scorers"),
    ("POST", "/api/v1/projects/alpha/webhooks"),
    ("POST", "/api/v1/traffic"),
    ("POST", "/api/v1/auto-eval"),
    ("POST", "/api/v1/keys"),
    ("POST", "/api/v1/auto-eval/JOB/cancel"),
    ("GET", "/api/v1/auto-eval"),
    ("GET", "/api/v1/auto-eval/JOB/results"),
    ("GET", "/api/v1/projects"),
    ("GET", "/api/v1/webhooks/JOB/deliveries"),
    ("DELETE", "/api/v1/keys/JOB"),
    ("GET", "/api/v1/projects/alpha/scorers"),
];

fn check(status: u16, text: &str, what: &str) {
    assert!(status < 500, "{what}: {status} {text}");
    let v: Value = serde_json::from_str(text)
        .unwrap_or_else(|_| panic!("{what}: not JSON ({status}): {text}"));
    if status >= 400 {
        assert!(
            v["error"]["code"].is_string() && v["error"]["message"].is_string(),
            "{what}: {text}"
        );
    }
}

#[test]
fn arbitrary_bodies_never_cause_500() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, owner, job) = rt.block_on(async {
        let app = TestApp::spawn_sqlite_with(|c| {
            c.rate_limit_per_minute = 0;
            c.workers = 0;
        })
        .await;
        let owner = app.project("org-a", "alpha").await;
        let r = app
            .post(
                &owner,
                "/api/v1/auto-eval",
                json!({"target": {"model": "m", "prompt_id": "p", "project_id": "alpha"}}),
            )
            .await;
        let job = r.json::<Value>().await.unwrap()["job_id"]
            .as_str()
            .unwrap()
            .to_owned();
        (app, owner, job)
    });
    let config = ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    };
    proptest!(config, |(body in body(), endpoint in 0..ENDPOINTS.len(), content_type in prop::sample::select(vec!["application/json", "application/json; charset=utf-8", "text/plain"]))| {
        let (method, path) = ENDPOINTS[endpoint];
        let path = path.replace("JOB", &job);
        let (status, text) = rt.block_on(async {
            let r = fresh_connection_client().request(method.parse::<Method>().unwrap(), format!("{}{path}", app.base))
                .bearer_auth(&owner).header("content-type", content_type).body(body.clone()).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        });
        check(status, &text, &format!("{method} {path}"));
    });
    rt.block_on(app.stop());
}

#[test]
fn arbitrary_query_strings_and_paths_never_cause_500() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, owner) = rt.block_on(async {
        let app = TestApp::spawn_sqlite_with(|c| {
            c.rate_limit_per_minute = 0;
            c.workers = 0;
        })
        .await;
        let owner = app.project("org-a", "alpha").await;
        (app, owner)
    });
    let config = ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    };
    proptest!(config, |(query in "[a-z_=&%0-9A-F+-]{0,60}", segment in "[a-zA-Z0-9%._~-]{1,40}", which in 0usize..6)| {
        let path = match which {
            0 => format!("/api/v1/auto-eval?{query}"),
            1 => format!("/api/v1/projects?{query}"),
            2 => format!("/api/v1/auto-eval/{segment}/results?{query}"),
            3 => format!("/api/v1/projects/{segment}"),
            4 => format!("/api/v1/webhooks/{segment}/deliveries?{query}"),
            _ => format!("/api/v1/auto-eval/{segment}"),
        };
        let (status, text) = rt.block_on(async {
            let r = app.client.get(format!("{}{path}", app.base)).bearer_auth(&owner).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        });
        check(status, &text, &path);
    });
    rt.block_on(app.stop());
}

/// A client that opens a new connection per request. A server may close a
/// connection after answering without reading an unexpected body (a GET with
/// one); a pooled client could then reuse the closing connection and report a
/// transport error that says nothing about the answer.
fn fresh_connection_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}
