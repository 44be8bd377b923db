//! Missing verdicts are never a pass: a judge that could not look, or one
//! the gate needs that did not run, is an exit 2 that says why.

use serde_json::{Value, json};

use super::*;

/// Two unchanged deployments, and a finished job of the new one whose
/// request names the `hallucination` judge.
async fn unchanged_job_naming_its_judge(
    db: Db,
    judge: Option<String>,
) -> Option<(TestApp, String, Value)> {
    let app = spawn(db, judge).await?;
    let key = app.project("acme", "bot").await;
    deployments(&app, &key, |_, _| GOOD_ANSWER.into()).await;
    let request = json!({"target": target(), "scorers": ["hallucination", "refusal"]});
    let job = job_of(&app, &key, request).await;
    Some((app, key, job))
}

pub async fn an_unreachable_judge_is_never_a_pass(db: Db) {
    let Some((app, key, job)) = unchanged_job_naming_its_judge(db, Some(unreachable_judge())).await
    else {
        return;
    };

    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        job["summary"]["hallucination"]["outcomes"]["error"], 100,
        "{job}"
    );
    let warning = &job["warnings"][0];
    assert_eq!(warning["code"], "judge_verdicts_missing", "{job}");
    assert_eq!(warning["scorer"], "hallucination");
    assert_eq!(warning["count"], 100, "{job}");

    let out = gate(
        &app,
        &key,
        &[
            "--fail-on",
            "hallucination",
            "--scorers",
            "hallucination,refusal",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let report = text(&out);
    assert!(report.contains("cannot decide (exit 2)"), "{report}");
    assert!(
        report.contains("hallucination gave no verdict on 100 of 100 samples"),
        "{report}"
    );
    // The report lists each scorer's outcome counts.
    assert!(
        report.contains("unparsable") && report.contains("error"),
        "{report}"
    );

    // An allowance can be raised, but not past what is missing.
    let out = gate(
        &app,
        &key,
        &[
            "--fail-on",
            "hallucination",
            "--scorers",
            "hallucination",
            "--max-missing-verdicts",
            "0.5",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    app.stop().await;
}

pub async fn a_judge_the_gate_needs_but_the_server_lacks_is_exit_2(db: Db) {
    let Some((app, key, job)) = unchanged_job_naming_its_judge(db, None).await else {
        return;
    };
    // Named in the request: a warning on the job.
    assert_eq!(job["warnings"][0]["code"], "judge_not_configured", "{job}");
    // Needed by --fail-on (the default includes hallucination): exit 2, saying why.
    let out = gate(&app, &key, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--fail-on hallucination needs the hallucination judge"),
        "{}",
        text(&out)
    );
    // Without hallucination in --fail-on, nothing changed: exit 0.
    let out = gate(&app, &key, &["--fail-on", "regression,drift"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // No baseline: the gate says so, and --require-baseline makes it an exit 2.
    // The old deployment has no earlier traffic to compare with.
    let out = gate_for(
        "old",
        &app,
        &key,
        &["--fail-on", "regression", "--require-baseline"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("baseline: none"), "{}", text(&out));
    assert!(text(&out).contains("--require-baseline"), "{}", text(&out));
    app.stop().await;
}
