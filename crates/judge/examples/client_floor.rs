//! The floor under the judge benchmark's CPU figure: a bare reqwest client
//! (the same client settings and a request body of the same size as a
//! hallucination judgment), paced at `--rps` requests per second against the
//! mock provider, with nothing else in the process: no prompt rendering, no
//! verdict parsing, no database. Prints this process's CPU time per request.
//!
//! cargo run --release -p evalguard-judge --example mock_openai -- --port 9100 --rps 1000 --burst 1000 &
//! cargo run --release -p evalguard-judge --example client_floor -- --url http://127.0.0.1:9100/v1 --rps 100 -n 3000
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / 100.0
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let url = format!(
        "{}/chat/completions",
        arg("--url", "http://127.0.0.1:9100/v1")
    );
    let rps: f64 = arg("--rps", "100").parse().unwrap();
    let n: u32 = arg("-n", "3000").parse().unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    // About the size of a rendered hallucination prompt.
    let body = serde_json::to_vec(&json!({
        "model": "mock", "temperature": 0, "max_tokens": 1024, "seed": 42,
        "messages": [
            {"role": "system", "content": "x".repeat(1500)},
            {"role": "user", "content": "y".repeat(700)}
        ],
        "response_format": {"type": "json_schema", "json_schema": {"name": "verdict", "strict": true,
            "schema": {"type": "object", "properties": {"label": {"type": "string", "enum": ["factual", "hallucinated"]},
            "score": {"type": "number"}, "reasoning": {"type": "string"}}, "required": ["label", "score", "reasoning"]}}}
    }))
    .unwrap();
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rps);
    let mut tasks = Vec::with_capacity(n as usize);
    for i in 0..n {
        tokio::time::sleep_until((started + interval * i).into()).await;
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let reply: Value = response.json().await.unwrap_or(Value::Null);
            (status.as_u16(), reply.is_object())
        }));
    }
    let mut ok = 0;
    for task in tasks {
        if task.await.unwrap() == (200, true) {
            ok += 1;
        }
    }
    let cpu = cpu_seconds() - cpu_before;
    println!(
        "{n} requests at {rps}/s ({ok} answered 200) in {:.1} s: {:.0} µs of this process's CPU per request",
        started.elapsed().as_secs_f64(),
        cpu * 1e6 / f64::from(n)
    );
}
