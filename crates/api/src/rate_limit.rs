//! Per-key token buckets: capacity N, refilled at N/60 tokens per second, as
//! the contract describes `--rate-limit-per-minute`. Held in memory per
//! process; a bucket is a few bytes, and only keys that authenticated get one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Beyond this many buckets, full ones are dropped (they carry no state).
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// What the limiter decided for one request, with the numbers for the
/// `RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds until one token is available (meaningful when refused).
    pub retry_after_secs: u64,
}

pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// `per_minute == 0` disables limiting.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token when one is available.
    pub fn check(&self, key: &str, now: Instant) -> RateDecision {
        self.decide(key, now, true)
    }

    /// Whether a token is available, without taking it.
    pub fn peek(&self, key: &str, now: Instant) -> RateDecision {
        self.decide(key, now, false)
    }

    fn decide(&self, key: &str, now: Instant, take: bool) -> RateDecision {
        if self.per_minute == 0 {
            return RateDecision {
                allowed: true,
                limit: 0,
                remaining: 0,
                reset_secs: 0,
                retry_after_secs: 0,
            };
        }
        let capacity = f64::from(self.per_minute);
        let rate = capacity / 60.0;
        // A poisoned lock only means another request panicked mid-update;
        // the map is still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * rate < capacity
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.updated = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed && take {
            bucket.tokens -= 1.0;
        }
        let tokens = bucket.tokens;
        drop(buckets);
        let remaining = tokens.floor().max(0.0) as u32;
        let reset_secs = ((capacity - tokens) / rate).ceil().max(0.0) as u64;
        let retry_after_secs = if allowed {
            0
        } else {
            ((1.0 - tokens) / rate).ceil().max(1.0) as u64
        };
        RateDecision {
            allowed,
            limit: self.per_minute,
            remaining,
            reset_secs,
            retry_after_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_allows_capacity_then_refuses() {
        let limiter = RateLimiter::new(3);
        let t0 = Instant::now();
        for expected_remaining in [2, 1, 0] {
            let d = limiter.check("k", t0);
            assert!(d.allowed);
            assert_eq!(d.remaining, expected_remaining);
            assert_eq!(d.limit, 3);
        }
        let refused = limiter.check("k", t0);
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        // 3 per minute: one token every 20 s.
        assert_eq!(refused.retry_after_secs, 20);
        assert_eq!(refused.reset_secs, 60);
    }

    #[test]
    fn tokens_refill_at_n_per_minute() {
        let limiter = RateLimiter::new(60);
        let t0 = Instant::now();
        for _ in 0..60 {
            assert!(limiter.check("k", t0).allowed);
        }
        assert!(!limiter.check("k", t0).allowed);
        assert!(!limiter.check("k", t0 + Duration::from_millis(500)).allowed);
        assert!(
            limiter
                .check("k", t0 + Duration::from_millis(1_001))
                .allowed
        );
        assert!(
            !limiter
                .check("k", t0 + Duration::from_millis(1_002))
                .allowed
        );
    }

    #[test]
    fn keys_have_separate_buckets() {
        let limiter = RateLimiter::new(1);
        let t0 = Instant::now();
        assert!(limiter.check("a", t0).allowed);
        assert!(!limiter.check("a", t0).allowed);
        assert!(limiter.check("b", t0).allowed);
    }

    #[test]
    fn peek_takes_no_token() {
        let limiter = RateLimiter::new(1);
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(limiter.peek("k", t0).allowed);
        }
        assert!(limiter.check("k", t0).allowed);
        assert!(!limiter.peek("k", t0).allowed);
    }

    #[test]
    fn zero_disables_limiting() {
        let limiter = RateLimiter::new(0);
        let t0 = Instant::now();
        for _ in 0..1_000 {
            assert!(limiter.check("k", t0).allowed);
        }
    }
}
