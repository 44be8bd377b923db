//! Running one claimed job from plan to terminal state.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use chrono::{SubsecRound, Utc};
use evalguard_domain::analysis::ResolvedThresholds;
use evalguard_domain::job::JobError;
use evalguard_domain::scoring::{SampleRole, ScoreOptions, ScorerCatalog};
use evalguard_domain::{JobStatus, Progress, Usage};
use evalguard_storage::{
    ClaimedJob, JobCompletion, LeaseState, Storage, StorageError, StoredResult,
};
use tokio_util::sync::CancellationToken;

use crate::analysis::{JobScores, analyse_job, load_features};
use crate::config::WorkerConfig;
use crate::events::job_events;
use crate::lease::LeaseWatch;
use crate::metrics_names::{JOB_DURATION, JOBS_FINISHED};
use crate::plan::{Planned, load_or_make_plan, resolve_scorers};
use crate::scoring::ScorerSet;
use crate::session::{Interrupted, Session, Tally};

/// Claims of one job after which it is failed rather than tried again: a job
/// that keeps failing must not occupy workers for ever.
pub const MAX_ATTEMPTS: u32 = 10;

/// How one run of a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// This run made the job terminal with this status.
    Finished(JobStatus),
    /// The job was cancelled, or another worker holds it now: nothing more was written.
    LeaseEnded,
    /// Stopped for shutdown; the lease was released so another worker continues at once.
    Released,
    /// A storage error: the lease is left to expire and the job runs again later.
    Retry,
}

/// Runs claimed jobs. Cheap to share: one per process, used by every worker loop.
pub struct JobRunner {
    storage: Storage,
    catalog: Arc<dyn ScorerCatalog>,
    config: WorkerConfig,
}

impl JobRunner {
    pub fn new(storage: Storage, catalog: Arc<dyn ScorerCatalog>, config: WorkerConfig) -> Self {
        Self {
            storage,
            catalog,
            config,
        }
    }

    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Runs a job this worker has claimed until it is terminal, its lease
    /// ends, or `stop` is cancelled (then finished samples are stored and the
    /// lease is released).
    pub async fn run(&self, claimed: ClaimedJob, stop: CancellationToken) -> RunOutcome {
        let started = Instant::now();
        let job = claimed.job.id;
        let lease = LeaseWatch::start(
            self.storage.jobs.clone(),
            job,
            self.config.worker_id.clone(),
            self.config.lease,
            self.config.heartbeat_every,
        );
        let result = self.run_leased(&claimed, &lease, &stop).await;
        // Stops the heartbeats before anything else, so a released or
        // abandoned lease is not renewed again.
        drop(lease);
        match result {
            Ok(status) => {
                metrics::counter!(JOBS_FINISHED, "status" => status.as_str()).increment(1);
                metrics::histogram!(JOB_DURATION).record(started.elapsed().as_secs_f64());
                tracing::info!(%job, status = status.as_str(), "job finished");
                RunOutcome::Finished(status)
            }
            Err(Interrupted::LeaseEnded(state)) => {
                tracing::info!(%job, ?state, "job stopped: lease ended");
                RunOutcome::LeaseEnded
            }
            Err(Interrupted::Shutdown) => {
                if let Err(error) = self
                    .storage
                    .jobs
                    .release_job(job, &self.config.worker_id)
                    .await
                {
                    tracing::warn!(%job, %error, "could not release the job; its lease will expire");
                }
                tracing::info!(%job, "job released for shutdown");
                RunOutcome::Released
            }
            Err(Interrupted::Storage(error)) => {
                tracing::error!(%job, attempt = claimed.attempt, %error, "job run failed; it will be retried when its lease expires");
                RunOutcome::Retry
            }
        }
    }

    async fn run_leased(
        &self,
        claimed: &ClaimedJob,
        lease: &LeaseWatch,
        stop: &CancellationToken,
    ) -> Result<JobStatus, Interrupted> {
        let job = claimed.job.id;
        let org = claimed.job.org_id;
        let request = &claimed.request;
        if claimed.attempt > MAX_ATTEMPTS {
            let message = format!(
                "the job failed {MAX_ATTEMPTS} times in a row on internal errors; see the server logs"
            );
            return self
                .finish_failed(claimed, lease, "internal_error", message)
                .await;
        }
        let (plan, samples) =
            match load_or_make_plan(&self.storage, self.catalog.as_ref(), org, job, request).await?
            {
                Planned::Ready(plan, loaded) => (*plan, loaded),
                Planned::NoSamples => {
                    let t = &request.target;
                    let message = format!(
                        "project {} has no traffic samples of model {:?} with prompt {:?}",
                        t.project_id, t.model, t.prompt_id
                    );
                    return self
                        .finish_failed(claimed, lease, "no_samples", message)
                        .await;
                }
            };
        let project_id = &request.target.project_id;
        let rubrics = self.storage.projects.list_rubrics(org, project_id).await?;
        let mut resolved = resolve_scorers(self.catalog.as_ref(), &plan.scorers, &rubrics);
        for (name, reason) in &plan.skipped {
            resolved
                .skipped
                .entry(name.clone())
                .or_insert_with(|| reason.clone());
        }
        let options = ScoreOptions {
            cache: request.cache,
            repeats: request.repeats,
        };
        let scorers = ScorerSet::new(resolved.ready.clone(), options);

        // Resume: what is stored is never scored again.
        let existing = self.storage.results.job_results(job).await?;
        let tally = tally_of(&existing, plan.current.len());
        let done: HashSet<(SampleRole, i64)> =
            existing.iter().map(|r| (r.role, r.sample_key)).collect();
        drop(existing);
        let todo = interleave(
            plan.current
                .iter()
                .filter(|k| !done.contains(&(SampleRole::Current, **k)))
                .copied(),
            plan.baseline
                .iter()
                .filter(|k| !done.contains(&(SampleRole::Baseline, **k)))
                .copied(),
        );
        let session = Session::new(
            &self.storage,
            org,
            job,
            &self.config.worker_id,
            &scorers,
            request.max_cost_usd,
            self.config.result_flush,
            lease,
            stop,
            tally,
            samples,
        );
        let mut scored = session.run(todo).await?;

        let results = self.storage.results.job_results(job).await?;
        let tally = tally_of(&results, plan.current.len());
        let project = self.storage.projects.get_project(org, project_id).await?;
        let project_thresholds = project.map(|p| p.settings.thresholds).unwrap_or_default();
        let features = if plan.baseline.is_empty() {
            None
        } else {
            Some(
                load_features(
                    &self.storage,
                    org,
                    &mut scored.samples,
                    &plan.current,
                    &plan.baseline,
                    self.config.embedder.as_ref().map(|e| e.0.as_ref()),
                )
                .await?,
            )
        };
        let analysis = analyse_job(&JobScores {
            scorers: &resolved.ready,
            skipped: &resolved.skipped,
            results: &results,
            has_baseline: !plan.baseline.is_empty(),
            repeats: request.repeats,
            scorers_requested: request.scorers.is_some(),
            thresholds: ResolvedThresholds::from(request.thresholds.as_ref(), &project_thresholds),
            features,
        });
        let completion = JobCompletion {
            status: JobStatus::Succeeded,
            finished_at: finished_now(),
            events: Vec::new(),
            progress: tally.progress(),
            partial: scored.budget_exhausted,
            stop_reason: scored
                .budget_exhausted
                .then(|| "budget_exhausted".to_owned()),
            summary: analysis.summary,
            flags: analysis.flags,
            warnings: analysis.warnings,
            usage: tally.job_usage(request.max_cost_usd.is_some()),
            baseline: Some(plan.baseline_info),
            error: None,
        };
        self.finish(claimed, lease, completion).await
    }

    async fn finish_failed(
        &self,
        claimed: &ClaimedJob,
        lease: &LeaseWatch,
        code: &str,
        message: String,
    ) -> Result<JobStatus, Interrupted> {
        let completion = JobCompletion {
            status: JobStatus::Failed,
            finished_at: finished_now(),
            events: Vec::new(),
            progress: Progress::default(),
            partial: false,
            stop_reason: None,
            summary: Default::default(),
            flags: Vec::new(),
            warnings: Vec::new(),
            usage: Usage::default(),
            baseline: None,
            error: Some(JobError {
                code: code.to_owned(),
                message,
            }),
        };
        self.finish(claimed, lease, completion).await
    }

    async fn finish(
        &self,
        claimed: &ClaimedJob,
        lease: &LeaseWatch,
        mut completion: JobCompletion,
    ) -> Result<JobStatus, Interrupted> {
        if lease.ended().is_cancelled() {
            return Err(Interrupted::LeaseEnded(
                lease.end_state().unwrap_or(LeaseState::Lost),
            ));
        }
        completion.events = job_events(&claimed.job, &completion).map_err(|e| {
            StorageError::Corrupt(format!("the job's webhook payload does not encode: {e}"))
        })?;
        let finished = self
            .storage
            .jobs
            .finish_job(claimed.job.id, &self.config.worker_id, &completion)
            .await?;
        if finished {
            Ok(completion.status)
        } else {
            Err(Interrupted::LeaseEnded(LeaseState::Lost))
        }
    }
}

/// Now, to the microsecond: what both databases store, so that the webhook
/// payload built from it equals the job as the API shows it later.
fn finished_now() -> chrono::DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn tally_of(results: &[StoredResult], total: usize) -> Tally {
    let mut tally = Tally {
        total: u32::try_from(total).unwrap_or(u32::MAX),
        ..Tally::default()
    };
    for result in results {
        tally.add(result);
    }
    tally
}

/// Current and baseline samples alternately, so that a run stopped by its
/// budget still has comparable numbers on both sides.
fn interleave(
    current: impl Iterator<Item = i64>,
    baseline: impl Iterator<Item = i64>,
) -> Vec<(SampleRole, i64)> {
    let mut current = current.map(|k| (SampleRole::Current, k)).peekable();
    let mut baseline = baseline.map(|k| (SampleRole::Baseline, k)).peekable();
    let mut out = Vec::new();
    while current.peek().is_some() || baseline.peek().is_some() {
        out.extend(current.next());
        out.extend(baseline.next());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_alternates_and_keeps_the_tail() {
        let got = interleave([1, 2, 3].into_iter(), [10].into_iter());
        assert_eq!(
            got,
            vec![
                (SampleRole::Current, 1),
                (SampleRole::Baseline, 10),
                (SampleRole::Current, 2),
                (SampleRole::Current, 3)
            ]
        );
    }
}
