//! What each judge asks for and how its reply becomes an outcome: the
//! built-in judges (hallucination, answer/context relevance, correctness,
//! toxicity) and rubric scorers defined by a project.

use evalguard_domain::ScoreOutcome;
use evalguard_domain::project::RubricDefinition;
use evalguard_domain::traffic::TrafficSample;
use serde_json::{Value, json};

use crate::verdict_parser::{ParsedReply, parse_reply};

/// Longest raw reply kept with an `unparsable` outcome.
const MAX_RAW_KEPT: usize = 8 * 1024;

/// How a judge's reply is turned into a score.
#[derive(Debug, Clone, PartialEq)]
pub enum Interpretation {
    /// Claims judged supported / contradicted / unverifiable; score = supported
    /// share; label `hallucinated` when any claim is contradicted.
    Claims,
    /// One label of a fixed set, each with its value on 0–1.
    Labels(Vec<(&'static str, f64)>),
    /// A score on `[min, max]`, normalised to 0–1; passes when raw >= threshold.
    Rubric {
        min: f64,
        max: f64,
        pass_threshold: f64,
    },
}

/// What the sample must carry for a judge to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Nothing,
    Context,
    Reference,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JudgeSpec {
    /// The scorer name.
    pub name: String,
    /// Template file stem, e.g. `hallucination.v1` (its version is part of the cache key).
    pub template: &'static str,
    pub needs: Needs,
    pub interpretation: Interpretation,
    /// Values at or above this pass (0–1 scale); for rubrics the raw threshold is used.
    pub pass_value: f64,
    /// Rubric criteria (rendered into the rubric template).
    pub criteria: Option<String>,
}

/// The built-in judge names, in the order they are listed.
pub const BUILTIN_JUDGES: [&str; 5] = [
    "hallucination",
    "answer_relevance",
    "context_relevance",
    "correctness",
    "toxicity",
];

impl JudgeSpec {
    pub fn builtin(name: &str) -> Option<Self> {
        let relevance = || {
            Interpretation::Labels(vec![
                ("relevant", 1.0),
                ("partially_relevant", 0.5),
                ("irrelevant", 0.0),
            ])
        };
        let (template, needs, interpretation, pass_value) = match name {
            "hallucination" => (
                "hallucination.v1",
                Needs::Context,
                Interpretation::Claims,
                1.0,
            ),
            "answer_relevance" => ("answer_relevance.v1", Needs::Nothing, relevance(), 0.5),
            "context_relevance" => ("context_relevance.v1", Needs::Context, relevance(), 0.5),
            "correctness" => (
                "correctness.v1",
                Needs::Reference,
                Interpretation::Labels(vec![
                    ("correct", 1.0),
                    ("partially_correct", 0.5),
                    ("incorrect", 0.0),
                ]),
                0.5,
            ),
            "toxicity" => (
                "toxicity.v1",
                Needs::Nothing,
                Interpretation::Labels(vec![("safe", 1.0), ("toxic", 0.0)]),
                1.0,
            ),
            _ => return None,
        };
        Some(Self {
            name: name.to_owned(),
            template,
            needs,
            interpretation,
            pass_value,
            criteria: None,
        })
    }

    pub fn rubric(rubric: &RubricDefinition) -> Self {
        Self {
            name: rubric.name.clone(),
            template: "rubric.v1",
            needs: Needs::Nothing,
            interpretation: Interpretation::Rubric {
                min: rubric.score_min,
                max: rubric.score_max,
                pass_threshold: rubric.pass_threshold,
            },
            pass_value: 0.0,
            criteria: Some(rubric.criteria.clone()),
        }
    }

    /// Why the judge does not apply to this sample, if it does not.
    pub fn not_applicable(&self, sample: &TrafficSample) -> Option<String> {
        match self.needs {
            Needs::Context if sample.context.iter().all(|c| c.trim().is_empty()) => Some(format!(
                "{} needs the sample's context, and it has none",
                self.name
            )),
            Needs::Reference
                if sample
                    .reference
                    .as_deref()
                    .is_none_or(|r| r.trim().is_empty()) =>
            {
                Some(format!(
                    "{} needs the sample's reference answer, and it has none",
                    self.name
                ))
            }
            _ => None,
        }
    }

    /// The labels a scored outcome may carry.
    pub fn labels(&self) -> Vec<&'static str> {
        match &self.interpretation {
            Interpretation::Claims => vec!["factual", "hallucinated"],
            Interpretation::Labels(labels) => labels.iter().map(|(l, _)| *l).collect(),
            Interpretation::Rubric { .. } => vec!["pass", "fail"],
        }
    }

    /// The JSON schema of the verdict (structured output / the forced tool's input).
    pub fn output_schema(&self) -> Value {
        match &self.interpretation {
            Interpretation::Claims => json!({
                "type": "object",
                "properties": {
                    "claims": {"type": "array", "items": {
                        "type": "object",
                        "properties": {
                            "claim": {"type": "string"},
                            "verdict": {"type": "string", "enum": ["supported", "contradicted", "unverifiable"]}
                        },
                        "required": ["claim", "verdict"],
                        "additionalProperties": false
                    }},
                    "reasoning": {"type": "string"}
                },
                "required": ["claims", "reasoning"],
                "additionalProperties": false
            }),
            Interpretation::Labels(labels) => json!({
                "type": "object",
                "properties": {
                    "reasoning": {"type": "string"},
                    "label": {"type": "string", "enum": labels.iter().map(|(l, _)| *l).collect::<Vec<_>>()}
                },
                "required": ["reasoning", "label"],
                "additionalProperties": false
            }),
            Interpretation::Rubric { .. } => json!({
                "type": "object",
                "properties": {
                    "reasoning": {"type": "string"},
                    "score": {"type": "number"}
                },
                "required": ["reasoning", "score"],
                "additionalProperties": false
            }),
        }
    }

    /// Whether a scored outcome passes.
    pub fn passes(&self, outcome: &ScoreOutcome) -> Option<bool> {
        let ScoreOutcome::Scored { value, label, .. } = outcome else {
            return None;
        };
        Some(match (&self.interpretation, label.as_deref()) {
            (Interpretation::Claims, Some(label)) => label == "factual",
            (Interpretation::Rubric { .. }, Some(label)) => label == "pass",
            _ => *value >= self.pass_value,
        })
    }

    /// Turns a structured verdict (tool input / JSON object) or raw text into an outcome.
    pub fn interpret_text(&self, raw: &str) -> ScoreOutcome {
        match parse_reply(raw) {
            Some(parsed) => self.interpret(&parsed, raw),
            None => unparsable(
                raw,
                "the reply holds neither a JSON verdict nor LABEL:/SCORE: lines",
            ),
        }
    }

    pub fn interpret(&self, parsed: &ParsedReply, raw: &str) -> ScoreOutcome {
        let fields = parsed.fields();
        let reasoning = fields
            .get("reasoning")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let label = fields
            .get("label")
            .and_then(Value::as_str)
            .map(|l| l.trim().to_ascii_lowercase());
        match &self.interpretation {
            Interpretation::Claims => {
                if let Some(claims) = fields.get("claims") {
                    return self.interpret_claims(claims, reasoning, raw);
                }
                // Plain-text mode: LABEL plus SCORE (the supported share).
                let Some(label) = label else {
                    return unparsable(raw, "no claims and no label in the reply");
                };
                if !self.labels().contains(&label.as_str()) {
                    return unparsable(
                        raw,
                        &format!("label {label:?} is not one of factual, hallucinated"),
                    );
                }
                let value = match fields.get("score") {
                    None => {
                        if label == "factual" {
                            1.0
                        } else {
                            0.0
                        }
                    }
                    Some(score) => match score.as_f64().filter(|s| (0.0..=1.0).contains(s)) {
                        Some(s) => s,
                        None => return unparsable(raw, "score must be a number from 0 to 1"),
                    },
                };
                scored(value, label, reasoning)
            }
            Interpretation::Labels(labels) => {
                let Some(label) = label else {
                    return unparsable(raw, "the reply has no label");
                };
                match labels.iter().find(|(l, _)| *l == label) {
                    Some((l, value)) => scored(*value, (*l).to_owned(), reasoning),
                    None => unparsable(
                        raw,
                        &format!(
                            "label {label:?} is not one of {}",
                            labels
                                .iter()
                                .map(|(l, _)| *l)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ),
                }
            }
            Interpretation::Rubric {
                min,
                max,
                pass_threshold,
            } => {
                let score = match fields.get("score") {
                    Some(Value::Number(n)) => n.as_f64(),
                    Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
                    _ => None,
                };
                let Some(score) = score.filter(|s| s.is_finite()) else {
                    return unparsable(raw, "the reply has no numeric score");
                };
                if score < *min || score > *max || max <= min {
                    return unparsable(
                        raw,
                        &format!("score {score} is outside the rubric's range {min} to {max}"),
                    );
                }
                let value = (score - min) / (max - min);
                let label = if score >= *pass_threshold {
                    "pass"
                } else {
                    "fail"
                };
                scored(value, label.to_owned(), reasoning)
            }
        }
    }

    fn interpret_claims(
        &self,
        claims: &Value,
        reasoning: Option<String>,
        raw: &str,
    ) -> ScoreOutcome {
        let Some(claims) = claims.as_array() else {
            return unparsable(raw, "claims must be a list");
        };
        let (mut supported, mut contradicted) = (0usize, 0usize);
        for claim in claims {
            let verdict = claim
                .get("verdict")
                .and_then(Value::as_str)
                .map(|v| v.trim().to_ascii_lowercase());
            match verdict.as_deref() {
                Some("supported") => supported += 1,
                Some("contradicted") => contradicted += 1,
                Some("unverifiable") => {}
                other => {
                    return unparsable(
                        raw,
                        &format!(
                            "claim verdict {other:?} is not supported, contradicted or unverifiable"
                        ),
                    );
                }
            }
        }
        // An answer that makes no claim cannot be unfaithful to the context.
        let value = if claims.is_empty() {
            1.0
        } else {
            supported as f64 / claims.len() as f64
        };
        let label = if contradicted > 0 {
            "hallucinated"
        } else {
            "factual"
        };
        scored(value, label.to_owned(), reasoning)
    }
}

fn scored(value: f64, label: String, reasoning: Option<String>) -> ScoreOutcome {
    ScoreOutcome::Scored {
        value,
        label: Some(label),
        reasoning,
    }
}

pub(crate) fn truncate_raw(raw: &str) -> String {
    if raw.len() <= MAX_RAW_KEPT {
        return raw.to_owned();
    }
    let mut end = MAX_RAW_KEPT;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &raw[..end])
}

pub(crate) fn unparsable(raw: &str, reason: &str) -> ScoreOutcome {
    ScoreOutcome::Unparsable {
        raw: truncate_raw(raw),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hallucination_score_is_the_supported_share() {
        let spec = JudgeSpec::builtin("hallucination").unwrap();
        let raw = r#"{"claims":[{"claim":"a","verdict":"supported"},{"claim":"b","verdict":"contradicted"},
                     {"claim":"c","verdict":"unverifiable"},{"claim":"d","verdict":"supported"}],"reasoning":"r"}"#;
        let outcome = spec.interpret_text(raw);
        assert_eq!(
            outcome,
            ScoreOutcome::Scored {
                value: 0.5,
                label: Some("hallucinated".into()),
                reasoning: Some("r".into())
            }
        );
        assert_eq!(spec.passes(&outcome), Some(false));
    }

    #[test]
    fn labels_outside_the_set_are_unparsable() {
        let spec = JudgeSpec::builtin("toxicity").unwrap();
        assert!(matches!(
            spec.interpret_text(r#"{"label":"maybe"}"#),
            ScoreOutcome::Unparsable { .. }
        ));
        assert!(
            matches!(spec.interpret_text("LABEL: safe"), ScoreOutcome::Scored { value, .. } if value == 1.0)
        );
    }

    #[test]
    fn rubric_scores_are_normalised_and_range_checked() {
        let rubric = RubricDefinition {
            name: "politeness".into(),
            criteria: "Is it polite?".into(),
            score_min: 1.0,
            score_max: 5.0,
            pass_threshold: 4.0,
            created_at: chrono::Utc::now(),
        };
        let spec = JudgeSpec::rubric(&rubric);
        let outcome = spec.interpret_text(r#"{"score": 4, "reasoning": "ok"}"#);
        assert_eq!(outcome.value(), Some(0.75));
        assert_eq!(spec.passes(&outcome), Some(true));
        let low = spec.interpret_text("SCORE: 3");
        assert_eq!(spec.passes(&low), Some(false));
        assert!(matches!(
            spec.interpret_text(r#"{"score": 7}"#),
            ScoreOutcome::Unparsable { .. }
        ));
    }
}
