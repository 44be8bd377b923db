//! The `POST /api/v1/auto-eval` body, validated field by field so that every
//! error names its `param`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Target;
use crate::ids::ProjectId;

pub const MAX_SAMPLE_COUNT: u32 = 10_000;
pub const DEFAULT_SAMPLE_COUNT: u32 = 100;
pub const MAX_REPEATS: u32 = 5;

/// What the current samples are compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum BaselineSpec {
    /// Another deployment of the same project: a model and prompt.
    Deployment { model: String, prompt_id: String },
    /// The same target's samples within a time window `[from, to)`.
    Window {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

/// Per-request or per-project decision thresholds; unset fields take defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Significance level for regressions after Benjamini–Hochberg (default 0.05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// Smallest worsening on the 0–1 scale worth flagging (default 0.05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_effect: Option<f64>,
    /// Hallucination rate above which a flag is raised (default 0.05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hallucination_rate: Option<f64>,
    /// False discovery rate for drift tests (default 0.05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_fdr: Option<f64>,
    /// Distance above which drift is flagged for large samples (default 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_distance: Option<f64>,
}

/// A validated `POST /api/v1/auto-eval` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoEvalRequest {
    pub target: Target,
    pub sample_count: u32,
    /// Scorer names; `None` means the project's scorer set.
    pub scorers: Option<Vec<String>>,
    pub baseline: Option<BaselineSpec>,
    pub max_cost_usd: Option<f64>,
    /// Whether judge verdicts may be reused from the cache.
    pub cache: bool,
    /// How many times each sample is judged (majority verdict).
    pub repeats: u32,
    pub thresholds: Option<Thresholds>,
}

/// A request field that is missing or wrong: answered with 400 and `param`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct RequestFieldError {
    pub param: String,
    pub message: String,
}

fn bad(param: &str, message: impl Into<String>) -> RequestFieldError {
    RequestFieldError {
        param: param.to_owned(),
        message: message.into(),
    }
}

fn target_field(obj: &Map<String, Value>, field: &str) -> Result<String, RequestFieldError> {
    let param = format!("target.{field}");
    match obj.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(bad(&param, "must not be empty")),
        None | Some(Value::Null) => Err(bad(&param, "is required")),
        Some(_) => Err(bad(&param, "must be a string")),
    }
}

impl AutoEvalRequest {
    /// Validates a request body. Unknown top-level fields are refused so that
    /// a misspelt option is not silently ignored.
    pub fn from_json(body: &Value) -> Result<Self, RequestFieldError> {
        let Value::Object(obj) = body else {
            return Err(bad("body", "must be a JSON object"));
        };
        const KNOWN: [&str; 8] = [
            "target",
            "sample_count",
            "scorers",
            "baseline",
            "max_cost_usd",
            "cache",
            "repeats",
            "thresholds",
        ];
        if let Some(unknown) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(bad(unknown, "is not a known field"));
        }
        let target = match obj.get("target") {
            Some(Value::Object(t)) => Target {
                model: target_field(t, "model")?,
                prompt_id: target_field(t, "prompt_id")?,
                project_id: ProjectId::parse(&target_field(t, "project_id")?)
                    .map_err(|e| bad("target.project_id", e.to_string()))?,
            },
            None | Some(Value::Null) => return Err(bad("target", "is required")),
            Some(_) => {
                return Err(bad(
                    "target",
                    "must be an object with model, prompt_id and project_id",
                ));
            }
        };
        let sample_count = bounded_int(
            obj,
            "sample_count",
            1,
            MAX_SAMPLE_COUNT,
            DEFAULT_SAMPLE_COUNT,
        )?;
        let repeats = bounded_int(obj, "repeats", 1, MAX_REPEATS, 1)?;
        let scorers = match obj.get("scorers") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let mut names = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) if !s.is_empty() => names.push(s.clone()),
                        _ => return Err(bad("scorers", "must be a list of scorer names")),
                    }
                }
                if names.is_empty() {
                    return Err(bad("scorers", "must name at least one scorer"));
                }
                Some(names)
            }
            Some(_) => return Err(bad("scorers", "must be a list of scorer names")),
        };
        let baseline = match obj.get("baseline") {
            None | Some(Value::Null) => None,
            Some(v) => Some(parse_baseline(v)?),
        };
        let max_cost_usd = match obj.get("max_cost_usd") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() && x > 0.0 => Some(x),
                _ => return Err(bad("max_cost_usd", "must be a positive number")),
            },
        };
        let cache = match obj.get("cache") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(bad("cache", "must be a boolean")),
        };
        let thresholds = match obj.get("thresholds") {
            None | Some(Value::Null) => None,
            Some(v) => Some(Thresholds::from_json(v, "thresholds")?),
        };
        Ok(Self {
            target,
            sample_count,
            scorers,
            baseline,
            max_cost_usd,
            cache,
            repeats,
            thresholds,
        })
    }
}

impl Thresholds {
    /// Parses and range-checks thresholds; `param` prefixes error names.
    pub fn from_json(v: &Value, param: &str) -> Result<Self, RequestFieldError> {
        let t: Thresholds = serde_json::from_value(v.clone())
            .map_err(|e| bad(param, format!("must be an object of numbers ({e})")))?;
        for (name, value) in [
            ("alpha", t.alpha),
            ("min_effect", t.min_effect),
            ("hallucination_rate", t.hallucination_rate),
            ("drift_fdr", t.drift_fdr),
            ("drift_distance", t.drift_distance),
        ] {
            if let Some(x) = value
                && !(x > 0.0 && x < 1.0)
            {
                return Err(bad(
                    &format!("{param}.{name}"),
                    "must be between 0 and 1 (exclusive)",
                ));
            }
        }
        Ok(t)
    }
}

fn bounded_int(
    obj: &Map<String, Value>,
    field: &str,
    min: u32,
    max: u32,
    default: u32,
) -> Result<u32, RequestFieldError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(x) if x >= i64::from(min) && x <= i64::from(max) => Ok(x as u32),
            Some(_) => Err(bad(field, format!("must be between {min} and {max}"))),
            None if n.is_u64() => Err(bad(field, format!("must be between {min} and {max}"))),
            None => Err(bad(
                field,
                format!("must be an integer from {min} to {max}"),
            )),
        },
        Some(_) => Err(bad(
            field,
            format!("must be an integer from {min} to {max}"),
        )),
    }
}

fn parse_baseline(v: &Value) -> Result<BaselineSpec, RequestFieldError> {
    let Value::Object(obj) = v else {
        return Err(bad(
            "baseline",
            "must be {\"model\", \"prompt_id\"} or {\"from\", \"to\"}",
        ));
    };
    if obj.contains_key("from") || obj.contains_key("to") {
        let when = |f: &str| -> Result<DateTime<Utc>, RequestFieldError> {
            obj.get(f)
                .and_then(Value::as_str)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|d| d.with_timezone(&Utc))
                .ok_or_else(|| bad(&format!("baseline.{f}"), "must be an RFC 3339 date-time"))
        };
        let (from, to) = (when("from")?, when("to")?);
        if from >= to {
            return Err(bad("baseline.to", "must be after baseline.from"));
        }
        return Ok(BaselineSpec::Window { from, to });
    }
    let field = |f: &str| -> Result<String, RequestFieldError> {
        match obj.get(f) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(bad(&format!("baseline.{f}"), "must be a non-empty string")),
        }
    };
    Ok(BaselineSpec::Deployment {
        model: field("model")?,
        prompt_id: field("prompt_id")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target() -> Value {
        json!({"model": "m", "prompt_id": "p", "project_id": "proj"})
    }

    #[test]
    fn minimal_request_takes_defaults() {
        let r = AutoEvalRequest::from_json(&json!({"target": target()})).unwrap();
        assert_eq!(r.sample_count, 100);
        assert_eq!(r.repeats, 1);
        assert!(r.cache);
    }

    #[test]
    fn sample_count_is_checked() {
        for bad_count in [
            json!(0),
            json!(-1),
            json!(10_001),
            json!(1.5),
            json!("100"),
            json!(1e20),
        ] {
            let err =
                AutoEvalRequest::from_json(&json!({"target": target(), "sample_count": bad_count}))
                    .unwrap_err();
            assert_eq!(err.param, "sample_count");
        }
        let ok = AutoEvalRequest::from_json(&json!({"target": target(), "sample_count": 10_000}))
            .unwrap();
        assert_eq!(ok.sample_count, 10_000);
    }

    #[test]
    fn target_fields_are_required_strings() {
        assert_eq!(
            AutoEvalRequest::from_json(&json!({})).unwrap_err().param,
            "target"
        );
        for field in ["model", "prompt_id", "project_id"] {
            let mut t = target();
            t.as_object_mut().unwrap().remove(field);
            let err = AutoEvalRequest::from_json(&json!({"target": t})).unwrap_err();
            assert_eq!(err.param, format!("target.{field}"));
            let mut t = target();
            t[field] = json!(7);
            let err = AutoEvalRequest::from_json(&json!({"target": t})).unwrap_err();
            assert_eq!(err.param, format!("target.{field}"));
        }
    }

    #[test]
    fn baselines_parse() {
        let r = AutoEvalRequest::from_json(
            &json!({"target": target(), "baseline": {"model": "old", "prompt_id": "p"}}),
        )
        .unwrap();
        assert!(matches!(r.baseline, Some(BaselineSpec::Deployment { .. })));
        let r = AutoEvalRequest::from_json(&json!({"target": target(),
            "baseline": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}}))
        .unwrap();
        assert!(matches!(r.baseline, Some(BaselineSpec::Window { .. })));
    }
}
