//! Traffic samples: one production call of an LLM application, as sent to
//! `POST /api/v1/traffic`. Parsing is done field by field (not with a derived
//! `Deserialize`) so that a bad batch is answered with the index and the field
//! of its first bad sample.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::ProjectId;

/// Longest accepted client sample id.
pub const MAX_SAMPLE_ID_LEN: usize = 256;

/// A stored traffic sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficSample {
    /// The client's id, or one assigned on receipt (UUIDv7) when none was sent.
    pub id: String,
    pub project_id: ProjectId,
    pub model: String,
    pub prompt_id: String,
    pub input: String,
    pub output: String,
    pub context: Vec<String>,
    pub reference: Option<String>,
    pub timestamp: DateTime<Utc>,
    pub metadata: Option<Value>,
    pub latency_ms: Option<f64>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
}

/// Why a sample was refused: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SampleFieldError {
    pub field: &'static str,
    pub message: String,
}

fn field_error(field: &'static str, message: impl Into<String>) -> SampleFieldError {
    SampleFieldError {
        field,
        message: message.into(),
    }
}

fn required_string(
    obj: &Map<String, Value>,
    field: &'static str,
) -> Result<String, SampleFieldError> {
    match obj.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(field_error(field, "is required")),
        Some(_) => Err(field_error(field, "must be a string")),
    }
}

fn optional_string(
    obj: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, SampleFieldError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(field_error(field, "must be a string")),
    }
}

fn optional_count(
    obj: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<i64>, SampleFieldError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if n >= 0 => Ok(Some(n)),
            _ => Err(field_error(field, "must be a non-negative integer")),
        },
    }
}

impl TrafficSample {
    /// Parses one sample of a traffic batch. `now` is the receipt time, used
    /// when the sample has no `timestamp`.
    pub fn from_json(value: &Value, now: DateTime<Utc>) -> Result<Self, SampleFieldError> {
        let Value::Object(obj) = value else {
            return Err(field_error("sample", "must be a JSON object"));
        };
        let id = match optional_string(obj, "id")? {
            Some(id) if id.is_empty() || id.len() > MAX_SAMPLE_ID_LEN => {
                return Err(field_error(
                    "id",
                    format!("must be 1 to {MAX_SAMPLE_ID_LEN} characters"),
                ));
            }
            Some(id) => id,
            None => uuid::Uuid::now_v7().to_string(),
        };
        let project_id = ProjectId::parse(&required_string(obj, "project_id")?)
            .map_err(|e| field_error("project_id", e.to_string()))?;
        let model = required_string(obj, "model")?;
        if model.is_empty() {
            return Err(field_error("model", "must not be empty"));
        }
        let prompt_id = required_string(obj, "prompt_id")?;
        if prompt_id.is_empty() {
            return Err(field_error("prompt_id", "must not be empty"));
        }
        let input = required_string(obj, "input")?;
        let output = required_string(obj, "output")?;
        let context = match obj.get("context") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(field_error(
                        "context",
                        "must be a string or a list of strings",
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(field_error(
                    "context",
                    "must be a string or a list of strings",
                ));
            }
        };
        let reference = optional_string(obj, "reference")?;
        let timestamp = match optional_string(obj, "timestamp")? {
            None => now,
            Some(raw) => DateTime::parse_from_rfc3339(&raw)
                .map_err(|_| {
                    field_error(
                        "timestamp",
                        "must be an RFC 3339 date-time, e.g. 2026-11-24T12:00:00Z",
                    )
                })?
                .with_timezone(&Utc),
        };
        let metadata = match obj.get("metadata") {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(_)) => Some(v.clone()),
            Some(_) => return Err(field_error("metadata", "must be a JSON object")),
        };
        let latency_ms = match obj.get("latency_ms") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() && x >= 0.0 => Some(x),
                _ => return Err(field_error("latency_ms", "must be a non-negative number")),
            },
        };
        let prompt_tokens = optional_count(obj, "prompt_tokens")?;
        let completion_tokens = optional_count(obj, "completion_tokens")?;
        Ok(Self {
            id,
            project_id,
            model,
            prompt_id,
            input,
            output,
            context,
            reference,
            timestamp,
            metadata,
            latency_ms,
            prompt_tokens,
            completion_tokens,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({"project_id": "p", "model": "m", "prompt_id": "x", "input": "q", "output": "a"})
    }

    #[test]
    fn minimal_sample_gets_defaults() {
        let now = Utc::now();
        let s = TrafficSample::from_json(&minimal(), now).unwrap();
        assert_eq!(s.timestamp, now);
        assert!(s.context.is_empty());
        assert!(!s.id.is_empty());
    }

    #[test]
    fn context_may_be_a_single_string() {
        let mut v = minimal();
        v["context"] = json!("one passage");
        let s = TrafficSample::from_json(&v, Utc::now()).unwrap();
        assert_eq!(s.context, vec!["one passage".to_owned()]);
    }

    #[test]
    fn errors_name_the_field() {
        for (field, bad) in [
            ("model", json!(3)),
            ("input", Value::Null),
            ("context", json!([1])),
            ("timestamp", json!("yesterday")),
            ("latency_ms", json!(-1)),
            ("prompt_tokens", json!(1.5)),
            ("metadata", json!([1])),
        ] {
            let mut v = minimal();
            v[field] = bad;
            let err = TrafficSample::from_json(&v, Utc::now()).unwrap_err();
            assert_eq!(err.field, field);
        }
    }
}
