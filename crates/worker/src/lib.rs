//! Background work of EvalGuard: the auto-eval job runner and webhook delivery.
//!
//! Jobs come from the durable lease queue of the storage layer. A worker loop
//! claims a job, keeps its lease alive with heartbeats while it scores, stores
//! each sample's results as they are done, and finally writes the summary and
//! flags. A job whose worker died is claimed again when its lease expires, and
//! resumes without scoring finished samples again.

mod analysis;
mod clock;
mod config;
mod events;
mod lease;
pub mod metrics_names;
mod plan;
mod pool;
mod retention;
mod runner;
mod samples;
mod scoring;
mod session;
pub mod webhook;

pub use clock::{Clock, ClockSleep, SystemClock};
pub use config::{ConfiguredEmbedder, WorkerConfig};
pub use pool::spawn_job_workers;
pub use retention::{RetentionConfig, SweepReport, spawn_retention_sweeper, sweep_once};
pub use runner::{JobRunner, RunOutcome};
pub use webhook::{WebhookConfig, sign, spawn_webhook_deliverer};
