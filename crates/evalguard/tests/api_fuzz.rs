//! Arbitrary bodies and query strings to every endpoint, on SQLite and on
//! PostgreSQL: never a 500, always JSON (an error object or a success). The
//! hostile values include NUL characters, lone surrogates, huge numbers and
//! over-long strings, in any field and at any depth.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use proptest::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};
use support::{Db, TestApp};

/// Stands for a lone surrogate (`"\ud800"`), which no `Value` can hold: the
/// body's text gets the escape in its place.
const LONE_SURROGATE: &str = "@@lone-surrogate@@";
/// Stands for a number no float or integer holds.
const HUGE_NUMBER: &str = "@@huge-number@@";

/// Values a database or a parser may choke on.
fn hostile_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(json!("\u{0}")),
        ".{0,8}".prop_map(|s| json!(format!("{s}\u{0}{s}"))),
        (257usize..70_000).prop_map(|n| json!("x".repeat(n))),
        Just(json!(1.7e308)),
        Just(json!(-1.7e308)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(LONE_SURROGATE)),
        Just(json!(format!("a{LONE_SURROGATE}b"))),
        Just(json!(HUGE_NUMBER)),
        Just(json!({"k\u{0}": "v"})),
        Just(json!(["ok", "\u{0}"])),
    ]
    .boxed()
}

/// A body's text, with the stand-ins replaced by what they stand for.
fn body_text(v: &Value) -> Vec<u8> {
    v.to_string()
        .replace(LONE_SURROGATE, "\\ud800")
        .replace(&format!("\"{HUGE_NUMBER}\""), "1e999999")
        .replace(HUGE_NUMBER, "123456789012345678901234567890")
        .into_bytes()
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        hostile_leaf(),
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
        json_value().prop_map(|v| body_text(&v)),
        (json_value(), prop::sample::select(vec!["target", "sample_count", "scorers", "baseline", "thresholds", "repeats", "cache", "max_cost_usd"]))
            .prop_map(move |(v, field)| {
                let mut body = json!({"target": target(), "sample_count": 5});
                body[field] = v;
                body_text(&body)
            }),
        (hostile_leaf(), prop::sample::select(vec!["model", "prompt_id", "project_id"]))
            .prop_map(move |(v, field)| {
                let mut body = json!({"target": target()});
                body["target"][field] = v;
                body_text(&body)
            }),
        (json_value(), prop::sample::select(vec!["project_id", "model", "prompt_id", "input", "output", "context", "reference", "timestamp", "metadata", "latency_ms", "prompt_tokens", "completion_tokens", "id"]))
            .prop_map(|(v, field)| {
                let mut s = json!({"project_id": "alpha", "model": "m", "prompt_id": "p", "input": "q", "output": "a"});
                s[field] = v;
                body_text(&json!({"samples": [s]}))
            }),
        // Every other endpoint's fields, one hostile value at a time.
        (hostile_leaf(), prop::sample::select(vec!["id", "name", "role", "project_id", "url", "events", "criteria", "score_min", "score_max", "pass_threshold", "settings"]))
            .prop_map(|(v, field)| {
                let mut body = json!({"id": "gamma", "name": "tone", "role": "viewer", "url": "https://example.com/hook",
                    "criteria": "polite", "score_min": 1, "score_max": 5, "pass_threshold": 3});
                body[field] = v;
                body_text(&body)
            }),
        hostile_leaf().prop_map(|v| body_text(&json!({"settings": {"scorers": [v]}}))),
        hostile_leaf().prop_map(|v| body_text(&json!({"settings": {"thresholds": {"alpha": v}}}))),
        (1usize..50_000).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes()),
        (1usize..5_000).prop_map(|n| format!("{{\"target\":{}1{}}}", "{\"a\":".repeat(n), "}".repeat(n)).into_bytes()),
        prop::sample::select(vec!["1e999999", "-1e999999", "123456789012345678901234567890", "{\"sample_count\": 1e400}",
            "{\"target\": {\"model\": \"\u{0}\u{fffd}\u{1F600}\", \"prompt_id\": \"\u{202e}\", \"project_id\": \"alpha\"}}",
            "\"\\ud800\"", "{\"samples\": [{\"input\": \"\\udfff\"}]}"])
            .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

const ENDPOINTS: [(&str, &str); 17] = [
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
    ("DELETE", "/api/v1/keys/a%00"),
    ("DELETE", "/api/v1/projects/alpha/scorers/t%00x"),
    ("PATCH", "/api/v1/projects/alpha%00"),
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

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A server without rate limit nor workers on `db`; `None` when PostgreSQL
/// is not configured.
async fn fuzz_app(db: Db) -> Option<TestApp> {
    let tweak = |c: &mut evalguard::Config| {
        c.rate_limit_per_minute = 0;
        c.workers = 0;
    };
    match db {
        Db::Sqlite => Some(TestApp::spawn_sqlite_with(tweak).await),
        Db::Postgres => TestApp::spawn_postgres_with(tweak).await,
    }
}

#[test]
fn arbitrary_bodies_never_cause_500_on_sqlite() {
    arbitrary_bodies_never_cause_500(Db::Sqlite);
}

#[test]
fn arbitrary_bodies_never_cause_500_on_postgres() {
    arbitrary_bodies_never_cause_500(Db::Postgres);
}

#[test]
fn arbitrary_query_strings_and_paths_never_cause_500_on_sqlite() {
    arbitrary_query_strings_and_paths_never_cause_500(Db::Sqlite);
}

#[test]
fn arbitrary_query_strings_and_paths_never_cause_500_on_postgres() {
    arbitrary_query_strings_and_paths_never_cause_500(Db::Postgres);
}

fn arbitrary_bodies_never_cause_500(db: Db) {
    let rt = runtime();
    let Some(app) = rt.block_on(fuzz_app(db)) else {
        return;
    };
    let (owner, job) = rt.block_on(async {
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
        (owner, job)
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

fn arbitrary_query_strings_and_paths_never_cause_500(db: Db) {
    let rt = runtime();
    let Some(app) = rt.block_on(fuzz_app(db)) else {
        return;
    };
    let owner = rt.block_on(app.project("org-a", "alpha"));
    let config = ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    };
    // `%00` (NUL), `%ED%A0%80` (a surrogate's UTF-8 form, invalid) and long
    // runs come up in both the query and the path.
    let hostile = prop_oneof![
        Just(String::new()),
        Just("%00".to_owned()),
        Just("%ED%A0%80".to_owned()),
        Just("%FF".to_owned()),
        Just("99999999999999999999999999".to_owned()),
        (300usize..5_000).prop_map(|n| "x".repeat(n)),
    ];
    proptest!(config, |(query in "[a-z_=&%0-9A-F+-]{0,60}", segment in "[a-zA-Z0-9%._~-]{1,40}", extra in hostile, which in 0usize..9)| {
        let query = format!("{query}{extra}");
        let segment = format!("{segment}{extra}");
        let (method, path) = match which {
            0 => (Method::GET, format!("/api/v1/auto-eval?{query}")),
            1 => (Method::GET, format!("/api/v1/projects?{query}")),
            2 => (Method::GET, format!("/api/v1/auto-eval/{segment}/results?{query}")),
            3 => (Method::GET, format!("/api/v1/projects/{segment}")),
            4 => (Method::GET, format!("/api/v1/webhooks/{segment}/deliveries?{query}")),
            5 => (Method::DELETE, format!("/api/v1/keys/{segment}")),
            6 => (Method::DELETE, format!("/api/v1/projects/alpha/scorers/{segment}")),
            7 => (Method::GET, format!("/api/v1/auto-eval?project_id={extra}&status={extra}&cursor={extra}")),
            _ => (Method::GET, format!("/api/v1/auto-eval/{segment}")),
        };
        let (status, text) = rt.block_on(async {
            let r = app.client.request(method, format!("{}{path}", app.base)).bearer_auth(&owner).send().await.unwrap();
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
