//! The lease queue as workers see it: claims, heartbeats, expiry, finishing.

use std::collections::BTreeMap;
use std::time::Duration;

use evalguard_domain::job::{
    BaselineInfo, Flag, FlagKind, JobError, JobStatus, JobWarning, OutcomeCounts, ScorerSummary,
    Severity, WarningCode,
};
use evalguard_domain::{Progress, Usage};
use evalguard_storage::{JobCompletion, LeaseState};

use crate::fixture::{Db, new_job, target, two_orgs};

const LONG: Duration = Duration::from_secs(60);

pub fn completion(status: JobStatus) -> JobCompletion {
    JobCompletion {
        status,
        finished_at: chrono::Utc::now(),
        events: Vec::new(),
        progress: Progress {
            total: 10,
            done: 10,
            errors: 1,
        },
        partial: status == JobStatus::Succeeded,
        stop_reason: Some("budget".to_owned()),
        summary: BTreeMap::from([(
            "empty_output".to_owned(),
            ScorerSummary {
                n: 10,
                mean: Some(0.9),
                unit: None,
                outcomes: OutcomeCounts {
                    scored: 10,
                    ..Default::default()
                },
                baseline: None,
                agreement: None,
                skipped: None,
            },
        )]),
        flags: vec![Flag {
            kind: FlagKind::Regression,
            severity: Severity::Critical,
            metric: "empty_output".to_owned(),
            message: "worse".to_owned(),
            evidence: Default::default(),
        }],
        warnings: vec![JobWarning {
            code: WarningCode::JudgeVerdictsMissing,
            scorer: Some("hallucination".to_owned()),
            message: "no verdict on 7 of 10 samples".to_owned(),
            count: Some(7),
        }],
        usage: Usage {
            judge_requests: 3,
            prompt_tokens: 100,
            completion_tokens: 20,
            cache_hits: 1,
            cost_usd: Some(0.02),
        },
        baseline: Some(BaselineInfo {
            kind: "none".to_owned(),
            model: None,
            prompt_id: None,
            from: None,
            to: None,
            n: 0,
            reason: Some("no earlier traffic".to_owned()),
        }),
        error: (status == JobStatus::Failed).then(|| JobError {
            code: "no_samples".to_owned(),
            message: "nothing to score".to_owned(),
        }),
    }
}

pub async fn one_job_is_claimed_by_exactly_one_of_many_workers(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let (job, _) = db
        .jobs
        .enqueue(new_job(a, &target("bot", "m", "p"), None))
        .await
        .unwrap();
    let claimers: Vec<_> = (0..16)
        .map(|i| {
            let jobs = db.jobs.clone();
            tokio::spawn(async move { jobs.claim_job(&format!("worker-{i}"), LONG).await.unwrap() })
        })
        .collect();
    let mut winners = Vec::new();
    for claimer in claimers {
        if let Some(claimed) = claimer.await.unwrap() {
            winners.push(claimed);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one claimer gets the job");
    assert_eq!(winners[0].job.id, job.id);
    assert_eq!(winners[0].attempt, 1);
    assert_eq!(winners[0].job.status, JobStatus::Running);
    assert!(winners[0].job.started_at.is_some());
    assert_eq!(winners[0].request, crate::fixture::request(&job.target));
}

pub async fn claims_take_the_oldest_runnable_job(db: &Db) {
    let (a, b) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    let mut older = new_job(a, &t, None);
    older.created_at -= chrono::Duration::seconds(30);
    let newer = new_job(b, &t, None);
    // Enqueued newest first: the claim order follows creation time.
    db.jobs.enqueue(newer.clone()).await.unwrap();
    db.jobs.enqueue(older.clone()).await.unwrap();
    assert_eq!(
        db.jobs.claim_job("w1", LONG).await.unwrap().unwrap().job.id,
        older.id
    );
    assert_eq!(
        db.jobs.claim_job("w2", LONG).await.unwrap().unwrap().job.id,
        newer.id
    );
    assert!(db.jobs.claim_job("w3", LONG).await.unwrap().is_none());
}

pub async fn an_expired_lease_is_reclaimed_with_a_new_attempt(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let (job, _) = db
        .jobs
        .enqueue(new_job(a, &target("bot", "m", "p"), None))
        .await
        .unwrap();
    let first = db.jobs.claim_job("crashed", LONG).await.unwrap().unwrap();
    assert_eq!(first.attempt, 1);
    let started = first.job.started_at.unwrap();
    // Within the lease nobody else gets it.
    assert!(db.jobs.claim_job("other", LONG).await.unwrap().is_none());
    // The worker "crashed": its lease runs out without heartbeats.
    db.expire_leases().await;
    let second = db.jobs.claim_job("rescuer", LONG).await.unwrap().unwrap();
    assert_eq!(second.job.id, job.id);
    assert_eq!(second.attempt, 2);
    assert_eq!(
        second.job.started_at,
        Some(started),
        "started_at is kept from the first claim"
    );
    assert_eq!(
        db.jobs.heartbeat(job.id, "crashed", LONG).await.unwrap(),
        LeaseState::Lost
    );
    assert_eq!(
        db.jobs.heartbeat(job.id, "rescuer", LONG).await.unwrap(),
        LeaseState::Held
    );
}

pub async fn heartbeats_report_held_cancelled_or_lost(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    let (job, _) = db.jobs.enqueue(new_job(a, &t, None)).await.unwrap();
    db.jobs.claim_job("w1", LONG).await.unwrap().unwrap();
    // A heartbeat renews the lease: after each expiry, the holder's
    // heartbeat (before anyone claims the job) makes it its own again.
    for _ in 0..2 {
        db.expire_leases().await;
        assert_eq!(
            db.jobs.heartbeat(job.id, "w1", LONG).await.unwrap(),
            LeaseState::Held
        );
        assert!(db.jobs.claim_job("w2", LONG).await.unwrap().is_none());
    }
    assert_eq!(
        db.jobs.heartbeat(job.id, "w2", LONG).await.unwrap(),
        LeaseState::Lost
    );
    db.jobs.cancel_job(a, job.id).await.unwrap();
    assert_eq!(
        db.jobs.heartbeat(job.id, "w1", LONG).await.unwrap(),
        LeaseState::Cancelled
    );

    let (done, _) = db.jobs.enqueue(new_job(a, &t, None)).await.unwrap();
    db.jobs.claim_job("w1", LONG).await.unwrap().unwrap();
    assert!(
        db.jobs
            .finish_job(done.id, "w1", &completion(JobStatus::Succeeded))
            .await
            .unwrap()
    );
    assert_eq!(
        db.jobs.heartbeat(done.id, "w1", LONG).await.unwrap(),
        LeaseState::Lost
    );
    assert_eq!(
        db.jobs
            .heartbeat(evalguard_domain::JobId::new(), "w1", LONG)
            .await
            .unwrap(),
        LeaseState::Lost
    );
}

pub async fn only_the_holder_finishes_and_only_once(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let (job, _) = db
        .jobs
        .enqueue(new_job(a, &target("bot", "m", "p"), None))
        .await
        .unwrap();
    // Not claimed yet: nobody can finish it.
    assert!(
        !db.jobs
            .finish_job(job.id, "w1", &completion(JobStatus::Succeeded))
            .await
            .unwrap()
    );
    db.jobs.claim_job("w1", LONG).await.unwrap().unwrap();
    assert!(
        !db.jobs
            .finish_job(job.id, "intruder", &completion(JobStatus::Failed))
            .await
            .unwrap()
    );
    let done = completion(JobStatus::Succeeded);
    assert!(db.jobs.finish_job(job.id, "w1", &done).await.unwrap());
    assert!(
        !db.jobs
            .finish_job(job.id, "w1", &completion(JobStatus::Failed))
            .await
            .unwrap()
    );

    let stored = db.jobs.get_job(a, job.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Succeeded);
    assert!(stored.finished_at.is_some());
    assert_eq!(stored.progress, done.progress);
    assert_eq!(stored.partial, done.partial);
    assert_eq!(stored.stop_reason, done.stop_reason);
    assert_eq!(stored.summary, done.summary);
    assert_eq!(stored.flags, done.flags);
    assert_eq!(stored.warnings, done.warnings);
    assert_eq!(stored.usage, done.usage);
    assert_eq!(stored.baseline, done.baseline);
    assert_eq!(stored.error, None);
    // Terminal: never claimed again, and cancel leaves it as it is.
    assert!(db.jobs.claim_job("w2", LONG).await.unwrap().is_none());
    assert_eq!(
        db.jobs.cancel_job(a, job.id).await.unwrap().unwrap(),
        stored
    );

    let (failing, _) = db
        .jobs
        .enqueue(new_job(a, &target("bot", "m", "p"), None))
        .await
        .unwrap();
    db.jobs.claim_job("w1", LONG).await.unwrap().unwrap();
    assert!(
        db.jobs
            .finish_job(failing.id, "w1", &completion(JobStatus::Failed))
            .await
            .unwrap()
    );
    let failed = db.jobs.get_job(a, failing.id).await.unwrap().unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.error.unwrap().code, "no_samples");
}

pub async fn released_jobs_are_queued_again(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let (job, _) = db
        .jobs
        .enqueue(new_job(a, &target("bot", "m", "p"), None))
        .await
        .unwrap();
    db.jobs.claim_job("w1", LONG).await.unwrap().unwrap();
    // Only the holder can release.
    db.jobs.release_job(job.id, "w2").await.unwrap();
    assert_eq!(
        db.jobs.get_job(a, job.id).await.unwrap().unwrap().status,
        JobStatus::Running
    );
    db.jobs.release_job(job.id, "w1").await.unwrap();
    assert_eq!(
        db.jobs.get_job(a, job.id).await.unwrap().unwrap().status,
        JobStatus::Queued
    );
    assert_eq!(
        db.jobs.heartbeat(job.id, "w1", LONG).await.unwrap(),
        LeaseState::Lost
    );
    let again = db.jobs.claim_job("w2", LONG).await.unwrap().unwrap();
    assert_eq!(again.job.id, job.id);
    assert_eq!(again.attempt, 2);
}

pub async fn progress_is_written_by_the_holder_only(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let (job, _) = db
        .jobs
        .enqueue(new_job(a, &target("bot", "m", "p"), None))
        .await
        .unwrap();
    db.jobs.claim_job("w1", LONG).await.unwrap().unwrap();
    let progress = Progress {
        total: 40,
        done: 12,
        errors: 2,
    };
    let usage = Usage {
        judge_requests: 5,
        ..Default::default()
    };
    assert_eq!(
        db.jobs
            .update_progress(job.id, "w1", progress, &usage)
            .await
            .unwrap(),
        LeaseState::Held
    );
    assert_eq!(
        db.jobs
            .update_progress(job.id, "w2", Progress::default(), &Usage::default())
            .await
            .unwrap(),
        LeaseState::Lost
    );
    let stored = db.jobs.get_job(a, job.id).await.unwrap().unwrap();
    assert_eq!((stored.progress, stored.usage), (progress, usage.clone()));
    db.jobs.cancel_job(a, job.id).await.unwrap();
    assert_eq!(
        db.jobs
            .update_progress(job.id, "w1", progress, &usage)
            .await
            .unwrap(),
        LeaseState::Cancelled
    );
}
