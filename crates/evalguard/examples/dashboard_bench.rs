//! Dashboard page latency at size: a fresh database with `--samples`
//! traffic samples (default 1,000,000) over 100 targets and `--jobs` jobs
//! (default 10,000, over the same 100 targets), one job run for real first
//! (deterministic scorers, 1,000 samples, so its report has results, charts
//! and flagged samples); the other jobs are then marked succeeded with its
//! summary and flags, so that lists and score trends read real-sized rows.
//! On PostgreSQL the database is then analysed, as autovacuum would have
//! done in a deployment after such loads (`--no-analyze` skips it; SQLite
//! gets no statistics, as in a deployment). Then `--requests` sequential
//! GETs of each page by a signed-in person. Prints p50/p99/max per page.
//!
//! `cargo run --release --example dashboard_bench -- --db sqlite`
//! (`--db postgres` uses `EVALGUARD_TEST_POSTGRES_URL`; the database is
//! kept, and named, for `EXPLAIN`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use chrono::Utc;
use evalguard::{Application, Config};
use evalguard_api::dashboard::secrets::hash_password;
use evalguard_domain::job::AutoEvalRequest;
use evalguard_domain::project::{Project, ProjectSettings};
use evalguard_domain::{JobId, ProjectId, Role, Target, TrafficSample};
use evalguard_storage::{NewJob, NewUser, Storage};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

fn sample(i: usize, project: &ProjectId) -> TrafficSample {
    TrafficSample {
        id: format!("s{i}"),
        project_id: project.clone(),
        model: format!("model-{}", i % 10),
        prompt_id: format!("prompt-{}", (i / 10) % 10),
        input: format!("Where is office {i}?"),
        output: if i.is_multiple_of(7) {
            String::new()
        } else {
            format!("Office {i} is in Berlin.")
        },
        context: vec!["The offices are in Berlin.".to_owned()],
        reference: None,
        timestamp: Utc::now() - chrono::Duration::seconds(i as i64),
        metadata: None,
        latency_ms: Some(100.0 + (i % 500) as f64),
        prompt_tokens: Some(50),
        completion_tokens: Some(20),
    }
}

async fn seed(storage: &Storage, samples: usize) -> (ProjectId, evalguard_domain::OrgId) {
    let org = storage.access.ensure_org("acme").await.unwrap();
    let project = ProjectId::parse("support-bot").unwrap();
    storage
        .projects
        .create_project(
            org,
            &Project {
                id: project.clone(),
                name: "Support bot".to_owned(),
                created_at: Utc::now(),
                settings: ProjectSettings::default(),
            },
        )
        .await
        .unwrap();
    storage
        .users
        .create_user(NewUser {
            org_id: org,
            email: "ann@acme.example".to_owned(),
            role: Role::Owner,
            password_hash: hash_password("a long enough password").unwrap(),
        })
        .await
        .unwrap();
    let started = Instant::now();
    for start in (0..samples).step_by(10_000) {
        let batch: Vec<_> = (start..(start + 10_000).min(samples))
            .map(|i| sample(i, &project))
            .collect();
        storage.traffic.insert_samples(org, &batch).await.unwrap();
    }
    println!(
        "seeded {samples} samples in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (project, org)
}

async fn queue_jobs(
    storage: &Storage,
    org: evalguard_domain::OrgId,
    project: &ProjectId,
    jobs: usize,
) {
    let started = Instant::now();
    for i in 0..jobs {
        let target = Target {
            model: format!("model-{}", i % 10),
            prompt_id: format!("prompt-{}", (i / 10) % 10),
            project_id: project.clone(),
        };
        storage
            .jobs
            .enqueue(NewJob {
                id: JobId::new(),
                org_id: org,
                request: AutoEvalRequest {
                    target,
                    sample_count: 100,
                    scorers: Some(vec!["empty_output".to_owned()]),
                    baseline: None,
                    max_cost_usd: None,
                    cache: true,
                    repeats: 1,
                    thresholds: None,
                },
                idempotency_key: None,
                created_at: Utc::now(),
            })
            .await
            .unwrap();
    }
    println!(
        "seeded {jobs} jobs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Percentile of sorted durations, in milliseconds.
fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    // Profiling: `EVALGUARD_LOG=sqlx=debug` logs every statement with its time.
    evalguard::logging::init(evalguard::logging::LogFormat::Text);
    let db = arg("--db", "sqlite");
    let samples: usize = arg("--samples", "1000000").parse().unwrap();
    let jobs: usize = arg("--jobs", "10000").parse().unwrap();
    let requests: usize = arg("--requests", "200").parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = if db == "postgres" {
        evalguard_storage::testing::fresh_postgres()
            .await
            .expect("EVALGUARD_TEST_POSTGRES_URL")
    } else {
        format!("sqlite://{}", dir.path().join("evalguard.db").display())
    };
    let storage = Storage::connect(&url).await.unwrap();
    let (project, org) = seed(&storage, samples).await;

    // One job run for real by a worker (the only one queued at the time).
    let report_job = JobId::new();
    storage
        .jobs
        .enqueue(NewJob {
            id: report_job,
            org_id: org,
            request: AutoEvalRequest {
                target: Target {
                    model: "model-0".to_owned(),
                    prompt_id: "prompt-0".to_owned(),
                    project_id: project.clone(),
                },
                sample_count: 1000,
                scorers: Some(vec![
                    "empty_output".to_owned(),
                    "output_length".to_owned(),
                    "latency".to_owned(),
                ]),
                baseline: None,
                max_cost_usd: None,
                cache: true,
                repeats: 1,
                thresholds: None,
            },
            idempotency_key: None,
            created_at: Utc::now(),
        })
        .await
        .unwrap();
    let mut config = Config::for_tests(&url);
    config.workers = 1;
    let worker = Application::build(config).await.unwrap();
    let stop = worker.shutdown_token();
    let running = tokio::spawn(async move { worker.run_until_stopped().await.unwrap() });
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let job = storage
            .jobs
            .get_job(org, report_job)
            .await
            .unwrap()
            .unwrap();
        if job.finished_at.is_some() {
            println!("report job: {:?}, {} flags", job.status, job.flags.len());
            break;
        }
        assert!(Instant::now() < deadline, "the report job did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.cancel();
    running.await.unwrap();

    queue_jobs(&storage, org, &project, jobs).await;
    let finished = evalguard_storage::testing::succeed_queued_jobs_like(&url, report_job.0)
        .await
        .unwrap();
    println!("marked {finished} jobs succeeded like the report job");
    if !std::env::args().any(|a| a == "--no-analyze") {
        evalguard_storage::testing::analyze_like_autovacuum(&url)
            .await
            .unwrap();
    }
    if db == "postgres" {
        println!("database: {url}");
    }
    let mut config = Config::for_tests(&url);
    config.workers = 0;
    let app = Application::build(config).await.unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    tokio::spawn(async move { app.run_until_stopped().await.unwrap() });

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = client
        .get(format!("{base}/dashboard/login"))
        .send()
        .await
        .unwrap();
    let pre = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body = login.text().await.unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker).unwrap() + marker.len();
    let csrf = &body[start..start + 64];
    let signed = client
        .post(format!("{base}/dashboard/login"))
        .header("cookie", &pre)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "email=ann%40acme.example&password=a+long+enough+password&csrf_token={csrf}"
        ))
        .send()
        .await
        .unwrap();
    let session = signed.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let pages = [
        ("overview", "/dashboard".to_owned()),
        ("project", format!("/dashboard/projects/{project}")),
        ("job report", format!("/dashboard/jobs/{report_job}")),
        ("api keys", "/dashboard/api-keys".to_owned()),
        ("users", "/dashboard/users".to_owned()),
        (
            "settings",
            format!("/dashboard/projects/{project}/settings"),
        ),
        ("account", "/dashboard/account".to_owned()),
    ];
    println!("| page | p50 ms | p99 ms | max ms |\n|---|---|---|---|");
    for (name, path) in pages {
        let mut times = Vec::with_capacity(requests);
        for _ in 0..requests {
            let t = Instant::now();
            let r = client
                .get(format!("{base}{path}"))
                .header("cookie", &session)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.bytes().await.unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} |",
            pct(&times, 0.5),
            pct(&times, 0.99),
            pct(&times, 1.0)
        );
    }
}
