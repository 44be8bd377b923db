//! Webhook deliveries never go through a proxy, whatever the environment
//! says: a proxy would resolve the endpoint's name again, itself, and could
//! reach an address the SSRF guard never checked. The real binary runs with
//! `HTTPS_PROXY`, `HTTP_PROXY` and `ALL_PROXY` (and their lowercase forms)
//! pointing at a listener that records every connection; the signed delivery
//! must reach the receiver directly and the proxy must see nothing.
//! (Environment variables are set on the child process: setting them in the
//! test process would need `unsafe` and race the other tests.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use tokio::net::TcpListener;

mod support;

use support::{KillOnDrop, free_port, sample};

const BIN: &str = env!("CARGO_BIN_EXE_evalguard");
const PROXY_VARIABLES: [&str; 6] = [
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
    "https_proxy",
    "http_proxy",
    "all_proxy",
];

/// A listener that only counts the connections made to it.
async fn recording_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((connection, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(connection);
        }
    });
    (url, seen)
}

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A webhook receiver that keeps every delivery's headers and body.
async fn webhook_receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let kept = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push((headers, body));
                "ok"
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

fn owner_key(database_url: &str) -> String {
    let out = Command::new(BIN)
        .args(["keys", "create", "--org", "acme", "--role", "owner"])
        .args(["--database-url", database_url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned()
}

/// `serve` with every proxy variable pointing at `proxy`, loopback webhook
/// targets allowed (the receiver is local) and one job worker.
fn spawn_server(dir: &std::path::Path, database_url: &str, port: u16, proxy: &str) -> KillOnDrop {
    let config = dir.join("evalguard.toml");
    std::fs::write(&config, "[webhooks]\nallow_private = true\n").unwrap();
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--database-url", database_url])
        .arg("--config")
        .arg(&config)
        .args(["--workers", "1"])
        .env("EVALGUARD_LOG", "warn")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .stdout(Stdio::null());
    for variable in PROXY_VARIABLES {
        command.env(variable, proxy);
    }
    KillOnDrop(command.spawn().unwrap())
}

async fn post(client: &reqwest::Client, url: String, key: &str, body: Value) -> Value {
    let response = client
        .post(url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_deliveries_ignore_proxy_environment_variables() {
    evalguard::install_tls_provider();
    let (proxy, proxy_connections) = recording_proxy().await;
    let (hook_url, received) = webhook_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("evalguard.db").display());
    let key = owner_key(&database_url);
    let port = free_port();
    let _server = spawn_server(dir.path(), &database_url, port, &proxy);
    let base = format!("http://127.0.0.1:{port}");
    // This test's own client must not use a proxy either.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    post(
        &client,
        format!("{base}/api/v1/projects"),
        &key,
        json!({"id": "bot", "name": "Bot"}),
    )
    .await;
    let created = post(
        &client,
        format!("{base}/api/v1/projects/bot/webhooks"),
        &key,
        json!({"url": hook_url, "events": ["auto_eval.completed"]}),
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    let samples: Vec<Value> = (0..5)
        .map(|i| sample("bot", "m", "p", &format!("s{i}"), "an answer"))
        .collect();
    post(
        &client,
        format!("{base}/api/v1/traffic"),
        &key,
        json!({"samples": samples}),
    )
    .await;
    let job = post(
        &client,
        format!("{base}/api/v1/auto-eval"),
        &key,
        json!({"target": {"project_id": "bot", "model": "m", "prompt_id": "p"},
               "scorers": ["empty_output"]}),
    )
    .await;
    let job_id = job["job_id"].as_str().unwrap().to_owned();

    let deadline = Instant::now() + Duration::from_secs(60);
    let (headers, body) = loop {
        if let Some(delivery) = received.lock().unwrap().first().cloned() {
            break delivery;
        }
        assert!(
            Instant::now() < deadline,
            "no delivery reached the receiver"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
    assert_eq!(
        header("webhook-signature"),
        evalguard_worker::sign(&secret, &header("webhook-id"), timestamp, &body)
    );
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["type"], "auto_eval.completed", "{payload}");
    assert!(payload.to_string().contains(&job_id), "{payload}");
    assert_eq!(proxy_connections.load(Ordering::SeqCst), 0);
}
