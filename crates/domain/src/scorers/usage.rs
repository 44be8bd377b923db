//! `latency` and `tokens`: measurements the client reported with the sample.

use super::{deterministic_scorer_impl, not_applicable};
use crate::scoring::{ScoreKind, ScoreOutcome};
use crate::traffic::TrafficSample;

#[derive(Debug, Clone, Copy, Default)]
pub struct Latency;

impl Latency {
    pub const NAME: &'static str = "latency";
    pub const KIND: ScoreKind = ScoreKind::Measurement { unit: "ms" };

    /// The sample's `latency_ms`; not applicable when it was not reported.
    pub fn evaluate(&self, sample: &TrafficSample) -> ScoreOutcome {
        match sample.latency_ms {
            Some(ms) if ms.is_finite() => ScoreOutcome::scored(ms),
            _ => not_applicable("the sample has no latency_ms"),
        }
    }
}

deterministic_scorer_impl!(Latency);

#[derive(Debug, Clone, Copy, Default)]
pub struct Tokens;

impl Tokens {
    pub const NAME: &'static str = "tokens";
    pub const KIND: ScoreKind = ScoreKind::Measurement { unit: "tokens" };

    /// `prompt_tokens + completion_tokens` (a missing one counts as 0); not
    /// applicable when neither was reported.
    pub fn evaluate(&self, sample: &TrafficSample) -> ScoreOutcome {
        match (sample.prompt_tokens, sample.completion_tokens) {
            (None, None) => not_applicable("the sample has no prompt_tokens or completion_tokens"),
            (p, c) => {
                let total = p.unwrap_or(0).saturating_add(c.unwrap_or(0));
                ScoreOutcome::scored(total as f64)
            }
        }
    }
}

deterministic_scorer_impl!(Tokens);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::test_sample::sample;

    #[test]
    fn latency_is_reported_or_not_applicable() {
        let mut s = sample("q", "a");
        assert!(matches!(
            Latency.evaluate(&s),
            ScoreOutcome::NotApplicable { .. }
        ));
        s.latency_ms = Some(250.5);
        assert_eq!(Latency.evaluate(&s).value(), Some(250.5));
    }

    #[test]
    fn tokens_add_up_what_was_reported() {
        let mut s = sample("q", "a");
        assert!(matches!(
            Tokens.evaluate(&s),
            ScoreOutcome::NotApplicable { .. }
        ));
        s.completion_tokens = Some(40);
        assert_eq!(Tokens.evaluate(&s).value(), Some(40.0));
        s.prompt_tokens = Some(100);
        assert_eq!(Tokens.evaluate(&s).value(), Some(140.0));
    }
}
