//! The `POST /api/v1/auto-eval` body: [`AutoEvalBody`] as the client sends
//! it (typed, deserialized with the path of any bad field), checked into the
//! [`AutoEvalRequest`] that a job stores and runs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Target;
use crate::ids::ProjectId;
use crate::input::{Name, RequestFieldError, Rfc3339, read_value};

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

/// A checked `POST /api/v1/auto-eval` body, as a job stores it.
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

/// `POST /api/v1/auto-eval` as a client sends it. Unknown fields are
/// refused, so that a misspelt option is not silently ignored.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoEvalBody {
    pub target: TargetInput,
    /// How many of the target's most recent samples to evaluate.
    #[serde(default)]
    #[schema(default = 100, minimum = 1, maximum = 10000)]
    pub sample_count: Option<u32>,
    /// Scorer names; default: the project's scorer set.
    #[serde(default)]
    pub scorers: Option<Vec<Name>>,
    /// Default: the same prompt's previous deployment, else an earlier window.
    #[serde(default)]
    pub baseline: Option<BaselineInput>,
    /// Stop judging when this much has been spent (the job is then partial).
    #[serde(default)]
    #[schema(exclusive_minimum = 0)]
    pub max_cost_usd: Option<f64>,
    /// Reuse cached judge verdicts.
    #[serde(default)]
    #[schema(default = true)]
    pub cache: Option<bool>,
    /// Judge each sample this many times (majority verdict).
    #[serde(default)]
    #[schema(default = 1, minimum = 1, maximum = 5)]
    pub repeats: Option<u32>,
    #[serde(default)]
    pub thresholds: Option<Thresholds>,
}

/// What to evaluate: all three fields are required.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TargetInput {
    pub model: Name,
    pub prompt_id: Name,
    #[schema(value_type = String)]
    pub project_id: ProjectId,
}

impl From<TargetInput> for Target {
    fn from(t: TargetInput) -> Self {
        Target {
            model: t.model.into_string(),
            prompt_id: t.prompt_id.into_string(),
            project_id: t.project_id,
        }
    }
}

/// A baseline: another deployment (`model` and `prompt_id`) or the target's
/// samples within a time window (`from` and `to`, RFC 3339, `from` < `to`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct BaselineInput {
    #[serde(default)]
    pub model: Option<Name>,
    #[serde(default)]
    pub prompt_id: Option<Name>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub from: Option<Rfc3339>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub to: Option<Rfc3339>,
}

impl BaselineInput {
    fn into_spec(self) -> Result<BaselineSpec, RequestFieldError> {
        if self.from.is_some() || self.to.is_some() {
            let when = |t: Option<Rfc3339>, field: &str| {
                t.map(|Rfc3339(t)| t).ok_or_else(|| {
                    RequestFieldError::new(
                        format!("baseline.{field}"),
                        "must be an RFC 3339 date-time",
                    )
                })
            };
            let (from, to) = (when(self.from, "from")?, when(self.to, "to")?);
            if from >= to {
                return Err(RequestFieldError::new(
                    "baseline.to",
                    "must be after baseline.from",
                ));
            }
            return Ok(BaselineSpec::Window { from, to });
        }
        let name = |n: Option<Name>, field: &str| {
            n.map(Name::into_string).ok_or_else(|| {
                RequestFieldError::new(
                    format!("baseline.{field}"),
                    "is required (or give baseline.from and baseline.to)",
                )
            })
        };
        Ok(BaselineSpec::Deployment {
            model: name(self.model, "model")?,
            prompt_id: name(self.prompt_id, "prompt_id")?,
        })
    }
}

fn bounded(
    field: &str,
    value: Option<u32>,
    max: u32,
    default: u32,
) -> Result<u32, RequestFieldError> {
    match value {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(RequestFieldError::new(
            field,
            format!("must be an integer from 1 to {max}"),
        )),
    }
}

impl AutoEvalBody {
    /// The request a job runs, or the first value out of range.
    pub fn into_request(self) -> Result<AutoEvalRequest, RequestFieldError> {
        let scorers = match self.scorers {
            Some(names) if names.is_empty() => {
                return Err(RequestFieldError::new(
                    "scorers",
                    "must name at least one scorer",
                ));
            }
            other => other.map(|names| names.into_iter().map(Name::into_string).collect()),
        };
        if let Some(x) = self.max_cost_usd
            && !(x.is_finite() && x > 0.0)
        {
            return Err(RequestFieldError::new(
                "max_cost_usd",
                "must be a positive number",
            ));
        }
        if let Some(t) = &self.thresholds {
            t.check("thresholds")?;
        }
        Ok(AutoEvalRequest {
            target: self.target.into(),
            sample_count: bounded(
                "sample_count",
                self.sample_count,
                MAX_SAMPLE_COUNT,
                DEFAULT_SAMPLE_COUNT,
            )?,
            scorers,
            baseline: self.baseline.map(BaselineInput::into_spec).transpose()?,
            max_cost_usd: self.max_cost_usd,
            cache: self.cache.unwrap_or(true),
            repeats: bounded("repeats", self.repeats, MAX_REPEATS, 1)?,
            thresholds: self.thresholds,
        })
    }
}

impl AutoEvalRequest {
    /// Reads and checks a request body given as a JSON value (tests and tools).
    pub fn from_json(body: &Value) -> Result<Self, RequestFieldError> {
        read_value::<AutoEvalBody>(body.clone())?.into_request()
    }
}

impl Thresholds {
    /// Checks that every set threshold lies in (0, 1); `param` prefixes names.
    pub fn check(&self, param: &str) -> Result<(), RequestFieldError> {
        for (name, value) in [
            ("alpha", self.alpha),
            ("min_effect", self.min_effect),
            ("hallucination_rate", self.hallucination_rate),
            ("drift_fdr", self.drift_fdr),
            ("drift_distance", self.drift_distance),
        ] {
            if let Some(x) = value
                && !(x > 0.0 && x < 1.0)
            {
                return Err(RequestFieldError::new(
                    format!("{param}.{name}"),
                    "must be between 0 and 1 (exclusive)",
                ));
            }
        }
        Ok(())
    }
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
    fn text_fields_refuse_nul_and_long_names() {
        let mut t = target();
        t["model"] = json!("m\u{0}");
        let err = AutoEvalRequest::from_json(&json!({"target": t})).unwrap_err();
        assert_eq!(err.param, "target.model");
        let mut t = target();
        t["prompt_id"] = json!("p".repeat(257));
        let err = AutoEvalRequest::from_json(&json!({"target": t})).unwrap_err();
        assert_eq!(err.param, "target.prompt_id");
        let err =
            AutoEvalRequest::from_json(&json!({"target": target(), "scorers": ["a", "b\u{0}"]}))
                .unwrap_err();
        assert_eq!(err.param, "scorers[1]");
        let err = AutoEvalRequest::from_json(
            &json!({"target": target(), "baseline": {"model": "\u{0}", "prompt_id": "p"}}),
        )
        .unwrap_err();
        assert_eq!(err.param, "baseline.model");
    }

    #[test]
    fn unknown_fields_and_bad_thresholds_are_named() {
        let err = AutoEvalRequest::from_json(&json!({"target": target(), "extra": 1})).unwrap_err();
        assert_eq!(err.param, "extra");
        let err =
            AutoEvalRequest::from_json(&json!({"target": target(), "thresholds": {"alpha": 2.0}}))
                .unwrap_err();
        assert_eq!(err.param, "thresholds.alpha");
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
