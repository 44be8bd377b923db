//! Webhook events raised when a job finishes.

use chrono::{SecondsFormat, Utc};
use evalguard_domain::{JobId, OrgId};
use evalguard_storage::{Storage, StorageError};
use serde_json::{Value, json};

pub const EVENT_COMPLETED: &str = "auto_eval.completed";
pub const EVENT_FLAGGED: &str = "auto_eval.flagged";

/// A Standard Webhooks payload: `{"type", "timestamp", "data"}`.
pub fn event_payload(event_type: &str, data: Value) -> Value {
    json!({
        "type": event_type,
        "timestamp": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": data,
    })
}

/// Queues `auto_eval.completed`, and `auto_eval.flagged` when the job raised
/// flags, for every subscribed endpoint of the job's project.
pub(crate) async fn publish_job_events(
    storage: &Storage,
    org: OrgId,
    job: JobId,
) -> Result<(), StorageError> {
    let Some(job) = storage.jobs.get_job(org, job).await? else {
        return Ok(());
    };
    let data = serde_json::to_value(&job)
        .map_err(|e| StorageError::Corrupt(format!("job does not encode: {e}")))?;
    let project = &job.target.project_id;
    storage
        .webhooks
        .enqueue_event(
            org,
            project,
            EVENT_COMPLETED,
            &event_payload(EVENT_COMPLETED, data.clone()),
        )
        .await?;
    if !job.flags.is_empty() {
        storage
            .webhooks
            .enqueue_event(
                org,
                project,
                EVENT_FLAGGED,
                &event_payload(EVENT_FLAGGED, data),
            )
            .await?;
    }
    Ok(())
}
