//! The scoring phase of a job: every planned sample not scored yet goes
//! through every scorer, and finished samples are stored in small batches.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use evalguard_domain::scoring::{CallUsage, SampleRole};
use evalguard_domain::{JobId, OrgId, Progress, TrafficSample, Usage};
use evalguard_storage::{LeaseState, Storage, StorageError, StoredResult};
use tokio::task::{Id as TaskId, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::lease::LeaseWatch;
use crate::metrics_names::SAMPLES_SCORED;
use crate::samples::LoadedSamples;
use crate::scoring::{
    SampleScores, ScorerSet, judges_failed, missing_sample, score_deterministic, score_judges,
};

/// Samples scored per step (and read from storage at once when not held).
const LOAD_CHUNK: usize = 500;
/// Finished samples stored in one write at most.
const FLUSH_BATCH: usize = 500;
/// Samples whose judge calls may be in flight at once in one job; the judge
/// providers' own limiters do the real throttling.
const JUDGE_SAMPLES_IN_FLIGHT: usize = 64;

/// Why scoring stopped before every sample was done.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Interrupted {
    #[error("the lease ended ({0:?})")]
    LeaseEnded(LeaseState),
    #[error("the worker is shutting down")]
    Shutdown,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Counts over the stored results of a job.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    pub total: u32,
    pub done: u32,
    pub errors: u32,
    pub usage: CallUsage,
}

impl Tally {
    pub fn add(&mut self, result: &StoredResult) {
        if result.role == SampleRole::Current {
            self.done += 1;
            if result.scores.values().any(|o| o.is_error()) {
                self.errors += 1;
            }
        }
        self.usage.add(&result.usage);
    }

    pub fn progress(&self) -> Progress {
        Progress {
            total: self.total,
            done: self.done,
            errors: self.errors,
        }
    }

    /// The job's `usage`; `cost_usd` appears once anything had a price.
    pub fn job_usage(&self, budgeted: bool) -> Usage {
        Usage {
            judge_requests: self.usage.judge_requests,
            prompt_tokens: self.usage.prompt_tokens,
            completion_tokens: self.usage.completion_tokens,
            cache_hits: self.usage.cache_hits,
            cost_usd: (budgeted || self.usage.cost_usd > 0.0).then_some(self.usage.cost_usd),
        }
    }
}

/// Judge calls in flight. They run as tasks, not as futures polled by the
/// session, so that they keep progressing (and release any database
/// connection they hold, e.g. for the verdict cache) while the session awaits
/// its own writes; otherwise a single-connection SQLite writer deadlocks.
/// Each task's deterministic outcomes are kept in case the task panics.
struct JudgesInFlight {
    tasks: JoinSet<SampleScores>,
    started: HashMap<TaskId, SampleScores>,
}

impl JudgesInFlight {
    fn new() -> Self {
        Self {
            tasks: JoinSet::new(),
            started: HashMap::new(),
        }
    }

    fn len(&self) -> usize {
        self.tasks.len()
    }

    fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    fn spawn(&mut self, scorers: &ScorerSet, sample: Arc<TrafficSample>, scores: SampleScores) {
        let kept = scores.clone();
        let handle = self.tasks.spawn(score_judges(
            scorers.judges.clone(),
            scorers.options,
            sample,
            scores,
        ));
        self.started.insert(handle.id(), kept);
    }

    /// The next finished sample; `None` when nothing is in flight.
    async fn next(&mut self, scorers: &ScorerSet) -> Option<SampleScores> {
        match self.tasks.join_next_with_id().await? {
            Ok((id, scores)) => {
                self.started.remove(&id);
                Some(scores)
            }
            Err(error) => {
                tracing::error!(%error, "a judge task failed; its sample's judges end in error");
                let kept = self.started.remove(&error.id())?;
                Some(judges_failed(scorers, kept))
            }
        }
    }
}

pub(crate) struct Session<'a> {
    pub storage: &'a Storage,
    pub org: OrgId,
    pub job: JobId,
    pub worker: &'a str,
    pub scorers: &'a ScorerSet,
    pub max_cost_usd: Option<f64>,
    pub result_flush: Duration,
    pub lease: &'a LeaseWatch,
    /// Cancelled when the run must stop for shutdown (after the grace period).
    pub stop: &'a CancellationToken,
    pub tally: Tally,
    /// Samples judged in this run and what they cost, to pace a budgeted job.
    judged: u64,
    judged_cost: f64,
    pending: Vec<StoredResult>,
    last_flush: Instant,
    samples: LoadedSamples,
}

/// How the scoring phase ended.
pub(crate) struct Scored {
    pub budget_exhausted: bool,
    /// The samples the run holds, handed back for the analysis.
    pub samples: LoadedSamples,
}

impl<'a> Session<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        storage: &'a Storage,
        org: OrgId,
        job: JobId,
        worker: &'a str,
        scorers: &'a ScorerSet,
        max_cost_usd: Option<f64>,
        result_flush: Duration,
        lease: &'a LeaseWatch,
        stop: &'a CancellationToken,
        tally: Tally,
        samples: LoadedSamples,
    ) -> Self {
        Self {
            storage,
            org,
            job,
            worker,
            scorers,
            max_cost_usd,
            result_flush,
            lease,
            stop,
            tally,
            judged: 0,
            judged_cost: 0.0,
            pending: Vec::new(),
            last_flush: Instant::now(),
            samples,
        }
    }

    fn budget_spent(&self) -> bool {
        self.max_cost_usd
            .is_some_and(|max| self.tally.usage.cost_usd >= max)
    }

    /// Samples whose judges may be in flight: all of them without a budget;
    /// with one, only as many as the remaining budget pays for at the cost
    /// seen so far (one at a time until a cost has been seen), so that the
    /// job stops close to its budget rather than 64 samples past it.
    fn judge_slots(&self) -> usize {
        let Some(max) = self.max_cost_usd else {
            return JUDGE_SAMPLES_IN_FLIGHT;
        };
        if self.judged == 0 {
            return 1;
        }
        let per_sample = self.judged_cost / self.judged as f64;
        if per_sample <= 0.0 {
            return JUDGE_SAMPLES_IN_FLIGHT;
        }
        let affordable = ((max - self.tally.usage.cost_usd) / per_sample).floor();
        (affordable.max(1.0) as usize).min(JUDGE_SAMPLES_IN_FLIGHT)
    }

    fn check_stop(&self) -> Result<(), Interrupted> {
        if self.lease.ended().is_cancelled() {
            return Err(Interrupted::LeaseEnded(
                self.lease.end_state().unwrap_or(LeaseState::Lost),
            ));
        }
        if self.stop.is_cancelled() {
            return Err(Interrupted::Shutdown);
        }
        Ok(())
    }

    /// Scores `todo` ((role, sample key) pairs not scored yet), in order.
    pub async fn run(mut self, todo: Vec<(SampleRole, i64)>) -> Result<Scored, Interrupted> {
        let outcome = self.score_all(&todo).await;
        match outcome {
            Ok(budget_exhausted) => {
                self.flush().await?;
                Ok(Scored {
                    budget_exhausted,
                    samples: std::mem::take(&mut self.samples),
                })
            }
            Err(Interrupted::Shutdown) => {
                // Finished samples are kept so the next worker need not redo them.
                if !self.lease.ended().is_cancelled() {
                    self.flush().await?;
                }
                Err(Interrupted::Shutdown)
            }
            Err(other) => Err(other),
        }
    }

    /// Returns whether the cost budget stopped it.
    async fn score_all(&mut self, todo: &[(SampleRole, i64)]) -> Result<bool, Interrupted> {
        let mut in_flight = JudgesInFlight::new();
        let mut budget_exhausted = false;
        'chunks: for chunk in todo.chunks(LOAD_CHUNK) {
            self.check_stop()?;
            let keys: Vec<i64> = chunk.iter().map(|(_, key)| *key).collect();
            self.samples
                .load_missing(self.storage, self.org, &keys)
                .await?;
            for &(role, key) in chunk {
                self.check_stop()?;
                let Some(sample) = self.samples.get(key) else {
                    self.push(missing_sample(self.scorers, role, key)).await?;
                    continue;
                };
                let scores = score_deterministic(self.scorers, role, key, &sample).await;
                if !self.scorers.has_judges() {
                    self.push(scores).await?;
                    continue;
                }
                while !in_flight.is_empty() && in_flight.len() >= self.judge_slots() {
                    self.wait_for_judges(&mut in_flight).await?;
                }
                if self.budget_spent() {
                    budget_exhausted = true;
                    break 'chunks;
                }
                in_flight.spawn(self.scorers, sample, scores);
            }
        }
        while !in_flight.is_empty() {
            self.wait_for_judges(&mut in_flight).await?;
        }
        Ok(budget_exhausted)
    }

    /// Waits for one sample's judges to finish, storing what is due meanwhile.
    async fn wait_for_judges(&mut self, in_flight: &mut JudgesInFlight) -> Result<(), Interrupted> {
        let flush_at = self.last_flush + self.result_flush;
        let has_pending = !self.pending.is_empty();
        let (lease, stop, scorers) = (self.lease, self.stop, self.scorers);
        tokio::select! {
            biased;
            () = lease.ended().cancelled() => self.check_stop(),
            () = stop.cancelled() => Err(Interrupted::Shutdown),
            done = in_flight.next(scorers) => {
                if let Some(scores) = done {
                    self.judged += 1;
                    self.judged_cost += scores.usage.cost_usd;
                    self.push(scores).await?;
                }
                Ok(())
            }
            () = tokio::time::sleep_until(flush_at), if has_pending => {
                self.flush().await?;
                Ok(())
            }
        }
    }

    async fn push(&mut self, scores: SampleScores) -> Result<(), Interrupted> {
        let result = scores.finish(self.scorers);
        self.tally.add(&result);
        self.pending.push(result);
        if self.pending.len() >= FLUSH_BATCH || self.last_flush.elapsed() >= self.result_flush {
            self.flush().await?;
        }
        Ok(())
    }

    /// Stores finished samples and reports progress, unless the lease is gone.
    async fn flush(&mut self) -> Result<(), Interrupted> {
        self.last_flush = Instant::now();
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.lease.ended().is_cancelled() {
            return self.check_stop();
        }
        self.storage
            .results
            .save_results(self.job, &self.pending)
            .await?;
        for result in &self.pending {
            metrics::counter!(SAMPLES_SCORED, "role" => result.role.as_str()).increment(1);
        }
        self.pending.clear();
        let usage = self.tally.job_usage(self.max_cost_usd.is_some());
        let state = self
            .storage
            .jobs
            .update_progress(self.job, self.worker, self.tally.progress(), &usage)
            .await?;
        self.lease.observe(state);
        if state != LeaseState::Held {
            return Err(Interrupted::LeaseEnded(state));
        }
        Ok(())
    }
}
