//! OTLP/HTTP trace ingest (`POST /api/v1/otel/v1/traces`), so that an
//! application instrumented with OpenTelemetry sends EvalGuard its LLM calls
//! by pointing its exporter here. The body (protobuf or JSON, gzipped or
//! not) is decoded into the domain's spans, mapped by
//! [`evalguard_domain::otlp::map_export`], and stored with the documents of
//! its retriever spans in one transaction.

mod json;
mod protobuf;

use std::collections::HashMap;
use std::io::Read;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use evalguard_domain::otlp::{
    ExportContext, MappedExport, RejectReason, RejectedSpan, ResourceSpans, map_export,
};
use evalguard_domain::{ProjectId, Role};
use serde_json::json;

use super::traffic::MAX_SAMPLES;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::media_type;
use crate::state::Shared;

/// The path the OTLP exporters append to `OTEL_EXPORTER_OTLP_ENDPOINT`.
pub(crate) const TRACES_PATH: &str = "/api/v1/otel/v1/traces";
/// How long a retriever's documents wait for the LLM spans of their trace.
const DOCUMENTS_KEPT_FOR: chrono::Duration = chrono::Duration::minutes(15);
/// Bodies above this size are decoded on the blocking pool.
const DECODE_INLINE_BELOW: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

fn encoding_of(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match media_type(raw).as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        "application/json" => Ok(Encoding::Json),
        _ => Err(ApiError::UnsupportedFormat {
            message: format!(
                "OTLP bodies are application/x-protobuf or application/json, not {:?}",
                raw
            ),
        }),
    }
}

/// The body, gunzipped when `Content-Encoding: gzip`; the limit holds for the
/// decompressed size too, so a small bomb cannot expand past it.
fn decompress(headers: &HeaderMap, body: Bytes, limit: usize) -> Result<Bytes, ApiError> {
    let content_encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    match content_encoding.as_str() {
        "" | "identity" => Ok(body),
        "gzip" | "x-gzip" => {
            let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
            flate2::read::MultiGzDecoder::new(&body[..])
                .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
                .read_to_end(&mut out)
                .map_err(|e| {
                    ApiError::bad_request(
                        "invalid_gzip",
                        format!("Content-Encoding is gzip but the body does not decompress: {e}"),
                        None,
                    )
                })?;
            if out.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            Ok(Bytes::from(out))
        }
        other => Err(ApiError::UnsupportedFormat {
            message: format!("Content-Encoding {other:?} is not supported; send gzip or nothing"),
        }),
    }
}

fn decode(encoding: Encoding, bytes: &[u8]) -> Result<Vec<ResourceSpans>, ApiError> {
    let (decoded, what) = match encoding {
        Encoding::Protobuf => (protobuf::decode(bytes), "a protobuf"),
        Encoding::Json => (json::decode(bytes), "an OTLP/JSON"),
    };
    decoded.map_err(|e| {
        ApiError::bad_request(
            "invalid_otlp",
            format!("the body is not {what} ExportTraceServiceRequest: {e}"),
            None,
        )
    })
}

fn decode_and_map(
    encoding: Encoding,
    headers: &HeaderMap,
    body: Bytes,
    limit: usize,
    context: &ExportContext,
) -> Result<MappedExport, ApiError> {
    let body = decompress(headers, body, limit)?;
    let resources = decode(encoding, &body)?;
    Ok(map_export(&resources, context))
}

/// Moves the samples of projects the organization does not have to the
/// rejected spans; refuses a batch naming a project outside the key's scope.
async fn reject_unknown_projects(
    ctx: &Shared,
    caller: &Caller,
    mapped: &mut MappedExport,
) -> Result<(), ApiError> {
    let mut exists: HashMap<ProjectId, bool> = HashMap::new();
    for traced in &mapped.samples {
        let project = &traced.sample.project_id;
        if exists.contains_key(project) {
            continue;
        }
        caller.require_project(project)?;
        let found = ctx
            .api
            .storage
            .projects
            .get_project(caller.0.org_id, project)
            .await?
            .is_some();
        exists.insert(project.clone(), found);
    }
    let (kept, unknown): (Vec<_>, Vec<_>) = std::mem::take(&mut mapped.samples)
        .into_iter()
        .partition(|t| exists.get(&t.sample.project_id).copied().unwrap_or(false));
    mapped.samples = kept;
    mapped
        .rejected
        .extend(unknown.into_iter().map(|t| RejectedSpan {
            span_id: t.sample.id.get(33..).unwrap_or_default().to_owned(),
            reason: RejectReason::UnknownProject(t.sample.project_id.to_string()),
            trace_id: t.trace_id,
        }));
    Ok(())
}

fn answer(encoding: Encoding, mapped: &MappedExport) -> Response {
    let message = mapped.rejection_summary();
    let rejected = mapped.rejected.len();
    match encoding {
        Encoding::Protobuf => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            Body::from(protobuf::response(rejected, message)),
        )
            .into_response(),
        // Protobuf JSON: int64 as a string, lowerCamelCase names.
        Encoding::Json => {
            let body = match message {
                Some(error_message) => json!({"partialSuccess": {
                    "rejectedSpans": rejected.to_string(), "errorMessage": error_message}}),
                None => json!({}),
            };
            (StatusCode::OK, axum::Json(body)).into_response()
        }
    }
}

#[utoipa::path(post, path = "/api/v1/otel/v1/traces", tag = "traffic",
    summary = "Ingest OpenTelemetry traces",
    description = "The OTLP/HTTP traces endpoint: point an OpenTelemetry exporter at \
        `/api/v1/otel`. Each LLM-call span becomes a traffic sample with id \
        `<trace_id>-<span_id>`; retriever spans' documents become the trace's samples' context. \
        Answers an ExportTraceServiceResponse in the request's encoding. Role: member.",
    request_body(content = Vec<u8>, content_type = "application/x-protobuf",
        description = "An OTLP ExportTraceServiceRequest: protobuf, or OTLP/JSON with Content-Type application/json; optionally Content-Encoding gzip"),
    responses((status = 200,
        description = "An ExportTraceServiceResponse in the request's encoding; partialSuccess counts the LLM spans not taken and says why")))]
pub(crate) async fn export_traces(
    State(ctx): State<Shared>,
    caller: Caller,
    request: Request,
) -> Result<Response, ApiError> {
    caller.require_role(Role::Member)?;
    let encoding = encoding_of(request.headers())?;
    let headers = request.headers().clone();
    let limit = ctx.api.limits.traffic_body_bytes;
    let body = Bytes::from_request(request, &ctx)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge { limit }
            } else {
                ApiError::bad_request(
                    "unreadable_body",
                    "the request body could not be read",
                    None,
                )
            }
        })?;
    let now = Utc::now();
    let context = ExportContext {
        key_project: caller.0.project.clone(),
        received_at: now,
    };
    let mut mapped = if body.len() < DECODE_INLINE_BELOW {
        decode_and_map(encoding, &headers, body, limit, &context)?
    } else {
        tokio::task::spawn_blocking(move || {
            decode_and_map(encoding, &headers, body, limit, &context)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("OTLP decoding task failed: {e}")))??
    };
    if mapped.samples.len() > MAX_SAMPLES {
        return Err(ApiError::bad_request(
            "too_many_spans",
            format!(
                "an export may hold up to {MAX_SAMPLES} LLM spans (got {}); lower the exporter's batch size",
                mapped.samples.len()
            ),
            None,
        ));
    }
    reject_unknown_projects(&ctx, &caller, &mut mapped).await?;
    let documents_kept_until = now + DOCUMENTS_KEPT_FOR;
    let samples = mapped.samples.len();
    let outcome = ctx
        .api
        .storage
        .trace_context
        .ingest_traces(
            caller.0.org_id,
            std::mem::take(&mut mapped.samples),
            std::mem::take(&mut mapped.documents),
            now,
            documents_kept_until,
        )
        .await?;
    tracing::debug!(
        samples,
        stored = outcome.stored,
        contexts_updated = outcome.contexts_updated,
        rejected = mapped.rejected.len(),
        retrievers = mapped.retrievers,
        ignored = mapped.ignored,
        "OTLP export ingested"
    );
    Ok(answer(encoding, &mapped))
}
