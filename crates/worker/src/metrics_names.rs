//! Names of the metrics the workers record, in one place so dashboards and
//! the API's `/metrics` documentation can refer to them.

/// Counter, label `status`: jobs that became terminal in a worker.
pub const JOBS_FINISHED: &str = "evalguard_jobs_finished_total";
/// Histogram (seconds): from claim to terminal state of one run.
pub const JOB_DURATION: &str = "evalguard_job_duration_seconds";
/// Counter, label `role`: samples whose every scorer has an outcome.
pub const SAMPLES_SCORED: &str = "evalguard_samples_scored_total";
/// Counter, label `outcome`: webhook delivery attempts.
pub const WEBHOOK_ATTEMPTS: &str = "evalguard_webhook_attempts_total";
