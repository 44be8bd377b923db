//! LLM-as-judge scorers: OpenAI-compatible and Anthropic providers over plain
//! HTTP, versioned judge templates with delimited untrusted content, lenient
//! verdict parsing, outcomes that never turn a failure into a score, adaptive
//! concurrency per provider, cost accounting and a verdict cache.
//!
//! The binary builds a [`JudgeCatalog`] from a [`JudgeConfig`] (the TOML
//! `[judge]` section, or [`JudgeConfig::from_env_shortcut`]) around the
//! deterministic scorer catalog and the storage's judge cache.

pub mod catalog;
pub mod config;
pub mod embeddings;
pub mod judge_metrics;
pub mod judge_scorer;
pub mod judge_spec;
pub mod limiter;
pub mod majority;
pub mod prompts;
mod protocol;
pub mod provider;
pub mod rate_limit_headers;
pub mod retry_policy;
pub mod verdict_cache;
pub mod verdict_parser;
pub mod verdict_store;
mod wire;

pub use catalog::{DEFAULT_JUDGES, JudgeCatalog, JudgeSetupError, builtin_judge_names};
pub use config::{JudgeConfig, ProviderConfig, ProviderConfigError, ProviderKind};
pub use embeddings::{EmbeddingConfig, OpenAiEmbedder};
pub use judge_scorer::JudgeScorer;
pub use judge_spec::{BUILTIN_JUDGES, JudgeSpec};
pub use provider::JudgeProvider;
pub use verdict_store::{VerdictStore, VerdictStoreError};
