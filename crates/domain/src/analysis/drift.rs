//! Drift: have measurements, input/output features or the inputs' meaning
//! moved away from the baseline? Judge scores and pass/fail checks are not
//! tested here: regression already tests them, and one change raises one flag.
//!
//! Following Evidently's defaults: up to 1,000 values per side, KS (numeric)
//! or two-proportion z (0/1 features, never KS) p-values, BH-adjusted with the
//! job's other tests and compared with `drift_fdr`; above that, where any
//! shift is significant, the baseline-std-normalised Wasserstein distance or
//! the Jensen–Shannon distance against `drift_distance`. Inputs' meaning: MMD
//! permutation test.

use serde_json::json;

use evalguard_stats::{
    KsMethod, jensen_shannon, ks_2samp, mean_diff_ci, mmd_permutation_test, two_proportion_z,
    wasserstein_distance,
};

use super::{
    EmbeddingUsed, FeatureSides, MIN_SAMPLES_PER_SIDE, MMD_PERMUTATIONS, MMD_SEED,
    ResolvedThresholds, ScorerInput, finite_p, regression::rate_difference, severity, wording,
};
use crate::job::{Evidence, Flag, FlagKind, Severity};

/// Above this many values on either side, distances replace p-values.
pub const LARGE_SAMPLE: usize = 1000;
/// A numeric drift whose mean moved by less than this fraction of the
/// baseline's mean is at most a `warning`, however many baseline standard
/// deviations that is: on a near-constant baseline (answers all about 40
/// characters long) a shift of a character is many deviations and
/// statistically real, but no one would call it critical.
pub const CRITICAL_MIN_RELATIVE_SHIFT: f64 = 0.10;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    /// Flag when the BH-adjusted p-value is below `drift_fdr`.
    AdjustedP,
    /// Flag when `statistic` (a distance) is above `drift_distance`.
    Distance,
}

#[derive(Debug, Clone)]
pub(super) struct Candidate {
    metric: String,
    rule: Rule,
    /// The baseline's standard deviation, which scales the tolerance of the
    /// severity rule (`None`: the test gives no interval).
    scale: Option<f64>,
    /// |current mean − baseline mean| / |baseline mean| of a numeric series
    /// (`None`: not numeric, or a zero baseline mean).
    relative_shift: Option<f64>,
    /// What moved, e.g. `latency rose from 820 to 1140 ms (mean)`.
    detail: String,
    pub evidence: Evidence,
}

enum Series<'a> {
    Numeric {
        baseline: &'a [f64],
        current: &'a [f64],
        unit: Option<&'a str>,
    },
    /// Counts of `[in, out]` of a 0/1 feature; `what` names the "in" (e.g. `refusals`).
    Categorical {
        baseline: [u64; 2],
        current: [u64; 2],
        what: &'static str,
    },
}

/// Drift tests of every scorer, text feature and the input embeddings.
pub(super) fn candidates(
    scorers: &[&ScorerInput],
    features: Option<&FeatureSides>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for s in scorers {
        let (Some(baseline), Some(unit)) = (s.baseline.as_ref(), s.kind.unit()) else {
            continue;
        };
        let series = Series::Numeric {
            baseline: &baseline.values,
            current: &s.current.values,
            unit: Some(unit),
        };
        out.extend(test(&s.name, series));
    }
    let Some(f) = features else { return out };
    let covered = |name: &str| scorers.iter().any(|s| s.name == name);
    let numeric = [
        (
            "input_length",
            &f.baseline.input_length,
            &f.current.input_length,
            "characters",
        ),
        (
            "output_length",
            &f.baseline.output_length,
            &f.current.output_length,
            "characters",
        ),
        (
            "latency",
            &f.baseline.latency_ms,
            &f.current.latency_ms,
            "ms",
        ),
        ("tokens", &f.baseline.tokens, &f.current.tokens, "tokens"),
    ];
    for (name, baseline, current, unit) in numeric {
        if !covered(name) {
            out.extend(test(
                name,
                Series::Numeric {
                    baseline,
                    current,
                    unit: Some(unit),
                },
            ));
        }
    }
    if !covered("refusal") {
        let count = |v: &[bool]| split(v.iter().filter(|r| **r).count() as u64, v.len());
        let series = Series::Categorical {
            baseline: count(&f.baseline.refused),
            current: count(&f.current.refused),
            what: "refusals",
        };
        out.extend(test("refusal", series));
    }
    out.extend(embedding_test(
        &f.baseline.input_embeddings,
        &f.current.input_embeddings,
        &f.embedding,
    ));
    out
}

fn split(inside: u64, n: usize) -> [u64; 2] {
    [inside, (n as u64).saturating_sub(inside)]
}

fn test(metric: &str, series: Series<'_>) -> Option<Candidate> {
    match series {
        Series::Numeric {
            baseline,
            current,
            unit,
        } => numeric_test(metric, baseline, current, unit),
        Series::Categorical {
            baseline,
            current,
            what,
        } => categorical_test(metric, baseline, current, what),
    }
}

fn numeric_test(
    metric: &str,
    baseline: &[f64],
    current: &[f64],
    unit: Option<&str>,
) -> Option<Candidate> {
    let (nb, nc) = (baseline.len(), current.len());
    if nb < MIN_SAMPLES_PER_SIDE || nc < MIN_SAMPLES_PER_SIDE {
        return None;
    }
    let ci = mean_diff_ci(baseline, current);
    let relative_shift = (ci.mean_x.abs() > f64::EPSILON)
        .then(|| (ci.mean_y - ci.mean_x).abs() / ci.mean_x.abs())
        .filter(|r| r.is_finite());
    let unit = unit.map(|u| format!(" {u}")).unwrap_or_default();
    let detail = format!(
        "{metric} {} from {} to {}{unit} on average",
        if ci.mean_y >= ci.mean_x {
            "rose"
        } else {
            "fell"
        },
        wording::value(ci.mean_x),
        wording::value(ci.mean_y)
    );
    let mut evidence = Evidence {
        effect: Some(-ci.diff),
        ci_low: Some(-ci.upper),
        ci_high: Some(-ci.lower),
        n_current: Some(nc as u64),
        n_baseline: Some(nb as u64),
        ..Evidence::default()
    };
    if nb <= LARGE_SAMPLE && nc <= LARGE_SAMPLE {
        let ks = ks_2samp(baseline, current, KsMethod::Auto);
        evidence.test = Some("ks_2samp".to_owned());
        evidence.statistic = Some(ks.statistic);
        evidence.p_value = Some(finite_p(ks.p_value));
        return Some(Candidate {
            metric: metric.to_owned(),
            rule: Rule::AdjustedP,
            scale: Some(scale_of(baseline, current)),
            relative_shift,
            detail,
            evidence,
        });
    }
    let distance = normalised_wasserstein(baseline, current);
    evidence.test = Some("wasserstein_normed".to_owned());
    evidence.statistic = Some(distance);
    evidence
        .extra
        .insert("distance".to_owned(), json!(distance));
    Some(Candidate {
        metric: metric.to_owned(),
        rule: Rule::Distance,
        scale: None,
        relative_shift,
        detail,
        evidence,
    })
}

/// The baseline's standard deviation; the pooled one when the baseline is
/// constant (both constant: 0, and nothing can be scaled).
fn scale_of(baseline: &[f64], current: &[f64]) -> f64 {
    let scale = std_dev(baseline);
    if scale > f64::EPSILON {
        return scale;
    }
    let pooled: Vec<f64> = baseline.iter().chain(current).copied().collect();
    std_dev(&pooled)
}

fn std_dev(v: &[f64]) -> f64 {
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len().max(2) - 1) as f64).sqrt()
}

/// Wasserstein-1 divided by the baseline's standard deviation; when the
/// baseline is constant, by the pooled one (both constant: no shift to scale).
fn normalised_wasserstein(baseline: &[f64], current: &[f64]) -> f64 {
    let w = wasserstein_distance(baseline, current);
    let scale = scale_of(baseline, current);
    if scale > f64::EPSILON && w.is_finite() {
        w / scale
    } else {
        0.0
    }
}

fn categorical_test(
    metric: &str,
    baseline: [u64; 2],
    current: [u64; 2],
    what: &'static str,
) -> Option<Candidate> {
    let (nb, nc) = (baseline[0] + baseline[1], current[0] + current[1]);
    if nb < MIN_SAMPLES_PER_SIDE as u64 || nc < MIN_SAMPLES_PER_SIDE as u64 {
        return None;
    }
    let (effect, low, high) = rate_difference(baseline[0], nb, current[0], nc);
    let (rate_b, rate_c) = (
        baseline[0] as f64 / nb as f64,
        current[0] as f64 / nc as f64,
    );
    let detail = format!(
        "{what} {} from {} to {}",
        if rate_c >= rate_b { "rose" } else { "fell" },
        wording::percent(rate_b),
        wording::percent(rate_c)
    );
    let mut evidence = Evidence {
        effect: Some(effect),
        ci_low: Some(low),
        ci_high: Some(high),
        n_current: Some(nc),
        n_baseline: Some(nb),
        ..Evidence::default()
    };
    evidence.extra.insert("rate".to_owned(), json!(rate_c));
    evidence
        .extra
        .insert("rate_baseline".to_owned(), json!(rate_b));
    if nb <= LARGE_SAMPLE as u64 && nc <= LARGE_SAMPLE as u64 {
        // A 0/1 feature is a proportion: no KS, no chi-square table. Nothing
        // "in" on either side (or everything) cannot drift.
        let z = two_proportion_z(baseline[0], nb, current[0], nc);
        if !z.p_value.is_finite() {
            return None;
        }
        evidence.test = Some("two_proportion_z".to_owned());
        evidence.statistic = Some(z.z);
        evidence.p_value = Some(finite_p(z.p_value));
        let pooled = (baseline[0] + current[0]) as f64 / (nb + nc) as f64;
        let sd = |p: f64| (p * (1.0 - p)).sqrt();
        return Some(Candidate {
            metric: metric.to_owned(),
            rule: Rule::AdjustedP,
            scale: Some(if rate_b > 0.0 && rate_b < 1.0 {
                sd(rate_b)
            } else {
                sd(pooled)
            }),
            relative_shift: None,
            detail,
            evidence,
        });
    }
    let as_f64 = |c: [u64; 2]| [c[0] as f64, c[1] as f64];
    let distance = jensen_shannon(&as_f64(baseline), &as_f64(current));
    let distance = if distance.is_finite() { distance } else { 0.0 };
    evidence.test = Some("jensen_shannon".to_owned());
    evidence.statistic = Some(distance);
    evidence
        .extra
        .insert("distance".to_owned(), json!(distance));
    Some(Candidate {
        metric: metric.to_owned(),
        rule: Rule::Distance,
        scale: None,
        relative_shift: None,
        detail,
        evidence,
    })
}

fn embedding_test(
    baseline: &[Vec<f64>],
    current: &[Vec<f64>],
    embedding: &EmbeddingUsed,
) -> Option<Candidate> {
    if baseline.len() < MIN_SAMPLES_PER_SIDE || current.len() < MIN_SAMPLES_PER_SIDE {
        return None;
    }
    let mmd = mmd_permutation_test(baseline, current, MMD_PERMUTATIONS, MMD_SEED);
    let mut evidence = Evidence {
        test: Some("mmd_permutation".to_owned()),
        statistic: Some(mmd.mmd2),
        p_value: Some(finite_p(mmd.p_value)),
        n_current: Some(current.len() as u64),
        n_baseline: Some(baseline.len() as u64),
        ..Evidence::default()
    };
    evidence
        .extra
        .insert("permutations".to_owned(), json!(mmd.permutations));
    evidence
        .extra
        .insert("embedding".to_owned(), json!(embedding.name));
    if let Some(reason) = &embedding.fallback_reason {
        evidence
            .extra
            .insert("embedding_fallback_reason".to_owned(), json!(reason));
    }
    Some(Candidate {
        metric: "input_embedding".to_owned(),
        rule: Rule::AdjustedP,
        scale: None,
        relative_shift: None,
        detail: format!(
            "the inputs' meaning shifted (MMD² {:.4} between their embeddings, {})",
            mmd.mmd2, embedding.name
        ),
        evidence,
    })
}

/// A drift flag when the rule's threshold is crossed; severity by the shared
/// rule, the tolerance being `drift_distance` baseline standard deviations.
pub(super) fn decide(c: &Candidate, t: &ResolvedThresholds) -> Option<Flag> {
    let e = &c.evidence;
    let test_name = match e.test.as_deref() {
        Some("ks_2samp") => "KS",
        Some("two_proportion_z") => "two-proportion z",
        Some("mmd_permutation") => "permutation",
        Some("wasserstein_normed") => "normalised Wasserstein distance",
        _ => "Jensen–Shannon distance",
    };
    let (fired, severity, why) = match c.rule {
        Rule::AdjustedP => {
            let p = e.p_adjusted?;
            let why = match e.statistic {
                Some(d) if test_name == "KS" => {
                    format!("KS D={d:.2}, {} after BH", wording::p_value(p))
                }
                _ => format!("{test_name} {} after BH", wording::p_value(p)),
            };
            let severity = match (c.scale, e.ci_low, e.ci_high) {
                (Some(scale), Some(low), Some(high)) if scale > f64::EPSILON => {
                    severity::of_interval(low / scale, high / scale, t.drift_distance)
                }
                _ => Severity::Warning,
            };
            (p < t.drift_fdr, severity, why)
        }
        Rule::Distance => {
            let d = e.statistic?;
            (
                d > t.drift_distance,
                severity::of_distance(d, t.drift_distance),
                format!("{test_name} {d:.2} > {}", t.drift_distance),
            )
        }
    };
    if !fired {
        return None;
    }
    let severity = match c.relative_shift {
        Some(shift) if shift < CRITICAL_MIN_RELATIVE_SHIFT => Severity::Warning,
        _ => severity,
    };
    let mut evidence = e.clone();
    if c.rule == Rule::Distance {
        evidence
            .extra
            .insert("threshold".to_owned(), json!(t.drift_distance));
    }
    Some(Flag {
        kind: FlagKind::Drift,
        severity,
        metric: c.metric.clone(),
        message: format!("{} ({why})", c.detail),
        evidence,
    })
}
