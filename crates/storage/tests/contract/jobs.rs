//! Jobs as the API sees them: enqueue, get, list, cancel, plans, depth.

use std::collections::BTreeMap;
use std::time::Duration;

use evalguard_domain::JobId;
use evalguard_domain::job::{BaselineInfo, JobStatus};
use evalguard_storage::{JobFilter, JobPlan, QueueDepth};

use crate::fixture::{Db, new_job, now_micros, pid, target, two_orgs};

/// A key reused with another request (another project, another option) is
/// refused and never returns the first request's job.
pub async fn enqueue_refuses_a_key_reused_with_another_request(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let first = new_job(a, &target("bot", "m", "p"), Some("release-7"));
    let (job, created) = db.jobs.enqueue(first).await.unwrap();
    assert!(created);
    for other in [
        new_job(a, &target("other-bot", "m", "p"), Some("release-7")),
        new_job(a, &target("bot", "m2", "p"), Some("release-7")),
        {
            let mut more = new_job(a, &target("bot", "m", "p"), Some("release-7"));
            more.request.sample_count += 1;
            more
        },
    ] {
        let err = db.jobs.enqueue(other).await.unwrap_err();
        assert!(
            matches!(err, evalguard_storage::StorageError::IdempotencyKeyReused),
            "{err:?}"
        );
    }
    // The same request again still gets the first job, unchanged.
    let (again, created) = db
        .jobs
        .enqueue(new_job(a, &target("bot", "m", "p"), Some("release-7")))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, job);
}

pub async fn enqueue_honours_idempotency_keys_per_org(db: &Db) {
    let (a, b) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    let first = new_job(a, &t, Some("deploy-42"));
    let (job, created) = db.jobs.enqueue(first.clone()).await.unwrap();
    assert!(created);
    assert_eq!(job.id, first.id);
    assert_eq!(job.org_id, a);
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(job.target, t);
    assert_eq!(job.sample_count, 50);
    assert_eq!(job.created_at, first.created_at);
    assert!(job.started_at.is_none() && job.finished_at.is_none());
    assert!(!job.partial && job.summary.is_empty() && job.flags.is_empty());
    assert!(job.baseline.is_none() && job.error.is_none());

    let (again, created) = db
        .jobs
        .enqueue(new_job(a, &t, Some("deploy-42")))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, job);
    // Another organization's identical key is its own.
    let (theirs, created) = db
        .jobs
        .enqueue(new_job(b, &t, Some("deploy-42")))
        .await
        .unwrap();
    assert!(created);
    assert_ne!(theirs.id, job.id);
    // No key: always a new job.
    let (_, created) = db.jobs.enqueue(new_job(a, &t, None)).await.unwrap();
    assert!(created);
    let (_, created) = db.jobs.enqueue(new_job(a, &t, None)).await.unwrap();
    assert!(created);
    assert_eq!(
        db.jobs
            .list_jobs(
                a,
                &JobFilter {
                    limit: 100,
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .len(),
        3
    );
}

pub async fn jobs_are_isolated_between_orgs(db: &Db) {
    let (a, b) = two_orgs(db).await;
    let (job, _) = db
        .jobs
        .enqueue(new_job(a, &target("bot", "m", "p"), None))
        .await
        .unwrap();
    assert_eq!(
        db.jobs.get_job(a, job.id).await.unwrap().unwrap().id,
        job.id
    );
    assert!(db.jobs.get_job(b, job.id).await.unwrap().is_none());
    assert!(db.jobs.get_job(a, JobId::new()).await.unwrap().is_none());
    assert!(
        db.jobs
            .list_jobs(
                b,
                &JobFilter {
                    limit: 10,
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .is_empty()
    );
    assert!(db.jobs.cancel_job(b, job.id).await.unwrap().is_none());
    assert_eq!(
        db.jobs.get_job(a, job.id).await.unwrap().unwrap().status,
        JobStatus::Queued
    );
}

pub async fn list_is_newest_first_with_filters_and_cursor(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let project = if i % 2 == 0 { "even" } else { "odd" };
        let (job, _) = db
            .jobs
            .enqueue(new_job(a, &target(project, "m", "p"), None))
            .await
            .unwrap();
        ids.push(job.id);
    }
    db.jobs.cancel_job(a, ids[2]).await.unwrap();
    let newest_first: Vec<JobId> = ids.iter().rev().copied().collect();
    let list = |filter: JobFilter| async move {
        db.jobs
            .list_jobs(a, &filter)
            .await
            .unwrap()
            .into_iter()
            .map(|j| j.id)
            .collect::<Vec<_>>()
    };

    assert_eq!(
        list(JobFilter {
            limit: 100,
            ..Default::default()
        })
        .await,
        newest_first
    );
    assert_eq!(
        list(JobFilter {
            limit: 3,
            ..Default::default()
        })
        .await,
        newest_first[..3]
    );
    assert_eq!(
        list(JobFilter {
            before: Some(ids[4]),
            limit: 2,
            ..Default::default()
        })
        .await,
        [ids[3], ids[2]]
    );
    assert_eq!(
        list(JobFilter {
            project: Some(pid("even")),
            limit: 100,
            ..Default::default()
        })
        .await,
        [ids[6], ids[4], ids[2], ids[0]]
    );
    assert_eq!(
        list(JobFilter {
            project: Some(pid("even")),
            status: Some(JobStatus::Queued),
            before: Some(ids[6]),
            limit: 100
        })
        .await,
        [ids[4], ids[0]]
    );
    assert_eq!(
        list(JobFilter {
            status: Some(JobStatus::Cancelled),
            limit: 100,
            ..Default::default()
        })
        .await,
        [ids[2]]
    );
    assert!(
        list(JobFilter {
            status: Some(JobStatus::Running),
            limit: 100,
            ..Default::default()
        })
        .await
        .is_empty()
    );
}

pub async fn cancel_makes_a_job_terminal_once(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    let (queued, _) = db.jobs.enqueue(new_job(a, &t, None)).await.unwrap();
    let before = now_micros();
    let cancelled = db.jobs.cancel_job(a, queued.id).await.unwrap().unwrap();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    let finished = cancelled.finished_at.unwrap();
    assert!(finished >= before - chrono::Duration::seconds(5));
    // Cancelling again changes nothing; a cancelled job is never claimed.
    let again = db.jobs.cancel_job(a, queued.id).await.unwrap().unwrap();
    assert_eq!(again, cancelled);
    assert!(
        db.jobs
            .claim_job("w1", Duration::from_secs(30))
            .await
            .unwrap()
            .is_none()
    );
    assert!(db.jobs.cancel_job(a, JobId::new()).await.unwrap().is_none());

    // A running job can be cancelled too; its holder then cannot finish it.
    let (running, _) = db.jobs.enqueue(new_job(a, &t, None)).await.unwrap();
    let claimed = db
        .jobs
        .claim_job("w1", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.job.id, running.id);
    assert_eq!(
        db.jobs
            .cancel_job(a, running.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        JobStatus::Cancelled
    );
    assert!(
        !db.jobs
            .finish_job(
                running.id,
                "w1",
                &crate::leases::completion(JobStatus::Succeeded)
            )
            .await
            .unwrap()
    );
    assert_eq!(
        db.jobs
            .get_job(a, running.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        JobStatus::Cancelled
    );
}

pub async fn queue_depth_counts_by_status(db: &Db) {
    let (a, b) = two_orgs(db).await;
    assert_eq!(db.jobs.queue_depth().await.unwrap(), QueueDepth::default());
    let t = target("bot", "m", "p");
    let mut enqueued = Vec::new();
    for org in [a, a, a, b] {
        enqueued.push(db.jobs.enqueue(new_job(org, &t, None)).await.unwrap().0);
    }
    assert_eq!(
        db.jobs.queue_depth().await.unwrap().oldest_queued_at,
        Some(enqueued[0].created_at)
    );
    let first = db
        .jobs
        .claim_job("w", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    db.jobs
        .finish_job(
            first.job.id,
            "w",
            &crate::leases::completion(JobStatus::Succeeded),
        )
        .await
        .unwrap();
    let second = db
        .jobs
        .claim_job("w", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    db.jobs
        .finish_job(
            second.job.id,
            "w",
            &crate::leases::completion(JobStatus::Failed),
        )
        .await
        .unwrap();
    db.jobs
        .claim_job("w", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    let depth = db.jobs.queue_depth().await.unwrap();
    assert_eq!(
        depth,
        QueueDepth {
            queued: 1,
            running: 1,
            succeeded: 1,
            failed: 1,
            cancelled: 0,
            // The last one enqueued is the only one still waiting.
            oldest_queued_at: Some(enqueued[3].created_at),
        }
    );
}

fn plan(current: Vec<i64>) -> JobPlan {
    JobPlan {
        current,
        baseline: vec![7, 8],
        baseline_info: BaselineInfo {
            kind: "deployment".to_owned(),
            model: Some("old".to_owned()),
            prompt_id: Some("p".to_owned()),
            from: None,
            to: None,
            n: 2,
            reason: None,
        },
        scorers: vec!["empty_output".to_owned(), "refusal".to_owned()],
        skipped: BTreeMap::from([("faithfulness".to_owned(), "no judge configured".to_owned())]),
    }
}

pub async fn plans_are_saved_once(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let (job, _) = db
        .jobs
        .enqueue(new_job(a, &target("bot", "m", "p"), None))
        .await
        .unwrap();
    assert!(db.jobs.load_plan(job.id).await.unwrap().is_none());
    let first = plan(vec![3, 1, 2]);
    assert_eq!(db.jobs.save_plan(job.id, &first).await.unwrap(), first);
    assert_eq!(
        db.jobs.save_plan(job.id, &plan(vec![9])).await.unwrap(),
        first
    );
    assert_eq!(db.jobs.load_plan(job.id).await.unwrap(), Some(first));
}
