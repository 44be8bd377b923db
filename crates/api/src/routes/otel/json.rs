//! OTLP/JSON, leniently: 64-bit integers as strings or numbers, ids in hex
//! (or base64, as generic protobuf JSON encoders write bytes), enums as
//! numbers or names, snake_case or lowerCamelCase field names, unknown
//! fields ignored.

use base64::Engine;
use evalguard_domain::otlp::{AttrValue, Attributes, ResourceSpans, Span, SpanEvent};
use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::Value;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ExportRequest {
    #[serde(alias = "resource_spans")]
    resource_spans: Vec<JsonResourceSpans>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct JsonResourceSpans {
    resource: Option<JsonResource>,
    #[serde(alias = "scope_spans", alias = "instrumentationLibrarySpans")]
    scope_spans: Vec<JsonScopeSpans>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonResource {
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonScopeSpans {
    spans: Vec<JsonSpan>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct JsonSpan {
    #[serde(alias = "trace_id")]
    trace_id: String,
    #[serde(alias = "span_id")]
    span_id: String,
    name: String,
    #[serde(alias = "start_time_unix_nano", deserialize_with = "lenient_u64")]
    start_time_unix_nano: u64,
    #[serde(alias = "end_time_unix_nano", deserialize_with = "lenient_u64")]
    end_time_unix_nano: u64,
    attributes: Vec<KeyValue>,
    events: Vec<JsonEvent>,
    status: Option<JsonStatus>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct JsonEvent {
    #[serde(alias = "time_unix_nano", deserialize_with = "lenient_u64")]
    time_unix_nano: u64,
    name: String,
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonStatus {
    message: String,
    code: Value,
}

#[derive(Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: Option<JsonAnyValue>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct JsonAnyValue {
    #[serde(alias = "string_value")]
    string_value: Option<String>,
    #[serde(alias = "bool_value")]
    bool_value: Option<bool>,
    #[serde(alias = "int_value", deserialize_with = "lenient_opt_i64")]
    int_value: Option<i64>,
    #[serde(alias = "double_value", deserialize_with = "lenient_opt_f64")]
    double_value: Option<f64>,
    #[serde(alias = "bytes_value")]
    bytes_value: Option<String>,
    #[serde(alias = "array_value")]
    array_value: Option<JsonValues<JsonAnyValue>>,
    #[serde(alias = "kvlist_value")]
    kvlist_value: Option<JsonValues<KeyValue>>,
}

#[derive(Deserialize)]
struct JsonValues<T> {
    #[serde(default = "Vec::new")]
    values: Vec<T>,
}

/// A u64 sent as a JSON number or a decimal string; null or absent is 0.
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(0),
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| de::Error::custom(format!("{n} is not a non-negative integer"))),
        Value::String(s) => s
            .parse()
            .map_err(|_| de::Error::custom(format!("{s:?} is not a non-negative integer"))),
        other => Err(de::Error::custom(format!(
            "expected an integer or a string of digits, got {other}"
        ))),
    }
}

fn lenient_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("{n} is not a 64-bit integer"))),
        Value::String(s) => s
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("{s:?} is not a 64-bit integer"))),
        other => Err(de::Error::custom(format!(
            "expected an integer or a string of digits, got {other}"
        ))),
    }
}

/// Protobuf JSON writes non-finite doubles as "NaN", "Infinity", "-Infinity".
fn lenient_opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        Value::String(s) => s
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("{s:?} is not a number"))),
        other => Err(de::Error::custom(format!("expected a number, got {other}"))),
    }
}

/// Hex as the OTLP/JSON specification says; base64 of the right length as
/// generic protobuf JSON encoders write bytes. Anything else is passed on
/// unchanged, for the mapping to reject with a reason.
fn id_hex(raw: String, bytes: usize) -> String {
    if raw.len() == bytes * 2 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return raw;
    }
    match base64::engine::general_purpose::STANDARD.decode(raw.as_bytes()) {
        Ok(decoded) if decoded.len() == bytes => hex::encode(decoded),
        _ => raw,
    }
}

impl JsonAnyValue {
    fn into_value(self) -> AttrValue {
        if let Some(s) = self.string_value {
            AttrValue::String(s)
        } else if let Some(b) = self.bool_value {
            AttrValue::Bool(b)
        } else if let Some(n) = self.int_value {
            AttrValue::Int(n)
        } else if let Some(x) = self.double_value {
            AttrValue::Double(x)
        } else if let Some(b) = self.bytes_value {
            base64::engine::general_purpose::STANDARD
                .decode(b.as_bytes())
                .map(AttrValue::Bytes)
                .unwrap_or(AttrValue::String(b))
        } else if let Some(a) = self.array_value {
            AttrValue::Array(a.values.into_iter().map(Self::into_value).collect())
        } else if let Some(kv) = self.kvlist_value {
            AttrValue::KvList(
                kv.values
                    .into_iter()
                    .map(|kv| {
                        (
                            kv.key,
                            kv.value.map(Self::into_value).unwrap_or(AttrValue::Empty),
                        )
                    })
                    .collect(),
            )
        } else {
            AttrValue::Empty
        }
    }
}

fn attributes(pairs: Vec<KeyValue>) -> Attributes {
    Attributes(
        pairs
            .into_iter()
            .map(|kv| {
                (
                    kv.key,
                    kv.value
                        .map(JsonAnyValue::into_value)
                        .unwrap_or(AttrValue::Empty),
                )
            })
            .collect(),
    )
}

/// STATUS_CODE_ERROR is 2.
fn is_error(code: &Value) -> bool {
    match code {
        Value::Number(n) => n.as_u64() == Some(2),
        Value::String(s) => s == "STATUS_CODE_ERROR" || s == "2",
        _ => false,
    }
}

/// Decodes an OTLP/JSON `ExportTraceServiceRequest`; the error names where
/// in the body it went wrong.
pub(super) fn decode(bytes: &[u8]) -> Result<Vec<ResourceSpans>, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let request: ExportRequest = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.inner().to_string()
        } else {
            format!("at {path}: {}", e.inner())
        }
    })?;
    de.end().map_err(|e| e.to_string())?;
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
                    trace_id: id_hex(span.trace_id, 16),
                    span_id: id_hex(span.span_id, 8),
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
                    error: span.status.filter(|s| is_error(&s.code)).map(|s| s.message),
                })
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_as_strings_or_numbers_and_unknown_fields() {
        let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}],"droppedAttributesCount":0},
          "scopeSpans":[{"scope":{"name":"x"},"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
          "name":"chat","kind":3,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
          "attributes":[{"key":"n","value":{"intValue":"42"}},{"key":"m","value":{"intValue":7}},{"key":"d","value":{"doubleValue":"NaN"}},
            {"key":"l","value":{"arrayValue":{"values":[{"stringValue":"a"}]}}},{"key":"k","value":{"kvlistValue":{"values":[{"key":"x","value":{"boolValue":true}}]}}}],
          "status":{"code":"STATUS_CODE_ERROR","message":"boom"},"futureField":{"a":1}}]}]}]}"#;
        let decoded = decode(body).unwrap();
        let span = &decoded[0].spans[0];
        assert_eq!(span.start_time_unix_nano, 1_544_712_660_000_000_000);
        assert_eq!(span.end_time_unix_nano, 1_544_712_661_000_000_000);
        assert_eq!(span.attributes.int("n"), Some(42));
        assert_eq!(span.attributes.int("m"), Some(7));
        assert!(matches!(span.attributes.get("d"), Some(AttrValue::Double(x)) if x.is_nan()));
        assert_eq!(span.error.as_deref(), Some("boom"));
        assert_eq!(decoded[0].resource.str("service.name"), Some("svc"));
    }

    #[test]
    fn base64_ids_become_hex() {
        let body = br#"{"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"W47/95gDgQPSabYzgT/GDA==","span_id":"7uGbfsPBsXQ="}]}]}]}"#;
        let span = &decode(body).unwrap()[0].spans[0];
        assert_eq!(span.trace_id, "5b8efff798038103d269b633813fc60c");
        assert_eq!(span.span_id, "eee19b7ec3c1b174");
    }

    #[test]
    fn errors_say_where() {
        let err = decode(
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"soon"}]}]}]}"#,
        )
        .unwrap_err();
        assert!(
            err.contains("resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano"),
            "{err}"
        );
        assert!(decode(b"[1,2]").is_err());
        assert!(decode(b"{} trailing").is_err());
    }
}
