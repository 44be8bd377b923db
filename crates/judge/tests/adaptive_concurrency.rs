#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Against a provider that allows a fixed rate and answers 429 beyond it,
//! adaptive concurrency grows from its cautious start, backs off below the
//! provider's ceiling, and turns no 429 into a lost verdict. The regular test
//! checks that behaviour (not wall-clock throughput, which a loaded machine
//! cannot promise); the ignored one measures the benchmark's shape.

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
async fn concurrency_grows_then_settles_under_the_provider_limit() {
    // 200 req/s with bursts of 20 and 50 ms latency sustains ~10 calls in
    // flight; 64 (the ceiling) at once would empty the bucket at once.
    let run = run_against_rate_limit(200.0, 20.0, 50, 1200).await;
    assert_eq!(
        run.scored, run.calls,
        "every call ends scored, 429s included"
    );
    assert!(
        run.max_in_flight > 4,
        "it grew past its starting limit of 4: {} at most",
        run.max_in_flight
    );
    assert!(
        run.max_in_flight <= 64,
        "never above the configured ceiling: {}",
        run.max_in_flight
    );
    assert!(
        run.final_limit < 64,
        "429s brought the limit under the ceiling: {}",
        run.final_limit
    );
    // Mostly the overshoot of slow start against a burst of only 20; on a
    // loaded machine 3–6% was seen. Far from the 50%+ a fixed 64 would draw.
    assert!(
        (run.rejected as f64) <= 0.10 * run.calls as f64,
        "{} 429s for {} calls",
        run.rejected,
        run.calls
    );
}

/// The benchmark's shape (100 req/s, bursts of 100, 200 ms latency), shorter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "takes about 30 s; run with --ignored"]
async fn benchmark_shape_100_per_second() {
    let rate = 100.0;
    let run = run_against_rate_limit(rate, 100.0, 200, 3000).await;
    assert_eq!(run.scored, run.calls);
    let throughput = run.calls as f64 / run.wall_secs;
    assert!(throughput >= 0.95 * rate, "throughput {throughput:.1}/s");
    assert!(
        (run.rejected as f64) <= 0.015 * run.calls as f64,
        "{} 429s",
        run.rejected
    );
}

/// What one run against the rate-limited provider did.
struct Run {
    calls: usize,
    scored: usize,
    rejected: u64,
    max_in_flight: u64,
    final_limit: u32,
    wall_secs: f64,
}

async fn run_against_rate_limit(rate: f64, burst: f64, latency_ms: u64, calls: usize) -> Run {
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
    let wall_secs = start.elapsed().as_secs_f64();
    let rejected = server.state.rejected_429.load(Ordering::SeqCst);
    let max_in_flight = server.state.max_in_flight.load(Ordering::SeqCst);
    let final_limit = catalog.provider("mock").unwrap().limiter().current_limit();
    println!(
        "{:.1}/s of {rate}/s, 429s {rejected} of {} requests, at most {max_in_flight} in flight, final limit {final_limit}",
        calls as f64 / wall_secs,
        server.requests()
    );
    Run {
        calls,
        scored,
        rejected,
        max_in_flight,
        final_limit,
        wall_secs,
    }
}
