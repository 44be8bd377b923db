//! Tuning of the job workers.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use evalguard_domain::analysis::TextEmbedder;

use crate::clock::{Clock, SystemClock};

/// A configured embedding model for drift of the inputs' meaning.
#[derive(Clone)]
pub struct ConfiguredEmbedder(pub Arc<dyn TextEmbedder>);

impl fmt::Debug for ConfiguredEmbedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

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
    /// Embeds inputs for the input drift test; `None` uses the built-in embedding.
    pub embedder: Option<ConfiguredEmbedder>,
    /// What idle loops wait on between polls of the queue.
    pub clock: Arc<dyn Clock>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 2,
            lease: Duration::from_secs(10),
            heartbeat_every: Duration::from_secs(3),
            // Jobs enqueued in this process wake a worker at once; polling
            // only finds other processes' jobs and expired leases, so it can
            // be slow (each poll of every loop is a write transaction on SQLite).
            poll_interval: Duration::from_secs(1),
            worker_id: format!("worker-{}", uuid::Uuid::now_v7()),
            result_flush: Duration::from_millis(200),
            shutdown_grace: Duration::from_secs(5),
            embedder: None,
            clock: Arc::new(SystemClock),
        }
    }
}
