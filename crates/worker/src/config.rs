//! Tuning of the job workers.

use std::time::Duration;

/// How job workers claim, lease and report.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Jobs run at the same time in this process.
    pub concurrency: usize,
    /// Lease length; a crashed worker's job is claimed again after this.
    pub lease: Duration,
    /// How often a running job renews its lease (well under `lease`).
    pub heartbeat_every: Duration,
    /// How long an idle worker waits before looking at the queue again
    /// (a wakeup notification cuts it short).
    pub poll_interval: Duration,
    /// Names this process in leases; unique per process.
    pub worker_id: String,
    /// Longest time a finished sample's results wait before they are stored.
    pub result_flush: Duration,
    /// On shutdown, how long running jobs may go on before their leases are
    /// released for another worker to continue.
    pub shutdown_grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 2,
            lease: Duration::from_secs(10),
            heartbeat_every: Duration::from_secs(3),
            poll_interval: Duration::from_millis(250),
            worker_id: format!("worker-{}", uuid::Uuid::now_v7()),
            result_flush: Duration::from_millis(200),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}
