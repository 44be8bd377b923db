//! Adaptive concurrency per provider (AIMD): the number of calls in flight is
//! cut when the provider answers 429 and grows back while calls succeed, under
//! the configured ceiling. A `Retry-After` pauses new calls on the provider.
//!
//! Why this shape: a provider's rate limit is invisible until it is hit, and
//! with a fixed latency the achievable rate is `limit / latency`. Starting low
//! and doubling (slow start) finds the limit fast; after the first 429 the
//! limit is halved once, and from then on it moves in small steps (cut by 10%,
//! grow by one per window of successes, more slowly close to where the last
//! 429 came) so it hovers just under the provider's rate with few 429s.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Concurrency at start, before anything is known about the provider.
const INITIAL_LIMIT: f64 = 4.0;
/// Cut applied on 429 once the provider's limit has been found.
const STEADY_DECREASE: f64 = 0.9;
/// Round trips of successes per step of growth near the last cut: probing
/// slowly there is what keeps 429s rare.
const NEAR_CEILING_WINDOWS: f64 = 8.0;

#[derive(Debug)]
struct LimiterState {
    limit: f64,
    in_flight: u32,
    /// Bumped on every cut: a 429 from a call started before the last cut
    /// says nothing new, so it does not cut again.
    epoch: u64,
    slow_start: bool,
    successes_since_growth: u32,
    /// The limit at the last cut: growth slows down near it.
    last_cut_from: f64,
    paused_until: Option<Instant>,
}

/// A semaphore whose size adapts. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct AdaptiveLimiter {
    state: Arc<Mutex<LimiterState>>,
    notify: Arc<Notify>,
    max: u32,
}

/// A slot for one call; freed on drop.
#[derive(Debug)]
pub struct LimiterPermit {
    limiter: AdaptiveLimiter,
    epoch: u64,
}

impl AdaptiveLimiter {
    pub fn new(max_concurrency: u32) -> Self {
        let max = max_concurrency.max(1);
        Self {
            state: Arc::new(Mutex::new(LimiterState {
                limit: INITIAL_LIMIT.min(f64::from(max)),
                in_flight: 0,
                epoch: 0,
                slow_start: true,
                successes_since_growth: 0,
                last_cut_from: f64::from(max),
                paused_until: None,
            })),
            notify: Arc::new(Notify::new()),
            max,
        }
    }

    fn lock(&self) -> MutexGuard<'_, LimiterState> {
        // A panic while holding this lock cannot leave the counters invalid
        // in a way that matters more than stopping all judging would.
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The current limit (for metrics and tests).
    pub fn current_limit(&self) -> u32 {
        self.lock().limit.floor() as u32
    }

    pub fn in_flight(&self) -> u32 {
        self.lock().in_flight
    }

    /// Waits for a slot (and for any pause to end).
    pub async fn acquire(&self) -> LimiterPermit {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            // Registered before looking at the state, so a release in between is not lost.
            notified.as_mut().enable();
            let wait_until = {
                let mut state = self.lock();
                match state.paused_until {
                    Some(until) if until > Instant::now() => Some(until),
                    _ => {
                        state.paused_until = None;
                        if f64::from(state.in_flight) < state.limit.floor().max(1.0) {
                            state.in_flight += 1;
                            return LimiterPermit {
                                limiter: self.clone(),
                                epoch: state.epoch,
                            };
                        }
                        None
                    }
                }
            };
            match wait_until {
                Some(until) => tokio::time::sleep_until(until).await,
                None => notified.await,
            }
        }
    }

    /// Holds new calls for `delay` (a pause already longer is kept): the
    /// provider's budget says more calls now would be refused.
    pub fn pause_for(&self, delay: Duration) {
        let until = Instant::now() + delay;
        let mut state = self.lock();
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }

    fn release(&self) {
        {
            let mut state = self.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
        }
        self.notify.notify_one();
    }

    fn on_success(&self) {
        let grew = {
            let mut state = self.lock();
            let max = f64::from(self.max);
            if state.slow_start {
                state.limit = (state.limit + 1.0).min(max);
                true
            } else {
                state.successes_since_growth += 1;
                // One step per window of `limit` successes (one round trip),
                // several windows per step when close to the last cut.
                let near_ceiling = state.limit >= 0.9 * state.last_cut_from;
                let window = state.limit.max(1.0)
                    * if near_ceiling {
                        NEAR_CEILING_WINDOWS
                    } else {
                        1.0
                    };
                if f64::from(state.successes_since_growth) >= window {
                    state.successes_since_growth = 0;
                    state.limit = (state.limit + 1.0).min(max);
                    true
                } else {
                    false
                }
            }
        };
        if grew {
            self.notify.notify_one();
        }
    }

    fn on_rate_limited(&self, permit_epoch: u64, retry_after: Option<Duration>) {
        let mut state = self.lock();
        if let Some(delay) = retry_after {
            let until = Instant::now() + delay;
            if state.paused_until.is_none_or(|current| current < until) {
                state.paused_until = Some(until);
            }
        }
        if permit_epoch != state.epoch {
            return;
        }
        state.epoch += 1;
        state.last_cut_from = state.limit;
        state.successes_since_growth = 0;
        if state.slow_start {
            state.slow_start = false;
            state.limit = (state.limit / 2.0).max(1.0);
        } else {
            state.limit = (state.limit * STEADY_DECREASE).max(1.0);
        }
    }
}

impl LimiterPermit {
    /// The call succeeded (any answer that is not a rate limit or an overload).
    pub fn success(&self) {
        self.limiter.on_success();
    }

    /// The provider answered 429.
    pub fn rate_limited(&self, retry_after: Option<Duration>) {
        self.limiter.on_rate_limited(self.epoch, retry_after);
    }
}

impl Drop for LimiterPermit {
    fn drop(&mut self) {
        self.limiter.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slow_start_doubles_then_halves_on_429() {
        let limiter = AdaptiveLimiter::new(64);
        assert_eq!(limiter.current_limit(), 4);
        for _ in 0..4 {
            limiter.acquire().await.success();
        }
        assert_eq!(limiter.current_limit(), 8);
        let p = limiter.acquire().await;
        let q = limiter.acquire().await;
        p.rate_limited(None);
        // Same epoch: only one cut.
        q.rate_limited(None);
        assert_eq!(limiter.current_limit(), 4);
        let r = limiter.acquire().await;
        r.rate_limited(None);
        assert_eq!(limiter.current_limit(), 3);
    }

    #[tokio::test]
    async fn never_below_one_and_never_above_max() {
        let limiter = AdaptiveLimiter::new(2);
        for _ in 0..10 {
            limiter.acquire().await.success();
        }
        assert_eq!(limiter.current_limit(), 2);
        for _ in 0..10 {
            limiter.acquire().await.rate_limited(None);
        }
        assert_eq!(limiter.current_limit(), 1);
    }

    #[tokio::test]
    async fn holds_callers_beyond_the_limit() {
        let limiter = AdaptiveLimiter::new(1);
        let first = limiter.acquire().await;
        let second = tokio::time::timeout(Duration::from_millis(50), limiter.acquire()).await;
        assert!(second.is_err(), "second caller should wait");
        drop(first);
        let third = tokio::time::timeout(Duration::from_millis(50), limiter.acquire()).await;
        assert!(third.is_ok());
    }

    #[tokio::test]
    async fn retry_after_pauses_new_calls() {
        let limiter = AdaptiveLimiter::new(8);
        limiter
            .acquire()
            .await
            .rate_limited(Some(Duration::from_millis(150)));
        let start = std::time::Instant::now();
        let _p = limiter.acquire().await;
        assert!(start.elapsed() >= Duration::from_millis(120));
    }
}
