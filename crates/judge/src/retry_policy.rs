//! How long to wait before retrying a judge or embeddings call: the
//! provider's `Retry-After` in its forms, else EvalGuard's one backoff policy
//! (`BackoffPolicy`, shared with webhook deliveries) with the parameters for
//! model calls.

use std::time::Duration;

use evalguard_domain::BackoffPolicy;
use reqwest::header::HeaderMap;

/// Longest wait honoured from a `Retry-After`.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// `retry-after-ms` (milliseconds, sent by OpenAI-style servers), else
/// `Retry-After` as seconds or an HTTP date. Capped.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let parsed = if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        Some(ms / 1000.0)
    } else {
        header("retry-after").and_then(|value| {
            value.parse::<f64>().ok().or_else(|| {
                chrono::DateTime::parse_from_rfc2822(value).ok().map(|at| {
                    (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds() as f64
                        / 1000.0
                })
            })
        })
    };
    parsed
        .filter(|s| s.is_finite())
        .map(|s| Duration::from_secs_f64(s.clamp(0.0, MAX_RETRY_AFTER.as_secs_f64())))
}

/// The wait after failed attempt `attempt` of a judge or embeddings call
/// that the provider did not pace (`BackoffPolicy::MODEL_CALLS`: 125–250 ms
/// after the first failure, at most 20 s). The provider's `max_attempts`
/// setting, not the policy, decides when to stop.
pub fn backoff(attempt: u32) -> Duration {
    let policy = BackoffPolicy::MODEL_CALLS;
    policy
        .delay_after(attempt.max(1))
        .unwrap_or_else(|| policy.longest_delay())
}

/// A random duration in `[0, max)`.
pub fn jitter(max: Duration) -> Duration {
    let random =
        (uuid::Uuid::new_v4().as_u128() & u128::from(u32::MAX)) as f64 / f64::from(u32::MAX);
    max.mul_f64(random.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = HeaderMap::new();
        let at = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        h.insert("retry-after", HeaderValue::from_str(&at).unwrap());
        let got = retry_after(&h).unwrap();
        assert!(
            got > Duration::from_secs(25) && got <= Duration::from_secs(30),
            "{got:?}"
        );
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn backoff_follows_the_model_call_policy() {
        let policy = BackoffPolicy::MODEL_CALLS;
        assert!(backoff(1) >= policy.first_delay && backoff(1) <= policy.first_delay * 2);
        assert!(backoff(30) >= policy.max_delay && backoff(30) <= policy.longest_delay());
    }
}
