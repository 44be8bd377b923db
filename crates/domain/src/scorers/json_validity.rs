//! `json_validity`: whether output that is meant to be JSON parses.
//!
//! Output is meant to be JSON when the sample's `metadata.response_format`
//! says so, when it starts with `{` or `[`, or when it holds a fenced
//! ```` ```json ```` block (then the block is what is checked).

use serde::de::IgnoredAny;

use super::{deterministic_scorer_impl, not_applicable, pass_fail};
use crate::scoring::{ScoreKind, ScoreOutcome};
use crate::traffic::TrafficSample;

#[derive(Debug, Clone, Copy, Default)]
pub struct JsonValidity;

const FENCE_OPEN: &str = "```json";
const FENCE_CLOSE: &str = "```";

impl JsonValidity {
    pub const NAME: &'static str = "json_validity";
    pub const KIND: ScoreKind = ScoreKind::PassFail;

    /// 1 (`valid`) or 0 (`invalid`); not applicable when the output is not meant to be JSON.
    pub fn evaluate(&self, sample: &TrafficSample) -> ScoreOutcome {
        let trimmed = sample.output.trim();
        let candidate = if let Some(block) = fenced_json(trimmed) {
            block
        } else if trimmed.starts_with('{') || trimmed.starts_with('[') || json_requested(sample) {
            trimmed
        } else {
            return not_applicable("the output is not meant to be JSON");
        };
        // Parsing into `IgnoredAny` checks the syntax without building a value.
        let valid = serde_json::from_str::<IgnoredAny>(candidate).is_ok();
        pass_fail(valid, "valid", "invalid")
    }
}

/// The content of the first ```` ```json ```` fence (to its closing fence or the end).
fn fenced_json(text: &str) -> Option<&str> {
    let start = text.find(FENCE_OPEN)? + FENCE_OPEN.len();
    let rest = &text[start..];
    let body = match rest.find(FENCE_CLOSE) {
        Some(end) => &rest[..end],
        None => rest,
    };
    Some(body.trim())
}

fn json_requested(sample: &TrafficSample) -> bool {
    let Some(format) = sample
        .metadata
        .as_ref()
        .and_then(|m| m.field("response_format"))
    else {
        return false;
    };
    // Accept both `"json"` and OpenAI's `{"type": "json_object"}` shape.
    let name = format
        .as_str()
        .or_else(|| format.get("type").and_then(|t| t.as_str()));
    matches!(name, Some("json" | "json_object" | "json_schema"))
}

deterministic_scorer_impl!(JsonValidity);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SampleMetadata;
    use crate::scorers::test_sample::sample;
    use serde_json::json;

    #[test]
    fn json_looking_output_is_checked() {
        assert_eq!(
            JsonValidity
                .evaluate(&sample("q", r#" {"a": [1, 2]} "#))
                .value(),
            Some(1.0)
        );
        assert_eq!(
            JsonValidity.evaluate(&sample("q", "[1, 2,]")).value(),
            Some(0.0)
        );
        assert_eq!(
            JsonValidity.evaluate(&sample("q", "{\"a\": ")).value(),
            Some(0.0)
        );
    }

    #[test]
    fn fenced_blocks_are_checked() {
        let ok = "Here you go:\n```json\n{\"name\": \"Ada\"}\n```\nAnything else?";
        assert_eq!(JsonValidity.evaluate(&sample("q", ok)).value(), Some(1.0));
        let bad = "```json\n{name: Ada}\n```";
        assert_eq!(JsonValidity.evaluate(&sample("q", bad)).value(), Some(0.0));
    }

    #[test]
    fn prose_is_not_applicable_unless_json_was_requested() {
        let mut s = sample("q", "Sure, the answer is 42.");
        assert!(matches!(
            JsonValidity.evaluate(&s),
            ScoreOutcome::NotApplicable { .. }
        ));
        s.metadata = Some(SampleMetadata::new(&json!({"response_format": "json"})).unwrap());
        assert_eq!(JsonValidity.evaluate(&s).value(), Some(0.0));
        s.metadata = Some(
            SampleMetadata::new(&json!({"response_format": {"type": "json_object"}})).unwrap(),
        );
        s.output = "{\"answer\": 42}".to_owned();
        assert_eq!(JsonValidity.evaluate(&s).value(), Some(1.0));
    }
}
