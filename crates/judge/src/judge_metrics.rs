//! The judge's Prometheus metrics: what each provider was asked, how it
//! answered, what it cost. Labels are the configured provider name and a
//! closed set of outcomes, so series stay few.

use std::time::Duration;

use crate::config::ProviderConfig;
use crate::provider::{CallError, CallReport};

/// Counter, labels `provider`, `outcome` (`ok`, `error`, `fatal`): judge
/// calls, each counted once whatever its retries.
pub const JUDGE_CALLS: &str = "evalguard_judge_calls_total";
/// Counter, labels `provider`, `outcome` (`ok`, `rate_limited`, `retryable`,
/// `fatal`, `failed`): HTTP requests to the provider, retries included.
pub const JUDGE_REQUESTS: &str = "evalguard_judge_requests_total";
/// Counter, label `provider`: requests the provider answered with 429.
pub const JUDGE_RATE_LIMITED: &str = "evalguard_judge_rate_limited_total";
/// Counter, label `provider`: requests made again after a failed one.
pub const JUDGE_RETRIES: &str = "evalguard_judge_retries_total";
/// Counter, labels `provider`, `kind` (`prompt`, `completion`): tokens the provider reported.
pub const JUDGE_TOKENS: &str = "evalguard_judge_tokens_total";
/// Gauge, label `provider`: cost in US dollars at the configured prices,
/// summed since the process started. A gauge because the metrics facade's
/// counters are integers and a call costs fractions of a cent; it only grows.
pub const JUDGE_COST: &str = "evalguard_judge_cost_usd";
/// Histogram (seconds), label `provider`: one call, retries and waits included.
pub const JUDGE_CALL_DURATION: &str = "evalguard_judge_call_duration_seconds";

/// Registers the help text of every judge metric with the installed recorder.
pub fn describe() {
    metrics::describe_counter!(
        JUDGE_CALLS,
        "Judge calls by provider and outcome (ok, error after retries, fatal key/model error)."
    );
    metrics::describe_counter!(
        JUDGE_REQUESTS,
        "HTTP requests to judge providers, retries included, by outcome."
    );
    metrics::describe_counter!(
        JUDGE_RATE_LIMITED,
        "Judge provider requests answered 429 Too Many Requests."
    );
    metrics::describe_counter!(
        JUDGE_RETRIES,
        "Judge provider requests made again after a retryable failure."
    );
    metrics::describe_counter!(
        JUDGE_TOKENS,
        "Tokens reported by judge providers, by kind (prompt, completion)."
    );
    metrics::describe_gauge!(
        JUDGE_COST,
        "Cost of judge calls in US dollars at the configured prices, summed since start."
    );
    metrics::describe_histogram!(
        JUDGE_CALL_DURATION,
        metrics::Unit::Seconds,
        "Duration of one judge call, retries and waits included."
    );
}

/// What one HTTP request to the provider came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    Ok,
    RateLimited,
    Retryable,
    Fatal,
    Failed,
}

impl RequestOutcome {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::RateLimited => "rate_limited",
            Self::Retryable => "retryable",
            Self::Fatal => "fatal",
            Self::Failed => "failed",
        }
    }
}

/// Counts one HTTP request; `attempt` is 1 for the first of a call.
pub fn record_request(provider: &ProviderConfig, attempt: u32, outcome: RequestOutcome) {
    let name = provider.name.clone();
    metrics::counter!(JUDGE_REQUESTS, "provider" => name.clone(), "outcome" => outcome.label())
        .increment(1);
    if outcome == RequestOutcome::RateLimited {
        metrics::counter!(JUDGE_RATE_LIMITED, "provider" => name.clone()).increment(1);
    }
    if attempt > 1 {
        metrics::counter!(JUDGE_RETRIES, "provider" => name).increment(1);
    }
}

/// Counts a finished call: its outcome, tokens, cost and duration.
pub fn record_call(provider: &ProviderConfig, report: &CallReport, took: Duration) {
    let name = provider.name.clone();
    let outcome = match &report.result {
        Ok(_) => "ok",
        Err(CallError::Failed(_)) => "error",
        Err(CallError::Fatal(_)) => "fatal",
    };
    metrics::counter!(JUDGE_CALLS, "provider" => name.clone(), "outcome" => outcome).increment(1);
    metrics::counter!(JUDGE_TOKENS, "provider" => name.clone(), "kind" => "prompt")
        .increment(report.prompt_tokens);
    metrics::counter!(JUDGE_TOKENS, "provider" => name.clone(), "kind" => "completion")
        .increment(report.completion_tokens);
    let cost = provider.cost_usd(report.prompt_tokens, report.completion_tokens);
    if cost > 0.0 {
        metrics::gauge!(JUDGE_COST, "provider" => name.clone()).increment(cost);
    }
    metrics::histogram!(JUDGE_CALL_DURATION, "provider" => name).record(took.as_secs_f64());
}
