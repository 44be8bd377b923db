#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Drift of the traffic's own features: the inputs' meaning (built-in
//! embedding + MMD) and lengths, and no double testing of what a scorer covers.

use evalguard_domain::analysis::{
    AnalysisInput, FeatureSides, ResolvedThresholds, ScorerInput, SideScores, TextFeatures, analyse,
};
use evalguard_domain::job::Flag;
use evalguard_domain::scoring::{ScoreKind, ScoreOutcome};
use evalguard_domain::traffic::TrafficSample;

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

fn assert_evidence_is_complete(flag: &Flag) {
    let e = &flag.evidence;
    assert!(e.test.is_some(), "{flag:?}");
    assert_eq!(e.p_value.is_some(), e.p_adjusted.is_some(), "{flag:?}");
    assert!(e.n_current.is_some() && e.n_baseline.is_some(), "{flag:?}");
}

fn sample(input: &str, output: &str) -> TrafficSample {
    let v = serde_json::json!({"project_id": "proj", "model": "m", "prompt_id": "p",
        "input": input, "output": output, "latency_ms": 100.0});
    TrafficSample::from_json(v, chrono::Utc::now()).unwrap()
}

#[test]
fn input_meaning_drift_is_detected_by_embeddings() {
    let billing = [
        "How do I update my credit card?",
        "Why was I charged twice this month?",
        "Can I get a refund for my invoice?",
        "Where do I download receipts?",
    ];
    let travel = [
        "Which beaches near Lisbon are quiet?",
        "Best time to hike in Patagonia?",
        "Is the night train to Vienna comfortable?",
        "What to pack for Iceland in May?",
    ];
    let make = |topics: &[&str], n: usize| -> Vec<TrafficSample> {
        (0..n)
            .map(|i| {
                sample(
                    &format!("{} (ticket {i})", topics[i % topics.len()]),
                    "Sure, here is how.",
                )
            })
            .collect()
    };
    let analyse_features = |current: &[TrafficSample], baseline: &[TrafficSample]| {
        analyse(&AnalysisInput {
            scorers: Vec::new(),
            thresholds: ResolvedThresholds::default(),
            features: Some(FeatureSides {
                current: TextFeatures::from_samples(current),
                baseline: TextFeatures::from_samples(baseline),
                ..FeatureSides::default()
            }),
            scorers_requested: false,
        })
    };
    let shifted = analyse_features(&make(&travel, 60), &make(&billing, 60));
    let flag = shifted
        .flags
        .iter()
        .find(|f| f.metric == "input_embedding")
        .expect("embedding drift");
    assert_evidence_is_complete(flag);
    assert_eq!(flag.evidence.test.as_deref(), Some("mmd_permutation"));
    assert!(
        flag.message.starts_with("the inputs' meaning shifted"),
        "{}",
        flag.message
    );

    let same = analyse_features(&make(&billing, 60), &make(&billing, 64));
    assert!(
        same.flags.iter().all(|f| f.metric != "input_embedding"),
        "{:?}",
        same.flags
    );
}

#[test]
fn features_covered_by_a_scorer_are_not_tested_twice() {
    let samples: Vec<TrafficSample> = (0..20).map(|i| sample("q", &"x".repeat(i))).collect();
    let longer: Vec<TrafficSample> = (0..20).map(|i| sample("q", &"x".repeat(100 + i))).collect();
    let features = FeatureSides {
        current: TextFeatures::from_samples(&longer),
        baseline: TextFeatures::from_samples(&samples),
        ..FeatureSides::default()
    };
    let by_scorer = SideScores::from_outcomes(
        &(0..20)
            .map(|i| ScoreOutcome::scored(100.0 + i as f64))
            .collect::<Vec<_>>(),
    );
    let base = SideScores::from_outcomes(
        &(0..20)
            .map(|i| ScoreOutcome::scored(i as f64))
            .collect::<Vec<_>>(),
    );
    let analysis = analyse(&AnalysisInput {
        scorers: vec![scorer(
            "output_length",
            ScoreKind::Measurement { unit: "characters" },
            by_scorer,
            Some(base),
        )],
        thresholds: ResolvedThresholds::default(),
        features: Some(features),
        scorers_requested: false,
    });
    let output_length: Vec<&Flag> = analysis
        .flags
        .iter()
        .filter(|f| f.metric == "output_length")
        .collect();
    assert_eq!(output_length.len(), 1, "{:?}", analysis.flags);
}
