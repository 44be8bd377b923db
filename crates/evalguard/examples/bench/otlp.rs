//! OTLP trace ingest: spans/s through `POST /api/v1/otel/v1/traces` at 1,000
//! spans a request, protobuf and OTLP/JSON. Every span is an LLM call in the
//! latest GenAI conventions (the costly case: each becomes a sample); one
//! trace in ten also has a retriever span whose documents become context.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::{Value, json};

use crate::server::start_server;
use crate::{Post, post_concurrently};

const SPANS_PER_REQUEST: usize = 1000;

fn string(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
        ..Default::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

/// Span `i` of the run: an LLM call, or (one in ten) the retriever of the
/// next LLM call's trace.
fn span(i: usize) -> Span {
    let trace = (i / 2 * 2) as u128 + 1;
    let start = 1_764_547_200_000_000_000 + i as u64 * 1_000_000;
    let attributes = if i.is_multiple_of(20) {
        vec![
            string("openinference.span.kind", "RETRIEVER".into()),
            string(
                "retrieval.documents.0.document.content",
                format!("Passwords are reset from Settings > Security (doc {i})."),
            ),
        ]
    } else {
        vec![
            string("gen_ai.operation.name", "chat".into()),
            string("gen_ai.provider.name", "openai".into()),
            string("gen_ai.request.model", "gpt-4o-mini".into()),
            string(
                "gen_ai.input.messages",
                json!([{"role": "user", "parts": [{"type": "text",
                    "content": format!("How do I reset the password of account {i}?")}]}])
                .to_string(),
            ),
            string(
                "gen_ai.output.messages",
                json!([{"role": "assistant", "parts": [{"type": "text",
                    "content": format!("Open Settings, choose Security and press Reset password for account {i}.")}],
                    "finish_reason": "stop"}])
                .to_string(),
            ),
            int("gen_ai.usage.input_tokens", 180 + (i % 50) as i64),
            int("gen_ai.usage.output_tokens", 40 + (i % 30) as i64),
        ]
    };
    Span {
        trace_id: trace.to_be_bytes().to_vec(),
        span_id: (i as u64 + 1).to_be_bytes().to_vec(),
        name: "chat gpt-4o-mini".to_owned(),
        start_time_unix_nano: start,
        end_time_unix_nano: start + 640_000_000,
        attributes,
        ..Default::default()
    }
}

fn request(first: usize) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    string("service.name", "bench".into()),
                    string("evalguard.project_id", "bench".into()),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: (first..first + SPANS_PER_REQUEST).map(span).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn any_value_json(value: &AnyValue) -> Value {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => json!({"stringValue": s}),
        Some(any_value::Value::IntValue(n)) => json!({"intValue": n.to_string()}),
        _ => json!({}),
    }
}

fn attributes_json(attributes: &[KeyValue]) -> Value {
    attributes
        .iter()
        .map(|kv| json!({"key": kv.key, "value": kv.value.as_ref().map(any_value_json)}))
        .collect()
}

/// The same request in OTLP/JSON, as the SDKs' JSON exporters write it.
fn request_json(request: &ExportTraceServiceRequest) -> Vec<u8> {
    let resource_spans: Vec<Value> = request
        .resource_spans
        .iter()
        .map(|rs| {
            let spans: Vec<Value> = rs.scope_spans[0]
                .spans
                .iter()
                .map(|s| {
                    json!({
                        "traceId": hex(&s.trace_id), "spanId": hex(&s.span_id), "name": s.name, "kind": 3,
                        "startTimeUnixNano": s.start_time_unix_nano.to_string(),
                        "endTimeUnixNano": s.end_time_unix_nano.to_string(),
                        "attributes": attributes_json(&s.attributes), "status": {}
                    })
                })
                .collect();
            json!({"resource": {"attributes": attributes_json(&rs.resource.as_ref().map(|r| r.attributes.clone()).unwrap_or_default())},
                   "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}]})
        })
        .collect();
    serde_json::to_vec(&json!({"resourceSpans": resource_spans})).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn run(db: &str, requests: usize) {
    for (encoding, content_type) in [
        ("protobuf", "application/x-protobuf"),
        ("json", "application/json"),
    ] {
        let server = start_server(db, 0, &[]).await;
        let encode = |first: usize| {
            let r = request(first);
            if encoding == "protobuf" {
                r.encode_to_vec()
            } else {
                request_json(&r)
            }
        };
        let warm_up: Vec<Vec<u8>> = (0..5)
            .map(|b| encode(10_000_000 + b * SPANS_PER_REQUEST))
            .collect();
        let bodies: Vec<Vec<u8>> = (0..requests)
            .map(|b| encode(b * SPANS_PER_REQUEST))
            .collect();
        let size = bodies.iter().map(Vec::len).sum::<usize>() / bodies.len();
        let post = || Post {
            path: "/api/v1/otel/v1/traces",
            content_type,
            status: 200,
        };
        post_concurrently(&server, post(), warm_up, 4).await;
        let rate = (requests * SPANS_PER_REQUEST) as f64
            / post_concurrently(&server, post(), bodies, 4).await;
        println!(
            "OTLP {encoding}: {rate:.0} spans/s ({requests} requests of 1,000 spans, {} KB each, 4 concurrent clients)",
            size / 1024
        );
    }
}
