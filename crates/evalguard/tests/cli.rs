//! The binary as an operator and a CI pipeline use it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use support::{TestApp, free_port, sample};

const BIN: &str = env!("CARGO_BIN_EXE_evalguard");

#[tokio::test]
async fn serve_in_an_empty_directory_creates_the_database_and_keys_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "keys", "create", "--org", "acme", "--role", "admin", "--name", "ci",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key = stdout.lines().last().unwrap().trim().to_owned();
    assert!(key.starts_with("eg_"), "{stdout}");
    assert!(dir.path().join("evalguard.db").exists());

    let port = free_port();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    evalguard::install_tls_provider();
    let client = reqwest::Client::new();
    let mut answered = None;
    for _ in 0..100 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/api/v1/projects"))
            .bearer_auth(&key)
            .send()
            .await
        {
            answered = Some(r.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // SIGTERM: a graceful stop.
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let status = child.wait().unwrap();
    assert_eq!(answered, Some(reqwest::StatusCode::OK));
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

#[test]
fn migrate_applies_and_bad_roles_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let out = Command::new(BIN)
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(BIN)
        .args([
            "keys",
            "create",
            "--org",
            "a",
            "--role",
            "king",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn gate(app: &TestApp, key: &str, extra: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args([
            "eval",
            "--project",
            "bot",
            "--model",
            "new",
            "--prompt-id",
            "answer-v1",
        ])
        .args(extra)
        .env("EVALGUARD_URL", &app.base)
        .env("EVALGUARD_API_KEY", key)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ci_gate_exits_0_1_or_2() {
    let app = TestApp::spawn_sqlite().await;
    let key = app.project("acme", "bot").await;
    let mut samples = Vec::new();
    for i in 0..100 {
        let mut old = sample(
            "bot",
            "old",
            "answer-v1",
            &format!("o{i}"),
            "EvalGuard answers questions about deployments.",
        );
        old["timestamp"] = json!(format!("2026-11-01T10:00:{:02}Z", i % 60));
        let mut new = sample(
            "bot",
            "new",
            "answer-v1",
            &format!("n{i}"),
            "I'm sorry, but I can't help with that.",
        );
        new["timestamp"] = json!(format!("2026-11-02T10:00:{:02}Z", i % 60));
        samples.push(old);
        samples.push(new);
    }
    let r = app
        .post(&key, "/api/v1/traffic", json!({"samples": samples}))
        .await;
    assert_eq!(r.status(), 202);

    let flagged = tokio::task::block_in_place(|| {
        gate(
            &app,
            &key,
            &["--samples", "100", "--fail-on", "regression,drift"],
        )
    });
    let report = String::from_utf8_lossy(&flagged.stdout);
    assert_eq!(
        flagged.status.code(),
        Some(1),
        "{report}\n{}",
        String::from_utf8_lossy(&flagged.stderr)
    );
    assert!(report.contains("regression"), "{report}");

    // With --json the job comes out whole; hallucination cannot be judged
    // without a judge, so the gate cannot decide (2) and says why.
    let json_out =
        tokio::task::block_in_place(|| gate(&app, &key, &["--json", "--fail-on", "hallucination"]));
    assert_eq!(
        json_out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&json_out.stderr)
    );
    assert!(String::from_utf8_lossy(&json_out.stderr).contains("hallucination judge"));
    let job: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    assert_eq!(job["status"], "succeeded");

    let bad_key = tokio::task::block_in_place(|| gate(&app, "eg_000000000000_00", &[]));
    assert_eq!(bad_key.status.code(), Some(2));
    let unreachable = Command::new(BIN)
        .args([
            "eval",
            "--project",
            "bot",
            "--model",
            "new",
            "--prompt-id",
            "p",
            "--url",
            "http://127.0.0.1:9",
        ])
        .env("EVALGUARD_API_KEY", &key)
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(2));
    app.stop().await;
}
