//! The dashboard's aggregate reads: a job's score distributions counted by
//! the database, and each target's latest succeeded jobs for its trends.

use std::collections::BTreeMap;
use std::time::Duration;

use evalguard_domain::job::JobStatus;
use evalguard_domain::scoring::{CallUsage, SampleRole};
use evalguard_domain::{JobId, OrgId, ScoreOutcome, Target};
use evalguard_storage::{ScoreDistribution, StoredResult};

use crate::fixture::{Db, new_job, pid, project, target, two_orgs};
use crate::leases::completion;

fn scored(value: f64, label: Option<&str>) -> ScoreOutcome {
    ScoreOutcome::Scored {
        value,
        label: label.map(str::to_owned),
        reasoning: None,
    }
}

fn result(role: SampleRole, key: i64, scores: Vec<(&str, ScoreOutcome)>) -> StoredResult {
    StoredResult {
        role,
        sample_key: key,
        sample_id: format!("s{key}"),
        flagged: false,
        scores: scores.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        usage: CallUsage::default(),
        agreement: BTreeMap::new(),
        passed: BTreeMap::new(),
    }
}

fn side<'a>(all: &'a [ScoreDistribution], scorer: &str, role: SampleRole) -> &'a ScoreDistribution {
    all.iter()
        .find(|d| d.scorer == scorer && d.role == role)
        .unwrap_or_else(|| panic!("no {scorer} {role:?} in {all:?}"))
}

pub async fn score_distributions_count_bins_means_and_labels(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    let job = db.jobs.enqueue(new_job(a, &t, None)).await.unwrap().0.id;
    let other = db.jobs.enqueue(new_job(a, &t, None)).await.unwrap().0.id;
    let h = |label: &str| scored(if label == "hallucinated" { 1.0 } else { 0.0 }, Some(label));
    let na = ScoreOutcome::NotApplicable {
        reason: "no context".to_owned(),
    };
    let current = [0.0, 0.05, 0.5, 1.0];
    let mut results: Vec<StoredResult> = current
        .iter()
        .zip(["hallucinated", "hallucinated", "faithful", "faithful"])
        .enumerate()
        .map(|(i, (v, label))| {
            result(
                SampleRole::Current,
                i as i64,
                vec![
                    ("latency", scored(*v, None)),
                    ("hallucination", h(label)),
                    ("constant", scored(3.0, None)),
                    ("refusal", na.clone()),
                ],
            )
        })
        .collect();
    results.push(result(
        SampleRole::Baseline,
        10,
        vec![("latency", scored(0.25, None))],
    ));
    results.push(result(
        SampleRole::Baseline,
        11,
        vec![("latency", scored(0.75, None))],
    ));
    db.results.save_results(job, &results).await.unwrap();
    let noise = result(
        SampleRole::Current,
        0,
        vec![("latency", scored(100.0, None))],
    );
    db.results.save_results(other, &[noise]).await.unwrap();

    let all = db
        .dashboard
        .score_distributions(job, 10, "hallucinated")
        .await
        .unwrap();
    assert_eq!(
        all.len(),
        4,
        "latency on both sides, hallucination, constant: {all:?}"
    );
    assert!(
        all.iter().all(|d| d.scorer != "refusal"),
        "only scored values count"
    );

    let latency = side(&all, "latency", SampleRole::Current);
    assert_eq!(latency.n, 4);
    assert!((latency.mean - 0.3875).abs() < 1e-12, "{latency:?}");
    let expected_ss: f64 = current.iter().map(|v| (v - 0.3875) * (v - 0.3875)).sum();
    assert!((latency.squared_deviations - expected_ss).abs() < 1e-12);
    // The span is the scorer's over both sides; the last bin is closed.
    assert_eq!((latency.low, latency.high), (0.0, 1.0));
    assert_eq!(latency.bins, vec![2, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
    let base = side(&all, "latency", SampleRole::Baseline);
    assert_eq!(base.n, 2);
    assert_eq!((base.low, base.high), (0.0, 1.0));
    assert_eq!(base.bins, vec![0, 0, 1, 0, 0, 0, 0, 1, 0, 0]);

    let hallucination = side(&all, "hallucination", SampleRole::Current);
    assert_eq!((hallucination.n, hallucination.labelled), (4, 2));
    assert_eq!(latency.labelled, 0);

    // A scorer with one value throughout has a zero-width span: one bin.
    let constant = side(&all, "constant", SampleRole::Current);
    assert_eq!(constant.bins, vec![4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(constant.squared_deviations, 0.0);

    let none = db
        .dashboard
        .score_distributions(JobId::new(), 10, "hallucinated")
        .await
        .unwrap();
    assert!(none.is_empty());
}

/// Enqueues a job of `target` and makes it succeed with `mean` as its score.
async fn succeeded(db: &Db, org: OrgId, target: &Target, mean: f64) -> JobId {
    let id = db
        .jobs
        .enqueue(new_job(org, target, None))
        .await
        .unwrap()
        .0
        .id;
    let claimed = db
        .jobs
        .claim_job("w1", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.job.id, id, "the only queued job");
    let mut done = completion(JobStatus::Succeeded);
    let Some(judged) = done.summary.get_mut("empty_output") else {
        panic!("the completion has an empty_output line");
    };
    judged.mean = Some(mean);
    // A measurement (with a unit) and a score without a mean draw no trend.
    let mut measured = judged.clone();
    measured.unit = Some("ms".to_owned());
    let mut unscored = judged.clone();
    unscored.mean = None;
    done.summary.insert("latency".to_owned(), measured);
    done.summary.insert("refusal".to_owned(), unscored);
    assert!(db.jobs.finish_job(id, "w1", &done).await.unwrap());
    // Job ids order by time: keep each job in its own millisecond.
    tokio::time::sleep(Duration::from_millis(3)).await;
    id
}

pub async fn target_trends_are_the_latest_succeeded_jobs_per_target(db: &Db) {
    let (a, b) = two_orgs(db).await;
    for org in [a, b] {
        db.projects
            .create_project(org, &project("bot"))
            .await
            .unwrap();
    }
    db.projects
        .create_project(a, &project("other"))
        .await
        .unwrap();
    let mp = target("bot", "m", "p");
    let m2 = target("bot", "m2", "p");
    for mean in [0.1, 0.2, 0.3] {
        succeeded(db, a, &mp, mean).await;
    }
    succeeded(db, a, &m2, 0.9).await;
    succeeded(db, a, &target("other", "m", "p"), 0.5).await;
    succeeded(db, b, &mp, 0.6).await;
    // Neither queued nor failed jobs have a trend point.
    db.jobs.enqueue(new_job(a, &mp, None)).await.unwrap();

    let targets = vec![
        ("m".to_owned(), "p".to_owned()),
        ("m2".to_owned(), "p".to_owned()),
        ("unseen".to_owned(), "p".to_owned()),
    ];
    let points = db
        .dashboard
        .target_trends(a, &pid("bot"), &targets, 2)
        .await
        .unwrap();
    assert!(points.iter().all(|p| p.scorer == "empty_output"));
    let mut seen: Vec<(String, f64)> = points.iter().map(|p| (p.model.clone(), p.mean)).collect();
    seen.sort_by(|x, y| x.partial_cmp(y).unwrap());
    assert_eq!(
        seen,
        vec![
            ("m".to_owned(), 0.2),
            ("m".to_owned(), 0.3),
            ("m2".to_owned(), 0.9)
        ],
        "the two latest of m/p, the one of m2/p; nothing of another project or org"
    );
    assert!(points.iter().all(|p| p.prompt_id == "p"));
    let none = db
        .dashboard
        .target_trends(a, &pid("bot"), &[], 50)
        .await
        .unwrap();
    assert!(none.is_empty());
}
