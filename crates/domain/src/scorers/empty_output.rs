//! `empty_output`: passes when the output has any non-whitespace content.

use super::{deterministic_scorer_impl, pass_fail};
use crate::scoring::{ScoreKind, ScoreOutcome};
use crate::traffic::TrafficSample;

#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyOutput;

impl EmptyOutput {
    pub const NAME: &'static str = "empty_output";
    pub const KIND: ScoreKind = ScoreKind::PassFail;

    /// 1 (`present`) when the output has non-whitespace content, else 0 (`empty`).
    pub fn evaluate(&self, sample: &TrafficSample) -> ScoreOutcome {
        let present = sample.output.chars().any(|c| !c.is_whitespace());
        pass_fail(present, "present", "empty")
    }
}

deterministic_scorer_impl!(EmptyOutput);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::test_sample::sample;

    #[test]
    fn whitespace_only_is_empty() {
        for out in ["", " ", "\n\t  \r\n", "\u{00a0}\u{2003}"] {
            assert_eq!(
                EmptyOutput.evaluate(&sample("q", out)).value(),
                Some(0.0),
                "{out:?}"
            );
        }
        assert_eq!(
            EmptyOutput.evaluate(&sample("q", "  ok ")).value(),
            Some(1.0)
        );
    }
}
