//! Traffic samples: one production call of an LLM application, as sent to
//! `POST /api/v1/traffic` ([`SampleInput`]) and as stored ([`TrafficSample`]).
//! The wire form is a typed body: its text types refuse NUL and over-long
//! names while it is deserialized; [`SampleInput::into_sample`] then checks
//! the values that depend on the clock or on ranges.

use std::fmt;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::ProjectId;
use crate::input::{JsonObject, Name, RequestFieldError, Rfc3339, Text};
use crate::sample_metadata::SampleMetadata;

/// How far ahead of the server's clock a sample's timestamp may be.
pub const MAX_CLOCK_SKEW_HOURS: i64 = 24;
/// Largest accepted `latency_ms`: one day.
pub const MAX_LATENCY_MS: f64 = 86_400_000.0;
/// Largest accepted token count.
pub const MAX_TOKENS: u64 = 100_000_000;

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
    pub metadata: Option<SampleMetadata>,
    pub latency_ms: Option<f64>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
}

/// One traffic sample as a client sends it. Fields other than these are
/// ignored, so that clients may send more than EvalGuard reads.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SampleInput {
    /// The client's id, unique per project; a repeated id is stored once.
    #[serde(default)]
    pub id: Option<Name>,
    #[schema(value_type = String)]
    pub project_id: ProjectId,
    pub model: Name,
    pub prompt_id: Name,
    /// The user's question or the rendered prompt.
    pub input: Text,
    /// The model's answer.
    pub output: Text,
    /// Retrieved passages: one string or a list of strings.
    #[serde(default)]
    pub context: Option<Context>,
    /// The expected answer, when known.
    #[serde(default)]
    pub reference: Option<Text>,
    /// RFC 3339, from 2000 to 24 hours ahead of the server's clock; default: the time of receipt.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub timestamp: Option<Rfc3339>,
    /// Any JSON object.
    #[serde(default)]
    pub metadata: Option<JsonObject>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 86400000)]
    pub latency_ms: Option<f64>,
    #[serde(default)]
    #[schema(maximum = 100000000)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    #[schema(maximum = 100000000)]
    pub completion_tokens: Option<u64>,
}

/// Retrieved passages: a single string or a list of strings.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Context {
    One(Text),
    Many(Vec<Text>),
}

impl Context {
    fn into_passages(self) -> Vec<String> {
        match self {
            Context::One(text) => vec![text.into_string()],
            Context::Many(items) => items.into_iter().map(Text::into_string).collect(),
        }
    }
}

// By hand rather than `untagged`: an untagged enum loses the path and the
// reason of the failure (a NUL in `context[3]` must be named as such).
impl<'de> Deserialize<'de> for Context {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ContextVisitor;
        impl<'de> Visitor<'de> for ContextVisitor {
            type Value = Context;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Context, E> {
                Text::try_from(v.to_owned())
                    .map(Context::One)
                    .map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Context, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(item) = seq.next_element::<Text>()? {
                    items.push(item);
                }
                Ok(Context::Many(items))
            }
        }
        d.deserialize_any(ContextVisitor)
    }
}

/// The earliest accepted timestamp: 2000-01-01T00:00:00Z.
pub fn earliest_timestamp() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn count(field: &str, value: Option<u64>) -> Result<Option<i64>, RequestFieldError> {
    match value {
        None => Ok(None),
        Some(n) if n <= MAX_TOKENS => Ok(i64::try_from(n).ok()),
        Some(_) => Err(RequestFieldError::new(
            field,
            format!("must be an integer from 0 to {MAX_TOKENS}"),
        )),
    }
}

impl SampleInput {
    /// The sample to store, received at `now`; errors name fields relative
    /// to the sample (`timestamp`, `latency_ms`, …).
    pub fn into_sample(self, now: DateTime<Utc>) -> Result<TrafficSample, RequestFieldError> {
        let timestamp = match self.timestamp {
            None => now,
            Some(Rfc3339(t)) if t < earliest_timestamp() => {
                return Err(RequestFieldError::new(
                    "timestamp",
                    "must not be before 2000-01-01T00:00:00Z",
                ));
            }
            Some(Rfc3339(t)) if t > now + Duration::hours(MAX_CLOCK_SKEW_HOURS) => {
                return Err(RequestFieldError::new(
                    "timestamp",
                    format!(
                        "must not be more than {MAX_CLOCK_SKEW_HOURS} hours ahead of the server's clock"
                    ),
                ));
            }
            Some(Rfc3339(t)) => t,
        };
        let latency_ms = match self.latency_ms {
            Some(x) if !(x.is_finite() && (0.0..=MAX_LATENCY_MS).contains(&x)) => {
                return Err(RequestFieldError::new(
                    "latency_ms",
                    format!("must be a number from 0 to {MAX_LATENCY_MS}"),
                ));
            }
            other => other,
        };
        Ok(TrafficSample {
            id: match self.id {
                Some(id) => id.into_string(),
                None => uuid::Uuid::now_v7().to_string(),
            },
            project_id: self.project_id,
            model: self.model.into_string(),
            prompt_id: self.prompt_id.into_string(),
            input: self.input.into_string(),
            output: self.output.into_string(),
            context: self.context.map(Context::into_passages).unwrap_or_default(),
            reference: self.reference.map(Text::into_string),
            timestamp,
            metadata: self
                .metadata
                .map(|m| SampleMetadata::new(&m.0))
                .transpose()
                .map_err(|e| RequestFieldError::new("metadata", e.to_string()))?,
            latency_ms,
            prompt_tokens: count("prompt_tokens", self.prompt_tokens)?,
            completion_tokens: count("completion_tokens", self.completion_tokens)?,
        })
    }
}

impl TrafficSample {
    /// Reads and checks one sample's JSON (tests and tools; the API reads
    /// whole batches with paths).
    pub fn from_json(value: Value, now: DateTime<Utc>) -> Result<Self, RequestFieldError> {
        crate::input::read_value::<SampleInput>(value)?.into_sample(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({"project_id": "p", "model": "m", "prompt_id": "x", "input": "q", "output": "a"})
    }

    fn with(field: &str, value: Value) -> Result<TrafficSample, RequestFieldError> {
        let mut v = minimal();
        v[field] = value;
        TrafficSample::from_json(v, Utc::now())
    }

    #[test]
    fn minimal_sample_gets_defaults() {
        let now = Utc::now();
        let s = TrafficSample::from_json(minimal(), now).unwrap();
        assert_eq!(s.timestamp, now);
        assert!(s.context.is_empty());
        assert!(!s.id.is_empty());
    }

    #[test]
    fn context_may_be_a_single_string_or_a_list() {
        let s = with("context", json!("one passage")).unwrap();
        assert_eq!(s.context, vec!["one passage".to_owned()]);
        let s = with("context", json!(["a", "b"])).unwrap();
        assert_eq!(s.context, vec!["a".to_owned(), "b".to_owned()]);
        assert!(with("context", json!([1])).is_err());
        assert!(with("context", json!(["a", "b\u{0}"])).is_err());
    }

    #[test]
    fn values_out_of_range_are_refused() {
        for (field, bad) in [
            ("model", json!(3)),
            ("model", json!("")),
            ("model", json!("m".repeat(257))),
            ("input", Value::Null),
            ("input", json!("a\u{0}")),
            ("timestamp", json!("yesterday")),
            ("timestamp", json!("9999-01-01T00:00:00Z")),
            ("timestamp", json!("1999-12-31T23:59:59Z")),
            ("latency_ms", json!(-1)),
            ("latency_ms", json!(1.7e308)),
            ("prompt_tokens", json!(1.5)),
            ("prompt_tokens", json!(100_000_001)),
            ("metadata", json!([1])),
            ("metadata", json!({"k": {"deep": "\u{0}"}})),
        ] {
            assert!(with(field, bad.clone()).is_err(), "{field}: {bad}");
        }
        let soon = (Utc::now() + Duration::hours(23)).to_rfc3339();
        assert!(with("timestamp", json!(soon)).is_ok());
        assert!(with("latency_ms", json!(86_400_000)).is_ok());
        assert!(with("completion_tokens", json!(100_000_000)).is_ok());
    }

    #[test]
    fn range_errors_name_the_field() {
        let err = with("latency_ms", json!(1e300)).unwrap_err();
        assert_eq!(err.param, "latency_ms");
        let err = with("timestamp", json!("9999-01-01T00:00:00Z")).unwrap_err();
        assert_eq!(err.param, "timestamp");
        let err = with("prompt_tokens", json!(u64::MAX)).unwrap_err();
        assert_eq!(err.param, "prompt_tokens");
    }
}
