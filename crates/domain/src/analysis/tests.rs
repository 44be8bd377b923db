use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::*;
use crate::job::{FlagKind, Severity};

fn normal(rng: &mut StdRng, mean: f64, sd: f64) -> f64 {
    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn scores(rng: &mut StdRng, n: usize, mean: f64) -> SideScores {
    let outcomes: Vec<ScoreOutcome> = (0..n)
        .map(|_| ScoreOutcome::scored(normal(rng, mean, 0.1).clamp(0.0, 1.0)))
        .collect();
    SideScores::from_outcomes(&outcomes)
}

fn pass_fail(n: usize, passes: usize) -> SideScores {
    let outcomes: Vec<ScoreOutcome> = (0..n)
        .map(|i| ScoreOutcome::scored(if i < passes { 1.0 } else { 0.0 }))
        .collect();
    SideScores::from_outcomes(&outcomes)
}

fn hallucination_side(n: usize, hallucinated: usize) -> SideScores {
    let outcomes: Vec<ScoreOutcome> = (0..n)
        .map(|i| {
            let bad = i < hallucinated;
            ScoreOutcome::Scored {
                value: if bad { 0.0 } else { 1.0 },
                label: Some(if bad { "hallucinated" } else { "factual" }.to_owned()),
                reasoning: None,
            }
        })
        .collect();
    SideScores::from_outcomes(&outcomes)
}

fn scorer(
    name: &str,
    kind: ScoreKind,
    current: SideScores,
    baseline: Option<SideScores>,
) -> ScorerInput {
    ScorerInput {
        name: name.to_owned(),
        kind,
        current,
        baseline,
        agreement: None,
        skipped: None,
    }
}

fn run(scorers: Vec<ScorerInput>) -> Analysis {
    analyse(&AnalysisInput {
        scorers,
        thresholds: ResolvedThresholds::default(),
        features: None,
        scorers_requested: false,
    })
}

fn assert_evidence_is_complete(flag: &Flag) {
    let e = &flag.evidence;
    assert!(e.test.is_some(), "{flag:?}");
    assert_eq!(e.p_value.is_some(), e.p_adjusted.is_some(), "{flag:?}");
    if let (Some(p), Some(adj)) = (e.p_value, e.p_adjusted) {
        assert!(adj >= p - 1e-12 && adj <= 1.0, "{flag:?}");
    }
    assert!(e.n_current.is_some(), "{flag:?}");
}

#[test]
fn summary_counts_outcomes_and_means_only_scored() {
    let mut side =
        SideScores::from_outcomes(&[ScoreOutcome::scored(0.5), ScoreOutcome::scored(1.0)]);
    side.push(&ScoreOutcome::NotApplicable { reason: "x".into() });
    side.push(&ScoreOutcome::Error { cause: "x".into() });
    side.push(&ScoreOutcome::scored(f64::NAN));
    let skipped = ScorerInput {
        skipped: Some("no judge provider is configured".into()),
        ..scorer("toxicity", ScoreKind::Score, SideScores::default(), None)
    };
    let analysis = run(vec![
        scorer(
            "latency",
            ScoreKind::Measurement { unit: "ms" },
            side,
            Some(pass_fail(3, 3)),
        ),
        skipped,
    ]);
    let latency = &analysis.summary["latency"];
    assert_eq!(
        (latency.n, latency.mean, latency.unit.as_deref()),
        (2, Some(0.75), Some("ms"))
    );
    assert_eq!(latency.outcomes.not_applicable, 1);
    assert_eq!(latency.outcomes.error, 1);
    assert_eq!(latency.outcomes.unparsable, 1);
    assert_eq!(latency.baseline.as_ref().map(|b| b.n), Some(3));
    let toxicity = &analysis.summary["toxicity"];
    assert_eq!(toxicity.mean, None);
    assert!(toxicity.skipped.is_some());
    assert!(analysis.flags.is_empty());
}

#[test]
fn a_clear_score_drop_is_a_regression_with_negative_effect() {
    let mut rng = StdRng::seed_from_u64(1);
    let baseline = scores(&mut rng, 200, 0.9);
    let current = scores(&mut rng, 200, 0.7);
    let analysis = run(vec![scorer(
        "answer_relevance",
        ScoreKind::Score,
        current,
        Some(baseline),
    )]);
    let flag = analysis
        .flags
        .iter()
        .find(|f| f.kind == FlagKind::Regression)
        .expect("regression flag");
    assert_evidence_is_complete(flag);
    assert_eq!(flag.metric, "answer_relevance");
    assert_eq!(flag.evidence.test.as_deref(), Some("mann_whitney_u"));
    let e = &flag.evidence;
    let (effect, low, high) = (e.effect.unwrap(), e.ci_low.unwrap(), e.ci_high.unwrap());
    assert!((effect + 0.2).abs() < 0.05, "{effect}");
    assert!(low < effect && effect < high && high < -0.1);
    assert_eq!(flag.severity, Severity::Critical);
    assert!(
        flag.message
            .starts_with("answer_relevance fell from 0.89 to 0.70 (−0.18, 95% CI "),
        "{}",
        flag.message
    );
    assert!(
        flag.message.contains("Mann–Whitney p") && flag.message.contains("after BH"),
        "{}",
        flag.message
    );
}

#[test]
fn an_improvement_or_a_tiny_drop_is_not_a_regression() {
    let mut rng = StdRng::seed_from_u64(2);
    let baseline = scores(&mut rng, 300, 0.7);
    let better = scores(&mut rng, 300, 0.9);
    let analysis = run(vec![scorer(
        "correctness",
        ScoreKind::Score,
        better,
        Some(baseline.clone()),
    )]);
    assert!(
        analysis
            .flags
            .iter()
            .all(|f| f.kind != FlagKind::Regression)
    );
    // 0.03 lower is significant at this n but smaller than min_effect.
    let slightly_worse = scores(&mut rng, 2000, 0.67);
    let analysis = run(vec![scorer(
        "correctness",
        ScoreKind::Score,
        slightly_worse,
        Some(baseline),
    )]);
    assert!(
        analysis
            .flags
            .iter()
            .all(|f| f.kind != FlagKind::Regression)
    );
}

#[test]
fn a_pass_rate_drop_uses_the_proportion_test() {
    let analysis = run(vec![scorer(
        "json_validity",
        ScoreKind::PassFail,
        pass_fail(400, 320),
        Some(pass_fail(400, 390)),
    )]);
    let flag = analysis
        .flags
        .iter()
        .find(|f| f.kind == FlagKind::Regression)
        .expect("regression flag");
    assert_evidence_is_complete(flag);
    assert_eq!(flag.evidence.test.as_deref(), Some("two_proportion_z"));
    assert!((flag.evidence.effect.unwrap() + 0.175).abs() < 1e-9);
    assert!(
        flag.message
            .starts_with("invalid JSON answers rose from 2.5% to 20% (95% CI of the rise"),
        "{}",
        flag.message
    );
    // One change, one flag: a check tested for regression is not also drift.
    assert_eq!(analysis.flags.len(), 1, "{:?}", analysis.flags);
}

#[test]
fn refusals_rising_is_one_regression_flag_in_words_a_person_uses() {
    let analysis = run(vec![scorer(
        "refusal",
        ScoreKind::PassFail,
        pass_fail(100, 80),
        Some(pass_fail(100, 100)),
    )]);
    assert_eq!(analysis.flags.len(), 1, "{:?}", analysis.flags);
    let flag = &analysis.flags[0];
    assert_eq!(flag.kind, FlagKind::Regression);
    assert!(
        flag.message.starts_with("refusals rose from 0% to 20%"),
        "{}",
        flag.message
    );
    assert!((flag.evidence.effect.unwrap() + 0.2).abs() < 1e-9);
    // The interval (−28, −12 points) lies beyond twice min_effect (10 points).
    assert_eq!(flag.severity, Severity::Critical);
}

#[test]
fn hallucination_above_threshold_and_above_baseline() {
    let analysis = run(vec![scorer(
        "hallucination",
        ScoreKind::Score,
        hallucination_side(500, 75),
        Some(hallucination_side(500, 25)),
    )]);
    assert_eq!(analysis.flags.len(), 2, "{:?}", analysis.flags);
    let absolute = analysis
        .flags
        .iter()
        .find(|f| f.kind == FlagKind::Hallucination)
        .unwrap();
    assert_evidence_is_complete(absolute);
    assert_eq!(absolute.evidence.test.as_deref(), Some("binomial_exact"));
    assert!(absolute.evidence.p_value.unwrap() < 1e-9);
    assert!(absolute.evidence.ci_low.unwrap() > 0.1);
    assert_eq!(absolute.severity, Severity::Critical);
    assert_eq!(
        absolute.evidence.extra["threshold"],
        serde_json::json!(0.05)
    );
    assert!(
        absolute
            .message
            .starts_with("hallucinations in 15% of answers"),
        "{}",
        absolute.message
    );
    // Worse than the baseline is a regression, so `--fail-on regression` stops it.
    let versus = analysis
        .flags
        .iter()
        .find(|f| f.kind == FlagKind::Regression)
        .unwrap();
    assert_evidence_is_complete(versus);
    assert_eq!(versus.metric, "hallucination");
    assert!((versus.evidence.effect.unwrap() + 0.10).abs() < 1e-9);
    assert!(
        versus
            .message
            .starts_with("hallucinations rose from 5% to 15%"),
        "{}",
        versus.message
    );
}

#[test]
fn the_absolute_hallucination_flag_follows_the_exact_binomial_test() {
    // 10 of 100 against 5%: scipy binomtest(10, 100, 0.05, 'greater') = 0.0282.
    let flagged = run(vec![scorer(
        "hallucination",
        ScoreKind::Score,
        hallucination_side(100, 10),
        None,
    )]);
    assert_eq!(flagged.flags.len(), 1, "{:?}", flagged.flags);
    let p = flagged.flags[0].evidence.p_value.unwrap();
    assert!((p - 0.028_188).abs() < 1e-4, "{p}");
    // 8 of 100: p = 0.128, not flagged.
    let calm = run(vec![scorer(
        "hallucination",
        ScoreKind::Score,
        hallucination_side(100, 8),
        None,
    )]);
    assert!(calm.flags.is_empty(), "{:?}", calm.flags);
}

#[test]
fn a_low_hallucination_rate_is_not_flagged() {
    let analysis = run(vec![scorer(
        "hallucination",
        ScoreKind::Score,
        hallucination_side(500, 20),
        None,
    )]);
    assert!(analysis.flags.is_empty(), "{:?}", analysis.flags);
}

#[test]
fn latency_drift_small_and_large_samples() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut side = |n: usize, mean: f64| {
        let outcomes: Vec<ScoreOutcome> = (0..n)
            .map(|_| ScoreOutcome::scored(normal(&mut rng, mean, 100.0)))
            .collect();
        SideScores::from_outcomes(&outcomes)
    };
    let kind = ScoreKind::Measurement { unit: "ms" };
    let (b, c) = (side(300, 800.0), side(300, 900.0));
    let analysis = run(vec![scorer("latency", kind, c, Some(b))]);
    let flag = analysis
        .flags
        .iter()
        .find(|f| f.kind == FlagKind::Drift)
        .expect("drift flag");
    assert_evidence_is_complete(flag);
    assert_eq!(flag.evidence.test.as_deref(), Some("ks_2samp"));
    assert!(
        flag.message.starts_with("latency rose from 8"),
        "{}",
        flag.message
    );
    assert!(
        flag.message.contains(" ms on average (KS"),
        "{}",
        flag.message
    );

    let (b, c) = (side(1500, 800.0), side(1500, 900.0));
    let analysis = run(vec![scorer("latency", kind, c, Some(b))]);
    let flag = analysis
        .flags
        .iter()
        .find(|f| f.kind == FlagKind::Drift)
        .expect("drift flag");
    assert_eq!(flag.evidence.test.as_deref(), Some("wasserstein_normed"));
    assert!(flag.evidence.p_value.is_none() && flag.evidence.p_adjusted.is_none());
    assert!(
        flag.evidence.extra.contains_key("distance")
            && flag.evidence.extra.contains_key("threshold")
    );

    let (b, c) = (side(1500, 800.0), side(1500, 801.0));
    assert!(
        run(vec![scorer("latency", kind, c, Some(b))])
            .flags
            .is_empty()
    );
}

#[test]
fn a_shift_of_many_deviations_but_a_few_percent_is_only_a_warning() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut side = |n: usize, mean: f64, sd: f64| {
        let outcomes: Vec<ScoreOutcome> = (0..n)
            .map(|_| ScoreOutcome::scored(normal(&mut rng, mean, sd)))
            .collect();
        SideScores::from_outcomes(&outcomes)
    };
    let kind = ScoreKind::Measurement { unit: "characters" };
    let severity_of = |analysis: Analysis| {
        analysis
            .flags
            .iter()
            .find(|f| f.kind == FlagKind::Drift)
            .map(|f| f.severity)
    };
    // Answers all about 40 characters long, then about 40.8: many baseline
    // deviations (and a real shift), but 2% longer.
    for n in [300, 1500] {
        let (b, c) = (side(n, 40.0, 0.1), side(n, 40.8, 0.1));
        let analysis = run(vec![scorer("output_length", kind, c, Some(b))]);
        assert_eq!(severity_of(analysis), Some(Severity::Warning), "n={n}");
    }
    // The same number of deviations and 20% longer is critical.
    for n in [300, 1500] {
        let (b, c) = (side(n, 4.0, 0.1), side(n, 4.8, 0.1));
        let analysis = run(vec![scorer("output_length", kind, c, Some(b))]);
        assert_eq!(severity_of(analysis), Some(Severity::Critical), "n={n}");
    }
}
