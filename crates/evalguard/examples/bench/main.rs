//! Service benchmarks, measured from outside the server process:
//! traffic ingest (samples/s, batches of 1,000), `POST /api/v1/auto-eval`
//! latency under an open-loop load, and job throughput with the
//! deterministic scorers (wall time and the server's CPU time per sample).
//!
//! `cargo build --release && cargo run --release -p evalguard --example bench -- --db sqlite`
//! `--scenario judge` runs the judge benchmark instead (see `judge.rs`),
//! `--scenario otlp` the OTLP trace ingest benchmark (see `otlp.rs`),
//! `--scenario auth-flood` a valid key's latency under a flood of unknown
//! keys (see `auth_flood.rs`), `--scenario trigger` only the trigger latency,
//! on an idle server and on one whose worker is running jobs (see
//! `trigger.rs`; the A/B measurement of SQLite's group commit).
//! `EVALGUARD_BENCH_SERVER` names another `evalguard` binary to measure
//! (e.g. a copy built from an older commit), for A/B runs with one bench.
//! (`--db postgres` uses EVALGUARD_TEST_POSTGRES_URL to create a fresh database).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use evalguard_client::{Client, CreateAutoEval, Job, JobStatus, Target};
use evalguard_domain::ProjectId;
use serde_json::{Value, json};

mod auth_flood;
mod judge;
mod otlp;
mod server;
mod trigger;

use server::{Server, cpu_seconds, start_server};

pub fn batch(model: &str, start: usize, n: usize) -> Value {
    let samples: Vec<Value> = (start..start + n)
        .map(|i| {
            json!({
                "id": format!("{model}-{i}"), "project_id": "bench", "model": model, "prompt_id": "answer-v1",
                "input": format!("How do I reset the password of account {i}? I tried the link twice."),
                "output": format!("Open Settings, choose Security and press Reset password; a link for account {i} arrives by email within 5 minutes."),
                "context": ["Passwords are reset from Settings > Security. The reset link is emailed and expires after 30 minutes."],
                "latency_ms": 400 + (i % 700), "prompt_tokens": 180 + (i % 50), "completion_tokens": 40 + (i % 30),
                "timestamp": format!("2026-11-{:02}T{:02}:{:02}:{:02}Z", 1 + (i / 86400) % 28, (i / 3600) % 24, (i / 60) % 60, i % 60),
            })
        })
        .collect();
    json!({ "samples": samples })
}

/// Samples/s through HTTP in batches of 1,000, with `clients` concurrent senders.
async fn ingest(server: &Server, batches: usize, clients: usize) -> f64 {
    let bodies: Vec<Vec<u8>> = (0..batches)
        .map(|b| serde_json::to_vec(&batch("model-a", b * 1000, 1000)).unwrap())
        .collect();
    let request = Post {
        path: "/api/v1/traffic",
        content_type: "application/json",
        status: 202,
    };
    (batches * 1000) as f64 / post_concurrently(server, request, bodies, clients).await
}

/// Where and how [`post_concurrently`] sends, and the status it expects.
pub struct Post {
    pub path: &'static str,
    pub content_type: &'static str,
    pub status: u16,
}

/// Sends every body once with `clients` concurrent senders; returns the
/// seconds it took.
pub async fn post_concurrently(
    server: &Server,
    request: Post,
    bodies: Vec<Vec<u8>>,
    clients: usize,
) -> f64 {
    let client = reqwest::Client::new();
    let bodies = Arc::new(bodies);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let url = format!("{}{}", server.base, request.path);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, bodies, next) = (client.clone(), bodies.clone(), next.clone());
        let (url, key) = (url.clone(), server.key.clone());
        let (content_type, status) = (request.content_type, request.status);
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let r = client
                    .post(&url)
                    .bearer_auth(&key)
                    .header("content-type", content_type)
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), status, "{}", r.text().await.unwrap());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    started.elapsed().as_secs_f64()
}

/// Open-loop load of `rate` triggers/s for `secs`; returns sorted latencies in ms.
pub async fn trigger_latency(server: &Server, rate: u64, secs: u64) -> Vec<f64> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let url = format!("{}/api/v1/auto-eval", server.base);
    let body = serde_json::to_vec(
        &json!({"target": {"model": "model-a", "prompt_id": "answer-v1", "project_id": "bench"}}),
    )
    .unwrap();
    let total = rate * secs;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        tokio::time::sleep_until(started + interval * i as u32).await;
        let (client, url, key, body) = (
            client.clone(),
            url.clone(),
            server.key.clone(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = client
                .post(&url)
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
            t.elapsed().as_secs_f64() * 1000.0
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    for t in tasks {
        latencies.push(t.await.unwrap());
    }
    latencies.sort_by(f64::total_cmp);
    latencies
}

const DETERMINISTIC: [&str; 7] = [
    "empty_output",
    "refusal",
    "output_length",
    "latency",
    "tokens",
    "json_validity",
    "grounding",
];

/// Sends `n` samples of `model` (indices from `start`), each passed through `edit`.
pub async fn send_traffic(
    server: &Server,
    model: &str,
    start: usize,
    n: usize,
    edit: fn(usize, &mut Value),
) {
    let client = reqwest::Client::new();
    for b in 0..n.div_ceil(1000) {
        let mut body = batch(model, start + b * 1000, 1000.min(n - b * 1000));
        for (i, sample) in body["samples"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            edit(b * 1000 + i, sample);
        }
        let r = client
            .post(format!("{}/api/v1/traffic", server.base))
            .bearer_auth(&server.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
}

/// Runs one job with the deterministic scorers: (the finished job, wall s, server CPU s).
pub async fn run_job(server: &Server, model: &str, prompt: &str, n: usize) -> (Job, f64, f64) {
    let client = Client::new(&server.base, &server.key).unwrap();
    let cpu_before = cpu_seconds(server.child.id());
    let started = Instant::now();
    let mut request = CreateAutoEval::new(Target {
        model: model.to_owned(),
        prompt_id: prompt.to_owned(),
        project_id: ProjectId::parse("bench").unwrap(),
    });
    request.sample_count = Some(n as u32);
    request.scorers = Some(DETERMINISTIC.iter().map(|s| (*s).to_owned()).collect());
    let job_id = client.create_auto_eval(&request).await.unwrap().job_id;
    let job = loop {
        let job = client.job(&job_id).await.unwrap();
        match job.status {
            JobStatus::Succeeded => break job,
            JobStatus::Failed | JobStatus::Cancelled => panic!("job ended: {job:?}"),
            JobStatus::Queued | JobStatus::Running => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
        }
    };
    let wall = started.elapsed().as_secs_f64();
    (job, wall, cpu_seconds(server.child.id()) - cpu_before)
}

/// Two jobs over `n` samples each with no baseline, each on its own traffic:
/// the first on a fresh server (cold: empty caches), the second after it
/// (warm, as a long-running server sees): (wall s, server CPU µs per sample) each.
async fn job_throughput(server: &Server, n: usize) -> [(f64, f64); 2] {
    send_traffic(server, "model-j", 0, n, |_, _| {}).await;
    // Another prompt, so that neither job has the other as its baseline.
    send_traffic(server, "model-k", 400_000, n, |_, sample| {
        sample["prompt_id"] = json!("answer-v2");
    })
    .await;
    let mut figures = [(0.0, 0.0); 2];
    for (figure, (model, prompt)) in figures
        .iter_mut()
        .zip([("model-j", "answer-v1"), ("model-k", "answer-v2")])
    {
        let (_, wall, cpu) = run_job(server, model, prompt, n).await;
        *figure = (wall, cpu * 1e6 / n as f64);
    }
    figures
}

/// A whole flagged job: `n` current samples of a new model (one answer in five
/// a refusal, 300 ms slower) against `n` of the previous one.
async fn flagged_job(server: &Server, n: usize) -> (Job, f64, f64) {
    send_traffic(server, "model-old", 0, n, |_, _| {}).await;
    send_traffic(server, "model-new", 200_000, n, |i, sample| {
        if i % 5 == 0 {
            sample["output"] = json!("I'm sorry, but I can't help with that request.");
        }
        let latency = sample["latency_ms"].as_f64().unwrap_or(0.0);
        sample["latency_ms"] = json!(latency + 300.0);
    })
    .await;
    run_job(server, "model-new", "answer-v1", n).await
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let db = args
        .iter()
        .position(|a| a == "--db")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "sqlite".to_owned());
    let scenario = args
        .iter()
        .position(|a| a == "--scenario")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "service".to_owned());
    println!("## {db}: {scenario}\n");
    if scenario == "judge" {
        judge::run(&db, 10_000).await;
        return;
    }
    if scenario == "otlp" {
        otlp::run(&db, 100).await;
        return;
    }
    if scenario == "auth-flood" {
        auth_flood::run(&db).await;
        return;
    }
    if scenario == "trigger" {
        trigger::run(&db).await;
        return;
    }

    let server = start_server(&db, 0, &[]).await;
    let _ = ingest(&server, 5, 4).await; // warm-up
    let rate = ingest(&server, 100, 4).await;
    println!("ingest: {rate:.0} samples/s (100 batches of 1,000, 4 concurrent clients)");
    drop(server);

    let server = start_server(&db, 0, &[]).await;
    let _ = trigger_latency(&server, 100, 1).await; // warm-up
    let lat = trigger_latency(&server, 500, 10).await;
    trigger::print_line("auto-eval trigger at 500 req/s for 10 s", &lat);
    drop(server);

    let server = start_server(&db, 1, &[]).await;
    for ((wall, cpu_per_sample), when) in job_throughput(&server, 10_000)
        .await
        .into_iter()
        .zip(["first job of a fresh server", "second job"])
    {
        println!(
            "job of 10,000 samples, 7 deterministic scorers, no baseline ({when}): {wall:.2} s wall \
             ({:.0} samples/s), {cpu_per_sample:.1} µs server CPU per sample",
            10_000.0 / wall
        );
    }
    drop(server);

    let server = start_server(&db, 1, &[]).await;
    let (job, wall, cpu) = flagged_job(&server, 10_000).await;
    let flags: Vec<String> = job
        .flags
        .iter()
        .map(|f| format!("{}:{}", format!("{:?}", f.kind).to_lowercase(), f.metric))
        .collect();
    println!(
        "flagged job, 10,000 current vs 10,000 baseline samples: {wall:.2} s wall, {:.1} µs server CPU per scored sample; \
         {} flags ({})",
        cpu * 1e6 / 20_000.0,
        flags.len(),
        flags.join(", ")
    );
}
