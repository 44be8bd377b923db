#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Against a provider that allows a fixed rate and answers 429 beyond it,
//! adaptive concurrency keeps throughput near the rate with few 429s.

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use evalguard_domain::ProjectId;
use evalguard_domain::ScoreOutcome;
use evalguard_domain::scoring::{ScoreOptions, ScorerAvailability, ScorerCatalog};
use evalguard_domain::traffic::TrafficSample;
use evalguard_judge::{JudgeCatalog, JudgeConfig, ProviderConfig};
use support::*;

fn sample(i: usize) -> TrafficSample {
    TrafficSample {
        id: format!("s{i}"),
        project_id: ProjectId::parse("p").unwrap(),
        model: "m".into(),
        prompt_id: "p".into(),
        input: format!("question {i}"),
        output: "answer".into(),
        context: vec!["context".into()],
        reference: None,
        timestamp: chrono::Utc::now(),
        metadata: None,
        latency_ms: None,
        prompt_tokens: None,
        completion_tokens: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throughput_sits_near_the_provider_rate_with_few_429s() {
    run_against_rate_limit(200.0, 20.0, 50, 1200, 0.85, 0.05).await;
}

/// The benchmark's shape (100 req/s, bursts of 100, 200 ms latency), shorter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "takes about 30 s; run with --ignored"]
async fn benchmark_shape_100_per_second() {
    run_against_rate_limit(100.0, 100.0, 200, 3000, 0.95, 0.015).await;
}

async fn run_against_rate_limit(
    rate: f64,
    burst: f64,
    latency_ms: u64,
    calls: usize,
    min_share: f64,
    max_429: f64,
) {
    let server = ScriptedServer::start(
        Step::ok(openai_completion(&factual_json())).delayed(Duration::from_millis(latency_ms)),
    )
    .await;
    server.limit_rate(rate, burst);
    let provider = ProviderConfig::openai("mock", &server.openai_base(), "judge-model", None);
    let config = JudgeConfig {
        providers: vec![provider],
        ..JudgeConfig::default()
    };
    let catalog = JudgeCatalog::with_deterministic_scorers(&config, None).unwrap();
    let ScorerAvailability::Ready(scorer) = catalog.resolve("hallucination", &[]) else {
        panic!()
    };
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..calls {
        let scorer = Arc::clone(&scorer);
        tasks.spawn(async move { scorer.score(&sample(i), ScoreOptions::default()).await });
    }
    let mut scored = 0;
    while let Some(run) = tasks.join_next().await {
        if matches!(run.unwrap().outcome, ScoreOutcome::Scored { .. }) {
            scored += 1;
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let rejected = server.state.rejected_429.load(Ordering::SeqCst);
    let throughput = calls as f64 / wall;
    let limit = catalog.provider("mock").unwrap().limiter().current_limit();
    println!(
        "throughput {throughput:.1}/s of {rate}/s, 429s {rejected} of {} requests, final limit {limit}",
        server.requests()
    );
    assert_eq!(scored, calls);
    assert!(
        throughput >= min_share * rate,
        "throughput {throughput:.1}/s"
    );
    assert!(
        (rejected as f64) <= max_429 * calls as f64,
        "{rejected} 429s"
    );
}
