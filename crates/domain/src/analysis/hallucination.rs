//! Hallucination: is the rate of hallucinated samples above the tolerated
//! threshold? An exact one-sided binomial test against the threshold decides
//! (at `alpha`), reported with the rate's Wilson 95% interval. Whether the rate
//! is worse than the baseline's is a regression question, answered by the
//! regression family (see `regression.rs`).

use serde_json::json;

use evalguard_stats::{binomial_test_greater, wilson_interval};

use super::{ResolvedThresholds, ScorerInput, SideScores, finite_p, severity, wording};
use crate::job::{Evidence, Flag, FlagKind};

/// The judge scorer whose verdicts are hallucination verdicts.
pub const HALLUCINATION_SCORER: &str = "hallucination";
/// The label of a hallucinated verdict.
pub const HALLUCINATED_LABEL: &str = "hallucinated";

/// Hallucinated verdicts of one side: the label when there is one, else a
/// value below 0.5 (1 = fully supported by the context).
pub(super) fn hallucinated(side: &SideScores) -> u64 {
    side.values
        .iter()
        .zip(
            side.labels
                .iter()
                .map(Option::as_deref)
                .chain(std::iter::repeat(None)),
        )
        .filter(|(value, label)| match label {
            Some(HALLUCINATED_LABEL) => true,
            Some("factual") => false,
            _ => **value < 0.5,
        })
        .count() as u64
}

/// A flag when the exact one-sided binomial test says the rate is above the
/// threshold (p below `alpha`); severity by the shared rule on the Wilson
/// interval with the threshold as the tolerance.
pub(super) fn rate_flag(scorer: &ScorerInput, t: &ResolvedThresholds) -> Option<Flag> {
    if scorer.name != HALLUCINATION_SCORER || scorer.current.n() == 0 {
        return None;
    }
    let n = scorer.current.n() as u64;
    let bad = hallucinated(&scorer.current);
    let rate = bad as f64 / n as f64;
    let p = finite_p(binomial_test_greater(bad, n, t.hallucination_rate));
    if !(p < t.alpha && rate > t.hallucination_rate) {
        return None;
    }
    let (low, high) = wilson_interval(bad, n, 0.95);
    let mut evidence = Evidence {
        test: Some("binomial_exact".to_owned()),
        statistic: Some(rate),
        p_value: Some(p),
        // One test: nothing to adjust.
        p_adjusted: Some(p),
        ci_low: Some(low),
        ci_high: Some(high),
        n_current: Some(n),
        ..Evidence::default()
    };
    evidence
        .extra
        .insert("interval".to_owned(), json!("wilson"));
    evidence
        .extra
        .insert("alternative".to_owned(), json!("greater"));
    evidence.extra.insert("rate".to_owned(), json!(rate));
    evidence
        .extra
        .insert("threshold".to_owned(), json!(t.hallucination_rate));
    evidence.extra.insert("hallucinated".to_owned(), json!(bad));
    Some(Flag {
        kind: FlagKind::Hallucination,
        severity: severity::of_interval(low, high, t.hallucination_rate),
        metric: scorer.name.clone(),
        message: format!(
            "hallucinations in {} of answers ({bad} of {n}; 95% CI {} to {}), above the tolerated {} (exact binomial {})",
            wording::percent(rate),
            wording::percent(low),
            wording::percent(high),
            wording::percent(t.hallucination_rate),
            wording::p_value(p),
        ),
        evidence,
    })
}
