//! When to retry a judge or embeddings call and how long to wait: the
//! provider's `Retry-After` in its forms, else one exponential policy with
//! jitter (backon's). Webhooks keep their own durable schedule: their
//! retries are stored in the database and span a day.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::HeaderMap;

/// Longest wait honoured from a `Retry-After`.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(20);

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

/// The wait before attempt `attempt + 1` of a judge or embeddings call:
/// backon's exponential policy from 125 ms, doubling, capped at 10 s, with
/// jitter adding up to as much again (so 125–250 ms after the first failure,
/// at most 20 s), which keeps many failed calls from retrying in step.
pub fn backoff(attempt: u32) -> Duration {
    ExponentialBuilder::default()
        .with_min_delay(BACKOFF_BASE / 2)
        .with_max_delay(BACKOFF_CAP / 2)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
        .nth(attempt.saturating_sub(1) as usize)
        .unwrap_or(BACKOFF_CAP)
        .min(BACKOFF_CAP)
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
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= BACKOFF_BASE);
        assert!(backoff(3) >= BACKOFF_BASE * 2);
        assert!(backoff(30) <= BACKOFF_CAP);
        assert!(backoff(30) >= BACKOFF_CAP / 2);
        for attempt in 1..8 {
            let floor = (BACKOFF_BASE / 2) * 2u32.pow(attempt - 1);
            let wait = backoff(attempt);
            assert!(
                wait >= floor.min(BACKOFF_CAP / 2) && wait <= floor * 2,
                "{attempt}: {wait:?}"
            );
        }
    }
}
