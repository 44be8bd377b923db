//! Request bodies and list envelopes as the API takes and answers them.

use serde::{Deserialize, Serialize};

use evalguard_domain::job::{BaselineSpec, Target, Thresholds};

/// `POST /api/v1/auto-eval`; unset options are left out (the server's defaults apply).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateAutoEval {
    pub target: Target,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scorers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_cost_usd: Option<f64>,
    /// `Some(false)` bypasses the judge verdict cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeats: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
}

impl CreateAutoEval {
    /// A request for the target with every option at the server's default.
    pub fn new(target: Target) -> Self {
        Self {
            target,
            sample_count: None,
            scorers: None,
            baseline: None,
            max_cost_usd: None,
            cache: None,
            repeats: None,
            thresholds: None,
        }
    }
}

/// The answer to `POST /api/v1/auto-eval`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct JobCreated {
    pub job_id: String,
}

/// `POST /api/v1/projects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateProject {
    pub id: String,
    pub name: String,
}

/// One traffic sample to send; unset fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewSample {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub project_id: String,
    pub model: String,
    pub prompt_id: String,
    pub input: String,
    pub output: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// RFC 3339; the time of receipt when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<i64>,
}

/// The answer to `POST /api/v1/traffic`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TrafficAccepted {
    pub accepted: u64,
}

/// One page of a list: `{"data": [...], "next_cursor": ...}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_options_are_left_out() {
        let mut request = CreateAutoEval::new(Target {
            model: "m".into(),
            prompt_id: "p".into(),
            project_id: evalguard_domain::ProjectId::parse("bot")
                .unwrap_or_else(|_| unreachable!()),
        });
        assert_eq!(
            serde_json::to_value(&request).ok(),
            Some(
                serde_json::json!({"target": {"model": "m", "prompt_id": "p", "project_id": "bot"}})
            )
        );
        request.cache = Some(false);
        request.repeats = Some(3);
        let body = serde_json::to_value(&request).ok();
        assert_eq!(
            body.as_ref().map(|b| b["cache"].clone()),
            Some(serde_json::json!(false))
        );
        assert_eq!(
            body.map(|b| b["repeats"].clone()),
            Some(serde_json::json!(3))
        );
    }
}
