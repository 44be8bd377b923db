//! `refusal`: whether the model declined to answer. Refusals are phrased near
//! the start of a reply, so only the first [`SCAN_CHARS`] characters are
//! scanned, lowercased and with typographic apostrophes made plain.

use super::{deterministic_scorer_impl, pass_fail};
use crate::scoring::{ScoreKind, ScoreOutcome};
use crate::traffic::TrafficSample;

#[derive(Debug, Clone, Copy, Default)]
pub struct Refusal;

/// How much of the start of the output is scanned.
pub const SCAN_CHARS: usize = 300;

/// Lowercase English refusal phrasings, apostrophes plain (`'`).
const REFUSAL_PHRASES: &[&str] = &[
    "i'm sorry, but i can't",
    "i'm sorry, but i cannot",
    "i am sorry, but i cannot",
    "i'm sorry, i can't",
    "i'm sorry, i cannot",
    "sorry, but i can't",
    "sorry, i can't help",
    "i apologize, but i can't",
    "i apologize, but i cannot",
    "i cannot help with",
    "i can't help with",
    "i can not help with",
    "i cannot assist with",
    "i can't assist with",
    "i cannot provide",
    "i can't provide",
    "i cannot fulfill",
    "i can't fulfill",
    "i cannot comply",
    "i can't comply",
    "i won't be able to help",
    "i will not be able to help",
    "i'm not able to help",
    "i am not able to help",
    "i'm not able to provide",
    "i'm unable to",
    "i am unable to",
    "as an ai language model",
    "as an ai model",
    "as an ai assistant, i cannot",
    "as an ai, i cannot",
    "as an ai, i can't",
    "i must decline",
    "i have to decline",
    "i'm not comfortable",
    "i am not comfortable",
    "it is not appropriate for me to",
    "it's not appropriate for me to",
    "i can't answer that",
    "i cannot answer that",
];

impl Refusal {
    pub const NAME: &'static str = "refusal";
    pub const KIND: ScoreKind = ScoreKind::PassFail;

    /// 1 (`answer`) when the output is not a refusal, 0 (`refusal`) when it is.
    pub fn evaluate(&self, sample: &TrafficSample) -> ScoreOutcome {
        pass_fail(!is_refusal(&sample.output), "answer", "refusal")
    }
}

/// Whether the start of `output` reads as a refusal.
pub fn is_refusal(output: &str) -> bool {
    let mut head = String::with_capacity(SCAN_CHARS + 16);
    for c in output.chars().take(SCAN_CHARS) {
        match c {
            '\u{2018}' | '\u{2019}' | '\u{02bc}' => head.push('\''),
            c if c.is_ascii() => head.push(c.to_ascii_lowercase()),
            c => head.extend(c.to_lowercase()),
        }
    }
    REFUSAL_PHRASES.iter().any(|phrase| head.contains(phrase))
}

deterministic_scorer_impl!(Refusal);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::test_sample::sample;

    #[test]
    fn detects_common_refusals() {
        for out in [
            "I'm sorry, but I can't help with that request.",
            "I’m sorry, but I can’t share that.",
            "As an AI language model, I do not have opinions.",
            "I cannot help with creating malware.",
            "Unfortunately I'm unable to access the internet.",
            "I APOLOGIZE, BUT I CANNOT DO THIS.",
        ] {
            let outcome = Refusal.evaluate(&sample("q", out));
            assert_eq!(outcome.value(), Some(0.0), "{out}");
            assert!(
                matches!(outcome, ScoreOutcome::Scored { label: Some(ref l), .. } if l == "refusal")
            );
        }
    }

    #[test]
    fn answers_are_not_refusals() {
        for out in [
            "Paris is the capital of France.",
            "",
            "Sorry for the delay — here is the summary you asked for.",
            "The API can't be called without a key; pass it in the header.",
        ] {
            assert_eq!(
                Refusal.evaluate(&sample("q", out)).value(),
                Some(1.0),
                "{out}"
            );
        }
    }

    #[test]
    fn only_the_start_is_scanned() {
        let late = format!("{} I'm unable to continue.", "word ".repeat(100));
        assert!(!is_refusal(&late));
    }
}
