//! Traffic ingest: batches of 1 to 10,000 samples, all or nothing, the first
//! bad sample named by index and field. Built for throughput: the body is
//! parsed off the async threads when large, and each distinct project is
//! looked up once per batch, not once per sample.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use evalguard_domain::traffic::SampleInput;
use evalguard_domain::{ProjectId, Role, TrafficSample};
use evalguard_storage::KeyedRequest;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::jobs::idempotency_key;
use super::unknown_project;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{JsonBytes, parse_body};
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

/// `POST /api/v1/traffic`: 1 to 10,000 samples, accepted all or none.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrafficBody {
    #[schema(min_items = 1, max_items = 10000)]
    pub samples: Vec<SampleInput>,
}

/// What `Idempotency-Key` is scoped to, with the organization.
const ENDPOINT: &str = "traffic";

/// Parses and checks a whole batch, and hashes the body when the request
/// carries an idempotency key: the samples and the hash, or the first error.
fn parse_keyed_batch(
    bytes: &[u8],
    keyed: bool,
) -> Result<(Vec<TrafficSample>, Option<[u8; 32]>), ApiError> {
    let samples = parse_batch(bytes)?;
    Ok((samples, keyed.then(|| Sha256::digest(bytes).into())))
}

/// Parses and checks a whole batch: the samples, or the first error.
fn parse_batch(bytes: &[u8]) -> Result<Vec<TrafficSample>, ApiError> {
    let body: TrafficBody = parse_body(bytes)?;
    if body.samples.is_empty() || body.samples.len() > MAX_SAMPLES {
        return Err(ApiError::invalid_field(
            "samples",
            format!(
                "samples: send 1 to {MAX_SAMPLES} samples per request (got {})",
                body.samples.len()
            ),
        ));
    }
    let now = Utc::now();
    body.samples
        .into_iter()
        .enumerate()
        .map(|(i, sample)| {
            sample
                .into_sample(now)
                .map_err(|e| e.under(&format!("samples[{i}]")).into())
        })
        .collect()
}

/// Send traffic samples
///
/// Stores a batch of 1 to 10,000 production samples, all or nothing: the
/// first bad value refuses the whole batch with a `400` naming it
/// (`samples[17].model`). A sample whose `id` was seen before in its project
/// is not stored twice.
///
/// `Idempotency-Key` is scoped to the organization and this endpoint: a
/// repeat with the same body stores nothing and gets the first answer again;
/// the key with another body is a `422` `idempotency_key_reused`. Role: member.
#[utoipa::path(post, path = "/api/v1/traffic", tag = "traffic",
    request_body = TrafficBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "a repeated request with the same key and body is stored once and answered as the first")),
    responses((status = 202, description = "Every sample accepted", body = TrafficAccepted),
              (status = 422, description = "The Idempotency-Key was used with a different body (`idempotency_key_reused`)", body = crate::openapi::ErrorBody)))]
pub(crate) async fn ingest(
    State(ctx): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    JsonBytes(bytes): JsonBytes,
) -> Result<(StatusCode, Json<TrafficAccepted>), ApiError> {
    caller.require_role(Role::Member)?;
    let key = idempotency_key(&headers)?;
    let keyed = key.is_some();
    let (samples, body_sha256) = if bytes.len() < PARSE_INLINE_BELOW {
        parse_keyed_batch(&bytes, keyed)?
    } else {
        tokio::task::spawn_blocking(move || parse_keyed_batch(&bytes, keyed))
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
    let traffic = &ctx.api.storage.traffic;
    let stored = match (key.as_deref(), body_sha256) {
        (Some(key), Some(body_sha256)) => {
            let request = KeyedRequest {
                endpoint: ENDPOINT,
                key,
                body_sha256,
                received_at: Utc::now(),
            };
            traffic
                .insert_samples_once(caller.0.org_id, &samples, &request)
                .await?
        }
        _ => traffic.insert_samples(caller.0.org_id, &samples).await?,
    };
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
    use serde_json::{Value, json};

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
    fn nul_long_names_and_out_of_range_values_are_named() {
        let cases = [
            ("input", json!("a\u{0}b"), "samples[4].input"),
            ("model", json!("m".repeat(257)), "samples[4].model"),
            ("context", json!(["ok", "\u{0}"]), "samples[4].context[1]"),
            (
                "metadata",
                json!({"a": {"b": ["\u{0}"]}}),
                "samples[4].metadata.a.b[0]",
            ),
            (
                "timestamp",
                json!("9999-12-31T00:00:00Z"),
                "samples[4].timestamp",
            ),
            ("latency_ms", json!(1.7e308), "samples[4].latency_ms"),
            (
                "prompt_tokens",
                json!(100_000_001u64),
                "samples[4].prompt_tokens",
            ),
        ];
        for (field, value, param) in cases {
            let mut samples = vec![sample(); 6];
            samples[4][field] = value;
            assert_eq!(param_of(json!({"samples": samples})), param, "{field}");
        }
        let mut samples = vec![sample(); 2];
        samples[1].as_object_mut().unwrap().remove("output");
        assert_eq!(param_of(json!({"samples": samples})), "samples[1].output");
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
