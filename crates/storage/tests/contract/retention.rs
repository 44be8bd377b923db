//! Retention sweeps and a project's traffic deleted on request: batches of
//! at most `limit`, only what is old (or named), only the right project.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use evalguard_domain::JobStatus;
use evalguard_domain::scoring::{CallUsage, SampleRole};
use evalguard_domain::{OrgId, ScoreOutcome};
use evalguard_storage::{
    DeliveryAttempt, KeyedRequest, RetentionArea, StoredResult, TrafficSelection,
};
use serde_json::json;

use crate::fixture::{Db, at, new_job, pid, project, sample, target, two_orgs};

/// The sample ids of a target that remain, oldest first.
async fn remaining(db: &Db, org: OrgId, project: &str) -> Vec<String> {
    let mut ids: Vec<String> = db
        .traffic
        .recent_samples(org, &target(project, "m", "p"), 1_000, None)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.sample.id)
        .collect();
    ids.reverse();
    ids
}

/// Samples `s0…s{n-1}` at `at(0)`, `at(60)`, … in `project`.
async fn traffic(db: &Db, org: OrgId, project: &str, n: i64) {
    let t = target(project, "m", "p");
    let samples: Vec<_> = (0..n)
        .map(|i| sample(&format!("s{i}"), &t, at(i * 60)))
        .collect();
    db.traffic.insert_samples(org, &samples).await.unwrap();
}

/// Repeats a batched delete until a batch comes back short, as the sweeper does.
async fn drain<F, Fut>(limit: u32, mut batch: F) -> (u64, usize)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    let (mut total, mut batches) = (0, 0);
    loop {
        let n = batch().await;
        assert!(n <= u64::from(limit), "a batch deleted {n} > {limit}");
        total += n;
        batches += 1;
        if n < u64::from(limit) {
            return (total, batches);
        }
    }
}

pub async fn old_traffic_is_swept_in_batches(db: &Db) {
    let (a, b) = two_orgs(db).await;
    traffic(db, a, "bot", 10).await;
    traffic(db, b, "bot", 4).await;
    // Before at(0): nothing.
    assert_eq!(
        db.retention
            .delete_expired(RetentionArea::Traffic, at(0), 3)
            .await
            .unwrap(),
        0
    );
    // Before at(7 * 60): s0…s6 of `a`, s0…s3 of `b`, 3 at a time.
    let (deleted, batches) = drain(3, || async {
        db.retention
            .delete_expired(RetentionArea::Traffic, at(7 * 60), 3)
            .await
            .unwrap()
    })
    .await;
    assert_eq!((deleted, batches), (11, 4));
    assert_eq!(remaining(db, a, "bot").await, ["s7", "s8", "s9"]);
    assert!(remaining(db, b, "bot").await.is_empty());
}

pub async fn a_projects_traffic_is_deleted_by_id_or_time_range(db: &Db) {
    let (a, b) = two_orgs(db).await;
    traffic(db, a, "bot", 10).await;
    traffic(db, a, "other", 3).await;
    traffic(db, b, "bot", 3).await;
    let ids =
        |ids: &[&str]| TrafficSelection::SampleIds(ids.iter().map(|s| (*s).to_owned()).collect());

    let by_id = ids(&["s1", "s3", "missing"]);
    let deleted = db
        .retention
        .delete_project_traffic(a, &pid("bot"), &by_id, 100)
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    // Ids in batches: at most `limit` each.
    let by_id = ids(&["s0", "s2", "s4"]);
    let (deleted, _) = drain(2, || async {
        db.retention
            .delete_project_traffic(a, &pid("bot"), &by_id, 2)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(deleted, 3);
    assert_eq!(
        remaining(db, a, "bot").await,
        ["s5", "s6", "s7", "s8", "s9"]
    );

    // [at(6 min), at(8 min)): s6 and s7.
    let range = TrafficSelection::TimeRange {
        from: Some(at(6 * 60)),
        to: Some(at(8 * 60)),
    };
    assert_eq!(
        db.retention
            .delete_project_traffic(a, &pid("bot"), &range, 100)
            .await
            .unwrap(),
        2
    );
    assert_eq!(remaining(db, a, "bot").await, ["s5", "s8", "s9"]);
    // Open-ended: from at(9 min) on.
    let tail = TrafficSelection::TimeRange {
        from: Some(at(9 * 60)),
        to: None,
    };
    db.retention
        .delete_project_traffic(a, &pid("bot"), &tail, 100)
        .await
        .unwrap();
    assert_eq!(remaining(db, a, "bot").await, ["s5", "s8"]);
    // Everything of the project, nothing of the others.
    let all = TrafficSelection::TimeRange {
        from: None,
        to: None,
    };
    db.retention
        .delete_project_traffic(a, &pid("bot"), &all, 100)
        .await
        .unwrap();
    assert!(remaining(db, a, "bot").await.is_empty());
    assert_eq!(remaining(db, a, "other").await.len(), 3);
    assert_eq!(remaining(db, b, "bot").await.len(), 3);
    assert_eq!(
        db.retention
            .delete_project_traffic(a, &pid("bot"), &ids(&[]), 100)
            .await
            .unwrap(),
        0
    );
}

fn result(key: i64) -> StoredResult {
    StoredResult {
        role: SampleRole::Current,
        sample_key: key,
        sample_id: format!("s{key}"),
        flagged: false,
        scores: BTreeMap::from([("latency".to_owned(), ScoreOutcome::scored(0.5))]),
        usage: CallUsage::default(),
        agreement: BTreeMap::new(),
        passed: BTreeMap::new(),
    }
}

pub async fn results_of_old_finished_jobs_are_swept(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    let (finished, _) = db.jobs.enqueue(new_job(a, &t, None)).await.unwrap();
    let (running, _) = db.jobs.enqueue(new_job(a, &t, None)).await.unwrap();
    let results: Vec<_> = (0..5).map(result).collect();
    db.results
        .save_results(finished.id, &results)
        .await
        .unwrap();
    db.results.save_results(running.id, &results).await.unwrap();
    db.jobs
        .claim_job("w", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    db.jobs
        .finish_job(
            finished.id,
            "w",
            &crate::leases::completion(JobStatus::Succeeded),
        )
        .await
        .unwrap();
    let hour_ago = Utc::now() - chrono::Duration::hours(1);
    assert_eq!(
        db.retention
            .delete_expired(RetentionArea::Results, hour_ago, 10)
            .await
            .unwrap(),
        0,
        "finished just now: kept"
    );
    let soon = Utc::now() + chrono::Duration::seconds(5);
    let (deleted, _) = drain(2, || async {
        db.retention
            .delete_expired(RetentionArea::Results, soon, 2)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(deleted, 5);
    assert!(
        db.results
            .job_results(finished.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.results.job_results(running.id).await.unwrap().len(), 5);
    // The job itself, with its summary, stays.
    assert!(db.jobs.get_job(a, finished.id).await.unwrap().is_some());
}

pub async fn old_verdicts_and_finished_deliveries_are_swept(db: &Db) {
    let (a, _) = two_orgs(db).await;
    for i in 0..3 {
        db.judge_cache
            .put_verdict(&format!("k{i}"), &json!({"score": i}))
            .await
            .unwrap();
    }
    let hour_ago = Utc::now() - chrono::Duration::hours(1);
    let soon = Utc::now() + chrono::Duration::seconds(5);
    assert_eq!(
        db.retention
            .delete_expired(RetentionArea::Verdicts, hour_ago, 10)
            .await
            .unwrap(),
        0
    );
    let (deleted, _) = drain(2, || async {
        db.retention
            .delete_expired(RetentionArea::Verdicts, soon, 2)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(deleted, 3);
    assert!(db.judge_cache.get_verdict("k0").await.unwrap().is_none());

    db.projects
        .create_project(a, &project("bot"))
        .await
        .unwrap();
    let endpoint = crate::webhooks::endpoint(a, "bot", &["job.completed"]);
    db.webhooks.create_endpoint(&endpoint).await.unwrap();
    for n in 0..3 {
        db.webhooks
            .enqueue_event(a, &pid("bot"), "job.completed", &json!({"n": n}))
            .await
            .unwrap();
    }
    // One delivered, one given up, one still pending.
    for delivered in [true, false] {
        let (delivery, _) = db
            .webhooks
            .claim_delivery(Utc::now(), Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        let attempt = DeliveryAttempt {
            status_code: Some(if delivered { 200 } else { 410 }),
            error: (!delivered).then(|| "gone".to_owned()),
            retry_at: None,
            delivered,
        };
        db.webhooks
            .record_attempt(delivery.id, &attempt)
            .await
            .unwrap();
    }
    assert_eq!(
        db.retention
            .delete_expired(RetentionArea::Deliveries, hour_ago, 10)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        db.retention
            .delete_expired(RetentionArea::Deliveries, soon, 10)
            .await
            .unwrap(),
        2
    );
    let left = db
        .webhooks
        .list_deliveries(a, endpoint.id, 10)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].status, "pending");
}

pub async fn ingest_keys_are_forgotten_after_their_window(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    let keyed = |key: &'static str, received_at| KeyedRequest {
        endpoint: "traffic",
        key,
        body_sha256: [7; 32],
        received_at,
    };
    let hour_ago = Utc::now() - chrono::Duration::hours(1);
    let batch = &[sample("s0", &t, at(0))][..];
    let once = |request| async move {
        db.traffic
            .insert_samples_once(a, batch, &request)
            .await
            .unwrap()
    };
    assert_eq!(once(keyed("old", hour_ago)).await, 1);
    assert_eq!(once(keyed("new", Utc::now())).await, 0);
    let half_hour_ago = Utc::now() - chrono::Duration::minutes(30);
    let (deleted, _) = drain(1, || async {
        db.retention
            .delete_expired(RetentionArea::IngestKeys, half_hour_ago, 1)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(deleted, 1, "only the key older than the cutoff");
    // The remembered key still answers its repeat; the forgotten one is a new
    // request again, whose sample id already exists, so nothing is stored twice.
    assert_eq!(once(keyed("new", Utc::now())).await, 0);
    let other_body = KeyedRequest {
        body_sha256: [8; 32],
        ..keyed("new", Utc::now())
    };
    assert!(
        db.traffic
            .insert_samples_once(a, batch, &other_body)
            .await
            .is_err(),
        "the remembered key still refuses another body"
    );
    let forgotten = KeyedRequest {
        body_sha256: [8; 32],
        ..keyed("old", Utc::now())
    };
    assert_eq!(
        db.traffic
            .insert_samples_once(a, batch, &forgotten)
            .await
            .unwrap(),
        0,
        "a forgotten key is taken as a new request"
    );
    assert_eq!(remaining(db, a, "bot").await, ["s0"]);
}
