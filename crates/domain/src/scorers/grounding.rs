//! `grounding`: a lexical grounding score — the share of the answer's content
//! words, numbers and capitalised names that also appear in the context.
//!
//! A measurement, not a verdict: it has no pass threshold and never flags a
//! sample on its own, because word overlap cannot tell a correct paraphrase
//! ("From 9 to 5 on weekdays." for "open 9:00-17:00, Monday to Friday") from
//! an invention. Its distribution still feeds regression (Mann–Whitney
//! against the baseline). A refusal makes no claim, so it is not applicable.

use super::deterministic_scorer_impl;
use super::not_applicable;
use super::refusal::is_refusal;
use super::text_tokens::{for_each_token, is_stop_word, token_hashes};
use crate::scoring::{ScoreKind, ScoreOutcome};
use crate::traffic::TrafficSample;

#[derive(Debug, Clone, Copy, Default)]
pub struct Grounding;

/// How many unsupported tokens the reasoning names.
const NAMED_MISSES: usize = 5;

impl Grounding {
    pub const NAME: &'static str = "grounding";
    pub const KIND: ScoreKind = ScoreKind::Score;

    /// A 0–1 score; not applicable without context or when the answer has no content tokens.
    pub fn evaluate(&self, sample: &TrafficSample) -> ScoreOutcome {
        if sample.context.iter().all(|c| c.trim().is_empty()) {
            return not_applicable("the sample has no context");
        }
        if is_refusal(&sample.output) {
            return not_applicable("the answer is a refusal");
        }
        let context = token_hashes(sample.context.iter().map(String::as_str));
        let (mut total, mut found) = (0usize, 0usize);
        let mut misses: Vec<&str> = Vec::new();
        for_each_token(&sample.output, |t| {
            let content = t.has_digit
                || (!is_stop_word(t.hash) && (t.chars >= 3 || (t.starts_upper && t.chars >= 2)));
            if !content {
                return;
            }
            total += 1;
            if context.contains(&t.hash) {
                found += 1;
            } else if misses.len() < NAMED_MISSES && !misses.contains(&t.text) {
                misses.push(t.text);
            }
        });
        if total == 0 {
            return not_applicable("the answer has no content words, numbers or names");
        }
        let mut reasoning =
            format!("{found} of {total} content words, numbers and names appear in the context");
        if !misses.is_empty() {
            reasoning.push_str("; not found: ");
            reasoning.push_str(&misses.join(", "));
        }
        ScoreOutcome::Scored {
            value: found as f64 / total as f64,
            label: None,
            reasoning: Some(reasoning),
        }
    }
}

deterministic_scorer_impl!(Grounding, no_pass_threshold);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::test_sample::sample;

    fn grounded(output: &str, context: &[&str]) -> ScoreOutcome {
        let mut s = sample("q", output);
        s.context = context.iter().map(|c| (*c).to_owned()).collect();
        Grounding.evaluate(&s)
    }

    #[test]
    fn fully_supported_answer_scores_one() {
        let out = grounded(
            "The Eiffel Tower is 330 metres tall.",
            &["The Eiffel Tower in Paris stands 330 metres tall."],
        );
        assert_eq!(out.value(), Some(1.0));
    }

    #[test]
    fn unsupported_names_and_numbers_lower_the_score() {
        let out = grounded(
            "Acme partnered with Globex in 2021.",
            &["Acme announced record revenue in 2023."],
        );
        // content: Acme, partnered, Globex, 2021 → only Acme found.
        assert_eq!(out.value(), Some(0.25));
        match out {
            ScoreOutcome::Scored {
                reasoning: Some(r), ..
            } => {
                assert!(r.contains("Globex") && r.contains("2021"), "{r}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn matching_ignores_case_and_number_formatting() {
        let out = grounded(
            "REVENUE reached 1,000,000",
            &["revenue reached 1000000 units"],
        );
        assert_eq!(out.value(), Some(1.0));
    }

    #[test]
    fn not_applicable_without_context_or_content() {
        assert!(matches!(
            grounded("Paris", &[]),
            ScoreOutcome::NotApplicable { .. }
        ));
        assert!(matches!(
            grounded("Paris", &["  "]),
            ScoreOutcome::NotApplicable { .. }
        ));
        assert!(matches!(
            grounded("it is what it is", &["ctx"]),
            ScoreOutcome::NotApplicable { .. }
        ));
    }

    #[test]
    fn grounding_never_passes_or_fails_a_sample() {
        use crate::scoring::Scorer;
        assert_eq!(Grounding.passes(&ScoreOutcome::scored(0.0)), None);
        assert_eq!(Grounding.passes(&ScoreOutcome::scored(1.0)), None);
    }

    #[test]
    fn a_correct_paraphrase_is_measured_but_not_failed() {
        use crate::scoring::Scorer;
        let out = grounded(
            "From 9 to 5 on weekdays.",
            &["The office is open 9:00-17:00, Monday to Friday."],
        );
        assert!(out.value().is_some_and(|v| v < 1.0), "{out:?}");
        assert_eq!(Grounding.passes(&out), None);
    }

    #[test]
    fn refusals_are_not_applicable() {
        assert!(matches!(
            grounded(
                "I'm sorry, but I can't help with that.",
                &["Opening hours: 9-17."]
            ),
            ScoreOutcome::NotApplicable { .. }
        ));
    }
}
