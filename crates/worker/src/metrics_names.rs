//! Names of the metrics the workers record, in one place so dashboards and
//! the API's `/metrics` documentation can refer to them.

/// Counter, label `status`: jobs that became terminal in a worker.
pub const JOBS_FINISHED: &str = "evalguard_jobs_finished_total";
/// Histogram (seconds): from claim to terminal state of one run.
pub const JOB_DURATION: &str = "evalguard_job_duration_seconds";
/// Counter, label `role`: samples whose every scorer has an outcome.
pub const SAMPLES_SCORED: &str = "evalguard_samples_scored_total";
/// Counter, label `outcome` (`delivered`, `retry`, `failed`): webhook delivery attempts.
pub const WEBHOOK_ATTEMPTS: &str = "evalguard_webhook_attempts_total";
/// Counter, label `outcome` (`delivered`, `failed`): webhook deliveries that
/// reached their end (delivered, or given up after the last retry).
pub const WEBHOOK_DELIVERIES: &str = "evalguard_webhook_deliveries_total";

/// Registers the help text of every worker metric with the installed recorder.
pub fn describe() {
    metrics::describe_counter!(
        JOBS_FINISHED,
        "Auto-eval jobs that became terminal in a worker, by status."
    );
    metrics::describe_histogram!(
        JOB_DURATION,
        metrics::Unit::Seconds,
        "Duration of one run of an auto-eval job, from claim to terminal state."
    );
    metrics::describe_counter!(
        SAMPLES_SCORED,
        "Samples whose every scorer has an outcome, by role (current, baseline)."
    );
    metrics::describe_counter!(
        WEBHOOK_ATTEMPTS,
        "Webhook delivery attempts by outcome (delivered, retry scheduled, failed for good)."
    );
    metrics::describe_counter!(
        WEBHOOK_DELIVERIES,
        "Webhook deliveries that ended, by outcome (delivered, failed after every retry)."
    );
}
