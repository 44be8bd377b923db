//! Hallucination: the rate of hallucinated samples against the threshold
//! (Wilson interval) and against the baseline's rate (two-proportion z, in
//! the regression BH family).

use serde_json::json;

use evalguard_stats::{two_proportion_z, wilson_interval};

use super::regression::rate_difference;
use super::{MIN_SAMPLES_PER_SIDE, ResolvedThresholds, ScorerInput, SideScores, finite_p, wording};
use crate::job::{Evidence, Flag, FlagKind, Severity};

/// The judge scorer whose verdicts are hallucination verdicts.
pub const HALLUCINATION_SCORER: &str = "hallucination";
/// The label of a hallucinated verdict.
pub const HALLUCINATED_LABEL: &str = "hallucinated";

/// Hallucinated verdicts of one side: the label when there is one, else a
/// value below 0.5 (1 = fully supported by the context).
fn hallucinated(side: &SideScores) -> u64 {
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

/// A flag when even the lower end of the rate's Wilson interval is above the
/// threshold; critical when it is above twice the threshold.
pub(super) fn rate_flag(scorer: &ScorerInput, t: &ResolvedThresholds) -> Option<Flag> {
    if scorer.name != HALLUCINATION_SCORER || scorer.current.n() == 0 {
        return None;
    }
    let n = scorer.current.n() as u64;
    let bad = hallucinated(&scorer.current);
    let rate = bad as f64 / n as f64;
    let (low, high) = wilson_interval(bad, n, 0.95);
    if low.is_nan() || low <= t.hallucination_rate {
        return None;
    }
    let severity = if low > 2.0 * t.hallucination_rate {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let mut evidence = Evidence {
        test: Some("wilson".to_owned()),
        statistic: Some(rate),
        ci_low: Some(low),
        ci_high: Some(high),
        n_current: Some(n),
        ..Evidence::default()
    };
    evidence.extra.insert("rate".to_owned(), json!(rate));
    evidence
        .extra
        .insert("threshold".to_owned(), json!(t.hallucination_rate));
    evidence.extra.insert("hallucinated".to_owned(), json!(bad));
    Some(Flag {
        kind: FlagKind::Hallucination,
        severity,
        metric: scorer.name.clone(),
        message: format!(
            "hallucination rate is {} ({bad} of {n} samples; 95% CI {} to {}), above the {} threshold",
            wording::percent(rate),
            wording::percent(low),
            wording::percent(high),
            wording::percent(t.hallucination_rate),
        ),
        evidence,
    })
}

#[derive(Debug, Clone)]
pub(super) struct Comparison {
    pub metric: String,
    pub rate_current: f64,
    pub rate_baseline: f64,
    pub evidence: Evidence,
}

/// The current hallucination rate tested against the baseline's.
pub(super) fn comparisons(scorers: &[&ScorerInput]) -> Vec<Comparison> {
    scorers
        .iter()
        .filter(|s| s.name == HALLUCINATION_SCORER)
        .filter_map(|s| {
            let baseline = s.baseline.as_ref()?;
            let (nb, nc) = (baseline.n() as u64, s.current.n() as u64);
            if nb < MIN_SAMPLES_PER_SIDE as u64 || nc < MIN_SAMPLES_PER_SIDE as u64 {
                return None;
            }
            let (hb, hc) = (hallucinated(baseline), hallucinated(&s.current));
            let test = two_proportion_z(hb, nb, hc, nc);
            // Higher is better: the non-hallucination rate, current − baseline.
            let (effect, low, high) = rate_difference(nb - hb, nb, nc - hc, nc);
            let mut evidence = Evidence {
                test: Some("two_proportion_z".to_owned()),
                statistic: test.z.is_finite().then_some(test.z),
                p_value: Some(finite_p(test.p_value)),
                effect: Some(effect),
                ci_low: Some(low),
                ci_high: Some(high),
                n_current: Some(nc),
                n_baseline: Some(nb),
                ..Evidence::default()
            };
            let (rate_current, rate_baseline) = (hc as f64 / nc as f64, hb as f64 / nb as f64);
            evidence
                .extra
                .insert("rate".to_owned(), json!(rate_current));
            evidence
                .extra
                .insert("rate_baseline".to_owned(), json!(rate_baseline));
            Some(Comparison {
                metric: s.name.clone(),
                rate_current,
                rate_baseline,
                evidence,
            })
        })
        .collect()
}

/// A flag when the rate is significantly above the baseline's (adjusted
/// p-value below alpha); critical when even the favourable end of the
/// interval is worse than twice the minimum effect.
pub(super) fn decide(c: &Comparison, t: &ResolvedThresholds) -> Option<Flag> {
    let e = &c.evidence;
    let (p_adj, effect, high) = (e.p_adjusted?, e.effect?, e.ci_high?);
    if !(p_adj < t.alpha && effect < 0.0) {
        return None;
    }
    let severity = if high < -2.0 * t.min_effect {
        Severity::Critical
    } else {
        Severity::Warning
    };
    Some(Flag {
        kind: FlagKind::Hallucination,
        severity,
        metric: c.metric.clone(),
        message: format!(
            "hallucination rate rose from {} to {} against the baseline ({} points, 95% CI {} to {}; two-proportion z {} after BH)",
            wording::percent(c.rate_baseline),
            wording::percent(c.rate_current),
            wording::points(-effect),
            wording::points(-high),
            wording::points(-e.ci_low?),
            wording::p_value(p_adj),
        ),
        evidence: e.clone(),
    })
}
