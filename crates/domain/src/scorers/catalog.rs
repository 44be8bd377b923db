//! A scorer catalog that knows only the deterministic scorers: judge and
//! rubric scorers are recognised but skipped, because no judge provider is
//! configured. The binary wraps or replaces it when providers are set up.

use super::{DETERMINISTIC_SCORERS, deterministic_scorer};
use crate::project::RubricDefinition;
use crate::scoring::{ScorerAvailability, ScorerCatalog};

/// The LLM judge scorers the contract names.
pub const JUDGE_SCORERS: [&str; 5] = [
    "hallucination",
    "answer_relevance",
    "context_relevance",
    "correctness",
    "toxicity",
];

/// Why a judge or rubric scorer is skipped by [`DeterministicCatalog`].
pub const NO_JUDGE_PROVIDER: &str = "no judge provider is configured";

#[derive(Debug, Clone, Copy, Default)]
pub struct DeterministicCatalog;

impl ScorerCatalog for DeterministicCatalog {
    fn resolve(&self, name: &str, rubrics: &[RubricDefinition]) -> ScorerAvailability {
        if let Some(scorer) = deterministic_scorer(name) {
            return ScorerAvailability::Ready(scorer);
        }
        if JUDGE_SCORERS.contains(&name) || rubrics.iter().any(|r| r.name == name) {
            return ScorerAvailability::Skipped {
                reason: NO_JUDGE_PROVIDER.to_owned(),
            };
        }
        ScorerAvailability::Unknown
    }

    fn default_set(&self) -> Vec<String> {
        DETERMINISTIC_SCORERS
            .iter()
            .chain(["hallucination", "answer_relevance"].iter())
            .map(|s| (*s).to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rubric(name: &str) -> RubricDefinition {
        RubricDefinition {
            name: name.to_owned(),
            criteria: "is polite".to_owned(),
            score_min: 1.0,
            score_max: 5.0,
            pass_threshold: 3.0,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn resolves_deterministic_skips_judges_and_rubrics() {
        let catalog = DeterministicCatalog;
        for name in DETERMINISTIC_SCORERS {
            assert!(
                matches!(catalog.resolve(name, &[]), ScorerAvailability::Ready(s) if s.name() == name)
            );
        }
        for name in JUDGE_SCORERS {
            assert!(matches!(catalog.resolve(name, &[]),
                ScorerAvailability::Skipped { reason } if reason == NO_JUDGE_PROVIDER));
        }
        let rubrics = [rubric("politeness")];
        assert!(matches!(
            catalog.resolve("politeness", &rubrics),
            ScorerAvailability::Skipped { .. }
        ));
        assert!(matches!(
            catalog.resolve("politeness", &[]),
            ScorerAvailability::Unknown
        ));
        assert!(matches!(
            catalog.resolve("nonsense", &rubrics),
            ScorerAvailability::Unknown
        ));
    }

    #[test]
    fn default_set_is_deterministic_plus_two_judges() {
        let set = DeterministicCatalog.default_set();
        assert_eq!(set.len(), 9);
        assert_eq!(&set[7..], ["hallucination", "answer_relevance"]);
        for name in &set {
            assert!(!matches!(
                DeterministicCatalog.resolve(name, &[]),
                ScorerAvailability::Unknown
            ));
        }
    }
}
