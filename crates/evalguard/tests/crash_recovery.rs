//! Crash safety: the real binary is killed with SIGKILL in the middle of a job
//! and started again; the job finishes with every sample scored exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::post;
use serde_json::{Value, json};

mod support;

use support::KillOnDrop;

const BIN: &str = env!("CARGO_BIN_EXE_evalguard");
const SAMPLES: usize = 3000;

/// An OpenAI-compatible judge that takes 100 ms per call and finds every answer supported.
async fn start_slow_judge(calls: Arc<AtomicU64>) -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move |Json(_body): Json<Value>| {
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
                let verdict = json!({"claims": [{"claim": "the answer", "verdict": "supported"}], "reasoning": "supported by the context"});
                Json(support::chat_completion(&verdict.to_string()))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

fn spawn_server(db_url: &str, port: u16, judge: &str) -> KillOnDrop {
    KillOnDrop(
        Command::new(BIN)
            .args([
                "serve",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                db_url,
                "--workers",
                "1",
            ])
            .env("EVALGUARD_JUDGE_BASE_URL", judge)
            .env("EVALGUARD_JUDGE_API_KEY", "test-judge-key")
            .env("EVALGUARD_JUDGE_MODEL", "judge-1")
            .env(
                "EVALGUARD_LOG",
                std::env::var("CRASH_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

async fn wait_until_up(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

async fn get_job(client: &reqwest::Client, base: &str, key: &str, id: &str) -> Value {
    client
        .get(format!("{base}/api/v1/auto-eval/{id}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_survives_kill_9_and_scores_every_sample_exactly_once() {
    evalguard::install_tls_provider();
    let calls = Arc::new(AtomicU64::new(0));
    let judge = start_slow_judge(calls.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("crash.db").display());
    let out = Command::new(BIN)
        .args([
            "keys",
            "create",
            "--org",
            "acme",
            "--role",
            "owner",
            "--database-url",
            &db_url,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let key = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut server = spawn_server(&db_url, port, &judge);
    wait_until_up(&client, &base).await;

    let r = client
        .post(format!("{base}/api/v1/projects"))
        .bearer_auth(&key)
        .json(&json!({"id": "bot", "name": "Bot"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let samples: Vec<Value> = (0..SAMPLES)
        .map(|i| {
            json!({"id": format!("s{i}"), "project_id": "bot", "model": "m", "prompt_id": "p",
                   "input": format!("question {i}"), "output": format!("answer {i}"),
                   "context": [format!("passage {i}")]})
        })
        .collect();
    let r = client
        .post(format!("{base}/api/v1/traffic"))
        .bearer_auth(&key)
        .json(&json!({"samples": samples}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let r = client
        .post(format!("{base}/api/v1/auto-eval"))
        .bearer_auth(&key)
        .json(
            &json!({"target": {"model": "m", "prompt_id": "p", "project_id": "bot"},
                      "sample_count": SAMPLES, "scorers": ["hallucination", "refusal"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let job_id = r.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Wait until the job is well under way, then kill -9.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job = get_job(&client, &base, &key, &job_id).await;
        let done = job["progress"]["done"].as_u64().unwrap_or(0);
        if done >= 300 {
            assert!(
                done < SAMPLES as u64 - 300,
                "the job ran too fast to be killed mid-way: {job}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "the job did not progress: {job}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();

    let restarted_at = Instant::now();
    let _server = spawn_server(&db_url, port, &judge);
    wait_until_up(&client, &base).await;
    let job = loop {
        let job = get_job(&client, &base, &key, &job_id).await;
        if job["status"] == "succeeded" {
            break job;
        }
        assert!(
            !matches!(job["status"].as_str(), Some("failed" | "cancelled")),
            "{job}"
        );
        assert!(
            restarted_at.elapsed() < Duration::from_secs(90),
            "the job did not finish: {job}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(job["progress"]["total"], SAMPLES);
    assert_eq!(job["progress"]["done"], SAMPLES);
    let hallucination = &job["summary"]["hallucination"];
    assert_eq!(hallucination["n"], SAMPLES, "{job}");
    assert_eq!(hallucination["outcomes"]["error"], 0, "{job}");
    // Every sample appears exactly once in the results.
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/v1/auto-eval/{job_id}/results?limit=1000&cursor={c}"),
            None => format!("/api/v1/auto-eval/{job_id}/results?limit=1000"),
        };
        let mut page: Value = client
            .get(format!("{base}{url}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in page["data"].as_array().unwrap() {
            assert!(
                seen.insert(item["sample_id"].as_str().unwrap().to_owned()),
                "a sample twice"
            );
        }
        match page["next_cursor"].take() {
            Value::String(c) => cursor = Some(c),
            _ => break,
        }
    }
    assert_eq!(seen.len(), SAMPLES);
    // The restarted process judged at most the samples that had no stored result.
    assert!(calls.load(Ordering::Relaxed) < 2 * SAMPLES as u64);
}
