//! The job summary: one line per scorer.

use std::collections::BTreeMap;

use super::ScorerInput;
use crate::job::{ScorerSummary, SideSummary};

/// One [`ScorerSummary`] per scorer; only `Scored` values enter `n` and `mean`.
pub fn summarise(scorers: &[ScorerInput]) -> BTreeMap<String, ScorerSummary> {
    scorers
        .iter()
        .map(|s| {
            let summary = ScorerSummary {
                n: s.current.n() as u64,
                mean: s.current.mean(),
                unit: s.kind.unit().map(str::to_owned),
                outcomes: s.current.outcomes,
                baseline: s.baseline.as_ref().map(|b| SideSummary {
                    n: b.n() as u64,
                    mean: b.mean(),
                }),
                agreement: s.agreement,
                skipped: s.skipped.clone(),
            };
            (s.name.clone(), summary)
        })
        .collect()
}
