//! An LLM judge as a [`Scorer`]: cache lookup, prompt rendering, the provider
//! call, interpretation of the reply, repeats with a majority verdict, and a
//! stop for the whole job when the provider rejects the key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use evalguard_domain::ScoreOutcome;
use evalguard_domain::scoring::{
    CallUsage, ScoreFuture, ScoreKind, ScoreOptions, Scorer, ScorerRun,
};
use evalguard_domain::traffic::TrafficSample;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::judge_spec::JudgeSpec;
use crate::majority::combine_repeats;
use crate::prompts::{PromptRenderer, SYSTEM_TEMPLATE, new_nonce};
use crate::provider::{CallError, JudgeProvider, JudgeReply};
use crate::verdict_cache::VerdictCache;
use crate::verdict_parser::ParsedReply;
use crate::verdict_store::VerdictStore;

/// Judgments being made, by cache key; each cell ends with the judgment.
type InFlight = HashMap<String, Arc<OnceCell<(ScoreOutcome, CallUsage)>>>;

/// Most repeats honoured per sample.
pub const MAX_REPEATS: u32 = 5;

pub struct JudgeScorer {
    spec: JudgeSpec,
    /// `spec.output_schema()`, built once rather than per call.
    schema: Value,
    provider: Arc<JudgeProvider>,
    renderer: Arc<PromptRenderer>,
    /// SHA-256 of the system and judge templates' text, for the cache key.
    templates_digest: [u8; 32],
    cache: Option<VerdictCache>,
    /// Judgments being made, by cache key: an identical judgment asked for
    /// meanwhile (the same text twice in a job) waits for it instead of
    /// calling the provider again.
    in_flight: Mutex<InFlight>,
    /// Set on the first 401/403/404: later samples get this cause without a call.
    stopped: OnceLock<String>,
}

impl JudgeScorer {
    pub fn new(
        spec: JudgeSpec,
        provider: Arc<JudgeProvider>,
        renderer: Arc<PromptRenderer>,
        cache: Option<Arc<dyn VerdictStore>>,
    ) -> Self {
        let mut templates = Sha256::new();
        for name in [SYSTEM_TEMPLATE, spec.template] {
            let text = renderer.template_source(name);
            templates.update((text.len() as u64).to_le_bytes());
            templates.update(text.as_bytes());
        }
        Self {
            schema: spec.output_schema(),
            templates_digest: templates.finalize().into(),
            spec,
            provider,
            renderer,
            cache: cache.map(VerdictCache::new),
            in_flight: Mutex::new(HashMap::new()),
            stopped: OnceLock::new(),
        }
    }

    pub fn spec(&self) -> &JudgeSpec {
        &self.spec
    }

    /// The cache key of one repeat of this judge on this sample.
    pub fn cache_key(&self, sample: &TrafficSample, repeat: u32) -> String {
        let mut hasher = Sha256::new();
        let mut field = |bytes: &[u8]| {
            // Length-prefixed, so that field boundaries cannot be shifted.
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        field(b"evalguard-judge-verdict/2");
        field(SYSTEM_TEMPLATE.as_bytes());
        field(self.spec.template.as_bytes());
        field(&self.templates_digest);
        field(self.spec.name.as_bytes());
        field(format!("{:?}", self.spec.interpretation).as_bytes());
        field(self.spec.criteria.as_deref().unwrap_or("").as_bytes());
        field(self.provider.model().as_bytes());
        field(&repeat.to_le_bytes());
        field(sample.input.as_bytes());
        field(sample.output.as_bytes());
        field(&(sample.context.len() as u64).to_le_bytes());
        for passage in &sample.context {
            field(passage.as_bytes());
        }
        field(
            sample
                .reference
                .as_deref()
                .unwrap_or("\u{0}none")
                .as_bytes(),
        );
        hex::encode(hasher.finalize())
    }

    async fn judge_once(
        &self,
        sample: &TrafficSample,
        repeat: u32,
        read_cache: bool,
    ) -> (ScoreOutcome, CallUsage) {
        let mut usage = CallUsage::default();
        let key = self.cache_key(sample, repeat);
        if let Some(cache) = &self.cache
            && read_cache
        {
            match cache.get(&key).await {
                Ok(Some(stored)) => {
                    if let Ok(outcome @ ScoreOutcome::Scored { .. }) =
                        serde_json::from_value::<ScoreOutcome>(stored)
                    {
                        usage.cache_hits = 1;
                        return (outcome, usage);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(scorer = %self.spec.name, error = %e, "judge cache read failed; calling the provider")
                }
            }
        }
        let cell = Arc::clone(
            self.lock_in_flight()
                .entry(key.clone())
                .or_insert_with(|| Arc::new(OnceCell::new())),
        );
        let mut made_here = false;
        let (outcome, call_usage) = cell
            .get_or_init(|| {
                made_here = true;
                self.call_provider(sample, key.clone())
            })
            .await
            .clone();
        if made_here {
            let mut in_flight = self.lock_in_flight();
            if in_flight.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                in_flight.remove(&key);
            }
            return (outcome, call_usage);
        }
        // Another call made this judgment: no request of ours, like a cache hit.
        usage.cache_hits = 1;
        (outcome, usage)
    }

    fn lock_in_flight(&self) -> std::sync::MutexGuard<'_, InFlight> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Calls the provider for one judgment and caches a scored verdict.
    async fn call_provider(
        &self,
        sample: &TrafficSample,
        key: String,
    ) -> (ScoreOutcome, CallUsage) {
        let mut usage = CallUsage::default();
        if let Some(cause) = self.stopped.get() {
            return (
                ScoreOutcome::Error {
                    cause: cause.clone(),
                },
                usage,
            );
        }
        let nonce = new_nonce();
        let structured = self.provider.structured_output();
        let prompt = match self.renderer.render(&self.spec, sample, &nonce, structured) {
            Ok(prompt) => prompt,
            Err(e) => {
                return (
                    ScoreOutcome::Error {
                        cause: e.to_string(),
                    },
                    usage,
                );
            }
        };
        let report = self.provider.call(&prompt, &self.schema).await;
        usage.judge_requests = report.requests;
        usage.prompt_tokens = report.prompt_tokens;
        usage.completion_tokens = report.completion_tokens;
        usage.cost_usd = self
            .provider
            .config()
            .cost_usd(report.prompt_tokens, report.completion_tokens);
        let outcome = match report.result {
            Ok(JudgeReply::Structured {
                verdict: Value::Object(map),
                raw,
            }) => self.spec.interpret(&ParsedReply::Json(map), &raw),
            Ok(JudgeReply::Structured { raw, .. }) => self.spec.interpret_text(&raw),
            Ok(JudgeReply::Text(text)) => self.spec.interpret_text(&text),
            Ok(JudgeReply::Unreadable { raw, reason }) => ScoreOutcome::Unparsable { raw, reason },
            Err(CallError::Fatal(cause)) => {
                tracing::warn!(scorer = %self.spec.name, provider = %self.provider.name(), %cause, "judge stopped for this job");
                let cause = format!(
                    "{cause} (judge provider {}; {} stopped for this job)",
                    self.provider.name(),
                    self.spec.name
                );
                let _ = self.stopped.set(cause);
                let cause = self.stopped.get().cloned().unwrap_or_default();
                ScoreOutcome::Error { cause }
            }
            Err(CallError::Failed(cause)) => ScoreOutcome::Error { cause },
        };
        if let (Some(cache), ScoreOutcome::Scored { .. }) = (&self.cache, &outcome)
            && let Ok(value) = serde_json::to_value(&outcome)
        {
            cache.put(key, value);
        }
        (outcome, usage)
    }
}

impl Scorer for JudgeScorer {
    fn name(&self) -> &str {
        &self.spec.name
    }

    fn kind(&self) -> ScoreKind {
        ScoreKind::Score
    }

    fn is_deterministic(&self) -> bool {
        false
    }

    fn passes(&self, outcome: &ScoreOutcome) -> Option<bool> {
        self.spec.passes(outcome)
    }

    fn score<'a>(&'a self, sample: &'a TrafficSample, options: ScoreOptions) -> ScoreFuture<'a> {
        Box::pin(async move {
            if let Some(reason) = self.spec.not_applicable(sample) {
                return ScorerRun::from(ScoreOutcome::NotApplicable { reason });
            }
            let repeats = options.repeats.clamp(1, MAX_REPEATS);
            let mut usage = CallUsage::default();
            let mut outcomes = Vec::with_capacity(repeats as usize);
            for repeat in 0..repeats {
                let (outcome, repeat_usage) = self.judge_once(sample, repeat, options.cache).await;
                usage.add(&repeat_usage);
                outcomes.push(outcome);
            }
            if repeats == 1 {
                let outcome = outcomes.pop().unwrap_or(ScoreOutcome::Error {
                    cause: "no verdict".into(),
                });
                return ScorerRun {
                    outcome,
                    usage,
                    agreed: None,
                };
            }
            let (outcome, agreed) = combine_repeats(outcomes);
            ScorerRun {
                outcome,
                usage,
                agreed: Some(agreed),
            }
        })
    }
}
