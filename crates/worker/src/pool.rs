//! The worker loops: claim a job, run it, repeat; stop cleanly on shutdown.

use std::sync::Arc;

use evalguard_domain::scoring::ScorerCatalog;
use evalguard_storage::Storage;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::config::WorkerConfig;
use crate::runner::JobRunner;

/// Starts `config.concurrency` worker loops. Each claims the oldest runnable
/// job (queued, or running with an expired lease: a crashed worker's job is
/// simply claimed again), runs it, and looks for the next; with an empty
/// queue it sleeps until `wakeup` is notified or `poll_interval` passes.
///
/// When `shutdown` is cancelled, no job is claimed any more; running jobs get
/// `shutdown_grace` to finish, then store what they have and release their
/// leases so another worker continues them at once. The handle completes when
/// every loop has exited.
pub fn spawn_job_workers(
    storage: Storage,
    catalog: Arc<dyn ScorerCatalog>,
    config: WorkerConfig,
    wakeup: Arc<Notify>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let loops = config.concurrency;
    let runner = Arc::new(JobRunner::new(storage, catalog, config));
    tokio::spawn(async move {
        let mut set = JoinSet::new();
        for index in 0..loops {
            set.spawn(worker_loop(
                index,
                runner.clone(),
                wakeup.clone(),
                shutdown.clone(),
            ));
        }
        while let Some(joined) = set.join_next().await {
            if let Err(error) = joined {
                tracing::error!(%error, "a worker loop ended abnormally");
            }
        }
    })
}

async fn worker_loop(
    index: usize,
    runner: Arc<JobRunner>,
    wakeup: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let config = runner.config().clone();
    tracing::debug!(worker = %config.worker_id, index, "worker loop started");
    while !shutdown.is_cancelled() {
        // Listen for wakeups before looking at the queue: a job enqueued
        // (and notified) while the claim below finds nothing still wakes us.
        let woken = wakeup.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        // Not raced against shutdown: a claim dropped half-way could hold a
        // job for a whole lease without running it.
        match runner_storage_claim(&runner).await {
            Ok(Some(claimed)) if shutdown.is_cancelled() => {
                if let Err(error) = runner
                    .storage()
                    .jobs
                    .release_job(claimed.job.id, &config.worker_id)
                    .await
                {
                    tracing::warn!(job = %claimed.job.id, %error, "could not release a job claimed during shutdown");
                }
                break;
            }
            Ok(Some(claimed)) => {
                tracing::info!(job = %claimed.job.id, attempt = claimed.attempt, "job claimed");
                run_until_shutdown(&runner, claimed, &shutdown).await;
            }
            Ok(None) => {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = woken => {}
                    () = config.clock.sleep(config.poll_interval) => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not claim a job");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = config.clock.sleep(config.poll_interval.max(std::time::Duration::from_secs(1))) => {}
                }
            }
        }
    }
    tracing::debug!(worker = %config.worker_id, index, "worker loop stopped");
}

async fn runner_storage_claim(
    runner: &JobRunner,
) -> Result<Option<evalguard_storage::ClaimedJob>, evalguard_storage::StorageError> {
    let config = runner.config();
    runner
        .storage()
        .jobs
        .claim_job(&config.worker_id, config.lease)
        .await
}

/// Runs a job; on shutdown gives it the grace period, then stops it (it
/// stores what it has and releases its lease).
async fn run_until_shutdown(
    runner: &JobRunner,
    claimed: evalguard_storage::ClaimedJob,
    shutdown: &CancellationToken,
) {
    let stop = CancellationToken::new();
    let run = runner.run(claimed, stop.clone());
    tokio::pin!(run);
    tokio::select! {
        _ = &mut run => return,
        () = shutdown.cancelled() => {}
    }
    if tokio::time::timeout(runner.config().shutdown_grace, &mut run)
        .await
        .is_err()
    {
        stop.cancel();
        run.await;
    }
}
