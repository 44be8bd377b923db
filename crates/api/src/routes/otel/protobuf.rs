//! OTLP/HTTP protobuf, with the `opentelemetry-proto` crate's generated
//! messages, into the domain's spans.

use evalguard_domain::otlp::{AttrValue, Attributes, ResourceSpans, Span, SpanEvent};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message;

fn value(v: Option<AnyValue>) -> AttrValue {
    match v.and_then(|v| v.value) {
        Some(any_value::Value::StringValue(s)) => AttrValue::String(s),
        Some(any_value::Value::BoolValue(b)) => AttrValue::Bool(b),
        Some(any_value::Value::IntValue(n)) => AttrValue::Int(n),
        Some(any_value::Value::DoubleValue(x)) => AttrValue::Double(x),
        Some(any_value::Value::BytesValue(b)) => AttrValue::Bytes(b),
        Some(any_value::Value::ArrayValue(a)) => {
            AttrValue::Array(a.values.into_iter().map(|v| value(Some(v))).collect())
        }
        Some(any_value::Value::KvlistValue(kv)) => AttrValue::KvList(
            kv.values
                .into_iter()
                .map(|kv| (kv.key, value(kv.value)))
                .collect(),
        ),
        // String-table references (profiles only) and empty values.
        _ => AttrValue::Empty,
    }
}

fn attributes(pairs: Vec<KeyValue>) -> Attributes {
    Attributes(
        pairs
            .into_iter()
            .map(|kv| (kv.key, value(kv.value)))
            .collect(),
    )
}

/// Decodes an `ExportTraceServiceRequest`.
pub(super) fn decode(bytes: &[u8]) -> Result<Vec<ResourceSpans>, String> {
    let request = ExportTraceServiceRequest::decode(bytes).map_err(|e| e.to_string())?;
    Ok(request
        .resource_spans
        .into_iter()
        .map(|rs| ResourceSpans {
            resource: attributes(rs.resource.map(|r| r.attributes).unwrap_or_default()),
            spans: rs
                .scope_spans
                .into_iter()
                .flat_map(|ss| ss.spans)
                .map(|span| Span {
                    trace_id: hex::encode(&span.trace_id),
                    span_id: hex::encode(&span.span_id),
                    name: span.name,
                    start_time_unix_nano: span.start_time_unix_nano,
                    end_time_unix_nano: span.end_time_unix_nano,
                    attributes: attributes(span.attributes),
                    events: span
                        .events
                        .into_iter()
                        .map(|e| SpanEvent {
                            name: e.name,
                            time_unix_nano: e.time_unix_nano,
                            attributes: attributes(e.attributes),
                        })
                        .collect(),
                    error: span
                        .status
                        .filter(|s| s.code == StatusCode::Error as i32)
                        .map(|s| s.message),
                })
                .collect(),
        })
        .collect())
}

/// The protobuf answer; `partial_success` only when spans were rejected, as
/// the OTLP specification asks.
pub(super) fn response(rejected: usize, message: Option<String>) -> Vec<u8> {
    ExportTraceServiceResponse {
        partial_success: message.map(|error_message| ExportTracePartialSuccess {
            rejected_spans: i64::try_from(rejected).unwrap_or(i64::MAX),
            error_message,
        }),
    }
    .encode_to_vec()
}
