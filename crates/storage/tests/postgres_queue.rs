#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "testing")]
//! The PostgreSQL job queue under concurrency: every job is handed out once,
//! an expired lease is taken over, and only the lease holder can finish.
//! Needs EVALGUARD_TEST_POSTGRES_URL and the `testing` feature; each test
//! runs in a database of its own.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use evalguard_domain::job::{AutoEvalRequest, JobStatus};
use evalguard_domain::{JobId, OrgId, Progress, ProjectId, TrafficSample, Usage};
use evalguard_storage::postgres::PostgresStore;
use evalguard_storage::testing;
use evalguard_storage::{JobCompletion, JobStore, LeaseState, NewJob, TrafficStore};
use serde_json::json;

/// A new, empty, migrated database on the test server; `None` (with a
/// notice) when EVALGUARD_TEST_POSTGRES_URL is unset.
async fn fresh_store() -> Option<PostgresStore> {
    Some(fresh_store_at().await?.0)
}

/// [`fresh_store`] with its URL, for tests that move the lease clock.
async fn fresh_store_at() -> Option<(PostgresStore, String)> {
    let url = testing::fresh_postgres().await?;
    Some((PostgresStore::connect(&url).await.unwrap(), url))
}

fn new_job(org: OrgId, idempotency_key: Option<&str>) -> NewJob {
    let request = AutoEvalRequest::from_json(&json!({
        "target": {"model": "m", "prompt_id": "p", "project_id": "proj"}, "sample_count": 10
    }))
    .unwrap();
    NewJob {
        id: JobId::new(),
        org_id: org,
        request,
        idempotency_key: idempotency_key.map(str::to_owned),
        created_at: Utc::now(),
    }
}

fn succeeded() -> JobCompletion {
    JobCompletion {
        status: JobStatus::Succeeded,
        finished_at: chrono::Utc::now(),
        events: Vec::new(),
        progress: Progress {
            total: 10,
            done: 10,
            errors: 0,
        },
        partial: false,
        stop_reason: None,
        summary: Default::default(),
        flags: Vec::new(),
        warnings: Vec::new(),
        usage: Usage::default(),
        baseline: None,
        error: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_get_every_job_exactly_once() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let store = Arc::new(store);
    let org = OrgId::new();
    let mut enqueued = HashSet::new();
    for _ in 0..50 {
        let (job, created) = store.enqueue(new_job(org, None)).await.unwrap();
        assert!(created);
        enqueued.insert(job.id);
    }
    let claimers = (0..8).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            let worker = format!("worker-{w}");
            let mut mine = Vec::new();
            while let Some(claimed) = store
                .claim_job(&worker, Duration::from_secs(30))
                .await
                .unwrap()
            {
                assert_eq!(claimed.attempt, 1);
                assert_eq!(claimed.job.status, JobStatus::Running);
                mine.push(claimed.job.id);
            }
            mine
        })
    });
    let mut claimed = Vec::new();
    for handle in claimers.collect::<Vec<_>>() {
        claimed.extend(handle.await.unwrap());
    }
    let distinct: HashSet<JobId> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), 50, "a job was handed out twice or missed");
    assert_eq!(distinct, enqueued);
    let depth = store.queue_depth().await.unwrap();
    assert_eq!((depth.queued, depth.running), (0, 50));
}

#[tokio::test]
async fn expired_lease_is_reclaimed_and_only_the_holder_finishes() {
    let Some((store, url)) = fresh_store_at().await else {
        return;
    };
    let org = OrgId::new();
    let (job, _) = store.enqueue(new_job(org, None)).await.unwrap();

    let first = store
        .claim_job("a", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((first.job.id, first.attempt), (job.id, 1));
    assert!(
        store
            .claim_job("b", Duration::from_secs(30))
            .await
            .unwrap()
            .is_none(),
        "lease still held"
    );
    assert_eq!(
        store
            .heartbeat(job.id, "a", Duration::from_secs(30))
            .await
            .unwrap(),
        LeaseState::Held
    );

    testing::expire_running_leases(&url).await.unwrap();
    let second = store
        .claim_job("b", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((second.job.id, second.attempt), (job.id, 2));
    assert_eq!(
        second.job.started_at, first.job.started_at,
        "started_at is kept across attempts"
    );

    // The old holder learns it lost the job and can no longer write.
    assert_eq!(
        store
            .heartbeat(job.id, "a", Duration::from_secs(30))
            .await
            .unwrap(),
        LeaseState::Lost
    );
    let progress = Progress {
        total: 10,
        done: 3,
        errors: 0,
    };
    assert_eq!(
        store
            .update_progress(job.id, "a", progress, &Usage::default())
            .await
            .unwrap(),
        LeaseState::Lost
    );
    assert!(!store.finish_job(job.id, "a", &succeeded()).await.unwrap());
    assert_eq!(
        store.get_job(org, job.id).await.unwrap().unwrap().status,
        JobStatus::Running
    );

    assert!(store.finish_job(job.id, "b", &succeeded()).await.unwrap());
    let done = store.get_job(org, job.id).await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Succeeded);
    assert!(done.finished_at.is_some());
    assert!(
        !store.finish_job(job.id, "b", &succeeded()).await.unwrap(),
        "terminal jobs stay as they are"
    );
    assert!(
        store
            .claim_job("c", Duration::from_secs(30))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn cancel_reaches_the_worker_and_release_requeues() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let org = OrgId::new();
    let (first, _) = store.enqueue(new_job(org, None)).await.unwrap();
    let (second, _) = store.enqueue(new_job(org, None)).await.unwrap();

    let claimed = store
        .claim_job("a", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.job.id, first.id, "oldest first");
    let cancelled = store.cancel_job(org, first.id).await.unwrap().unwrap();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    assert_eq!(
        store
            .heartbeat(first.id, "a", Duration::from_secs(30))
            .await
            .unwrap(),
        LeaseState::Cancelled
    );
    assert!(!store.finish_job(first.id, "a", &succeeded()).await.unwrap());
    assert_eq!(
        store.get_job(org, first.id).await.unwrap().unwrap().status,
        JobStatus::Cancelled
    );
    assert!(
        store
            .cancel_job(OrgId::new(), second.id)
            .await
            .unwrap()
            .is_none(),
        "other orgs see nothing"
    );

    let claimed = store
        .claim_job("a", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.job.id, second.id);
    store.release_job(second.id, "a").await.unwrap();
    assert_eq!(
        store.get_job(org, second.id).await.unwrap().unwrap().status,
        JobStatus::Queued
    );
    let again = store
        .claim_job("b", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.job.id, second.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_enqueues_with_one_idempotency_key_store_one_job() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let store = Arc::new(store);
    let org = OrgId::new();
    let racers = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.enqueue(new_job(org, Some("same-key"))).await.unwrap() })
    });
    let mut results = Vec::new();
    for handle in racers.collect::<Vec<_>>() {
        results.push(handle.await.unwrap());
    }
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
    let ids: HashSet<JobId> = results.iter().map(|(job, _)| job.id).collect();
    assert_eq!(ids.len(), 1);
    // The same key in another organization is another job.
    let (_, created) = store
        .enqueue(new_job(OrgId::new(), Some("same-key")))
        .await
        .unwrap();
    assert!(created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn processes_starting_together_migrate_once() {
    let Some(url) = testing::fresh_postgres().await else {
        return;
    };
    // Each connect runs the migrator; its advisory lock serialises them.
    let connects = (0..6).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { PostgresStore::connect(&url).await })
    });
    for handle in connects.collect::<Vec<_>>() {
        handle.await.unwrap().unwrap();
    }
    let store = PostgresStore::connect(&url).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    // Once each, whatever their number: as many rows as migration files.
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count();
    assert_eq!(applied, i64::try_from(files).unwrap());
}

fn sample(batch: usize, i: usize) -> TrafficSample {
    TrafficSample {
        id: format!("s-{batch}-{i}"),
        project_id: ProjectId::parse("proj").unwrap(),
        model: "gpt-x".into(),
        prompt_id: "support".into(),
        input: "How do I reset my password? I have tried the link in the email twice.".into(),
        output:
            "Open Settings, choose Security, then Reset password; the link is valid for 24 hours."
                .into(),
        context: vec!["Passwords are reset from Settings > Security.".into()],
        reference: None,
        timestamp: Utc
            .timestamp_opt(1_700_000_000 + (batch * 1000 + i) as i64, 0)
            .unwrap(),
        metadata: Some(
            evalguard_domain::SampleMetadata::new(&json!({"user": i, "region": "eu"})).unwrap(),
        ),
        latency_ms: Some(812.5),
        prompt_tokens: Some(120),
        completion_tokens: Some(40),
    }
}

/// Throughput of the storage layer alone (no HTTP): 10 batches of 1,000.
#[tokio::test]
#[ignore = "a measurement, run by hand with --ignored --nocapture"]
async fn insert_throughput() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let org = OrgId::new();
    let batches: Vec<Vec<TrafficSample>> = (0..10)
        .map(|b| (0..1000).map(|i| sample(b, i)).collect())
        .collect();
    let started = Instant::now();
    let mut stored = 0;
    for batch in &batches {
        stored += store.insert_samples(org, batch).await.unwrap();
    }
    let elapsed = started.elapsed();
    assert_eq!(stored, 10_000);
    println!(
        "inserted {stored} samples in {:.1} ms: {:.0} samples/s",
        elapsed.as_secs_f64() * 1000.0,
        stored as f64 / elapsed.as_secs_f64()
    );
    // A repeated batch stores nothing.
    assert_eq!(store.insert_samples(org, &batches[0]).await.unwrap(), 0);
}
