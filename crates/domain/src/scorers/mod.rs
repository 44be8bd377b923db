//! Deterministic scorers: pure checks on one traffic sample that need no model
//! and no network. Each scorer has a plain synchronous `evaluate` so that the
//! runner can score a batch inline; the [`Scorer`] implementation wraps it in a
//! future that is ready at once.

mod catalog;
mod empty_output;
mod grounding;
mod json_validity;
mod output_length;
mod refusal;
mod text_tokens;
mod usage;

use std::sync::Arc;

pub use catalog::{DeterministicCatalog, JUDGE_SCORERS, NO_JUDGE_PROVIDER};
pub use empty_output::EmptyOutput;
pub use grounding::Grounding;
pub use json_validity::JsonValidity;
pub use output_length::OutputLength;
pub use output_length::estimated_tokens;
pub use refusal::{Refusal, is_refusal};
pub use usage::{Latency, Tokens};

use crate::scoring::{ScoreKind, ScoreOutcome, Scorer};
use crate::traffic::TrafficSample;

/// The names of the deterministic scorers, in the order they are run.
pub const DETERMINISTIC_SCORERS: [&str; 7] = [
    EmptyOutput::NAME,
    Refusal::NAME,
    OutputLength::NAME,
    Latency::NAME,
    Tokens::NAME,
    JsonValidity::NAME,
    Grounding::NAME,
];

/// Every deterministic scorer, in the order of [`DETERMINISTIC_SCORERS`].
pub fn deterministic_scorers() -> Vec<Arc<dyn Scorer>> {
    vec![
        Arc::new(EmptyOutput),
        Arc::new(Refusal),
        Arc::new(OutputLength),
        Arc::new(Latency),
        Arc::new(Tokens),
        Arc::new(JsonValidity),
        Arc::new(Grounding),
    ]
}

/// The deterministic scorer of that name, if there is one.
pub fn deterministic_scorer(name: &str) -> Option<Arc<dyn Scorer>> {
    let scorer: Arc<dyn Scorer> = match name {
        EmptyOutput::NAME => Arc::new(EmptyOutput),
        Refusal::NAME => Arc::new(Refusal),
        OutputLength::NAME => Arc::new(OutputLength),
        Latency::NAME => Arc::new(Latency),
        Tokens::NAME => Arc::new(Tokens),
        JsonValidity::NAME => Arc::new(JsonValidity),
        Grounding::NAME => Arc::new(Grounding),
        _ => return None,
    };
    Some(scorer)
}

/// Scores one sample with the deterministic scorer of that name, synchronously
/// (`None` when no deterministic scorer has that name). This is the fast path
/// the runner uses for batches.
pub fn evaluate_deterministic(name: &str, sample: &TrafficSample) -> Option<ScoreOutcome> {
    Some(match name {
        EmptyOutput::NAME => EmptyOutput.evaluate(sample),
        Refusal::NAME => Refusal.evaluate(sample),
        OutputLength::NAME => OutputLength.evaluate(sample),
        Latency::NAME => Latency.evaluate(sample),
        Tokens::NAME => Tokens.evaluate(sample),
        JsonValidity::NAME => JsonValidity.evaluate(sample),
        Grounding::NAME => Grounding.evaluate(sample),
        _ => return None,
    })
}

/// The pass rule shared by deterministic scorers: 0–1 values pass at 0.5,
/// measurements have no pass threshold.
fn passes_at_half(kind: ScoreKind, outcome: &ScoreOutcome) -> Option<bool> {
    match (kind, outcome) {
        (ScoreKind::Measurement { .. }, _) => None,
        (_, ScoreOutcome::Scored { value, .. }) => Some(*value >= 0.5),
        _ => None,
    }
}

fn pass_fail(pass: bool, pass_label: &str, fail_label: &str) -> ScoreOutcome {
    ScoreOutcome::Scored {
        value: if pass { 1.0 } else { 0.0 },
        label: Some(if pass { pass_label } else { fail_label }.to_owned()),
        reasoning: None,
    }
}

fn not_applicable(reason: &str) -> ScoreOutcome {
    ScoreOutcome::NotApplicable {
        reason: reason.to_owned(),
    }
}

/// Implements [`Scorer`] for a unit struct with `NAME`, `KIND` and `evaluate`.
macro_rules! deterministic_scorer_impl {
    ($scorer:ty) => {
        $crate::scorers::deterministic_scorer_impl!($scorer, |kind, outcome| {
            super::passes_at_half(kind, outcome)
        });
    };
    // A measurement-like score with no pass threshold: it never flags a sample.
    ($scorer:ty, no_pass_threshold) => {
        $crate::scorers::deterministic_scorer_impl!($scorer, |_kind, _outcome| None);
    };
    ($scorer:ty, $passes:expr) => {
        impl $crate::scoring::Scorer for $scorer {
            fn name(&self) -> &str {
                Self::NAME
            }
            fn kind(&self) -> $crate::scoring::ScoreKind {
                Self::KIND
            }
            fn is_deterministic(&self) -> bool {
                true
            }
            fn passes(&self, outcome: &$crate::scoring::ScoreOutcome) -> Option<bool> {
                let rule: fn(
                    $crate::scoring::ScoreKind,
                    &$crate::scoring::ScoreOutcome,
                ) -> Option<bool> = $passes;
                rule(Self::KIND, outcome)
            }
            fn score<'a>(
                &'a self,
                sample: &'a $crate::traffic::TrafficSample,
                _options: $crate::scoring::ScoreOptions,
            ) -> $crate::scoring::ScoreFuture<'a> {
                let run = $crate::scoring::ScorerRun::from(self.evaluate(sample));
                Box::pin(std::future::ready(run))
            }
        }
    };
}
use deterministic_scorer_impl;

#[cfg(test)]
pub(crate) mod test_sample {
    use crate::ids::ProjectId;
    use crate::traffic::TrafficSample;

    pub fn sample(input: &str, output: &str) -> TrafficSample {
        TrafficSample {
            id: "s1".to_owned(),
            project_id: ProjectId::parse("proj").unwrap(),
            model: "m".to_owned(),
            prompt_id: "p".to_owned(),
            input: input.to_owned(),
            output: output.to_owned(),
            context: Vec::new(),
            reference: None,
            timestamp: chrono::Utc::now(),
            metadata: None,
            latency_ms: None,
            prompt_tokens: None,
            completion_tokens: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::ScoreOptions;
    use proptest::prelude::*;
    use std::task::{Context, Poll, Waker};

    fn poll_ready(scorer: &dyn Scorer, sample: &TrafficSample) -> ScoreOutcome {
        let mut fut = scorer.score(sample, ScoreOptions::default());
        let mut cx = Context::from_waker(Waker::noop());
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(run) => run.outcome,
            Poll::Pending => panic!("deterministic scorer future was not ready"),
        }
    }

    #[test]
    fn names_match_the_list_and_every_scorer_is_deterministic() {
        let scorers = deterministic_scorers();
        let names: Vec<&str> = scorers.iter().map(|s| s.name()).collect();
        assert_eq!(names, DETERMINISTIC_SCORERS.to_vec());
        for s in &scorers {
            assert!(s.is_deterministic());
            assert_eq!(deterministic_scorer(s.name()).unwrap().name(), s.name());
        }
        assert!(deterministic_scorer("hallucination").is_none());
        assert!(evaluate_deterministic("nope", &test_sample::sample("a", "b")).is_none());
    }

    #[test]
    fn score_future_matches_sync_evaluation() {
        let mut s = test_sample::sample("What is 2+2?", "The answer is 4.");
        s.context = vec!["2+2 is 4".to_owned()];
        s.latency_ms = Some(12.0);
        for scorer in deterministic_scorers() {
            let via_future = poll_ready(scorer.as_ref(), &s);
            assert_eq!(Some(via_future), evaluate_deterministic(scorer.name(), &s));
        }
    }

    #[test]
    fn measurements_never_pass_or_fail() {
        for scorer in deterministic_scorers() {
            let verdict = scorer.passes(&ScoreOutcome::scored(0.0));
            match scorer.kind() {
                ScoreKind::Measurement { .. } => assert_eq!(verdict, None),
                _ if scorer.name() == Grounding::NAME => assert_eq!(verdict, None),
                _ => assert_eq!(verdict, Some(false)),
            }
            assert_eq!(
                scorer.passes(&ScoreOutcome::Error { cause: "x".into() }),
                None
            );
        }
    }

    proptest! {
        #[test]
        fn no_text_panics_any_scorer(
            input in ".{0,200}",
            output in ".{0,400}",
            context in proptest::collection::vec(".{0,200}", 0..3),
            json_hint in any::<bool>(),
        ) {
            let mut s = test_sample::sample(&input, &output);
            s.context = context;
            if json_hint {
                s.metadata = Some(
                    crate::SampleMetadata::new(&serde_json::json!({"response_format": "json"})).unwrap(),
                );
            }
            for scorer in deterministic_scorers() {
                let outcome = poll_ready(scorer.as_ref(), &s);
                if let Some(v) = outcome.value() {
                    prop_assert!(v.is_finite());
                }
            }
        }

        #[test]
        fn bracket_and_fence_soup_never_panics(output in "[\\[\\]{}`json \"a:,0-9\\n]{0,200}") {
            let s = test_sample::sample("q", &output);
            for name in DETERMINISTIC_SCORERS {
                prop_assert!(evaluate_deterministic(name, &s).is_some());
            }
        }
    }
}
