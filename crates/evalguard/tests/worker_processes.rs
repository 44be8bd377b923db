//! Several `evalguard worker` processes on one PostgreSQL database never run
//! one job at the same time: every sample of every job is judged exactly once,
//! and both processes take part.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};
use support::{KillOnDrop, TestApp};

const BIN: &str = env!("CARGO_BIN_EXE_evalguard");

#[derive(Default)]
struct Seen {
    by_sample: HashMap<String, u32>,
    by_worker: HashMap<String, u32>,
}

async fn start_judge(seen: Arc<Mutex<Seen>>) -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let seen = seen.clone();
            async move {
                let prompt = body.to_string();
                // The sample's unique marker, e.g. "answer m3-17".
                let marker = prompt
                    .split("answer m")
                    .nth(1)
                    .map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect::<String>())
                    .unwrap_or_default();
                let worker = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                {
                    let mut seen = seen.lock().unwrap();
                    *seen.by_sample.entry(marker).or_default() += 1;
                    *seen.by_worker.entry(worker).or_default() += 1;
                }
                // A job takes about 0.4 s, so one process alone (2 jobs at a time) needs
                // about 2.4 s for all 12: far longer than the other one takes to
                // poll (1 s) and claim its share.
                tokio::time::sleep(Duration::from_millis(400)).await;
                let verdict = json!({"claims": [{"claim": "c", "verdict": "supported"}], "reasoning": "ok"});
                Json(json!({
                    "id": "x", "object": "chat.completion", "model": "judge",
                    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": verdict.to_string()}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_never_run_one_job_twice() {
    let Some(app) = TestApp::spawn_postgres_with(|c| c.workers = 0).await else {
        return;
    };
    let seen = Arc::new(Mutex::new(Seen::default()));
    let judge = start_judge(seen.clone()).await;
    let key = app.project("acme", "bot").await;

    const JOBS: usize = 12;
    const PER_JOB: usize = 40;
    let mut samples = Vec::new();
    for j in 0..JOBS {
        for i in 0..PER_JOB {
            samples.push(json!({"id": format!("m{j}-{i}"), "project_id": "bot", "model": format!("m{j}"),
                "prompt_id": "p", "input": "q", "output": format!("answer m{j}-{i}"), "context": ["c"]}));
        }
    }
    let r = app
        .post(&key, "/api/v1/traffic", json!({"samples": samples}))
        .await;
    assert_eq!(r.status(), 202);

    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<&str>();
    let workers: Vec<KillOnDrop> = ["worker-a", "worker-b"]
        .iter()
        .map(|name| {
            let mut child = Command::new(BIN)
                .args([
                    "worker",
                    "--workers",
                    "2",
                    "--database-url",
                    &app.database_url,
                ])
                .env("EVALGUARD_JUDGE_BASE_URL", &judge)
                .env("EVALGUARD_JUDGE_API_KEY", name)
                .env("EVALGUARD_JUDGE_MODEL", "judge-1")
                .env("EVALGUARD_LOG", "info")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // Reads the log to its end, so the pipe never fills, and says when
            // the process has migrated and is taking jobs.
            let stderr = BufReader::new(child.stderr.take().unwrap());
            let ready_tx = ready_tx.clone();
            let name: &'static str = name;
            std::thread::spawn(move || {
                for line in stderr.lines().map_while(Result::ok) {
                    if line.contains("workers running") {
                        let _ = ready_tx.send(name);
                    }
                }
            });
            KillOnDrop(child)
        })
        .collect();
    // Jobs go in only once both processes are up: a process still migrating
    // when the last job finishes would take none.
    for _ in 0..2 {
        tokio::time::timeout(Duration::from_secs(60), ready_rx.recv())
            .await
            .expect("a worker process never said it was running");
    }

    let mut ids = Vec::new();
    for j in 0..JOBS {
        let r = app
            .post(
                &key,
                "/api/v1/auto-eval",
                json!({"target": {"model": format!("m{j}"), "prompt_id": "p", "project_id": "bot"},
                "sample_count": PER_JOB, "scorers": ["hallucination"], "cache": false}),
            )
            .await;
        assert_eq!(r.status(), 202);
        ids.push(
            r.json::<Value>().await.unwrap()["job_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for id in &ids {
        let job = app.wait_for_job(&key, id, 120).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        assert_eq!(job["summary"]["hallucination"]["n"], PER_JOB, "{job}");
    }
    drop(workers);

    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.by_sample.len(), JOBS * PER_JOB, "every sample judged");
        let twice: Vec<_> = seen.by_sample.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "samples judged more than once: {twice:?}");
        assert_eq!(
            seen.by_worker.len(),
            2,
            "both worker processes took jobs: {:?}",
            seen.by_worker
        );
    }
    app.stop().await;
}
