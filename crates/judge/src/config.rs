//! Judge provider configuration: the `[judge]` section of the TOML file and
//! the environment-variable shortcut of the contract.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Which wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// `POST {base_url}/chat/completions` (OpenAI, Azure OpenAI, vLLM, Ollama, LiteLLM, …).
    #[serde(alias = "openai_compatible")]
    Openai,
    /// `POST {base_url}/v1/messages`.
    Anthropic,
}

/// The contract's defaults for the environment shortcut.
pub const DEFAULT_MAX_CONCURRENCY: u32 = 64;
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;

fn default_timeout_secs() -> u64 {
    DEFAULT_TIMEOUT_SECS
}
fn default_max_concurrency() -> u32 {
    DEFAULT_MAX_CONCURRENCY
}
fn default_true() -> bool {
    true
}
fn default_seed() -> Option<u64> {
    Some(42)
}

/// One `[[judge.providers]]` entry.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: String,
    /// The NAME of the environment variable that holds the key (never the key).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// A key given programmatically (tests, the environment shortcut); never
    /// read from or written to the file.
    #[serde(skip)]
    pub api_key: Option<String>,
    pub model: String,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: u32,
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    #[serde(default)]
    pub tokens_per_minute: Option<u32>,
    #[serde(default)]
    pub input_price_per_million: Option<f64>,
    #[serde(default)]
    pub output_price_per_million: Option<f64>,
    /// JSON-schema output (OpenAI) / forced tool call (Anthropic); `false` asks
    /// for `LABEL:` / `SCORE:` lines instead.
    #[serde(default = "default_true")]
    pub structured_output: bool,
    /// Sent where the protocol supports it, for repeatable verdicts.
    #[serde(default = "default_seed")]
    pub seed: Option<u64>,
    /// Most attempts per call (first try included).
    #[serde(default)]
    pub max_attempts: Option<u32>,
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("api_key_env", &self.api_key_env)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("model", &self.model)
            .field("timeout_secs", &self.timeout_secs)
            .field("max_concurrency", &self.max_concurrency)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("tokens_per_minute", &self.tokens_per_minute)
            .field("structured_output", &self.structured_output)
            .finish_non_exhaustive()
    }
}

/// Why a provider cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderConfigError {
    #[error(
        "judge provider {provider}: the environment variable {var} that should hold its key is not set"
    )]
    MissingKey { provider: String, var: String },
    #[error("judge provider {provider}: {message}")]
    Invalid { provider: String, message: String },
}

impl ProviderConfig {
    /// An OpenAI-compatible provider with the contract's defaults.
    pub fn openai(name: &str, base_url: &str, model: &str, api_key: Option<String>) -> Self {
        Self {
            name: name.to_owned(),
            kind: ProviderKind::Openai,
            base_url: base_url.to_owned(),
            api_key_env: None,
            api_key,
            model: model.to_owned(),
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            requests_per_minute: None,
            tokens_per_minute: None,
            input_price_per_million: None,
            output_price_per_million: None,
            structured_output: true,
            seed: default_seed(),
            max_attempts: None,
        }
    }

    /// The key: the programmatic one, else the named environment variable.
    /// `Ok(None)` when the provider needs no key (local servers).
    pub fn resolve_api_key(&self) -> Result<Option<String>, ProviderConfigError> {
        if let Some(key) = &self.api_key {
            return Ok(Some(key.clone()));
        }
        match &self.api_key_env {
            None => Ok(None),
            Some(var) => match std::env::var(var) {
                Ok(key) if !key.is_empty() => Ok(Some(key)),
                _ => Err(ProviderConfigError::MissingKey {
                    provider: self.name.clone(),
                    var: var.clone(),
                }),
            },
        }
    }

    pub fn validate(&self) -> Result<(), ProviderConfigError> {
        let invalid = |message: &str| ProviderConfigError::Invalid {
            provider: self.name.clone(),
            message: message.to_owned(),
        };
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(invalid("base_url must start with http:// or https://"));
        }
        if self.model.is_empty() {
            return Err(invalid("model must not be empty"));
        }
        if self.timeout_secs == 0 || self.max_concurrency == 0 {
            return Err(invalid(
                "timeout_secs and max_concurrency must be at least 1",
            ));
        }
        if self.requests_per_minute == Some(0) || self.tokens_per_minute == Some(0) {
            return Err(invalid(
                "requests_per_minute and tokens_per_minute must be at least 1 when set",
            ));
        }
        Ok(())
    }

    /// Cost of one call, when prices are configured.
    pub fn cost_usd(&self, prompt_tokens: u64, completion_tokens: u64) -> f64 {
        let input = self.input_price_per_million.unwrap_or(0.0) * prompt_tokens as f64;
        let output = self.output_price_per_million.unwrap_or(0.0) * completion_tokens as f64;
        (input + output) / 1_000_000.0
    }
}

/// The `[judge]` section.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeConfig {
    #[serde(default)]
    pub providers: Vec<ProviderConfig>,
    /// Which provider judges which scorer (`hallucination = "provider-name"`);
    /// unmapped scorers use the first provider.
    #[serde(default)]
    pub scorers: BTreeMap<String, String>,
}

pub const ENV_BASE_URL: &str = "EVALGUARD_JUDGE_BASE_URL";
pub const ENV_API_KEY: &str = "EVALGUARD_JUDGE_API_KEY";
pub const ENV_MODEL: &str = "EVALGUARD_JUDGE_MODEL";
/// The model asked for when `EVALGUARD_JUDGE_MODEL` is unset.
pub const DEFAULT_SHORTCUT_MODEL: &str = "gpt-4o-mini";

impl JudgeConfig {
    /// The contract's shortcut: `EVALGUARD_JUDGE_BASE_URL` (required),
    /// `EVALGUARD_JUDGE_API_KEY`, `EVALGUARD_JUDGE_MODEL`; at most 64 concurrent
    /// calls (adaptive), 60 s per call, no fixed rate. `None` when no base URL is set.
    pub fn from_env_shortcut() -> Option<Self> {
        let base_url = std::env::var(ENV_BASE_URL).ok().filter(|v| !v.is_empty())?;
        let model = std::env::var(ENV_MODEL)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_SHORTCUT_MODEL.to_owned());
        let mut provider = ProviderConfig::openai("default", &base_url, &model, None);
        if std::env::var(ENV_API_KEY).is_ok_and(|v| !v.is_empty()) {
            provider.api_key_env = Some(ENV_API_KEY.to_owned());
        }
        Some(Self {
            providers: vec![provider],
            scorers: BTreeMap::new(),
        })
    }

    pub fn validate(&self) -> Result<(), ProviderConfigError> {
        for provider in &self.providers {
            provider.validate()?;
        }
        for (scorer, provider) in &self.scorers {
            if !self.providers.iter().any(|p| &p.name == provider) {
                return Err(ProviderConfigError::Invalid {
                    provider: provider.clone(),
                    message: format!(
                        "[judge.scorers] maps {scorer} to a provider that is not configured"
                    ),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let p = ProviderConfig::openai("p", "http://x", "m", Some("sk-secret-123".into()));
        let shown = format!("{p:?}");
        assert!(!shown.contains("sk-secret-123"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn cost_uses_prices_per_million() {
        let mut p = ProviderConfig::openai("p", "http://x", "m", None);
        p.input_price_per_million = Some(0.15);
        p.output_price_per_million = Some(0.60);
        let cost = p.cost_usd(1_000_000, 500_000);
        assert!((cost - 0.45).abs() < 1e-12);
    }
}
