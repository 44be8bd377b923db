//! Each flag family on its own simulated job.

use evalguard_domain::analysis::{AnalysisInput, FeatureSides, ResolvedThresholds, analyse};
use evalguard_domain::job::{Flag, FlagKind};
use evalguard_domain::scoring::ScoreKind;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{
    MAX_FALSE_ALARM_RATE, MIN_POWER, RUNS, checks, features, hallucination_verdicts, judge_scores,
    scorer,
};

/// Describes one simulated job: the shifts applied to the current side.
#[derive(Clone, Copy)]
struct Scenario {
    n: usize,
    score_shift: f64,
    hallucination_rate: f64,
    /// Shift of the log-latency, in units of its standard deviation (0.5).
    latency_shift_sd: f64,
}

const NO_CHANGE: Scenario = Scenario {
    n: 300,
    score_shift: 0.0,
    hallucination_rate: 0.05,
    latency_shift_sd: 0.0,
};

fn simulate(rng: &mut StdRng, s: Scenario) -> Vec<Flag> {
    let n = s.n;
    let hallucination_n = n.max(500);
    let log_latency = 6.5;
    let scorers = vec![
        scorer(
            "answer_relevance",
            ScoreKind::Score,
            judge_scores(rng, n, 0.7 + s.score_shift),
            judge_scores(rng, n, 0.7),
        ),
        scorer(
            "correctness",
            ScoreKind::Score,
            judge_scores(rng, n, 0.8),
            judge_scores(rng, n, 0.8),
        ),
        scorer(
            "json_validity",
            ScoreKind::PassFail,
            checks(rng, n, 0.9),
            checks(rng, n, 0.9),
        ),
        scorer(
            "hallucination",
            ScoreKind::Score,
            hallucination_verdicts(rng, hallucination_n, s.hallucination_rate),
            hallucination_verdicts(rng, hallucination_n, 0.05),
        ),
    ];
    let features = FeatureSides {
        current: features(rng, n, log_latency + 0.5 * s.latency_shift_sd),
        baseline: features(rng, n, log_latency),
        ..FeatureSides::default()
    };
    analyse(&AnalysisInput {
        scorers,
        thresholds: ResolvedThresholds::default(),
        features: Some(features),
        scorers_requested: false,
    })
    .flags
}

/// The share of runs in which a flag of `kind` was raised.
fn firing_rate(seed: u64, scenario: Scenario, kind: FlagKind) -> f64 {
    let mut rng = StdRng::seed_from_u64(seed);
    let fired = (0..RUNS)
        .filter(|_| simulate(&mut rng, scenario).iter().any(|f| f.kind == kind))
        .count();
    fired as f64 / RUNS as f64
}

#[test]
fn no_change_keeps_every_family_near_its_nominal_rate() {
    for (seed, kind) in [
        (11, FlagKind::Regression),
        (12, FlagKind::Drift),
        (13, FlagKind::Hallucination),
    ] {
        let rate = firing_rate(seed, NO_CHANGE, kind);
        println!("{kind:?} false-alarm rate: {rate:.3}");
        assert!(
            rate <= MAX_FALSE_ALARM_RATE,
            "{kind:?} fired in {rate} of runs with no change"
        );
    }
}

#[test]
fn a_mean_score_drop_of_a_tenth_is_a_regression() {
    let scenario = Scenario {
        score_shift: -0.1,
        ..NO_CHANGE
    };
    let rate = firing_rate(21, scenario, FlagKind::Regression);
    println!("regression power: {rate:.3}");
    assert!(rate >= MIN_POWER, "regression fired in only {rate} of runs");
}

#[test]
fn hallucination_rising_from_5_to_15_percent_is_flagged() {
    let scenario = Scenario {
        hallucination_rate: 0.15,
        ..NO_CHANGE
    };
    let rate = firing_rate(22, scenario, FlagKind::Hallucination);
    println!("hallucination power: {rate:.3}");
    assert!(
        rate >= MIN_POWER,
        "hallucination fired in only {rate} of runs"
    );
}

#[test]
fn a_latency_shift_is_drift() {
    let scenario = Scenario {
        latency_shift_sd: 0.5,
        ..NO_CHANGE
    };
    let mut rng = StdRng::seed_from_u64(23);
    let fired = (0..RUNS)
        .filter(|_| {
            simulate(&mut rng, scenario)
                .iter()
                .any(|f| f.kind == FlagKind::Drift && f.metric == "latency")
        })
        .count();
    let rate = fired as f64 / RUNS as f64;
    println!("latency drift power: {rate:.3}");
    assert!(
        rate >= MIN_POWER,
        "latency drift fired in only {rate} of runs"
    );
}

#[test]
fn large_samples_use_distances_with_the_same_calibration() {
    let large = Scenario {
        n: 1500,
        ..NO_CHANGE
    };
    let null = firing_rate(31, large, FlagKind::Drift);
    println!("large-sample drift false-alarm rate: {null:.3}");
    assert!(
        null <= MAX_FALSE_ALARM_RATE,
        "drift fired in {null} of large runs with no change"
    );
    let mut rng = StdRng::seed_from_u64(32);
    let shifted = Scenario {
        latency_shift_sd: 0.5,
        ..large
    };
    let fired = (0..RUNS / 4)
        .filter(|_| {
            simulate(&mut rng, shifted)
                .iter()
                .any(|f| f.kind == FlagKind::Drift && f.metric == "latency")
        })
        .count();
    assert!(
        fired as f64 / (RUNS / 4) as f64 >= MIN_POWER,
        "large-sample latency drift fired {fired} times"
    );
}
