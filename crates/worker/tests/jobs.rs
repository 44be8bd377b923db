#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Running jobs against a real SQLite database.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use evalguard_domain::JobStatus;
use evalguard_domain::scorers::NO_JUDGE_PROVIDER;
use evalguard_domain::scoring::{SampleRole, ScoreOutcome};
use evalguard_worker::{JobRunner, RunOutcome};
use tokio_util::sync::CancellationToken;

async fn claim_and_run(fx: &Fixture, runner: &JobRunner) -> RunOutcome {
    let claimed = fx
        .storage
        .jobs
        .claim_job(&runner.config().worker_id, runner.config().lease)
        .await
        .unwrap()
        .expect("a job to claim");
    runner.run(claimed, CancellationToken::new()).await
}

#[tokio::test]
async fn deterministic_job_succeeds_with_the_right_summary() {
    let fx = fixture().await;
    let mut samples: Vec<_> = (0..10)
        .map(|i| {
            fx.sample(
                &format!("s{i}"),
                "m1",
                "Paris is the capital of France.",
                at(i),
            )
        })
        .collect();
    samples[3].output = "   ".to_owned();
    samples[7].output = String::new();
    fx.storage
        .traffic
        .insert_samples(fx.org, &samples)
        .await
        .unwrap();
    let id = fx.enqueue(fx.request("m1", 100)).await;

    let runner = JobRunner::new(fx.storage.clone(), catalog(vec![]), config("w1"));
    assert_eq!(
        claim_and_run(&fx, &runner).await,
        RunOutcome::Finished(JobStatus::Succeeded)
    );

    let job = fx.job(id).await;
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(
        (job.progress.total, job.progress.done, job.progress.errors),
        (10, 10, 0)
    );
    assert!(!job.partial);
    let empty = &job.summary["empty_output"];
    assert_eq!(empty.n, 10);
    assert!((empty.mean.unwrap() - 0.8).abs() < 1e-9, "{empty:?}");
    assert_eq!(empty.outcomes.scored, 10);
    let length = &job.summary["output_length"];
    assert!(length.unit.is_some(), "a measurement names its unit");
    // The default set names judges, which are skipped without a provider.
    assert_eq!(
        job.summary["hallucination"].skipped.as_deref(),
        Some(NO_JUDGE_PROVIDER)
    );
    let baseline = job.baseline.unwrap();
    assert_eq!(baseline.kind, "none");
    assert!(baseline.reason.is_some());

    let results = fx.storage.results.job_results(id).await.unwrap();
    assert_eq!(results.len(), 10);
    let flagged: Vec<_> = results
        .iter()
        .filter(|r| r.flagged)
        .map(|r| r.sample_id.as_str())
        .collect();
    assert_eq!(flagged, vec!["s3", "s7"]);
}

#[tokio::test]
async fn a_target_without_samples_fails_with_no_samples() {
    let fx = fixture().await;
    fx.traffic("other", 3, 0).await;
    let id = fx.enqueue(fx.request("m1", 10)).await;
    let runner = JobRunner::new(fx.storage.clone(), catalog(vec![]), config("w1"));
    assert_eq!(
        claim_and_run(&fx, &runner).await,
        RunOutcome::Finished(JobStatus::Failed)
    );
    let job = fx.job(id).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.error.unwrap().code, "no_samples");
}

#[tokio::test]
async fn judge_outcomes_are_counted_and_never_fail_the_job() {
    let fx = fixture().await;
    fx.traffic("m1", 20, 0).await;
    let judge = Arc::new(FakeJudge::new(
        "hallucination",
        Arc::new(|s| {
            let i: usize = s.id.rsplit('-').next().unwrap().parse().unwrap();
            match i % 5 {
                0 => ScoreOutcome::Error {
                    cause: "provider answered 503".to_owned(),
                },
                1 => ScoreOutcome::Unparsable {
                    raw: "maybe?".to_owned(),
                    reason: "no label".to_owned(),
                },
                2 => ScoreOutcome::NotApplicable {
                    reason: "no context".to_owned(),
                },
                3 => ScoreOutcome::scored(0.0),
                _ => ScoreOutcome::scored(1.0),
            }
        }),
    ));
    let mut request = fx.request("m1", 20);
    request.scorers = Some(vec!["hallucination".to_owned(), "empty_output".to_owned()]);
    let id = fx.enqueue(request).await;
    let runner = JobRunner::new(
        fx.storage.clone(),
        catalog(vec![judge.clone()]),
        config("w1"),
    );
    assert_eq!(
        claim_and_run(&fx, &runner).await,
        RunOutcome::Finished(JobStatus::Succeeded)
    );

    let job = fx.job(id).await;
    let h = &job.summary["hallucination"];
    assert_eq!(
        (
            h.outcomes.scored,
            h.outcomes.unparsable,
            h.outcomes.not_applicable,
            h.outcomes.error
        ),
        (8, 4, 4, 4)
    );
    assert_eq!(h.n, 8);
    assert!((h.mean.unwrap() - 0.5).abs() < 1e-9);
    assert_eq!(
        (job.progress.total, job.progress.done, job.progress.errors),
        (20, 20, 4)
    );
    assert_eq!(job.usage.judge_requests, 20);
    assert_eq!(job.usage.prompt_tokens, 2_000);
    assert_eq!(judge.total_calls(), 20);
    let results = fx.storage.results.job_results(id).await.unwrap();
    // Scored 0.0 fails the judge's threshold: those four samples are flagged.
    assert_eq!(results.iter().filter(|r| r.flagged).count(), 4);
}

#[tokio::test]
async fn budget_exhausted_finishes_partial() {
    let fx = fixture().await;
    fx.traffic("m1", 50, 0).await;
    let mut judge = FakeJudge::new("correctness", Arc::new(|_| ScoreOutcome::scored(1.0)));
    judge.cost_per_call = 0.01;
    judge.delay = Duration::from_millis(1);
    let judge = Arc::new(judge);
    let mut request = fx.request("m1", 50);
    request.scorers = Some(vec!["correctness".to_owned()]);
    request.max_cost_usd = Some(0.05);
    let id = fx.enqueue(request).await;
    let runner = JobRunner::new(
        fx.storage.clone(),
        catalog(vec![judge.clone()]),
        config("w1"),
    );
    assert_eq!(
        claim_and_run(&fx, &runner).await,
        RunOutcome::Finished(JobStatus::Succeeded)
    );

    let job = fx.job(id).await;
    assert_eq!(job.status, JobStatus::Succeeded);
    assert!(job.partial);
    assert_eq!(job.stop_reason.as_deref(), Some("budget_exhausted"));
    assert!(
        job.progress.done >= 5 && job.progress.done <= 7,
        "{:?}",
        job.progress
    );
    let cost = job.usage.cost_usd.unwrap();
    assert!(cost >= 0.05 - 1e-9, "{cost}");
    // Judge calls stop soon after the budget is spent (those in flight finish).
    assert!(judge.total_calls() <= 7, "{}", judge.total_calls());
}

#[tokio::test]
async fn cancel_mid_run_stops_it() {
    let fx = fixture().await;
    fx.traffic("m1", 30, 0).await;
    let mut judge = FakeJudge::new("toxicity", Arc::new(|_| ScoreOutcome::scored(1.0)));
    let gate = Arc::new(tokio::sync::Semaphore::new(5));
    judge.gate = Some(gate.clone());
    let judge = Arc::new(judge);
    let mut request = fx.request("m1", 30);
    request.scorers = Some(vec!["toxicity".to_owned()]);
    let id = fx.enqueue(request).await;
    let runner = Arc::new(JobRunner::new(
        fx.storage.clone(),
        catalog(vec![judge.clone()]),
        config("w1"),
    ));
    let claimed = fx
        .storage
        .jobs
        .claim_job("w1", Duration::from_secs(10))
        .await
        .unwrap()
        .unwrap();
    let task = {
        let runner = runner.clone();
        tokio::spawn(async move { runner.run(claimed, CancellationToken::new()).await })
    };
    let storage = fx.storage.clone();
    eventually(Duration::from_secs(5), || {
        let storage = storage.clone();
        async move { storage.results.job_results(id).await.unwrap().len() == 5 }
    })
    .await;
    let cancelled = fx
        .storage
        .jobs
        .cancel_job(fx.org, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    let outcome = tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome, RunOutcome::LeaseEnded);
    // Calls released after the stop write nothing.
    gate.add_permits(100);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fx.storage.results.job_results(id).await.unwrap().len(), 5);
    assert_eq!(fx.job(id).await.status, JobStatus::Cancelled);
}

#[tokio::test]
async fn a_crashed_run_resumes_without_rescoring() {
    let fx = fixture().await;
    fx.traffic("m1", 40, 0).await;
    let mut judge = FakeJudge::new("answer_relevance", Arc::new(|_| ScoreOutcome::scored(0.9)));
    let gate = Arc::new(tokio::sync::Semaphore::new(12));
    judge.gate = Some(gate.clone());
    let judge = Arc::new(judge);
    let mut request = fx.request("m1", 40);
    request.scorers = Some(vec![
        "answer_relevance".to_owned(),
        "output_length".to_owned(),
    ]);
    let id = fx.enqueue(request).await;

    // First run: crashes (is dropped) after 12 samples were scored.
    let first = Arc::new(JobRunner::new(
        fx.storage.clone(),
        catalog(vec![judge.clone()]),
        config("crashing"),
    ));
    let claimed = fx
        .storage
        .jobs
        .claim_job("crashing", Duration::from_secs(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.attempt, 1);
    let task = {
        let first = first.clone();
        tokio::spawn(async move { first.run(claimed, CancellationToken::new()).await })
    };
    let storage = fx.storage.clone();
    eventually(Duration::from_secs(5), || {
        let storage = storage.clone();
        async move { storage.results.job_results(id).await.unwrap().len() == 12 }
    })
    .await;
    task.abort();
    let _ = task.await;
    let stored_before: Vec<String> = fx
        .storage
        .results
        .job_results(id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.sample_id)
        .collect();
    assert_eq!(stored_before.len(), 12);
    // While the dead worker's lease lasts, nobody else gets the job.
    assert!(
        fx.storage
            .jobs
            .claim_job("rescuer", Duration::from_secs(10))
            .await
            .unwrap()
            .is_none()
    );
    // The dead worker's lease runs out.
    fx.expire_leases().await;

    gate.add_permits(1_000);
    let second = JobRunner::new(
        fx.storage.clone(),
        catalog(vec![judge.clone()]),
        config("rescuer"),
    );
    let claimed = fx
        .storage
        .jobs
        .claim_job("rescuer", Duration::from_secs(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.attempt, 2);
    assert_eq!(
        second.run(claimed, CancellationToken::new()).await,
        RunOutcome::Finished(JobStatus::Succeeded)
    );
    let job = fx.job(id).await;
    assert_eq!((job.progress.total, job.progress.done), (40, 40));
    assert_eq!(job.summary["answer_relevance"].n, 40);
    let results = fx.storage.results.job_results(id).await.unwrap();
    assert_eq!(results.len(), 40);
    assert!(results.iter().all(|r| r.role == SampleRole::Current));
    let calls = judge.calls.lock().unwrap();
    for sample in &stored_before {
        assert_eq!(
            calls[sample], 1,
            "{sample} was scored again after the crash"
        );
    }
}

#[tokio::test]
async fn a_regression_is_flagged_and_raises_the_flagged_event() {
    let fx = fixture().await;
    fx.traffic("old", 40, 0).await;
    fx.traffic("new", 40, 100).await;
    let judge = Arc::new(FakeJudge::new(
        "correctness",
        Arc::new(|s| ScoreOutcome::scored(if s.model == "old" { 0.9 } else { 0.3 })),
    ));
    let endpoint = evalguard_storage::WebhookEndpoint {
        id: uuid::Uuid::now_v7(),
        org_id: fx.org,
        project_id: fx.project.clone(),
        url: "https://hooks.example.com/x".to_owned(),
        events: vec![
            "auto_eval.completed".to_owned(),
            "auto_eval.flagged".to_owned(),
        ],
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
        created_at: chrono::Utc::now(),
    };
    fx.storage
        .webhooks
        .create_endpoint(&endpoint)
        .await
        .unwrap();
    let mut request = fx.request("new", 40);
    request.scorers = Some(vec!["correctness".to_owned()]);
    request.repeats = 3;
    let id = fx.enqueue(request).await;
    let runner = JobRunner::new(fx.storage.clone(), catalog(vec![judge]), config("w1"));
    assert_eq!(
        claim_and_run(&fx, &runner).await,
        RunOutcome::Finished(JobStatus::Succeeded)
    );

    let job = fx.job(id).await;
    assert_eq!(job.baseline.as_ref().unwrap().model.as_deref(), Some("old"));
    let summary = &job.summary["correctness"];
    assert_eq!(summary.baseline.as_ref().unwrap().n, 40);
    assert_eq!(summary.agreement, Some(1.0));
    let regression = job
        .flags
        .iter()
        .find(|f| f.kind == evalguard_domain::FlagKind::Regression)
        .expect("a regression flag");
    assert!(regression.evidence.effect.unwrap() < 0.0);
    let mut events: Vec<String> = fx
        .storage
        .webhooks
        .list_deliveries(fx.org, endpoint.id, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.event_type)
        .collect();
    events.sort();
    assert_eq!(events, vec!["auto_eval.completed", "auto_eval.flagged"]);
}
