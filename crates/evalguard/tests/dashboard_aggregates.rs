//! Numbers the database aggregates for the dashboard, on SQLite and
//! PostgreSQL: the project page's score trends (each target's latest
//! succeeded jobs, whichever page of the job list is shown) and the job
//! report's intervals and distributions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod dashboard_support;

use evalguard_domain::Role;
use reqwest::StatusCode;
use serde_json::json;

use dashboard_support::{DashboardApp, Db};

const PASSWORD: &str = "a long enough password";

on_both_databases! {
    trends_follow_the_targets_latest_jobs_not_the_page_shown,
    the_report_shows_the_interval_and_distribution_of_every_scored_value,
}

/// The `<svg>` of the trend whose `<title>` contains `title` (the visible
/// caption before the SVG repeats it, so the search is for the SVG's own).
fn trend_chart<'a>(body: &'a str, title: &str) -> Option<&'a str> {
    let at = body.match_indices("<title ").map(|(i, _)| i).find(|&i| {
        body[i..]
            .split("</title>")
            .next()
            .is_some_and(|t| t.contains(title))
    })?;
    let start = body[..at].rfind("<svg")?;
    let end = body[at..].find("</svg>")? + at;
    Some(&body[start..end])
}

/// A project `bot` with 8 samples of gpt-x · answer-v3 (every fourth
/// answer empty), ann (viewer) and an owner's key.
async fn start(db: Db) -> Option<(DashboardApp, String)> {
    let app = DashboardApp::start(db, |_| {}).await?;
    app.user("acme", "ann@acme.example", Role::Viewer, PASSWORD)
        .await;
    let key = app.api_key("acme", Role::Owner).await;
    let created = app
        .post_api(
            &key,
            "/api/v1/projects",
            json!({"id": "bot", "name": "Bot"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    // Every fourth answer is empty: empty_output's mean is 0.25 (or 0.75).
    let samples: Vec<_> = (0..8)
        .map(|i| {
            json!({"id": format!("s{i}"), "project_id": "bot", "model": "gpt-x",
                   "prompt_id": "answer-v3", "input": "q",
                   "output": if i % 4 == 0 { "" } else { "an answer" }})
        })
        .collect();
    let sent = app
        .post_api(&key, "/api/v1/traffic", json!({"samples": samples}))
        .await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    Some((app, key))
}

/// An auto-eval of `model` · answer-v3 (8 samples, `scorers`).
fn auto_eval(model: &str, scorers: serde_json::Value) -> serde_json::Value {
    json!({"target": {"model": model, "prompt_id": "answer-v3", "project_id": "bot"},
           "sample_count": 8, "scorers": scorers})
}

/// Runs an auto-eval of gpt-x · answer-v3 with `scorers` to its end.
async fn run_job(app: &DashboardApp, key: &str, scorers: serde_json::Value) -> String {
    let job: serde_json::Value = app
        .post_api(key, "/api/v1/auto-eval", auto_eval("gpt-x", scorers))
        .await
        .json()
        .await
        .unwrap();
    let id = job["job_id"].as_str().unwrap().to_owned();
    let done = app.wait_for_job(key, &id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    id
}

async fn trends_follow_the_targets_latest_jobs_not_the_page_shown(db: Db) {
    let Some((app, key)) = start(db).await else {
        return;
    };
    let mut jobs = Vec::new();
    for _ in 0..3 {
        jobs.push(run_job(&app, &key, json!(["empty_output"])).await);
    }
    // A job of another target (no traffic): one job draws no trend.
    let other = app
        .post_api(
            &key,
            "/api/v1/auto-eval",
            auto_eval("other", json!(["empty_output"])),
        )
        .await;
    assert_eq!(other.status(), StatusCode::ACCEPTED);

    let mut ann = app.signed_in("ann@acme.example", PASSWORD).await;
    let title = "empty_output over the latest jobs of gpt-x · answer-v3";
    let first = ann.get("/dashboard/projects/bot").await;
    assert_eq!(first.status, StatusCode::OK);
    let chart = trend_chart(&first.body, title).expect("a trend of the target");
    assert_eq!(chart.matches("<circle").count(), 3, "{chart}");
    assert!(!first.body.contains("over the latest jobs of other"));

    // The second page lists only the two oldest jobs; the trend still has
    // the target's three succeeded jobs.
    let newest = &jobs[2];
    let older = ann
        .get(&format!("/dashboard/projects/bot?before={newest}"))
        .await;
    assert_eq!(older.status, StatusCode::OK);
    assert!(!older.body.contains(&format!("/dashboard/jobs/{newest}")));
    assert!(older.body.contains(&format!("/dashboard/jobs/{}", jobs[0])));
    let chart = trend_chart(&older.body, title).expect("the trend on page two");
    assert_eq!(chart.matches("<circle").count(), 3, "{chart}");
}

async fn the_report_shows_the_interval_and_distribution_of_every_scored_value(db: Db) {
    let Some((app, key)) = start(db).await else {
        return;
    };
    let job = run_job(&app, &key, json!(["empty_output", "output_length"])).await;
    let mut ann = app.signed_in("ann@acme.example", PASSWORD).await;
    let report = ann.get(&format!("/dashboard/jobs/{job}")).await;
    assert_eq!(report.status, StatusCode::OK);
    // Two of the eight answers are empty: a 0/1 score with mean 0.25 (or
    // 0.75, by the scorer's direction), standard error sqrt(3/14/8).
    let low = "n = 8, mean 0.25 (95% CI -0.071 to 0.571)";
    let high = "n = 8, mean 0.75 (95% CI 0.429 to 1.071)";
    assert!(
        report.body.contains(low) || report.body.contains(high),
        "{}",
        report.body
    );
    let shares = if report.body.contains(low) {
        "bin 1: 75% / 0%; bin 2: 0% / 0%"
    } else {
        "bin 1: 25% / 0%; bin 2: 0% / 0%"
    };
    assert!(
        report.body.contains(&format!(
            "8 current samples and 0 baseline samples of empty_output, from 0 to 1, in 10 bins. Share per bin, current then baseline: {shares}"
        )),
        "{}",
        report.body
    );
    // output_length: "an answer" (9 characters) six times, "" twice.
    assert!(report.body.contains("n = 8, mean 6.75"), "{}", report.body);
    assert!(
        report
            .body
            .contains("of output_length, from 0 to 9, in 10 bins"),
        "{}",
        report.body
    );
    assert!(report.body.contains("bin 10: 75% / 0%;"), "{}", report.body);
}
