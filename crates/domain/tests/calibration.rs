#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Calibration of the flag decisions on simulated jobs: with no real change
//! each flag family must stay near its nominal 5% false-alarm rate, and with a
//! defined shift it must fire at least 90% of the time. Seeded, so every run
//! of this test sees the same data.

use evalguard_domain::analysis::{
    AnalysisInput, FeatureSides, ResolvedThresholds, ScorerInput, SideScores, TextFeatures, analyse,
};
use evalguard_domain::job::{Flag, FlagKind};
use evalguard_domain::scoring::{ScoreKind, ScoreOutcome};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const RUNS: usize = 200;
/// 5% nominal plus sampling noise over 200 runs.
const MAX_FALSE_ALARM_RATE: f64 = 0.08;
const MIN_POWER: f64 = 0.90;

fn normal(rng: &mut StdRng, mean: f64, sd: f64) -> f64 {
    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn side(outcomes: Vec<ScoreOutcome>) -> SideScores {
    SideScores::from_outcomes(&outcomes)
}

fn judge_scores(rng: &mut StdRng, n: usize, mean: f64) -> SideScores {
    side(
        (0..n)
            .map(|_| ScoreOutcome::scored(normal(rng, mean, 0.2).clamp(0.0, 1.0)))
            .collect(),
    )
}

fn checks(rng: &mut StdRng, n: usize, pass_rate: f64) -> SideScores {
    side(
        (0..n)
            .map(|_| {
                ScoreOutcome::scored(if rng.random::<f64>() < pass_rate {
                    1.0
                } else {
                    0.0
                })
            })
            .collect(),
    )
}

fn latencies(rng: &mut StdRng, n: usize, log_mean: f64) -> Vec<f64> {
    (0..n).map(|_| normal(rng, log_mean, 0.5).exp()).collect()
}

fn hallucination_verdicts(rng: &mut StdRng, n: usize, rate: f64) -> SideScores {
    side(
        (0..n)
            .map(|_| {
                let bad = rng.random::<f64>() < rate;
                ScoreOutcome::Scored {
                    value: if bad { 0.0 } else { 1.0 },
                    label: Some(if bad { "hallucinated" } else { "factual" }.to_owned()),
                    reasoning: None,
                }
            })
            .collect(),
    )
}

fn scorer(name: &str, kind: ScoreKind, current: SideScores, baseline: SideScores) -> ScorerInput {
    ScorerInput {
        name: name.to_owned(),
        kind,
        current,
        baseline: Some(baseline),
        agreement: None,
        skipped: None,
    }
}

fn features(rng: &mut StdRng, n: usize, log_latency: f64) -> TextFeatures {
    TextFeatures {
        input_length: (0..n)
            .map(|_| normal(rng, 200.0, 40.0).round().max(1.0))
            .collect(),
        output_length: (0..n)
            .map(|_| normal(rng, 600.0, 150.0).round().max(0.0))
            .collect(),
        latency_ms: latencies(rng, n, log_latency),
        tokens: (0..n)
            .map(|_| normal(rng, 400.0, 60.0).round().max(0.0))
            .collect(),
        refused: (0..n).map(|_| rng.random::<f64>() < 0.03).collect(),
        input_embeddings: Vec::new(),
    }
}

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

// ---------------------------------------------------------------------------
// The whole job: every default scorer (the deterministic ones on generated
// traffic, plus the hallucination and answer_relevance judges), the traffic
// features and the inputs' embedding, all at once — the false-alarm rate a
// team sees is that of "any flag at all", not of one family.

use evalguard_domain::ProjectId;
use evalguard_domain::scorers::{
    DETERMINISTIC_SCORERS, deterministic_scorer, evaluate_deterministic,
};
use evalguard_domain::traffic::TrafficSample;

/// Runs of the whole-job simulations (each embeds and permutes 2 × 100 inputs).
const JOB_RUNS: usize = 200;
/// The default `sample_count`.
const JOB_N: usize = 100;

const TOPICS: [(&str, &str, &str); 6] = [
    (
        "When is the office open?",
        "The office is open 9:00-17:00, Monday to Friday.",
        "The office is open 9:00-17:00, Monday to Friday.",
    ),
    (
        "How do I reset my password?",
        "Passwords are reset from Settings, Security, Reset password; a link is emailed.",
        "Go to Settings, then Security, and choose Reset password; we email you a link.",
    ),
    (
        "Can I get a refund?",
        "Refunds are granted within 30 days of purchase for unused licences.",
        "Yes, unused licences are refunded within 30 days of purchase.",
    ),
    (
        "Which plans include SSO?",
        "Single sign-on (SSO) is included in the Business and Enterprise plans.",
        "SSO comes with the Business and Enterprise plans.",
    ),
    (
        "Where is my invoice?",
        "Invoices are listed under Billing, History, and sent by email each month.",
        "You can find it under Billing, History; it is also emailed monthly.",
    ),
    (
        "How many seats can I add?",
        "Teams may add up to 500 seats; larger teams contact sales.",
        "You can add up to 500 seats, or contact sales for more.",
    ),
];
const REFUSAL: &str = "I'm sorry, but I can't help with that.";

/// What differs between the current side and the baseline.
#[derive(Clone, Copy)]
struct JobShift {
    refusal_rate: f64,
    hallucination_rate: f64,
}

const UNCHANGED: JobShift = JobShift {
    refusal_rate: 0.03,
    hallucination_rate: 0.03,
};

fn traffic(rng: &mut StdRng, refusal_rate: f64) -> Vec<TrafficSample> {
    (0..JOB_N)
        .map(|i| {
            let (question, context, answer) = TOPICS[rng.random_range(0..TOPICS.len())];
            let refused = rng.random::<f64>() < refusal_rate;
            let extra = [
                "",
                " Anything else?",
                " Happy to help further.",
                " Thanks for asking.",
            ][rng.random_range(0..4)];
            TrafficSample {
                id: format!("s{i}"),
                project_id: ProjectId::parse("bot").unwrap(),
                model: "m".into(),
                prompt_id: "p".into(),
                input: format!("{question} (order {})", rng.random_range(1000..9999)),
                output: if refused {
                    REFUSAL.to_owned()
                } else {
                    format!("{answer}{extra}")
                },
                context: vec![context.to_owned()],
                reference: None,
                timestamp: chrono::Utc::now(),
                metadata: None,
                latency_ms: Some(normal(rng, 6.5, 0.4).exp()),
                prompt_tokens: Some(normal(rng, 400.0, 50.0).round().max(1.0) as i64),
                completion_tokens: Some(normal(rng, 80.0, 20.0).round().max(1.0) as i64),
            }
        })
        .collect()
}

fn deterministic(name: &str, samples: &[TrafficSample]) -> SideScores {
    let outcomes: Vec<ScoreOutcome> = samples
        .iter()
        .filter_map(|s| evaluate_deterministic(name, s))
        .collect();
    side(outcomes)
}

fn whole_job(rng: &mut StdRng, shift: JobShift) -> Vec<Flag> {
    let baseline = traffic(rng, UNCHANGED.refusal_rate);
    let current = traffic(rng, shift.refusal_rate);
    let mut scorers: Vec<ScorerInput> = DETERMINISTIC_SCORERS
        .iter()
        .map(|name| {
            let kind = deterministic_scorer(name).unwrap().kind();
            scorer(
                name,
                kind,
                deterministic(name, &current),
                deterministic(name, &baseline),
            )
        })
        .collect();
    scorers.push(scorer(
        "hallucination",
        ScoreKind::Score,
        hallucination_verdicts(rng, JOB_N, shift.hallucination_rate),
        hallucination_verdicts(rng, JOB_N, UNCHANGED.hallucination_rate),
    ));
    scorers.push(scorer(
        "answer_relevance",
        ScoreKind::Score,
        judge_scores(rng, JOB_N, 0.8),
        judge_scores(rng, JOB_N, 0.8),
    ));
    analyse(&AnalysisInput {
        scorers,
        thresholds: ResolvedThresholds::default(),
        features: Some(FeatureSides {
            current: TextFeatures::from_samples(&current),
            baseline: TextFeatures::from_samples(&baseline),
            ..FeatureSides::default()
        }),
        scorers_requested: false,
    })
    .flags
}

/// Runs the whole job `JOB_RUNS` times; the share of runs in which `hit` held.
fn job_rate(seed: u64, shift: JobShift, hit: impl Fn(&[Flag]) -> bool) -> f64 {
    let mut rng = StdRng::seed_from_u64(seed);
    let fired = (0..JOB_RUNS)
        .filter(|_| hit(&whole_job(&mut rng, shift)))
        .count();
    fired as f64 / JOB_RUNS as f64
}

#[test]
fn a_whole_job_on_unchanged_traffic_raises_any_flag_rarely() {
    let rate = job_rate(41, UNCHANGED, |flags| !flags.is_empty());
    println!("whole-job false-alarm rate (any flag, {JOB_RUNS} runs): {rate:.3}");
    assert!(
        rate <= MAX_FALSE_ALARM_RATE,
        "a job with no change raised a flag in {rate} of runs"
    );
}

#[test]
fn a_whole_job_finds_refusals_rising_from_3_to_20_percent_with_one_flag() {
    let shift = JobShift {
        refusal_rate: 0.20,
        ..UNCHANGED
    };
    let found = job_rate(42, shift, |flags| {
        flags
            .iter()
            .any(|f| f.kind == FlagKind::Regression && f.metric == "refusal")
    });
    let extra = job_rate(42, shift, |flags| {
        flags
            .iter()
            .any(|f| !(f.kind == FlagKind::Regression && f.metric == "refusal"))
    });
    println!("whole-job refusal detection: {found:.3}; runs with another flag: {extra:.3}");
    assert!(
        found >= MIN_POWER,
        "refusal regression found in only {found} of runs"
    );
    assert!(
        extra <= MAX_FALSE_ALARM_RATE,
        "the refusal change raised other flags too in {extra} of runs"
    );
}

#[test]
fn a_whole_job_finds_hallucinations_rising_from_3_to_30_percent_as_both_questions() {
    let shift = JobShift {
        hallucination_rate: 0.30,
        ..UNCHANGED
    };
    let found = job_rate(43, shift, |flags| {
        let on = |kind| {
            flags
                .iter()
                .any(|f| f.kind == kind && f.metric == "hallucination")
        };
        on(FlagKind::Hallucination) && on(FlagKind::Regression)
    });
    println!("whole-job hallucination detection (both flags): {found:.3}");
    assert!(found >= MIN_POWER, "found in only {found} of runs");
}
