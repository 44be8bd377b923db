//! The scorer catalog the service runs with: deterministic scorers, built-in
//! judges on the configured providers, and the project's rubric scorers.

use std::collections::BTreeMap;
use std::sync::Arc;

use evalguard_domain::project::RubricDefinition;
use evalguard_domain::scorers::DeterministicCatalog;
use evalguard_domain::scoring::{ScorerAvailability, ScorerCatalog};

use crate::config::{JudgeConfig, ProviderConfigError};
use crate::judge_scorer::JudgeScorer;
use crate::judge_spec::{BUILTIN_JUDGES, JudgeSpec};
use crate::prompts::{PromptError, PromptRenderer};
use crate::provider::JudgeProvider;
use crate::verdict_store::VerdictStore;

/// The judges in a project's default scorer set (with every deterministic scorer).
pub const DEFAULT_JUDGES: [&str; 2] = ["hallucination", "answer_relevance"];

#[derive(Debug, thiserror::Error)]
pub enum JudgeSetupError {
    #[error(transparent)]
    Config(#[from] ProviderConfigError),
    #[error(transparent)]
    Prompt(#[from] PromptError),
}

/// A provider that could be built, or why it could not (e.g. its key's
/// environment variable is unset): its judges are then skipped with that reason.
enum ProviderSlot {
    Ready(Arc<JudgeProvider>),
    Unusable { reason: String },
}

pub struct JudgeCatalog {
    deterministic: Arc<dyn ScorerCatalog>,
    providers: Vec<(String, ProviderSlot)>,
    scorer_providers: BTreeMap<String, String>,
    renderer: Arc<PromptRenderer>,
    cache: Option<Arc<dyn VerdictStore>>,
}

impl JudgeCatalog {
    /// `deterministic` resolves the deterministic scorers (domain's
    /// `DeterministicCatalog`); `config` may have no provider, in which case
    /// every judge resolves to `Skipped`. `cache` = `None` disables caching.
    /// Fails on an invalid configuration (bad URL, unknown provider in
    /// `[judge.scorers]`); a provider whose key variable is unset only has its
    /// judges skipped.
    pub fn new(
        deterministic: Arc<dyn ScorerCatalog>,
        config: &JudgeConfig,
        cache: Option<Arc<dyn VerdictStore>>,
    ) -> Result<Self, JudgeSetupError> {
        config.validate()?;
        let mut providers = Vec::with_capacity(config.providers.len());
        for provider in &config.providers {
            let slot = match JudgeProvider::new(provider.clone()) {
                Ok(ready) => ProviderSlot::Ready(Arc::new(ready)),
                Err(e @ ProviderConfigError::MissingKey { .. }) => {
                    tracing::warn!(provider = %provider.name, error = %e, "judge provider unusable; its judges will be skipped");
                    ProviderSlot::Unusable {
                        reason: e.to_string(),
                    }
                }
                Err(e) => return Err(e.into()),
            };
            providers.push((provider.name.clone(), slot));
        }
        Ok(Self {
            deterministic,
            providers,
            scorer_providers: config.scorers.clone(),
            renderer: Arc::new(PromptRenderer::new()?),
            cache,
        })
    }

    /// The same, around the domain's deterministic scorers.
    pub fn with_deterministic_scorers(
        config: &JudgeConfig,
        cache: Option<Arc<dyn VerdictStore>>,
    ) -> Result<Self, JudgeSetupError> {
        Self::new(Arc::new(DeterministicCatalog), config, cache)
    }

    /// Whether any judge provider is configured.
    pub fn has_judge_provider(&self) -> bool {
        !self.providers.is_empty()
    }

    /// The built provider of that name (for metrics: its limiter).
    pub fn provider(&self, name: &str) -> Option<Arc<JudgeProvider>> {
        self.providers.iter().find_map(|(n, slot)| match slot {
            ProviderSlot::Ready(p) if n == name => Some(Arc::clone(p)),
            _ => None,
        })
    }

    fn provider_for(&self, scorer: &str) -> Result<Arc<JudgeProvider>, String> {
        let chosen = match self.scorer_providers.get(scorer) {
            Some(name) => self.providers.iter().find(|(n, _)| n == name),
            None => self.providers.first(),
        };
        match chosen {
            None => Err(
                "no judge provider is configured (set EVALGUARD_JUDGE_BASE_URL, or [[judge.providers]] in the config file)"
                    .to_owned(),
            ),
            Some((_, ProviderSlot::Ready(provider))) => Ok(Arc::clone(provider)),
            Some((_, ProviderSlot::Unusable { reason })) => Err(reason.clone()),
        }
    }

    fn judge(&self, spec: JudgeSpec) -> ScorerAvailability {
        match self.provider_for(&spec.name) {
            Ok(provider) => ScorerAvailability::Ready(Arc::new(JudgeScorer::new(
                spec,
                provider,
                Arc::clone(&self.renderer),
                self.cache.clone(),
            ))),
            Err(reason) => ScorerAvailability::Skipped { reason },
        }
    }
}

impl ScorerCatalog for JudgeCatalog {
    /// Each call builds a fresh judge scorer: resolve once per job, so that a
    /// rejected key stops the scorer for that job without affecting others.
    fn resolve(&self, name: &str, rubrics: &[RubricDefinition]) -> ScorerAvailability {
        // The deterministic catalog also knows judge names (as skipped): only
        // its ready scorers are taken, judges and rubrics are resolved here.
        let deterministic = self.deterministic.resolve(name, rubrics);
        if matches!(deterministic, ScorerAvailability::Ready(_)) {
            return deterministic;
        }
        if let Some(spec) = JudgeSpec::builtin(name) {
            return self.judge(spec);
        }
        match rubrics.iter().find(|r| r.name == name) {
            Some(rubric) => self.judge(JudgeSpec::rubric(rubric)),
            None => deterministic,
        }
    }

    fn default_set(&self) -> Vec<String> {
        let mut set = self.deterministic.default_set();
        for judge in DEFAULT_JUDGES {
            if !set.iter().any(|s| s == judge) {
                set.push(judge.to_owned());
            }
        }
        set
    }
}

/// Every built-in judge's name.
pub fn builtin_judge_names() -> &'static [&'static str] {
    &BUILTIN_JUDGES
}
