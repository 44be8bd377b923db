//! Flag analysis: turns the scored results of a job's current and baseline
//! samples into the job summary and its drift, regression and hallucination
//! flags. Pure: the worker gathers the outcomes, this decides.
//!
//! One change raises one flag: judge scores and pass/fail checks (the
//! hallucination verdicts included) are tested for regression; drift tests
//! only what regression does not (measurements, input and output features,
//! the inputs' meaning); the hallucination rate alone may also be flagged
//! against its absolute threshold. Every comparison test of a job (regression
//! and drift) enters one Benjamini–Hochberg family, so that on unchanged
//! traffic the whole job, not only each family, stays near 5% false alarms;
//! regression flags compare the adjusted p-values with `alpha`, drift flags
//! with `drift_fdr`.

mod drift;
mod embedding;
mod hallucination;
mod regression;
mod severity;
mod summary;
mod thresholds;
mod warnings;
mod wording;

use std::collections::BTreeMap;

pub use embedding::{
    BUILTIN_EMBEDDING, EMBEDDING_DIM, EmbedFuture, EmbeddingError, EmbeddingUsed, TextEmbedder,
    even_subsample, hashed_trigram_embedding,
};
pub use hallucination::{HALLUCINATED_LABEL, HALLUCINATION_SCORER};
pub use summary::summarise;
pub use thresholds::{
    DEFAULT_ALPHA, DEFAULT_DRIFT_DISTANCE, DEFAULT_DRIFT_FDR, DEFAULT_HALLUCINATION_RATE,
    DEFAULT_MIN_EFFECT, ResolvedThresholds,
};
pub use warnings::{MAX_MISSING_VERDICT_SHARE, warnings};

use crate::job::{Evidence, Flag, JobWarning, OutcomeCounts, ScorerSummary};
use crate::scorers::is_refusal;
use crate::scoring::{ScoreKind, ScoreOutcome};
use crate::traffic::TrafficSample;

/// Fewest scored values on each side for a comparison test.
pub const MIN_SAMPLES_PER_SIDE: usize = 5;
/// Most inputs per side embedded for the MMD test (its cost is quadratic).
pub const MAX_EMBEDDED_PER_SIDE: usize = 500;
/// Permutations of the MMD test.
pub const MMD_PERMUTATIONS: u32 = 200;
/// Fixed seed so that a job's embedding drift verdict is reproducible.
pub const MMD_SEED: u64 = 0x6576_616c_6775_6172;

/// One side's scored results of one scorer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SideScores {
    /// The `Scored` values (finite only), in sample order.
    pub values: Vec<f64>,
    /// The label of each value (parallel to `values`).
    pub labels: Vec<Option<String>>,
    pub outcomes: OutcomeCounts,
}

impl SideScores {
    pub fn from_outcomes<'a>(outcomes: impl IntoIterator<Item = &'a ScoreOutcome>) -> Self {
        let mut side = Self::default();
        for outcome in outcomes {
            side.push(outcome);
        }
        side
    }

    /// Adds one outcome. A non-finite value cannot enter statistics, so it is
    /// counted as unparsable.
    pub fn push(&mut self, outcome: &ScoreOutcome) {
        match outcome {
            ScoreOutcome::Scored { value, label, .. } if value.is_finite() => {
                self.outcomes.scored += 1;
                self.values.push(*value);
                self.labels.push(label.clone());
            }
            ScoreOutcome::Scored { .. } | ScoreOutcome::Unparsable { .. } => {
                self.outcomes.unparsable += 1
            }
            ScoreOutcome::NotApplicable { .. } => self.outcomes.not_applicable += 1,
            ScoreOutcome::Error { .. } => self.outcomes.error += 1,
        }
    }

    pub fn n(&self) -> usize {
        self.values.len()
    }

    pub fn mean(&self) -> Option<f64> {
        (!self.values.is_empty())
            .then(|| self.values.iter().sum::<f64>() / self.values.len() as f64)
    }
}

/// Everything the analysis needs to know about one scorer of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorerInput {
    pub name: String,
    pub kind: ScoreKind,
    pub current: SideScores,
    /// `None` when the job has no baseline.
    pub baseline: Option<SideScores>,
    /// With repeats > 1: the share of samples whose verdicts all agreed.
    pub agreement: Option<f64>,
    /// Why the scorer did not run, when it did not.
    pub skipped: Option<String>,
}

/// Per-sample features of one side's traffic, for drift of inputs and outputs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextFeatures {
    /// Input length in characters.
    pub input_length: Vec<f64>,
    /// Output length in characters (refusals left out).
    pub output_length: Vec<f64>,
    /// Reported latencies (samples without one are left out).
    pub latency_ms: Vec<f64>,
    /// Reported prompt + completion tokens (samples without either are left out).
    pub tokens: Vec<f64>,
    /// Whether each output reads as a refusal.
    pub refused: Vec<bool>,
    /// Embeddings of (at most [`MAX_EMBEDDED_PER_SIDE`] of) the inputs; the
    /// built-in hashed 3-gram embedding unless a provider's were put here.
    pub input_embeddings: Vec<Vec<f64>>,
}

impl TextFeatures {
    /// Features of the samples, with the built-in embedding of the inputs
    /// [`TextFeatures::measure`] chooses.
    pub fn from_samples<'a>(samples: impl IntoIterator<Item = &'a TrafficSample>) -> Self {
        let (mut features, inputs) = Self::measure(samples);
        features.input_embeddings = inputs.into_iter().map(hashed_trigram_embedding).collect();
        features
    }

    /// Features of the samples with `input_embeddings` left empty, and the
    /// inputs to embed: an even subsample of at most [`MAX_EMBEDDED_PER_SIDE`].
    pub fn measure<'a>(
        samples: impl IntoIterator<Item = &'a TrafficSample>,
    ) -> (Self, Vec<&'a str>) {
        let mut features = Self::default();
        let mut inputs: Vec<&str> = Vec::new();
        for s in samples {
            inputs.push(s.input.as_str());
            features.input_length.push(s.input.chars().count() as f64);
            let refused = is_refusal(&s.output);
            // A refusal's length is not an answer's: the refusal rate tells that change.
            if !refused {
                features.output_length.push(s.output.chars().count() as f64);
            }
            if let Some(ms) = s.latency_ms.filter(|x| x.is_finite()) {
                features.latency_ms.push(ms);
            }
            if s.prompt_tokens.is_some() || s.completion_tokens.is_some() {
                let total = s
                    .prompt_tokens
                    .unwrap_or(0)
                    .saturating_add(s.completion_tokens.unwrap_or(0));
                features.tokens.push(total as f64);
            }
            features.refused.push(refused);
        }
        (features, even_subsample(&inputs, MAX_EMBEDDED_PER_SIDE))
    }
}

/// Text features of both sides (only when the job has a baseline).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureSides {
    pub current: TextFeatures,
    pub baseline: TextFeatures,
    /// Which embedding both sides' `input_embeddings` come from.
    pub embedding: EmbeddingUsed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisInput {
    pub scorers: Vec<ScorerInput>,
    pub thresholds: ResolvedThresholds,
    pub features: Option<FeatureSides>,
    /// Whether the request named its scorers (then a skipped one is a warning).
    pub scorers_requested: bool,
}

/// The job's summary and flags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    pub summary: BTreeMap<String, ScorerSummary>,
    pub flags: Vec<Flag>,
    /// What leaves the job's evidence incomplete.
    pub warnings: Vec<JobWarning>,
}

/// Summarises a job's scores and decides its flags (regression, then
/// hallucination, then drift; each in scorer order) and warnings.
pub fn analyse(input: &AnalysisInput) -> Analysis {
    let t = &input.thresholds;
    let ran: Vec<&ScorerInput> = input
        .scorers
        .iter()
        .filter(|s| s.skipped.is_none())
        .collect();

    let mut regressions = regression::candidates(&ran);
    let mut drifts = drift::candidates(&ran, input.features.as_ref());
    adjust(
        regressions
            .iter_mut()
            .map(|c| &mut c.evidence)
            .chain(
                drifts
                    .iter_mut()
                    .filter(|c| c.evidence.p_value.is_some())
                    .map(|c| &mut c.evidence),
            )
            .collect(),
    );

    let mut flags: Vec<Flag> = regressions
        .iter()
        .filter_map(|c| regression::decide(c, t))
        .collect();
    for scorer in &ran {
        if let Some(flag) = hallucination::rate_flag(scorer, t) {
            flags.push(flag);
        }
    }
    flags.extend(drifts.iter().filter_map(|c| drift::decide(c, t)));
    Analysis {
        summary: summarise(&input.scorers),
        flags,
        warnings: warnings(&input.scorers, input.scorers_requested),
    }
}

/// Fills `p_adjusted` of one Benjamini–Hochberg family.
fn adjust(family: Vec<&mut Evidence>) {
    if family.is_empty() {
        return;
    }
    let raw: Vec<f64> = family.iter().map(|e| e.p_value.unwrap_or(1.0)).collect();
    let adjusted = evalguard_stats::benjamini_hochberg(&raw);
    for (evidence, p) in family.into_iter().zip(adjusted) {
        evidence.p_adjusted = Some(if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            1.0
        });
    }
}

/// A p-value that can enter the BH family (a degenerate test counts as no evidence).
fn finite_p(p: f64) -> f64 {
    if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests;
