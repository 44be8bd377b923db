//! The whole job: every default scorer (the deterministic ones on generated
//! traffic, plus the hallucination and answer_relevance judges), the traffic
//! features and the inputs' embedding, all at once — the false-alarm rate a
//! team sees is that of "any flag at all", not of one family.

use evalguard_domain::ProjectId;
use evalguard_domain::analysis::{
    AnalysisInput, FeatureSides, ResolvedThresholds, ScorerInput, SideScores, TextFeatures, analyse,
};
use evalguard_domain::job::{Flag, FlagKind};
use evalguard_domain::scorers::{
    DETERMINISTIC_SCORERS, deterministic_scorer, evaluate_deterministic,
};
use evalguard_domain::scoring::{ScoreKind, ScoreOutcome};
use evalguard_domain::traffic::TrafficSample;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::{
    MAX_FALSE_ALARM_RATE, MIN_POWER, hallucination_verdicts, judge_scores, normal, scorer, side,
};

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
