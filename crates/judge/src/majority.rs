//! The verdict of k repeats: the most common verdict wins; a tie is
//! `unparsable` (the judge could not make up its mind).

use evalguard_domain::ScoreOutcome;

/// What a repeat voted for.
fn vote(outcome: &ScoreOutcome) -> String {
    match outcome {
        ScoreOutcome::Scored {
            label: Some(label), ..
        } => format!("label:{label}"),
        ScoreOutcome::Scored { value, .. } => format!("value:{value}"),
        ScoreOutcome::NotApplicable { .. } => "not_applicable".into(),
        ScoreOutcome::Unparsable { .. } => "unparsable".into(),
        ScoreOutcome::Error { .. } => "error".into(),
    }
}

/// Combines the repeats' outcomes; returns the verdict and whether all agreed.
/// Scored winners get the mean value of the repeats that voted for them.
pub fn combine_repeats(outcomes: Vec<ScoreOutcome>) -> (ScoreOutcome, bool) {
    let votes: Vec<String> = outcomes.iter().map(vote).collect();
    let agreed = votes.windows(2).all(|w| w[0] == w[1]);
    let mut tally: Vec<(String, usize)> = Vec::new();
    for v in &votes {
        match tally.iter_mut().find(|(name, _)| name == v) {
            Some((_, count)) => *count += 1,
            None => tally.push((v.clone(), 1)),
        }
    }
    let best = tally.iter().map(|(_, c)| *c).max().unwrap_or(0);
    let winners: Vec<&String> = tally
        .iter()
        .filter(|(_, c)| *c == best)
        .map(|(v, _)| v)
        .collect();
    if winners.len() != 1 {
        let raw = votes.join(", ");
        return (
            ScoreOutcome::Unparsable {
                reason: format!("the {} repeats tied: {raw}", outcomes.len()),
                raw,
            },
            agreed,
        );
    }
    let winner = winners[0].clone();
    let mut chosen = outcomes
        .into_iter()
        .zip(votes)
        .filter(|(_, v)| *v == winner)
        .map(|(o, _)| o);
    let Some(first) = chosen.next() else {
        return (
            ScoreOutcome::Error {
                cause: "no repeat".into(),
            },
            agreed,
        );
    };
    match first {
        ScoreOutcome::Scored {
            value,
            label,
            reasoning,
        } => {
            let (sum, n) = chosen.fold((value, 1usize), |(sum, n), o| {
                (sum + o.value().unwrap_or(0.0), n + 1)
            });
            (
                ScoreOutcome::Scored {
                    value: sum / n as f64,
                    label,
                    reasoning,
                },
                agreed,
            )
        }
        other => (other, agreed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(value: f64, label: &str) -> ScoreOutcome {
        ScoreOutcome::Scored {
            value,
            label: Some(label.into()),
            reasoning: None,
        }
    }

    #[test]
    fn majority_label_wins_with_mean_value() {
        let (outcome, agreed) = combine_repeats(vec![
            scored(0.5, "hallucinated"),
            scored(1.0, "factual"),
            scored(0.0, "hallucinated"),
        ]);
        assert_eq!(outcome, scored(0.25, "hallucinated"));
        assert!(!agreed);
    }

    #[test]
    fn ties_are_unparsable_and_unanimity_is_agreement() {
        let (outcome, agreed) = combine_repeats(vec![scored(1.0, "safe"), scored(0.0, "toxic")]);
        assert!(matches!(outcome, ScoreOutcome::Unparsable { .. }));
        assert!(!agreed);
        let (outcome, agreed) = combine_repeats(vec![scored(1.0, "safe"); 3]);
        assert_eq!(outcome, scored(1.0, "safe"));
        assert!(agreed);
    }
}
