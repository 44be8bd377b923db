//! The judge benchmark: one job of `n` judge calls against a local mock
//! provider (200 ms latency, 100 requests/s with bursts of 100, 429 beyond),
//! the provider configured by the environment shortcut alone. Reports
//! throughput from the `202` to the job's end, the share of 429 answers and
//! the server's CPU time per judged sample; then runs the same judgments
//! through a Python evaluation library (Arize Phoenix evals) when installed.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::server::{KillOnDrop, cpu_seconds, free_port, server_binary, start_server};

async fn mock_stats(client: &reqwest::Client, base: &str) -> Value {
    client
        .get(format!("{base}/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn run(db: &str, n: usize) {
    let mock_bin = server_binary()
        .parent()
        .unwrap()
        .join("examples")
        .join("mock_openai");
    let port = free_port();
    let _mock = KillOnDrop(
        Command::new(&mock_bin)
            .args(["--port", &port.to_string(), "--latency-ms", "200", "--rps", "100", "--burst", "100"])
            .stdout(Stdio::null())
            .spawn()
            .expect("build the mock first: cargo build --release -p evalguard-judge --example mock_openai"),
    );
    let mock = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{mock}/stats")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let judge_url = format!("{mock}/v1");
    let server = start_server(
        db,
        1,
        &[
            ("EVALGUARD_JUDGE_BASE_URL", judge_url.as_str()),
            ("EVALGUARD_JUDGE_API_KEY", "bench-key"),
            ("EVALGUARD_JUDGE_MODEL", "mock-judge"),
        ],
    )
    .await;
    for b in 0..n.div_ceil(1000) {
        let size = 1000.min(n - b * 1000);
        let r = client
            .post(format!("{}/api/v1/traffic", server.base))
            .bearer_auth(&server.key)
            .json(&crate::batch("model-judge", b * 1000, size))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    // Let the mock's bucket fill up again after any earlier use.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = mock_stats(&client, &mock).await;
    let cpu_before = cpu_seconds(server.child.id());
    let started = Instant::now();
    let r: Value = client
        .post(format!("{}/api/v1/auto-eval", server.base))
        .bearer_auth(&server.key)
        .json(&json!({"target": {"model": "model-judge", "prompt_id": "answer-v1", "project_id": "bench"},
                      "sample_count": n, "scorers": ["hallucination"], "cache": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job_id = r["job_id"].as_str().unwrap().to_owned();
    let job = loop {
        let job: Value = client
            .get(format!("{}/api/v1/auto-eval/{job_id}", server.base))
            .bearer_auth(&server.key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if matches!(
            job["status"].as_str(),
            Some("succeeded" | "failed" | "cancelled")
        ) {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(server.child.id()) - cpu_before;
    let after = mock_stats(&client, &mock).await;
    let ok = after["ok_200"].as_u64().unwrap() - before["ok_200"].as_u64().unwrap();
    let rejected =
        after["rejected_429"].as_u64().unwrap() - before["rejected_429"].as_u64().unwrap();
    let scored = job["summary"]["hallucination"]["outcomes"]["scored"]
        .as_u64()
        .unwrap_or(0);
    println!(
        "judge job: status {}, {scored} of {n} scored, {wall:.1} s from 202 to the end = {:.1} judged samples/s; \
         provider answered {ok} × 200 and {rejected} × 429 ({:.2}% 429); server CPU {:.1} µs per judged sample",
        job["status"],
        n as f64 / wall,
        100.0 * rejected as f64 / (ok + rejected).max(1) as f64,
        cpu * 1e6 / n as f64,
    );

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/bench_phoenix.py"
    );
    // Told the provider's rate, and with its own default (slow-starting)
    // client-side limiter on a tenth of the rows.
    for (initial_rate, rows) in [(Some("100"), n), (None, n / 10)] {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = mock_stats(&client, &mock).await;
        let mut command = Command::new("python3");
        command.args([script, "--base-url", &judge_url, "--n", &rows.to_string()]);
        if let Some(rate) = initial_rate {
            command.args(["--initial-rate", rate]);
        }
        match command.output() {
            Ok(out) if out.status.success() => {
                let after = mock_stats(&client, &mock).await;
                // The report is the last JSON object printed; the library prints
                // progress messages before it, not always ending their lines.
                let stdout = String::from_utf8_lossy(&out.stdout);
                let report: Value = stdout
                    .rfind("{\"version\"")
                    .and_then(|at| stdout[at..].lines().next())
                    .and_then(|line| serde_json::from_str(line).ok())
                    .unwrap_or(Value::Null);
                let ok = after["ok_200"].as_u64().unwrap() - before["ok_200"].as_u64().unwrap();
                let rejected = after["rejected_429"].as_u64().unwrap()
                    - before["rejected_429"].as_u64().unwrap();
                let py_wall = report["wall_secs"].as_f64().unwrap_or(f64::NAN);
                println!(
                    "phoenix-evals {} (initial rate {}): {rows} rows in {py_wall:.1} s = {:.1} judged samples/s; \
                     {ok} × 200, {rejected} × 429 ({:.2}%); Python CPU {:.0} µs per judged sample; \
                     EvalGuard's throughput is {:.2}× and its CPU per sample {:.3}× of this",
                    report["version"].as_str().unwrap_or("?"),
                    initial_rate.unwrap_or("default"),
                    rows as f64 / py_wall,
                    100.0 * rejected as f64 / (ok + rejected).max(1) as f64,
                    report["cpu_secs"].as_f64().unwrap_or(f64::NAN) * 1e6 / rows as f64,
                    (n as f64 / wall) / (rows as f64 / py_wall),
                    (cpu / n as f64)
                        / (report["cpu_secs"].as_f64().unwrap_or(f64::NAN) / rows as f64),
                );
            }
            Ok(out) => println!(
                "phoenix-evals comparison skipped: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ),
            Err(e) => println!("phoenix-evals comparison skipped: {e}"),
        }
    }
}
