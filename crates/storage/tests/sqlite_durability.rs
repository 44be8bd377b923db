//! SQLite's durability by purpose: what each write path's commit waits for.
//! Commits that accept what a client is told is stored are fsynced (FULL);
//! worker bookkeeping is not (NORMAL), because losing it only re-runs a job.
//! `PRAGMA synchronous` on the single writer connection is what the last
//! write transaction committed with, so each write is checked right after it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use evalguard_domain::job::{AutoEvalRequest, JobStatus};
use evalguard_domain::{JobId, ProjectId, Target};
use evalguard_storage::sqlite::SqliteStore;
use evalguard_storage::{AccessStore, JobCompletion, JobStore, JudgeCacheStore, NewJob};

const FULL: i64 = 2;
const NORMAL: i64 = 1;

fn new_job(org: evalguard_domain::OrgId) -> NewJob {
    NewJob {
        id: JobId::new(),
        org_id: org,
        request: AutoEvalRequest {
            target: Target {
                model: "m".to_owned(),
                prompt_id: "p".to_owned(),
                project_id: ProjectId::parse("bot").unwrap(),
            },
            sample_count: 10,
            scorers: Some(vec!["empty_output".to_owned()]),
            baseline: None,
            max_cost_usd: None,
            cache: true,
            repeats: 1,
            thresholds: None,
        },
        idempotency_key: None,
        created_at: Utc::now(),
    }
}

fn succeeded() -> JobCompletion {
    JobCompletion {
        status: JobStatus::Succeeded,
        finished_at: Utc::now(),
        progress: Default::default(),
        partial: false,
        stop_reason: None,
        summary: BTreeMap::new(),
        flags: Vec::new(),
        warnings: Vec::new(),
        usage: Default::default(),
        baseline: None,
        error: None,
        events: Vec::new(),
    }
}

#[tokio::test]
async fn accepting_writes_are_fsynced_and_worker_bookkeeping_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("durability.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    let lease = Duration::from_secs(30);

    let org = store.ensure_org("acme").await.unwrap();
    assert_eq!(store.writer_synchronous().await.unwrap(), FULL, "org");
    let (job, _) = store.enqueue(new_job(org)).await.unwrap();
    assert_eq!(store.writer_synchronous().await.unwrap(), FULL, "enqueue");

    let claimed = store.claim_job("w1", lease).await.unwrap().unwrap();
    assert_eq!(claimed.job.id, job.id);
    assert_eq!(store.writer_synchronous().await.unwrap(), NORMAL, "claim");
    store.heartbeat(job.id, "w1", lease).await.unwrap();
    assert_eq!(store.writer_synchronous().await.unwrap(), NORMAL, "lease");
    store
        .put_verdict("k", &serde_json::json!({"score": 1}))
        .await
        .unwrap();
    assert_eq!(store.writer_synchronous().await.unwrap(), NORMAL, "verdict");

    // An enqueue after bookkeeping is fsynced again (and its fsync makes the
    // bookkeeping before it durable too: the WAL is one file).
    store.enqueue(new_job(org)).await.unwrap();
    assert_eq!(store.writer_synchronous().await.unwrap(), FULL, "enqueue");

    assert!(store.finish_job(job.id, "w1", &succeeded()).await.unwrap());
    assert_eq!(store.writer_synchronous().await.unwrap(), NORMAL, "finish");
    store.cancel_job(org, JobId::new()).await.unwrap();
    assert_eq!(store.writer_synchronous().await.unwrap(), FULL, "cancel");
}

/// Bookkeeping committed without an fsync is still committed: a reopened
/// database (a process restart) sees it.
#[tokio::test]
async fn bookkeeping_commits_are_seen_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("reopen.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    let org = store.ensure_org("acme").await.unwrap();
    let (job, _) = store.enqueue(new_job(org)).await.unwrap();
    store
        .claim_job("w1", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert!(store.finish_job(job.id, "w1", &succeeded()).await.unwrap());
    drop(store);
    let reopened = SqliteStore::connect(&url).await.unwrap();
    let stored = reopened.get_job(org, job.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Succeeded);
}
