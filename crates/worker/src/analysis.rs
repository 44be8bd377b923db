//! The job summary and flags, computed from every stored result once
//! scoring is over. `analyse_job` is the one place that decides how; it
//! delegates to the domain's flag analysis when that is available.

use std::collections::BTreeMap;
use std::sync::Arc;

use evalguard_domain::job::{Flag, OutcomeCounts, ScorerSummary, SideSummary, Thresholds};
use evalguard_domain::scoring::{SampleRole, ScoreOutcome, Scorer};
use evalguard_storage::StoredResult;

/// What the analysis looks at.
pub(crate) struct AnalysisInput<'a> {
    pub scorers: &'a [Arc<dyn Scorer>],
    /// Scorers that did not run, with the reason.
    pub skipped: &'a BTreeMap<String, String>,
    pub results: &'a [StoredResult],
    /// Whether the job has a baseline side at all.
    pub has_baseline: bool,
    pub repeats: u32,
    /// The request's thresholds over the project's.
    pub thresholds: &'a Thresholds,
}

pub(crate) struct Analysis {
    pub summary: BTreeMap<String, ScorerSummary>,
    pub flags: Vec<Flag>,
}

pub(crate) fn analyse_job(input: &AnalysisInput<'_>) -> Analysis {
    Analysis {
        summary: summarise(input),
        flags: Vec::new(),
    }
}

/// Per scorer: outcome counts and the mean of scored values on each side.
pub(crate) fn summarise(input: &AnalysisInput<'_>) -> BTreeMap<String, ScorerSummary> {
    let mut summary = BTreeMap::new();
    for scorer in input.scorers {
        let name = scorer.name();
        let mut outcomes = OutcomeCounts::default();
        let (mut sum, mut n) = (0.0, 0u64);
        let (mut base_sum, mut base_n) = (0.0, 0u64);
        let (mut agreed, mut with_agreement) = (0u64, 0u64);
        for result in input.results {
            let Some(outcome) = result.scores.get(name) else {
                continue;
            };
            match result.role {
                SampleRole::Current => {
                    count(&mut outcomes, outcome);
                    if let Some(v) = outcome.value() {
                        sum += v;
                        n += 1;
                    }
                    if let Some(a) = result.agreement.get(name) {
                        with_agreement += 1;
                        agreed += u64::from(*a);
                    }
                }
                SampleRole::Baseline => {
                    if let Some(v) = outcome.value() {
                        base_sum += v;
                        base_n += 1;
                    }
                }
            }
        }
        let mean = |s: f64, k: u64| (k > 0).then(|| s / k as f64);
        summary.insert(
            name.to_owned(),
            ScorerSummary {
                n,
                mean: mean(sum, n),
                unit: scorer.kind().unit().map(str::to_owned),
                outcomes,
                baseline: input.has_baseline.then(|| SideSummary {
                    n: base_n,
                    mean: mean(base_sum, base_n),
                }),
                agreement: (input.repeats > 1 && with_agreement > 0).then(|| agreed as f64 / with_agreement as f64),
                skipped: None,
            },
        );
    }
    for (name, reason) in input.skipped {
        summary.entry(name.clone()).or_insert_with(|| ScorerSummary {
            n: 0,
            mean: None,
            unit: None,
            outcomes: OutcomeCounts::default(),
            baseline: None,
            agreement: None,
            skipped: Some(reason.clone()),
        });
    }
    summary
}

fn count(outcomes: &mut OutcomeCounts, outcome: &ScoreOutcome) {
    match outcome {
        ScoreOutcome::Scored { .. } => outcomes.scored += 1,
        ScoreOutcome::NotApplicable { .. } => outcomes.not_applicable += 1,
        ScoreOutcome::Unparsable { .. } => outcomes.unparsable += 1,
        ScoreOutcome::Error { .. } => outcomes.error += 1,
    }
}
