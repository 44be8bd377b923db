//! Fixtures shared by the worker's integration tests: a fresh SQLite
//! database with an organization and a project, traffic, jobs, and scorers
//! whose behaviour a test scripts.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use evalguard_domain::job::{AutoEvalRequest, Target};
use evalguard_domain::project::{Project, ProjectSettings, RubricDefinition};
use evalguard_domain::scorers::DeterministicCatalog;
use evalguard_domain::scoring::{
    CallUsage, ScoreFuture, ScoreKind, ScoreOptions, ScoreOutcome, Scorer, ScorerAvailability,
    ScorerCatalog, ScorerRun,
};
use evalguard_domain::{Job, JobId, OrgId, ProjectId, TrafficSample};
use evalguard_storage::{NewJob, Storage};
use evalguard_worker::WorkerConfig;

pub struct Fixture {
    pub storage: Storage,
    pub org: OrgId,
    pub project: ProjectId,
    /// Keeps the temporary database directory alive.
    _dir: tempfile::TempDir,
}

pub async fn fixture() -> Fixture {
    let (storage, dir) = evalguard_storage::testing::fresh_sqlite().await;
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
    Fixture {
        storage,
        org,
        project,
        _dir: dir,
    }
}

pub fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::minutes(minute)
}

impl Fixture {
    /// Every running job's lease ends now, as if its worker stopped.
    pub async fn expire_leases(&self) {
        let url = evalguard_storage::testing::sqlite_url(&self._dir);
        evalguard_storage::testing::expire_running_leases(&url)
            .await
            .unwrap();
    }

    pub fn target(&self, model: &str) -> Target {
        Target {
            model: model.to_owned(),
            prompt_id: "answer-v3".to_owned(),
            project_id: self.project.clone(),
        }
    }

    pub fn sample(&self, id: &str, model: &str, output: &str, ts: DateTime<Utc>) -> TrafficSample {
        TrafficSample {
            id: id.to_owned(),
            project_id: self.project.clone(),
            model: model.to_owned(),
            prompt_id: "answer-v3".to_owned(),
            input: format!("question {id}"),
            output: output.to_owned(),
            context: vec!["The capital of France is Paris.".to_owned()],
            reference: None,
            timestamp: ts,
            metadata: None,
            latency_ms: Some(100.0),
            prompt_tokens: Some(10),
            completion_tokens: Some(5),
        }
    }

    /// `n` samples of `model`, one a minute from `start_minute`; ids `{model}-{i}`.
    pub async fn traffic(&self, model: &str, n: usize, start_minute: i64) -> Vec<TrafficSample> {
        let samples: Vec<TrafficSample> = (0..n)
            .map(|i| {
                self.sample(
                    &format!("{model}-{i}"),
                    model,
                    "Paris is the capital of France.",
                    at(start_minute + i as i64),
                )
            })
            .collect();
        self.storage
            .traffic
            .insert_samples(self.org, &samples)
            .await
            .unwrap();
        samples
    }

    pub fn request(&self, model: &str, sample_count: u32) -> AutoEvalRequest {
        AutoEvalRequest {
            target: self.target(model),
            sample_count,
            scorers: None,
            baseline: None,
            max_cost_usd: None,
            cache: true,
            repeats: 1,
            thresholds: None,
        }
    }

    pub async fn enqueue(&self, request: AutoEvalRequest) -> JobId {
        let (job, _) = self
            .storage
            .jobs
            .enqueue(NewJob {
                id: JobId::new(),
                org_id: self.org,
                request,
                idempotency_key: None,
                created_at: Utc::now(),
            })
            .await
            .unwrap();
        job.id
    }

    pub async fn job(&self, id: JobId) -> Job {
        self.storage
            .jobs
            .get_job(self.org, id)
            .await
            .unwrap()
            .unwrap()
    }
}

pub fn config(worker: &str) -> WorkerConfig {
    WorkerConfig {
        concurrency: 1,
        lease: Duration::from_secs(10),
        heartbeat_every: Duration::from_millis(100),
        poll_interval: Duration::from_millis(50),
        worker_id: worker.to_owned(),
        result_flush: Duration::from_millis(50),
        shutdown_grace: Duration::from_millis(200),
        embedder: None,
        clock: Arc::new(evalguard_worker::SystemClock),
    }
}

/// A clock that only moves when the test says so. Tests wait on it for the
/// worker loops to be idle instead of sleeping and hoping they are.
#[derive(Debug, Default)]
pub struct ManualClock {
    state: Mutex<ManualTime>,
    sleeper_added: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct ManualTime {
    now: Duration,
    sleepers: Vec<(Duration, tokio::sync::oneshot::Sender<()>)>,
}

impl evalguard_worker::Clock for ManualClock {
    fn sleep(&self, duration: Duration) -> evalguard_worker::ClockSleep {
        let (wake, woken) = tokio::sync::oneshot::channel();
        {
            let mut time = self.state.lock().unwrap();
            let deadline = time.now + duration;
            time.sleepers.push((deadline, wake));
        }
        self.sleeper_added.notify_waiters();
        Box::pin(async move {
            let _ = woken.await;
        })
    }
}

impl ManualClock {
    /// Waits until `n` waits on this clock are pending (e.g. `n` idle loops).
    pub async fn until_sleeping(&self, n: usize) {
        loop {
            let added = self.sleeper_added.notified();
            tokio::pin!(added);
            added.as_mut().enable();
            if self.sleeping() >= n {
                return;
            }
            added.await;
        }
    }

    /// Waits still pending: their sleeper has neither been woken nor given up.
    pub fn sleeping(&self) -> usize {
        let time = self.state.lock().unwrap();
        time.sleepers.iter().filter(|(_, s)| !s.is_closed()).count()
    }

    /// Moves time on by `by`, ending every wait that is due.
    pub fn advance(&self, by: Duration) {
        let mut time = self.state.lock().unwrap();
        time.now += by;
        let now = time.now;
        let (due, later) = std::mem::take(&mut time.sleepers)
            .into_iter()
            .partition::<Vec<_>, _>(|(deadline, _)| *deadline <= now);
        time.sleepers = later;
        for (_, wake) in due {
            let _ = wake.send(());
        }
    }
}

/// What a scripted judge answers for a sample.
pub type Script = Arc<dyn Fn(&TrafficSample) -> ScoreOutcome + Send + Sync>;

/// An LLM judge stand-in: answers as scripted, counts its calls per sample,
/// can be slowed down or held at a gate.
pub struct FakeJudge {
    pub name: String,
    pub script: Script,
    pub cost_per_call: f64,
    pub delay: Duration,
    pub calls: Arc<Mutex<HashMap<String, u32>>>,
    /// When set, each call first takes a permit (tests hand them out).
    pub gate: Option<Arc<tokio::sync::Semaphore>>,
}

impl FakeJudge {
    pub fn new(name: &str, script: Script) -> Self {
        Self {
            name: name.to_owned(),
            script,
            cost_per_call: 0.0,
            delay: Duration::ZERO,
            calls: Arc::default(),
            gate: None,
        }
    }

    pub fn total_calls(&self) -> u32 {
        self.calls.lock().unwrap().values().sum()
    }
}

impl Scorer for FakeJudge {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> ScoreKind {
        ScoreKind::Score
    }
    fn is_deterministic(&self) -> bool {
        false
    }
    fn passes(&self, outcome: &ScoreOutcome) -> Option<bool> {
        outcome.value().map(|v| v >= 0.5)
    }
    fn score<'a>(&'a self, sample: &'a TrafficSample, options: ScoreOptions) -> ScoreFuture<'a> {
        Box::pin(async move {
            if let Some(gate) = &self.gate {
                gate.acquire().await.unwrap().forget();
            }
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            *self
                .calls
                .lock()
                .unwrap()
                .entry(sample.id.clone())
                .or_default() += 1;
            ScorerRun {
                outcome: (self.script)(sample),
                usage: CallUsage {
                    judge_requests: 1,
                    prompt_tokens: 100,
                    completion_tokens: 10,
                    cache_hits: 0,
                    cost_usd: self.cost_per_call,
                },
                agreed: (options.repeats > 1).then_some(true),
            }
        })
    }
}

/// The deterministic scorers plus the test's own judges.
pub struct TestCatalog {
    pub judges: Vec<Arc<FakeJudge>>,
}

impl ScorerCatalog for TestCatalog {
    fn resolve(&self, name: &str, rubrics: &[RubricDefinition]) -> ScorerAvailability {
        if let Some(judge) = self.judges.iter().find(|j| j.name == name) {
            return ScorerAvailability::Ready(judge.clone());
        }
        DeterministicCatalog.resolve(name, rubrics)
    }
    fn default_set(&self) -> Vec<String> {
        DeterministicCatalog.default_set()
    }
}

pub fn catalog(judges: Vec<Arc<FakeJudge>>) -> Arc<dyn ScorerCatalog> {
    Arc::new(TestCatalog { judges })
}

/// Waits until `check` holds, polling; panics after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
