#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The worker loops: claiming, running, and graceful shutdown.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use evalguard_domain::JobStatus;
use evalguard_domain::scoring::ScoreOutcome;
use evalguard_worker::spawn_job_workers;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

async fn until_succeeded(fx: &Fixture, id: evalguard_domain::JobId) {
    let storage = fx.storage.clone();
    let org = fx.org;
    eventually(Duration::from_secs(10), || {
        let storage = storage.clone();
        async move {
            storage.jobs.get_job(org, id).await.unwrap().unwrap().status == JobStatus::Succeeded
        }
    })
    .await;
}

#[tokio::test]
async fn workers_run_queued_jobs_and_stop_on_shutdown() {
    let fx = fixture().await;
    fx.traffic("m1", 20, 0).await;
    let wakeup = Arc::new(Notify::new());
    let shutdown = CancellationToken::new();
    let clock = Arc::new(ManualClock::default());
    let mut cfg = config("pool");
    cfg.concurrency = 2;
    cfg.clock = clock.clone(); // never advanced: only the wakeup can start them
    let handle = spawn_job_workers(
        fx.storage.clone(),
        catalog(vec![]),
        cfg,
        wakeup.clone(),
        shutdown.clone(),
    );
    // Both loops found the queue empty and wait.
    clock.until_sleeping(2).await;
    let ids = [
        fx.enqueue(fx.request("m1", 5)).await,
        fx.enqueue(fx.request("m1", 10)).await,
        fx.enqueue(fx.request("m1", 20)).await,
    ];
    wakeup.notify_waiters();
    for id in ids {
        until_succeeded(&fx, id).await;
    }
    assert_eq!(fx.job(ids[2]).await.progress.done, 20);
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(2), handle)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn idle_workers_find_unannounced_jobs_when_the_poll_interval_passes() {
    let fx = fixture().await;
    fx.traffic("m1", 5, 0).await;
    let shutdown = CancellationToken::new();
    let clock = Arc::new(ManualClock::default());
    let mut cfg = config("poller");
    cfg.poll_interval = Duration::from_secs(30);
    cfg.clock = clock.clone();
    let handle = spawn_job_workers(
        fx.storage.clone(),
        catalog(vec![]),
        cfg,
        Arc::new(Notify::new()),
        shutdown.clone(),
    );
    clock.until_sleeping(1).await;
    // Another process enqueued it: no wakeup reaches this one.
    let id = fx.enqueue(fx.request("m1", 5)).await;
    clock.advance(Duration::from_secs(29));
    assert_eq!(
        clock.sleeping(),
        1,
        "still waiting before the interval ends"
    );
    assert_eq!(fx.job(id).await.status, JobStatus::Queued);
    clock.advance(Duration::from_secs(1));
    until_succeeded(&fx, id).await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(2), handle)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn shutdown_releases_a_running_job_for_another_worker() {
    let fx = fixture().await;
    fx.traffic("m1", 20, 0).await;
    let mut judge = FakeJudge::new("correctness", Arc::new(|_| ScoreOutcome::scored(1.0)));
    let gate = Arc::new(tokio::sync::Semaphore::new(3));
    judge.gate = Some(gate.clone());
    let judge = Arc::new(judge);
    let mut request = fx.request("m1", 20);
    request.scorers = Some(vec!["correctness".to_owned()]);
    let id = fx.enqueue(request).await;

    let shutdown = CancellationToken::new();
    let handle = spawn_job_workers(
        fx.storage.clone(),
        catalog(vec![judge.clone()]),
        config("leaving"),
        Arc::new(Notify::new()),
        shutdown.clone(),
    );
    let storage = fx.storage.clone();
    eventually(Duration::from_secs(5), || {
        let storage = storage.clone();
        async move { storage.results.job_results(id).await.unwrap().len() == 3 }
    })
    .await;
    shutdown.cancel();
    // The stuck job gets the grace period (200 ms), then is released.
    tokio::time::timeout(Duration::from_secs(3), handle)
        .await
        .unwrap()
        .unwrap();
    let job = fx.job(id).await;
    assert_eq!(job.status, JobStatus::Queued);
    let claimed = fx
        .storage
        .jobs
        .claim_job("next", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        claimed.unwrap().job.id,
        id,
        "another worker continues at once"
    );
}
