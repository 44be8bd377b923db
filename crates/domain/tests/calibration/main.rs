#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Calibration of the flag decisions on simulated jobs: with no real change
//! each flag family must stay near its nominal 5% false-alarm rate, and with a
//! defined shift it must fire at least 90% of the time. Seeded, so every run
//! of this test sees the same data.
//!
//! `families.rs`: each flag family on its own; `whole_job.rs`: every default
//! scorer, feature and test of a job at once.

mod families;
mod whole_job;

use evalguard_domain::analysis::{ScorerInput, SideScores, TextFeatures};
use evalguard_domain::scoring::{ScoreKind, ScoreOutcome};
use rand::RngExt;
use rand::rngs::StdRng;

pub const RUNS: usize = 200;
/// 5% nominal plus sampling noise over 200 runs.
pub const MAX_FALSE_ALARM_RATE: f64 = 0.08;
pub const MIN_POWER: f64 = 0.90;

pub fn normal(rng: &mut StdRng, mean: f64, sd: f64) -> f64 {
    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

pub fn side(outcomes: Vec<ScoreOutcome>) -> SideScores {
    SideScores::from_outcomes(&outcomes)
}

pub fn judge_scores(rng: &mut StdRng, n: usize, mean: f64) -> SideScores {
    side(
        (0..n)
            .map(|_| ScoreOutcome::scored(normal(rng, mean, 0.2).clamp(0.0, 1.0)))
            .collect(),
    )
}

pub fn checks(rng: &mut StdRng, n: usize, pass_rate: f64) -> SideScores {
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

pub fn latencies(rng: &mut StdRng, n: usize, log_mean: f64) -> Vec<f64> {
    (0..n).map(|_| normal(rng, log_mean, 0.5).exp()).collect()
}

pub fn hallucination_verdicts(rng: &mut StdRng, n: usize, rate: f64) -> SideScores {
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

pub fn scorer(
    name: &str,
    kind: ScoreKind,
    current: SideScores,
    baseline: SideScores,
) -> ScorerInput {
    ScorerInput {
        name: name.to_owned(),
        kind,
        current,
        baseline: Some(baseline),
        agreement: None,
        skipped: None,
    }
}

pub fn features(rng: &mut StdRng, n: usize, log_latency: f64) -> TextFeatures {
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
