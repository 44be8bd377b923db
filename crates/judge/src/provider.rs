//! One configured judge provider: its HTTP client, adaptive concurrency,
//! optional fixed rates, and the call loop (hard timeout, retries with
//! backoff and jitter, `Retry-After`, fatal key errors).

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use serde_json::Value;

use crate::config::{ProviderConfig, ProviderConfigError};
use crate::judge_metrics::{RequestOutcome, record_call, record_request};
use crate::judge_spec::truncate_raw;
use crate::limiter::AdaptiveLimiter;
use crate::prompts::RenderedPrompt;
use crate::protocol::{Answer, ProviderProtocol, protocol_for};
use crate::rate_limit_headers::request_budget;
use crate::retry_policy::{backoff, jitter, retry_after};
use crate::wire::MAX_OUTPUT_TOKENS;

/// Attempts per call when the configuration does not say.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 6;

/// What the judge replied, before interpretation.
#[derive(Debug, Clone, PartialEq)]
pub enum JudgeReply {
    /// A structured verdict (Anthropic's forced tool call input).
    Structured { verdict: Value, raw: String },
    /// Message text (JSON or `LABEL:` lines expected in it).
    Text(String),
    /// A 200 whose body is not the protocol's, or a refusal.
    Unreadable { raw: String, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// 401/403/404: the key or the model is wrong; stop this scorer for the job.
    #[error("{0}")]
    Fatal(String),
    /// Retries exhausted, or a non-retryable answer (e.g. 400).
    #[error("{0}")]
    Failed(String),
}

/// The result of one call, with what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct CallReport {
    pub result: Result<JudgeReply, CallError>,
    /// HTTP requests made, retries included.
    pub requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

enum Attempt {
    Done {
        reply: JudgeReply,
        prompt_tokens: u64,
        completion_tokens: u64,
    },
    Retry {
        cause: String,
        retry_after: Option<Duration>,
        rate_limited: bool,
    },
    Fatal(String),
    Failed(String),
}

fn request_outcome(attempt: &Attempt) -> RequestOutcome {
    match attempt {
        Attempt::Done { .. } => RequestOutcome::Ok,
        Attempt::Retry {
            rate_limited: true, ..
        } => RequestOutcome::RateLimited,
        Attempt::Retry { .. } => RequestOutcome::Retryable,
        Attempt::Fatal(_) => RequestOutcome::Fatal,
        Attempt::Failed(_) => RequestOutcome::Failed,
    }
}

pub struct JudgeProvider {
    config: ProviderConfig,
    api_key: Option<String>,
    protocol: &'static dyn ProviderProtocol,
    client: reqwest::Client,
    limiter: AdaptiveLimiter,
    requests_per_minute: Option<DefaultDirectRateLimiter>,
    tokens_per_minute: Option<(DefaultDirectRateLimiter, u32)>,
}

impl std::fmt::Debug for JudgeProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JudgeProvider")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl JudgeProvider {
    /// Builds the client; reads the key from the configured environment variable.
    pub fn new(config: ProviderConfig) -> Result<Self, ProviderConfigError> {
        config.validate()?;
        let api_key = config.resolve_api_key()?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let timeout = Duration::from_secs(config.timeout_secs);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(config.max_concurrency as usize)
            .build()
            .map_err(|e| ProviderConfigError::Invalid {
                provider: config.name.clone(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        let per_minute = |n: Option<u32>| {
            n.and_then(NonZeroU32::new)
                .map(|n| RateLimiter::direct(Quota::per_minute(n)))
        };
        Ok(Self {
            limiter: AdaptiveLimiter::new(config.max_concurrency),
            requests_per_minute: per_minute(config.requests_per_minute),
            tokens_per_minute: config
                .tokens_per_minute
                .and_then(|n| per_minute(Some(n)).map(|limiter| (limiter, n))),
            api_key,
            protocol: protocol_for(config.kind),
            client,
            config,
        })
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn model(&self) -> &str {
        &self.config.model
    }

    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    pub fn structured_output(&self) -> bool {
        self.config.structured_output
    }

    pub fn limiter(&self) -> &AdaptiveLimiter {
        &self.limiter
    }

    /// Reads the provider's request budget from an answer and, when the
    /// calls already on their way would use it up, holds new ones until it
    /// refills: paced by the provider rather than by its 429s.
    fn pace(&self, headers: &reqwest::header::HeaderMap) {
        if let Some(budget) = request_budget(headers, chrono::Utc::now()) {
            let others = u64::from(self.limiter.in_flight().saturating_sub(1));
            let pause = budget.pause_for(others);
            if !pause.is_zero() {
                self.limiter.pause_for(pause);
            }
        }
    }

    /// Makes one judge call, retrying what is worth retrying.
    pub async fn call(&self, prompt: &RenderedPrompt, schema: &Value) -> CallReport {
        let started = tokio::time::Instant::now();
        let report = self.call_with_retries(prompt, schema).await;
        record_call(&self.config, &report, started.elapsed());
        report
    }

    async fn call_with_retries(&self, prompt: &RenderedPrompt, schema: &Value) -> CallReport {
        let body = match self.protocol.encode(&self.config, prompt, schema) {
            Ok(body) => body,
            Err(e) => {
                return CallReport {
                    result: Err(CallError::Failed(format!(
                        "the request does not encode: {e}"
                    ))),
                    requests: 0,
                    prompt_tokens: 0,
                    completion_tokens: 0,
                };
            }
        };
        let estimated_tokens =
            ((prompt.system.len() + prompt.user.len()) / 4) as u32 + MAX_OUTPUT_TOKENS;
        let max_attempts = self
            .config
            .max_attempts
            .unwrap_or(DEFAULT_MAX_ATTEMPTS)
            .max(1);
        let mut report = CallReport {
            result: Err(CallError::Failed("no attempt was made".into())),
            requests: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
        };
        for attempt in 1..=max_attempts {
            if let Some(limiter) = &self.requests_per_minute {
                limiter.until_ready().await;
            }
            if let Some((limiter, capacity)) = &self.tokens_per_minute {
                let n = NonZeroU32::new(estimated_tokens.clamp(1, *capacity))
                    .unwrap_or(NonZeroU32::MIN);
                let _ = limiter.until_n_ready(n).await;
            }
            let permit = self.limiter.acquire().await;
            report.requests += 1;
            let outcome = self.attempt(&body).await;
            record_request(&self.config, attempt, request_outcome(&outcome));
            let wait = match outcome {
                Attempt::Done {
                    reply,
                    prompt_tokens,
                    completion_tokens,
                } => {
                    permit.success();
                    report.prompt_tokens += prompt_tokens;
                    report.completion_tokens += completion_tokens;
                    report.result = Ok(reply);
                    return report;
                }
                Attempt::Fatal(cause) => {
                    report.result = Err(CallError::Fatal(cause));
                    return report;
                }
                Attempt::Failed(cause) => {
                    report.result = Err(CallError::Failed(cause));
                    return report;
                }
                Attempt::Retry {
                    cause,
                    retry_after,
                    rate_limited,
                } => {
                    if rate_limited {
                        permit.rate_limited(retry_after);
                    }
                    drop(permit);
                    tracing::debug!(provider = %self.config.name, attempt, %cause, "judge call will be retried");
                    report.result = Err(CallError::Failed(format!(
                        "{cause} (after {attempt} attempts)"
                    )));
                    retry_after.map_or_else(|| backoff(attempt), |after| after + jitter(after / 10))
                }
            };
            if attempt < max_attempts {
                tokio::time::sleep(wait).await;
            }
        }
        report
    }

    async fn attempt(&self, body: &[u8]) -> Attempt {
        let timeout = Duration::from_secs(self.config.timeout_secs);
        let request = self
            .client
            .post(self.protocol.endpoint(&self.config.base_url))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        let request = self.protocol.authorize(request, self.api_key.as_deref());
        let exchange = async {
            let response = request.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let text = response.text().await?;
            Ok::<_, reqwest::Error>((status, headers, text))
        };
        let (status, headers, text) = match tokio::time::timeout(timeout, exchange).await {
            Err(_) => {
                return Attempt::Retry {
                    cause: format!(
                        "the provider did not answer within {} s",
                        self.config.timeout_secs
                    ),
                    retry_after: None,
                    rate_limited: false,
                };
            }
            Ok(Err(e)) if e.is_timeout() || e.is_connect() || e.is_request() || e.is_body() => {
                return Attempt::Retry {
                    cause: format!("request to the provider failed: {}", describe(&e)),
                    retry_after: None,
                    rate_limited: false,
                };
            }
            Ok(Err(e)) => {
                return Attempt::Failed(format!(
                    "request to the provider failed: {}",
                    describe(&e)
                ));
            }
            Ok(Ok(parts)) => parts,
        };
        self.pace(&headers);
        if status.is_success() {
            let Answer {
                reply,
                prompt_tokens,
                completion_tokens,
            } = self.protocol.read(&text);
            return Attempt::Done {
                reply,
                prompt_tokens,
                completion_tokens,
            };
        }
        let detail = truncate_raw(text.trim());
        let cause = format!("provider answered {status}: {}", first_chars(&detail, 300));
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Attempt::Fatal(format!(
                "provider rejected the key: {} {}",
                status.as_u16(),
                first_chars(&detail, 300)
            )),
            StatusCode::NOT_FOUND => Attempt::Fatal(format!(
                "provider answered 404 (wrong base URL or model {:?}): {}",
                self.config.model,
                first_chars(&detail, 300)
            )),
            StatusCode::TOO_MANY_REQUESTS => Attempt::Retry {
                cause,
                retry_after: retry_after(&headers),
                rate_limited: true,
            },
            s if s == StatusCode::REQUEST_TIMEOUT || s.as_u16() == 425 || s.is_server_error() => {
                Attempt::Retry {
                    cause,
                    retry_after: retry_after(&headers),
                    rate_limited: false,
                }
            }
            _ => Attempt::Failed(cause),
        }
    }
}

pub(crate) fn first_chars(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

/// reqwest's error with its sources (the top level alone says little).
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
