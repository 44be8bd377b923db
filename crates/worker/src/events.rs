//! Webhook events of a finished job. They are written with the job's final
//! state, in the same transaction (see `JobCompletion::events`).

use chrono::{SecondsFormat, Utc};
use evalguard_domain::Job;
use evalguard_storage::{JobCompletion, JobEvent};
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

/// `auto_eval.completed`, and `auto_eval.flagged` when the job raised flags;
/// their data is the job as `GET /api/v1/auto-eval/{id}` shows it once
/// `completion` is written.
pub(crate) fn job_events(
    running: &Job,
    completion: &JobCompletion,
) -> Result<Vec<JobEvent>, serde_json::Error> {
    let finished = Job {
        status: completion.status,
        finished_at: Some(completion.finished_at),
        progress: completion.progress,
        partial: completion.partial,
        stop_reason: completion.stop_reason.clone(),
        summary: completion.summary.clone(),
        flags: completion.flags.clone(),
        warnings: completion.warnings.clone(),
        usage: completion.usage.clone(),
        baseline: completion.baseline.clone(),
        error: completion.error.clone(),
        ..running.clone()
    };
    let data = serde_json::to_value(&finished)?;
    let mut events = vec![JobEvent {
        event_type: EVENT_COMPLETED.to_owned(),
        payload: event_payload(EVENT_COMPLETED, data.clone()),
    }];
    if !finished.flags.is_empty() {
        events.push(JobEvent {
            event_type: EVENT_FLAGGED.to_owned(),
            payload: event_payload(EVENT_FLAGGED, data),
        });
    }
    Ok(events)
}
