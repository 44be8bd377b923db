//! Regression: is a judge score or pass/fail check worse than the baseline's?
//!
//! Numeric scores are compared with Mann–Whitney U; pass/fail checks and the
//! hallucination verdicts (0/1 metrics) with the two-proportion z-test.
//! `effect` is current − baseline on the higher-is-better scale (the pass
//! rate for 0/1 metrics; the stats crate computes baseline − current, so its
//! difference is negated and its bounds swapped).

use evalguard_stats::{mann_whitney_u, mean_diff_ci, two_proportion_z};

use super::hallucination::{HALLUCINATION_SCORER, hallucinated};
use super::severity;
use super::{MIN_SAMPLES_PER_SIDE, ResolvedThresholds, ScorerInput, SideScores, finite_p, wording};
use crate::job::{Evidence, Flag, FlagKind};
use crate::scoring::ScoreKind;

/// z of a two-sided 95% normal interval.
pub(super) const Z_95: f64 = 1.959_963_984_540_054;

#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub metric: String,
    /// A 0/1 metric: means are pass rates.
    pub pass_fail: bool,
    pub mean_current: f64,
    pub mean_baseline: f64,
    pub evidence: Evidence,
}

/// One test per judge score or pass/fail check with enough values on both
/// sides, the hallucination verdicts included (as a 0/1 metric).
pub(super) fn candidates(scorers: &[&ScorerInput]) -> Vec<Candidate> {
    scorers
        .iter()
        .filter(|s| s.kind.feeds_regression())
        .filter_map(|s| {
            let baseline = s.baseline.as_ref()?;
            if baseline.n() < MIN_SAMPLES_PER_SIDE || s.current.n() < MIN_SAMPLES_PER_SIDE {
                return None;
            }
            Some(if s.name == HALLUCINATION_SCORER {
                let good = |side: &SideScores| side.n() as u64 - hallucinated(side);
                proportion_candidate(
                    &s.name,
                    (good(baseline), baseline.n()),
                    (good(&s.current), s.current.n()),
                )
            } else if s.kind == ScoreKind::PassFail {
                let pass = |side: &SideScores| passes(&side.values);
                proportion_candidate(
                    &s.name,
                    (pass(baseline), baseline.n()),
                    (pass(&s.current), s.current.n()),
                )
            } else {
                rank_candidate(&s.name, &baseline.values, &s.current.values)
            })
        })
        .collect()
}

fn rank_candidate(metric: &str, baseline: &[f64], current: &[f64]) -> Candidate {
    let test = mann_whitney_u(baseline, current);
    let ci = mean_diff_ci(baseline, current);
    Candidate {
        metric: metric.to_owned(),
        pass_fail: false,
        mean_current: ci.mean_y,
        mean_baseline: ci.mean_x,
        evidence: Evidence {
            test: Some("mann_whitney_u".to_owned()),
            statistic: Some(test.u1),
            p_value: Some(finite_p(test.p_value)),
            effect: Some(-ci.diff),
            ci_low: Some(-ci.upper),
            ci_high: Some(-ci.lower),
            n_current: Some(current.len() as u64),
            n_baseline: Some(baseline.len() as u64),
            ..Evidence::default()
        },
    }
}

/// Counts of values that pass (>= 0.5).
pub(super) fn passes(values: &[f64]) -> u64 {
    values.iter().filter(|v| **v >= 0.5).count() as u64
}

/// The difference of two rates, current − baseline, with its unpooled 95% interval.
pub(super) fn rate_difference(x_base: u64, n_base: u64, x_cur: u64, n_cur: u64) -> (f64, f64, f64) {
    let (pb, pc) = (x_base as f64 / n_base as f64, x_cur as f64 / n_cur as f64);
    let se = (pb * (1.0 - pb) / n_base as f64 + pc * (1.0 - pc) / n_cur as f64).sqrt();
    let effect = pc - pb;
    (effect, effect - Z_95 * se, effect + Z_95 * se)
}

/// `(passes, n)` of each side; the test and the effect are on the pass rate.
fn proportion_candidate(metric: &str, baseline: (u64, usize), current: (u64, usize)) -> Candidate {
    let ((xb, nb), (xc, nc)) = (
        (baseline.0, baseline.1 as u64),
        (current.0, current.1 as u64),
    );
    let test = two_proportion_z(xb, nb, xc, nc);
    let (effect, low, high) = rate_difference(xb, nb, xc, nc);
    Candidate {
        metric: metric.to_owned(),
        pass_fail: true,
        mean_current: xc as f64 / nc as f64,
        mean_baseline: xb as f64 / nb as f64,
        evidence: Evidence {
            test: Some("two_proportion_z".to_owned()),
            statistic: test.z.is_finite().then_some(test.z),
            p_value: Some(finite_p(test.p_value)),
            effect: Some(effect),
            ci_low: Some(low),
            ci_high: Some(high),
            n_current: Some(nc),
            n_baseline: Some(nb),
            ..Evidence::default()
        },
    }
}

/// A regression flag when the adjusted p-value is below alpha and the effect
/// is worse than the minimum effect; severity by the shared rule with
/// `min_effect` as the tolerance.
pub(super) fn decide(c: &Candidate, t: &ResolvedThresholds) -> Option<Flag> {
    let e = &c.evidence;
    let (p_adj, effect, low, high) = (e.p_adjusted?, e.effect?, e.ci_low?, e.ci_high?);
    if !(p_adj < t.alpha && effect < -t.min_effect) {
        return None;
    }
    let severity = severity::of_interval(low, high, t.min_effect);
    let p = wording::p_value(p_adj);
    let message = if c.pass_fail {
        // People think in failures ("refusals rose"), the evidence in pass rates.
        format!(
            "{} rose from {} to {} (95% CI of the rise {} to {} points; two-proportion z {p} after BH)",
            wording::failures(&c.metric),
            wording::percent(1.0 - c.mean_baseline),
            wording::percent(1.0 - c.mean_current),
            wording::unsigned_points(-high),
            wording::unsigned_points(-low),
        )
    } else {
        format!(
            "{} fell from {} to {} ({}, 95% CI {} to {}; Mann–Whitney {p} after BH)",
            c.metric,
            wording::value(c.mean_baseline),
            wording::value(c.mean_current),
            wording::signed(effect),
            wording::value(low),
            wording::value(high),
        )
    };
    Some(Flag {
        kind: FlagKind::Regression,
        severity,
        metric: c.metric.clone(),
        message,
        evidence: e.clone(),
    })
}
