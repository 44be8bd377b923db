#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Baseline selection: the request's, the previous deployment, the earlier
//! window of the same target, or none.

mod common;

use common::*;
use evalguard_domain::job::AutoEvalRequest;
use evalguard_domain::job::{BaselineInfo, BaselineSpec};
use evalguard_domain::scoring::SampleRole;
use evalguard_domain::{JobId, JobStatus};
use evalguard_worker::{JobRunner, RunOutcome};
use tokio_util::sync::CancellationToken;

/// Runs one job with the deterministic scorers; returns its baseline and the
/// ids of the baseline samples it scored.
async fn run(fx: &Fixture, mut request: AutoEvalRequest) -> (JobId, BaselineInfo, Vec<String>) {
    request.scorers = Some(vec!["output_length".to_owned()]);
    let id = fx.enqueue(request).await;
    let runner = JobRunner::new(fx.storage.clone(), catalog(vec![]), config("w1"));
    let claimed = fx
        .storage
        .jobs
        .claim_job("w1", runner.config().lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        runner.run(claimed, CancellationToken::new()).await,
        RunOutcome::Finished(JobStatus::Succeeded)
    );
    let job = fx.job(id).await;
    let mut ids: Vec<String> = fx
        .storage
        .results
        .job_results(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.role == SampleRole::Baseline)
        .map(|r| r.sample_id)
        .collect();
    ids.sort();
    (id, job.baseline.unwrap(), ids)
}

#[tokio::test]
async fn previous_deployment_is_the_one_that_began_last_before_the_target() {
    let fx = fixture().await;
    fx.traffic("oldest", 5, 0).await; // began at minute 0
    fx.traffic("previous", 5, 100).await; // began at 100: the previous deployment
    fx.traffic("target", 5, 200).await; // the target begins at 200
    fx.traffic("later", 5, 150).await; // began at 150: later than "previous"
    fx.traffic("newer", 5, 300).await; // began after the target: never a baseline
    let (id, info, ids) = run(&fx, fx.request("target", 5)).await;
    // "later" began at 150, after "previous" (100) and before the target (200).
    assert_eq!(info.kind, "deployment");
    assert_eq!(info.model.as_deref(), Some("later"));
    assert_eq!(info.n, 5);
    assert_eq!(
        ids,
        (0..5).map(|i| format!("later-{i}")).collect::<Vec<_>>()
    );
    let job = fx.job(id).await;
    assert_eq!(job.summary["output_length"].baseline.as_ref().unwrap().n, 5);
}

#[tokio::test]
async fn without_a_previous_deployment_the_earlier_window_is_used() {
    let fx = fixture().await;
    fx.traffic("target", 12, 0).await;
    fx.traffic("newer", 5, 300).await;
    let (_, info, ids) = run(&fx, fx.request("target", 5)).await;
    assert_eq!(info.kind, "earlier_window");
    assert_eq!(info.n, 5);
    // Current: the 5 newest (7..=11); baseline: the 5 just older (2..=6).
    assert_eq!(
        ids,
        (2..7).map(|i| format!("target-{i}")).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn with_neither_there_is_no_baseline() {
    let fx = fixture().await;
    fx.traffic("target", 5, 0).await;
    let (id, info, ids) = run(&fx, fx.request("target", 5)).await;
    assert_eq!(info.kind, "none");
    assert_eq!(info.n, 0);
    assert!(info.reason.is_some());
    assert!(ids.is_empty());
    assert!(fx.job(id).await.summary["output_length"].baseline.is_none());
}

#[tokio::test]
async fn the_requested_baseline_wins() {
    let fx = fixture().await;
    fx.traffic("oldest", 5, 0).await;
    fx.traffic("previous", 5, 100).await;
    fx.traffic("target", 10, 200).await;
    let mut request = fx.request("target", 3);
    request.baseline = Some(BaselineSpec::Deployment {
        model: "oldest".to_owned(),
        prompt_id: "answer-v3".to_owned(),
    });
    let (_, info, ids) = run(&fx, request).await;
    assert_eq!(
        (info.kind.as_str(), info.model.as_deref(), info.n),
        ("deployment", Some("oldest"), 3)
    );
    assert_eq!(ids, vec!["oldest-2", "oldest-3", "oldest-4"]);

    let mut request = fx.request("target", 3);
    request.baseline = Some(BaselineSpec::Window {
        from: at(200),
        to: at(203),
    });
    let (_, info, ids) = run(&fx, request).await;
    assert_eq!((info.kind.as_str(), info.n), ("window", 3));
    assert_eq!(ids, vec!["target-0", "target-1", "target-2"]);
}
