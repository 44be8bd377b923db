//! `--scenario trigger`: `POST /api/v1/auto-eval` latency at 500 req/s for
//! 10 s, on an idle server (`--workers 0`, as in the service run) and on a
//! busy one: one worker runs the triggered jobs as they arrive (each a claim
//! and a finish) while a 10,000-sample job with the deterministic scorers
//! runs over and over beside them (plan, progress and result writes), so the
//! triggers' commits compete with worker bookkeeping for SQLite's single
//! writer, as on a real server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::server::start_server;
use crate::{percentile, run_job, send_traffic, trigger_latency};

pub fn print_line(what: &str, lat: &[f64]) {
    println!(
        "{what}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} requests)",
        percentile(lat, 0.5),
        percentile(lat, 0.99),
        lat.last().copied().unwrap_or(0.0),
        lat.len()
    );
}

pub async fn run(db: &str) {
    let server = start_server(db, 0, &[]).await;
    let _ = trigger_latency(&server, 100, 1).await; // warm-up
    let lat = trigger_latency(&server, 500, 10).await;
    print_line(
        "auto-eval trigger at 500 req/s for 10 s, idle server (no workers)",
        &lat,
    );
    drop(server);

    let server = Arc::new(start_server(db, 1, &[]).await);
    send_traffic(&server, "model-j", 0, 10_000, |_, _| {}).await;
    let stop = Arc::new(AtomicBool::new(false));
    let background = {
        let (server, stop) = (server.clone(), stop.clone());
        tokio::spawn(async move {
            let mut jobs = 0u32;
            while !stop.load(Ordering::Relaxed) {
                run_job(&server, "model-j", "answer-v1", 10_000).await;
                jobs += 1;
            }
            jobs
        })
    };
    let _ = trigger_latency(&server, 100, 1).await; // warm-up
    let lat = trigger_latency(&server, 500, 10).await;
    stop.store(true, Ordering::Relaxed);
    let jobs = background.await.unwrap();
    print_line(
        &format!(
            "auto-eval trigger at 500 req/s for 10 s, busy server (1 worker running the triggered jobs \
             and {jobs} jobs of 10,000 samples meanwhile)"
        ),
        &lat,
    );
}
