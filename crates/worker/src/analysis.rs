//! The job summary and flags, computed from every stored result once
//! scoring is over, by the domain's flag analysis.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::samples::LoadedSamples;
use evalguard_domain::OrgId;
use evalguard_domain::analysis::{
    Analysis, AnalysisInput, EmbeddingError, EmbeddingUsed, FeatureSides, ResolvedThresholds,
    ScorerInput, SideScores, TextEmbedder, TextFeatures, analyse, hashed_trigram_embedding,
};
use evalguard_domain::scoring::{SampleRole, ScoreKind, Scorer};
use evalguard_storage::{Storage, StorageError, StoredResult};

/// What the worker knows when scoring is over.
pub(crate) struct JobScores<'a> {
    pub scorers: &'a [Arc<dyn Scorer>],
    /// Scorers that did not run, with the reason.
    pub skipped: &'a BTreeMap<String, String>,
    pub results: &'a [StoredResult],
    /// Whether the job has a baseline side at all.
    pub has_baseline: bool,
    pub repeats: u32,
    /// Whether the request named its scorers.
    pub scorers_requested: bool,
    pub thresholds: ResolvedThresholds,
    /// Traffic features of both sides, when there is a baseline.
    pub features: Option<FeatureSides>,
}

pub(crate) fn analyse_job(scores: &JobScores<'_>) -> Analysis {
    analyse(&analysis_input(scores))
}

fn analysis_input(scores: &JobScores<'_>) -> AnalysisInput {
    let mut inputs = Vec::new();
    for scorer in scores.scorers {
        let name = scorer.name();
        let mut current = SideScores::default();
        let mut baseline = SideScores::default();
        let (mut agreed, mut with_agreement) = (0u64, 0u64);
        for result in scores.results {
            let Some(outcome) = result.scores.get(name) else {
                continue;
            };
            match result.role {
                SampleRole::Current => {
                    current.push(outcome);
                    if let Some(a) = result.agreement.get(name) {
                        with_agreement += 1;
                        agreed += u64::from(*a);
                    }
                }
                SampleRole::Baseline => baseline.push(outcome),
            }
        }
        inputs.push(ScorerInput {
            name: name.to_owned(),
            kind: scorer.kind(),
            current,
            baseline: scores.has_baseline.then_some(baseline),
            agreement: (scores.repeats > 1 && with_agreement > 0)
                .then(|| agreed as f64 / with_agreement as f64),
            skipped: None,
        });
    }
    for (name, reason) in scores.skipped {
        if inputs.iter().any(|s| &s.name == name) {
            continue;
        }
        inputs.push(ScorerInput {
            name: name.clone(),
            kind: ScoreKind::Score,
            current: SideScores::default(),
            baseline: None,
            agreement: None,
            skipped: Some(reason.clone()),
        });
    }
    AnalysisInput {
        scorers: inputs,
        thresholds: scores.thresholds,
        features: scores.features.clone(),
        scorers_requested: scores.scorers_requested,
    }
}

/// Input and output features of both sides' traffic, for drift; the inputs
/// embedded by the configured model when there is one (the built-in
/// embedding when there is none or it fails, and the job's evidence says so).
pub(crate) async fn load_features(
    storage: &Storage,
    org: OrgId,
    samples: &mut LoadedSamples,
    current: &[i64],
    baseline: &[i64],
    embedder: Option<&dyn TextEmbedder>,
) -> Result<FeatureSides, StorageError> {
    samples.load_missing(storage, org, current).await?;
    samples.load_missing(storage, org, baseline).await?;
    let (mut current_features, current_inputs) = TextFeatures::measure(samples.of(current));
    let (mut baseline_features, baseline_inputs) = TextFeatures::measure(samples.of(baseline));
    let texts: Vec<&str> = current_inputs
        .iter()
        .chain(&baseline_inputs)
        .copied()
        .collect();
    let mut embedding = EmbeddingUsed::default();
    let provided = match embedder {
        None => None,
        Some(embedder) => match embed_checked(embedder, &texts).await {
            Ok(vectors) => {
                embedding.name = embedder.name().to_owned();
                Some(vectors)
            }
            Err(error) => {
                tracing::warn!(embedding = embedder.name(), %error, "embedding provider failed; using the built-in embedding");
                embedding.fallback_reason = Some(format!("{}: {error}", embedder.name()));
                None
            }
        },
    };
    let mut vectors = provided.unwrap_or_else(|| {
        texts
            .iter()
            .map(|text| hashed_trigram_embedding(text))
            .collect()
    });
    baseline_features.input_embeddings = vectors.split_off(current_inputs.len());
    current_features.input_embeddings = vectors;
    Ok(FeatureSides {
        current: current_features,
        baseline: baseline_features,
        embedding,
    })
}

/// The embedder's vectors, refused unless there is one per text, all of one dimension.
async fn embed_checked(
    embedder: &dyn TextEmbedder,
    texts: &[&str],
) -> Result<Vec<Vec<f64>>, EmbeddingError> {
    let vectors = embedder.embed(texts).await?;
    let dim = vectors.first().map_or(0, Vec::len);
    if vectors.len() != texts.len() || vectors.iter().any(|v| v.len() != dim) {
        return Err(EmbeddingError(format!(
            "expected {} vectors of one dimension, got {}",
            texts.len(),
            vectors.len()
        )));
    }
    Ok(vectors)
}
