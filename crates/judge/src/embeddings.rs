//! An OpenAI-compatible `/v1/embeddings` client for drift of the inputs'
//! meaning: the `[embeddings]` section of the TOML file. Without it, jobs use
//! the domain's built-in hashed n-gram embedding.

use std::fmt;
use std::time::Duration;

use evalguard_domain::analysis::{EmbedFuture, EmbeddingError, TextEmbedder};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::{DEFAULT_TIMEOUT_SECS, ProviderConfigError};
use crate::provider::{describe, first_chars};
use crate::retry_policy::{backoff, retry_after};

/// Attempts per batch (first try included): embeddings are an extra, so a
/// failing provider falls back to the built-in embedding quickly.
const MAX_ATTEMPTS: u32 = 4;

fn default_timeout_secs() -> u64 {
    DEFAULT_TIMEOUT_SECS
}
fn default_batch_size() -> usize {
    256
}

/// The `[embeddings]` section.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingConfig {
    /// An OpenAI-compatible base URL, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub model: String,
    /// The NAME of the environment variable that holds the key (never the key).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// A key given programmatically (tests); never read from the file.
    #[serde(skip)]
    pub api_key: Option<String>,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Texts per request.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Asked of models that can shorten their vectors (`dimensions`).
    #[serde(default)]
    pub dimensions: Option<u32>,
}

impl fmt::Debug for EmbeddingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddingConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key_env", &self.api_key_env)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("timeout_secs", &self.timeout_secs)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl EmbeddingConfig {
    pub fn new(base_url: &str, model: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            model: model.to_owned(),
            api_key_env: None,
            api_key: None,
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            batch_size: default_batch_size(),
            dimensions: None,
        }
    }
}

/// Lenient: unknown fields ignored; `index` orders the vectors when present.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EmbeddingsResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EmbeddingItem {
    index: Option<usize>,
    embedding: Vec<f64>,
}

pub struct OpenAiEmbedder {
    config: EmbeddingConfig,
    api_key: Option<String>,
    client: reqwest::Client,
    name: String,
}

impl fmt::Debug for OpenAiEmbedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OpenAiEmbedder {
    pub fn new(config: EmbeddingConfig) -> Result<Self, ProviderConfigError> {
        let invalid = |message: String| ProviderConfigError::Invalid {
            provider: "embeddings".to_owned(),
            message,
        };
        if !(config.base_url.starts_with("http://") || config.base_url.starts_with("https://")) {
            return Err(invalid(
                "base_url must start with http:// or https://".into(),
            ));
        }
        if config.model.is_empty() || config.timeout_secs == 0 || config.batch_size == 0 {
            return Err(invalid(
                "model must not be empty; timeout_secs and batch_size must be at least 1".into(),
            ));
        }
        let api_key = match (&config.api_key, &config.api_key_env) {
            (Some(key), _) => Some(key.clone()),
            (None, None) => None,
            (None, Some(var)) => match std::env::var(var) {
                Ok(key) if !key.is_empty() => Some(key),
                _ => {
                    return Err(ProviderConfigError::MissingKey {
                        provider: "embeddings".to_owned(),
                        var: var.clone(),
                    });
                }
            },
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let timeout = Duration::from_secs(config.timeout_secs);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            name: format!("openai-compatible:{}", config.model),
            config,
            api_key,
            client,
        })
    }

    fn url(&self) -> String {
        format!("{}/embeddings", self.config.base_url.trim_end_matches('/'))
    }

    /// The caller (the worker) checks that every vector has one dimension.
    async fn embed_all(&self, texts: &[&str]) -> Result<Vec<Vec<f64>>, EmbeddingError> {
        // Servers refuse empty strings; the built-in embedding maps an empty
        // text to the zero vector, and so does this one.
        let non_empty: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| !t.trim().is_empty())
            .collect();
        let mut vectors = Vec::with_capacity(non_empty.len());
        for batch in non_empty.chunks(self.config.batch_size) {
            vectors.extend(self.embed_batch(batch).await?);
        }
        let dim = vectors.first().map_or(1, Vec::len);
        let mut embedded = vectors.into_iter();
        Ok(texts
            .iter()
            .map(|t| {
                if t.trim().is_empty() {
                    vec![0.0; dim]
                } else {
                    embedded.next().unwrap_or_else(|| vec![0.0; dim])
                }
            })
            .collect())
    }

    async fn embed_batch(&self, batch: &[&str]) -> Result<Vec<Vec<f64>>, EmbeddingError> {
        let mut body =
            json!({"model": self.config.model, "input": batch, "encoding_format": "float"});
        if let Some(dimensions) = self.config.dimensions {
            body["dimensions"] = json!(dimensions);
        }
        let mut last_cause = String::new();
        for attempt in 1..=MAX_ATTEMPTS {
            let mut request = self.client.post(self.url()).json(&body);
            if let Some(key) = &self.api_key {
                request = request.bearer_auth(key);
            }
            let wait = match request.send().await {
                Err(e) => {
                    last_cause =
                        format!("request to the embedding provider failed: {}", describe(&e));
                    backoff(attempt)
                }
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let text = response.text().await.unwrap_or_default();
                    if status.is_success() {
                        return read_vectors(&text, batch.len());
                    }
                    last_cause = format!(
                        "the embedding provider answered {status}: {}",
                        first_chars(text.trim(), 300)
                    );
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS
                        || status == StatusCode::REQUEST_TIMEOUT
                        || status.as_u16() == 425
                        || status.is_server_error();
                    if !retryable {
                        return Err(EmbeddingError(last_cause));
                    }
                    retry_after(&headers).unwrap_or_else(|| backoff(attempt))
                }
            };
            if attempt < MAX_ATTEMPTS {
                tokio::time::sleep(wait).await;
            }
        }
        Err(EmbeddingError(format!(
            "{last_cause} (after {MAX_ATTEMPTS} attempts)"
        )))
    }
}

/// The vectors of a 200 answer, in input order, checked for count and finiteness.
fn read_vectors(text: &str, expected: usize) -> Result<Vec<Vec<f64>>, EmbeddingError> {
    let response: EmbeddingsResponse = serde_json::from_str(text).map_err(|e| {
        EmbeddingError(format!(
            "the embedding provider's answer is not an embeddings response ({e}): {}",
            first_chars(text.trim(), 300)
        ))
    })?;
    if response.data.len() != expected {
        return Err(EmbeddingError(format!(
            "the embedding provider returned {} vectors for {expected} texts",
            response.data.len()
        )));
    }
    let mut items = response.data;
    items.sort_by_key(|item| item.index.unwrap_or(usize::MAX));
    let vectors: Vec<Vec<f64>> = items.into_iter().map(|item| item.embedding).collect();
    if vectors
        .iter()
        .any(|v| v.is_empty() || v.iter().any(|x| !x.is_finite()))
    {
        return Err(EmbeddingError(
            "the embedding provider returned an empty or non-finite vector".into(),
        ));
    }
    Ok(vectors)
}

impl TextEmbedder for OpenAiEmbedder {
    fn name(&self) -> &str {
        &self.name
    }

    fn embed<'a>(&'a self, texts: &'a [&'a str]) -> EmbedFuture<'a> {
        Box::pin(self.embed_all(texts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_ordered_by_index_and_checked() {
        let text = r#"{"object":"list","data":[
            {"object":"embedding","index":1,"embedding":[0.0,1.0]},
            {"object":"embedding","index":0,"embedding":[1.0,0.0]}],"usage":{"prompt_tokens":3}}"#;
        let v = read_vectors(text, 2).unwrap();
        assert_eq!(v, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
        assert!(read_vectors(text, 3).is_err());
        assert!(read_vectors("<html>", 1).is_err());
        assert!(read_vectors(r#"{"data":[{"embedding":[]}]}"#, 1).is_err());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let mut config = EmbeddingConfig::new("http://x/v1", "m");
        config.api_key = Some("sk-embed-secret".into());
        assert!(!format!("{config:?}").contains("sk-embed-secret"));
    }
}
