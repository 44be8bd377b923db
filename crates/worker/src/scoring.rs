//! Scoring one sample with every scorer of a job: deterministic scorers
//! inline, judges concurrently, and the combined result once all are done.

use std::collections::BTreeMap;
use std::sync::Arc;

use evalguard_domain::TrafficSample;
use evalguard_domain::scoring::{CallUsage, SampleRole, ScoreOptions, ScoreOutcome, Scorer};
use evalguard_storage::StoredResult;

/// The scorers a job runs, split by how they are run.
pub(crate) struct ScorerSet {
    pub deterministic: Vec<Arc<dyn Scorer>>,
    pub judges: Vec<Arc<dyn Scorer>>,
    pub options: ScoreOptions,
}

impl ScorerSet {
    pub fn new(scorers: Vec<Arc<dyn Scorer>>, options: ScoreOptions) -> Self {
        let (deterministic, judges) = scorers.into_iter().partition(|s| s.is_deterministic());
        Self {
            deterministic,
            judges,
            options,
        }
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn Scorer>> {
        self.deterministic.iter().chain(self.judges.iter())
    }

    pub fn has_judges(&self) -> bool {
        !self.judges.is_empty()
    }
}

/// A sample's outcomes while they are being collected.
#[derive(Clone)]
pub(crate) struct SampleScores {
    pub role: SampleRole,
    pub key: i64,
    pub sample_id: String,
    pub scores: BTreeMap<String, ScoreOutcome>,
    pub usage: CallUsage,
    pub agreement: BTreeMap<String, bool>,
}

impl SampleScores {
    pub fn new(role: SampleRole, key: i64, sample_id: String) -> Self {
        Self {
            role,
            key,
            sample_id,
            scores: BTreeMap::new(),
            usage: CallUsage::default(),
            agreement: BTreeMap::new(),
        }
    }

    fn record(&mut self, scorer: &dyn Scorer, run: evalguard_domain::ScorerRun) {
        self.usage.add(&run.usage);
        if let Some(agreed) = run.agreed {
            self.agreement.insert(scorer.name().to_owned(), agreed);
        }
        self.scores.insert(scorer.name().to_owned(), run.outcome);
    }

    /// The stored form. Only the current side is flagged: the baseline is
    /// what the current samples are compared with, not what is judged.
    pub fn finish(self, set: &ScorerSet) -> StoredResult {
        let passed: BTreeMap<String, bool> = set
            .all()
            .filter_map(|scorer| {
                let outcome = self.scores.get(scorer.name())?;
                Some((scorer.name().to_owned(), scorer.passes(outcome)?))
            })
            .collect();
        let flagged = self.role == SampleRole::Current && passed.values().any(|p| !p);
        StoredResult {
            role: self.role,
            sample_key: self.key,
            sample_id: self.sample_id,
            flagged,
            scores: self.scores,
            usage: self.usage,
            agreement: self.agreement,
            passed,
        }
    }
}

/// Runs the deterministic scorers; they make no calls and are ready at once.
pub(crate) async fn score_deterministic(
    set: &ScorerSet,
    role: SampleRole,
    key: i64,
    sample: &TrafficSample,
) -> SampleScores {
    let mut scores = SampleScores::new(role, key, sample.id.clone());
    for scorer in &set.deterministic {
        let run = scorer.score(sample, set.options).await;
        scores.record(scorer.as_ref(), run);
    }
    scores
}

/// Runs every judge on a sample at the same time. Owns what it needs, so
/// that many samples can be in flight together.
pub(crate) async fn score_judges(
    judges: Vec<Arc<dyn Scorer>>,
    options: ScoreOptions,
    sample: Arc<TrafficSample>,
    mut scores: SampleScores,
) -> SampleScores {
    let runs =
        futures::future::join_all(judges.iter().map(|judge| judge.score(&sample, options))).await;
    for (judge, run) in judges.iter().zip(runs) {
        scores.record(judge.as_ref(), run);
    }
    scores
}

/// A sample whose judge task panicked: its judges end in `error` (never a
/// score), and the deterministic outcomes already collected are kept.
pub(crate) fn judges_failed(set: &ScorerSet, mut scores: SampleScores) -> SampleScores {
    for judge in &set.judges {
        scores.scores.insert(
            judge.name().to_owned(),
            ScoreOutcome::Error {
                cause: "the judge task failed unexpectedly".to_owned(),
            },
        );
    }
    scores
}

/// The result of a sample that has disappeared from storage since the plan
/// was made: every scorer ends in `error`, so the job still completes.
pub(crate) fn missing_sample(set: &ScorerSet, role: SampleRole, key: i64) -> SampleScores {
    let mut scores = SampleScores::new(role, key, format!("#{key}"));
    for scorer in set.all() {
        scores.scores.insert(
            scorer.name().to_owned(),
            ScoreOutcome::Error {
                cause: "the sample no longer exists".to_owned(),
            },
        );
    }
    scores
}
