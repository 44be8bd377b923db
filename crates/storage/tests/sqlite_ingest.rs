//! SQLite-only checks: ingest speed (a measurement, run by hand), the
//! single-writer design under concurrent writers, and durable commits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chrono::Utc;
use evalguard_domain::{ProjectId, TrafficSample};
use evalguard_storage::sqlite::SqliteStore;
use evalguard_storage::{JobStore, TrafficStore};

fn batch(prefix: &str, n: usize) -> Vec<TrafficSample> {
    let project = ProjectId::parse("bench").unwrap();
    (0..n)
        .map(|i| TrafficSample {
            id: format!("{prefix}-{i}"),
            project_id: project.clone(),
            model: "gpt-x".to_owned(),
            prompt_id: "support".to_owned(),
            input: "How do I reset my password? I have tried twice already.".to_owned(),
            output:
                "Open Settings, choose Security, then Reset password and follow the email link."
                    .to_owned(),
            context: vec!["Passwords are reset from Settings > Security.".to_owned()],
            reference: None,
            timestamp: Utc::now(),
            metadata: Some(
                evalguard_domain::SampleMetadata::new(
                    &serde_json::json!({"user": i, "region": "eu"}),
                )
                .unwrap(),
            ),
            latency_ms: Some(420.0),
            prompt_tokens: Some(85),
            completion_tokens: Some(31),
        })
        .collect()
}

fn url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("ingest.db").display())
}

#[tokio::test]
#[ignore = "a measurement, run by hand with --ignored --nocapture"]
async fn insert_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(&dir)).await.unwrap();
    let org = evalguard_domain::OrgId::new();
    let batches: Vec<_> = (0..100).map(|b| batch(&format!("b{b}"), 1_000)).collect();
    let started = Instant::now();
    for b in &batches {
        assert_eq!(store.insert_samples(org, b).await.unwrap(), 1_000);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "SQLite: 100,000 samples in {secs:.2} s = {:.0} samples/s",
        100_000.0 / secs
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_never_fail_with_busy() {
    let dir = tempfile::tempdir().unwrap();
    // Two stores on one file: two writer connections competing, as two processes would.
    let first = SqliteStore::connect(&url(&dir)).await.unwrap();
    let second = SqliteStore::connect(&url(&dir)).await.unwrap();
    let org = evalguard_domain::OrgId::new();
    let mut tasks = Vec::new();
    for (i, store) in [first.clone(), second.clone(), first.clone(), second.clone()]
        .into_iter()
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            let mut stored = 0;
            for round in 0..20 {
                stored += store
                    .insert_samples(org, &batch(&format!("w{i}-r{round}"), 200))
                    .await
                    .unwrap();
                store.claim_job("w", Duration::from_secs(10)).await.unwrap();
            }
            stored
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert_eq!(total, 4 * 20 * 200);
}

#[tokio::test]
async fn in_memory_databases_share_one_connection() {
    use evalguard_storage::AccessStore;
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let org = store.ensure_org("acme").await.unwrap();
    assert_eq!(store.ensure_org("acme").await.unwrap(), org);
    let t = evalguard_domain::Target {
        model: "gpt-x".to_owned(),
        prompt_id: "support".to_owned(),
        project_id: ProjectId::parse("bench").unwrap(),
    };
    assert_eq!(store.insert_samples(org, &batch("m", 3)).await.unwrap(), 3);
    assert_eq!(
        store.recent_samples(org, &t, 10, None).await.unwrap().len(),
        3
    );
}

/// A `202` must survive power loss: the writer fsyncs every commit (FULL),
/// not only at checkpoints (NORMAL, SQLite's usual choice with WAL).
#[tokio::test]
async fn commits_are_fsynced_before_they_return() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(&dir)).await.unwrap();
    const FULL: i64 = 2;
    assert_eq!(store.writer_synchronous().await.unwrap(), FULL);
}
