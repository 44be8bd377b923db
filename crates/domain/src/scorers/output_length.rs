//! `output_length`: the output's length in characters (a measurement), with
//! the estimated token count in the reasoning. Refusals are not measured:
//! the `refusal` check already judges them, and their length would otherwise
//! report the same change a second time as drift.

use super::deterministic_scorer_impl;
use super::not_applicable;
use super::refusal::is_refusal;
use crate::scoring::{ScoreKind, ScoreOutcome};
use crate::traffic::TrafficSample;

#[derive(Debug, Clone, Copy, Default)]
pub struct OutputLength;

/// The usual rule of thumb for English text with BPE tokenizers.
const CHARS_PER_TOKEN: f64 = 4.0;

impl OutputLength {
    pub const NAME: &'static str = "output_length";
    pub const KIND: ScoreKind = ScoreKind::Measurement { unit: "characters" };

    /// The number of Unicode scalar values in the output.
    pub fn evaluate(&self, sample: &TrafficSample) -> ScoreOutcome {
        if is_refusal(&sample.output) {
            return not_applicable("the answer is a refusal");
        }
        let chars = sample.output.chars().count();
        let tokens = estimated_tokens(chars);
        ScoreOutcome::Scored {
            value: chars as f64,
            label: None,
            reasoning: Some(format!("{chars} characters, about {tokens} tokens")),
        }
    }
}

/// Estimated tokens of a text of `chars` characters (≈ chars / 4, rounded up).
pub fn estimated_tokens(chars: usize) -> u64 {
    (chars as f64 / CHARS_PER_TOKEN).ceil() as u64
}

deterministic_scorer_impl!(OutputLength);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::test_sample::sample;

    #[test]
    fn counts_characters_not_bytes() {
        let out = OutputLength.evaluate(&sample("q", "héllo wörld"));
        assert_eq!(out.value(), Some(11.0));
        match out {
            ScoreOutcome::Scored { reasoning, .. } => {
                assert_eq!(reasoning.as_deref(), Some("11 characters, about 3 tokens"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(OutputLength.evaluate(&sample("q", "")).value(), Some(0.0));
    }
}
