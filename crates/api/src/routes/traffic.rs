//! Traffic ingest: batches of 1 to 10,000 samples, all or nothing, the first
//! bad sample named by index and field. Built for throughput: the body is
//! parsed off the async threads when large, and each distinct project is
//! looked up once per batch, not once per sample.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use evalguard_domain::{ProjectId, Role, TrafficSample};
use serde::Serialize;
use serde_json::Value;

use super::unknown_project;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{JsonBytes, object_with, parse_json};
use crate::state::Shared;

pub(crate) const MAX_SAMPLES: usize = 10_000;
/// Bodies above this size are parsed on the blocking pool.
const PARSE_INLINE_BELOW: usize = 256 * 1024;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TrafficAccepted {
    /// Samples in the request, all accepted.
    pub accepted: usize,
    /// Samples newly stored (the others had an `id` seen before in their project).
    pub stored: u64,
}

/// Parses and validates a whole batch: the samples, or the first error.
fn parse_batch(bytes: &[u8]) -> Result<Vec<TrafficSample>, ApiError> {
    let body = parse_json(bytes)?;
    let obj = object_with(&body, &["samples"])?;
    let items = match obj.get("samples") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => {
            return Err(ApiError::invalid_field("samples", "samples: is required"));
        }
        Some(_) => {
            return Err(ApiError::invalid_field(
                "samples",
                "samples: must be a list of samples",
            ));
        }
    };
    if items.is_empty() || items.len() > MAX_SAMPLES {
        return Err(ApiError::invalid_field(
            "samples",
            format!(
                "samples: send 1 to {MAX_SAMPLES} samples per request (got {})",
                items.len()
            ),
        ));
    }
    let now = Utc::now();
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            TrafficSample::from_json(item, now).map_err(|e| {
                let param = if e.field == "sample" {
                    format!("samples[{i}]")
                } else {
                    format!("samples[{i}].{}", e.field)
                };
                ApiError::invalid_field(param.clone(), format!("{param}: {}", e.message))
            })
        })
        .collect()
}

#[utoipa::path(post, path = "/api/v1/traffic", tag = "traffic",
    request_body = crate::openapi::TrafficBody,
    responses((status = 202, description = "Every sample accepted", body = TrafficAccepted)))]
pub(crate) async fn ingest(
    State(ctx): State<Shared>,
    caller: Caller,
    JsonBytes(bytes): JsonBytes,
) -> Result<(StatusCode, Json<TrafficAccepted>), ApiError> {
    caller.require_role(Role::Member)?;
    let samples = if bytes.len() < PARSE_INLINE_BELOW {
        parse_batch(&bytes)?
    } else {
        tokio::task::spawn_blocking(move || parse_batch(&bytes))
            .await
            .map_err(|e| ApiError::Internal(format!("traffic parsing task failed: {e}")))??
    };
    // Each distinct project once, remembering the first sample that named it.
    let mut projects: HashMap<&ProjectId, usize> = HashMap::new();
    for (i, s) in samples.iter().enumerate() {
        projects.entry(&s.project_id).or_insert(i);
    }
    let mut distinct: Vec<(&ProjectId, usize)> = projects.into_iter().collect();
    distinct.sort_by_key(|(_, first)| *first);
    for (project, _) in &distinct {
        caller.require_project(project)?;
    }
    for (project, first) in &distinct {
        let exists = ctx
            .api
            .storage
            .projects
            .get_project(caller.0.org_id, project)
            .await?
            .is_some();
        if !exists {
            return Err(unknown_project(
                &format!("samples[{first}].project_id"),
                project,
            ));
        }
    }
    let stored = ctx
        .api
        .storage
        .traffic
        .insert_samples(caller.0.org_id, &samples)
        .await?;
    crate::metrics::record_ingest(samples.len(), stored);
    Ok((
        StatusCode::ACCEPTED,
        Json(TrafficAccepted {
            accepted: samples.len(),
            stored,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({"project_id": "p", "model": "m", "prompt_id": "x", "input": "q", "output": "a"})
    }

    fn param_of(body: Value) -> String {
        match parse_batch(body.to_string().as_bytes()).unwrap_err() {
            ApiError::BadRequest { param, .. } => param.unwrap_or_default(),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn bad_samples_are_named_by_index_and_field() {
        let mut samples = vec![sample(); 20];
        samples[17]["model"] = json!(5);
        assert_eq!(param_of(json!({"samples": samples})), "samples[17].model");
        let mut samples = vec![sample(); 3];
        samples[2] = json!("not an object");
        assert_eq!(param_of(json!({"samples": samples})), "samples[2]");
    }

    #[test]
    fn batch_sizes_are_checked() {
        assert_eq!(param_of(json!({"samples": []})), "samples");
        assert_eq!(
            param_of(json!({"samples": vec![sample(); MAX_SAMPLES + 1]})),
            "samples"
        );
        assert_eq!(param_of(json!({})), "samples");
        assert_eq!(param_of(json!({"samples": {}})), "samples");
        assert_eq!(
            param_of(json!({"samples": [sample()], "extra": 1})),
            "extra"
        );
        assert_eq!(
            parse_batch(
                json!({"samples": vec![sample(); MAX_SAMPLES]})
                    .to_string()
                    .as_bytes()
            )
            .unwrap()
            .len(),
            MAX_SAMPLES
        );
    }
}
