//! Warnings: what leaves a job's evidence incomplete. A judge that could not
//! give its verdict on many samples, or one the request named that could not
//! run, means the job did not look where it was asked to; a gate must not read
//! its silence as a pass.

use super::ScorerInput;
use crate::job::{JobWarning, WarningCode};

/// The share of applied samples without a verdict (`error` or `unparsable`)
/// above which a scorer's evidence is incomplete.
pub const MAX_MISSING_VERDICT_SHARE: f64 = 0.05;

/// The warnings of a job's scorers, from the current side's outcomes (those
/// the summary shows and the gate checks).
/// `requested`: the request named its scorers, so a skipped one was required.
pub fn warnings(scorers: &[ScorerInput], requested: bool) -> Vec<JobWarning> {
    let mut out = Vec::new();
    for s in scorers {
        if let Some(reason) = &s.skipped {
            if requested {
                out.push(JobWarning {
                    code: WarningCode::JudgeNotConfigured,
                    scorer: Some(s.name.clone()),
                    message: format!("{} was requested but did not run: {reason}", s.name),
                    count: None,
                });
            }
            continue;
        }
        let outcomes = s.current.outcomes;
        let missing = outcomes.unparsable + outcomes.error;
        let applied = outcomes.scored + missing;
        if applied > 0 && missing as f64 > MAX_MISSING_VERDICT_SHARE * applied as f64 {
            out.push(JobWarning {
                code: WarningCode::JudgeVerdictsMissing,
                scorer: Some(s.name.clone()),
                message: format!(
                    "{} gave no verdict on {missing} of the {applied} samples it applied to ({} errors, {} unparsable replies); its flags cannot be trusted",
                    s.name, outcomes.error, outcomes.unparsable
                ),
                count: Some(missing),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::SideScores;
    use crate::scoring::{ScoreKind, ScoreOutcome};

    fn scorer(scored: usize, errors: usize) -> ScorerInput {
        let mut current = SideScores::default();
        for _ in 0..scored {
            current.push(&ScoreOutcome::scored(1.0));
        }
        for _ in 0..errors {
            current.push(&ScoreOutcome::Error {
                cause: "timeout".into(),
            });
        }
        current.push(&ScoreOutcome::NotApplicable {
            reason: "no context".into(),
        });
        ScorerInput {
            name: "hallucination".into(),
            kind: ScoreKind::Score,
            current,
            baseline: None,
            agreement: None,
            skipped: None,
        }
    }

    #[test]
    fn more_than_five_percent_missing_is_a_warning() {
        assert!(warnings(&[scorer(95, 5)], false).is_empty());
        let w = warnings(&[scorer(94, 6)], false);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].code, WarningCode::JudgeVerdictsMissing);
        assert_eq!(w[0].count, Some(6));
        assert_eq!(warnings(&[scorer(0, 100)], false)[0].count, Some(100));
    }

    #[test]
    fn a_skipped_scorer_warns_only_when_requested() {
        let skipped = ScorerInput {
            skipped: Some("no judge provider is configured".into()),
            ..scorer(0, 0)
        };
        assert!(warnings(std::slice::from_ref(&skipped), false).is_empty());
        let w = warnings(&[skipped], true);
        assert_eq!(w[0].code, WarningCode::JudgeNotConfigured);
    }
}
