//! Keeping a job's lease alive while it runs, and noticing when it is gone.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use evalguard_domain::JobId;
use evalguard_storage::{JobStore, LeaseState};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Renews a job's lease in the background. When the storage answers that the
/// job was cancelled or that another worker holds it, `ended` is cancelled
/// and the run must stop at once without writing anything more. Dropping the
/// watch stops the heartbeats, so an abandoned run's lease expires.
pub(crate) struct LeaseWatch {
    ended: CancellationToken,
    state: Arc<Mutex<Option<LeaseState>>>,
    task: JoinHandle<()>,
}

impl LeaseWatch {
    pub fn start(
        jobs: Arc<dyn JobStore>,
        job: JobId,
        worker: String,
        lease: Duration,
        every: Duration,
    ) -> Self {
        let ended = CancellationToken::new();
        let state = Arc::new(Mutex::new(None));
        let task = tokio::spawn(heartbeat_loop(
            jobs,
            job,
            worker,
            lease,
            every,
            ended.clone(),
            state.clone(),
        ));
        Self { ended, state, task }
    }

    /// Cancelled when the lease is no longer ours.
    pub fn ended(&self) -> &CancellationToken {
        &self.ended
    }

    /// Why the lease ended, when it has.
    pub fn end_state(&self) -> Option<LeaseState> {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a lease state learned from another write (e.g. a progress update).
    pub fn observe(&self, state: LeaseState) {
        if state != LeaseState::Held {
            set_ended(&self.state, &self.ended, state);
        }
    }
}

impl Drop for LeaseWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn set_ended(slot: &Mutex<Option<LeaseState>>, ended: &CancellationToken, state: LeaseState) {
    let mut guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if guard.is_none() {
        *guard = Some(state);
    }
    ended.cancel();
}

async fn heartbeat_loop(
    jobs: Arc<dyn JobStore>,
    job: JobId,
    worker: String,
    lease: Duration,
    every: Duration,
    ended: CancellationToken,
    state: Arc<Mutex<Option<LeaseState>>>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate; the claim has just set the lease.
    tick.tick().await;
    loop {
        tokio::select! {
            () = ended.cancelled() => return,
            _ = tick.tick() => {}
        }
        match jobs.heartbeat(job, &worker, lease).await {
            Ok(LeaseState::Held) => {}
            Ok(other) => {
                tracing::info!(%job, state = ?other, "job lease ended");
                set_ended(&state, &ended, other);
                return;
            }
            // A failed heartbeat is retried on the next tick; if the database
            // stays away the lease expires and another worker resumes the job.
            Err(error) => tracing::warn!(%job, %error, "heartbeat failed"),
        }
    }
}
