//! How EvalGuard backs off after a failed outbound call: one policy type
//! (backon's exponential builder with jitter) for judge calls, embedding calls
//! and webhook deliveries, each with its own parameters here. The policy only
//! computes waits; the caller sleeps (judges, embeddings) or stores the next
//! attempt's time in the database (webhooks, whose retries span a day and
//! outlive the process).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// Exponential backoff: `first_delay`, multiplied by `factor` after each
/// failure up to `max_delay`; with `jitter`, each wait gets a random extra of
/// up to as much again, so many failed calls do not retry in step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffPolicy {
    /// The wait after the first failed attempt (before jitter).
    pub first_delay: Duration,
    /// How much each wait grows over the one before.
    pub factor: f32,
    /// The longest wait before jitter.
    pub max_delay: Duration,
    /// Retries after the first attempt; `None` when the caller counts them
    /// (a judge provider's `max_attempts` setting).
    pub max_retries: Option<usize>,
    pub jitter: bool,
}

impl BackoffPolicy {
    /// Judge and embedding calls, which a job waits for: 125 ms, doubling,
    /// capped at 10 s (so 125–250 ms after the first failure, at most 20 s
    /// with jitter). A provider's `Retry-After` takes precedence.
    pub const MODEL_CALLS: Self = Self {
        first_delay: Duration::from_millis(125),
        factor: 2.0,
        max_delay: Duration::from_secs(10),
        max_retries: None,
        jitter: true,
    };

    /// Webhook deliveries, which nobody waits for: 5 s, 25 s, about 2 min,
    /// 10 min and 52 min, then every 3 h (each plus jitter), ten retries:
    /// eleven attempts over 16 to 32 hours, about a day on average, so an
    /// endpoint that is down overnight still gets its events.
    pub const WEBHOOKS: Self = Self {
        first_delay: Duration::from_secs(5),
        factor: 5.0,
        max_delay: Duration::from_secs(3 * 3600),
        max_retries: Some(10),
        jitter: true,
    };

    /// The wait after failed attempt number `attempt` (1 for the first), or
    /// `None` once the retries are used up.
    pub fn delay_after(&self, attempt: u32) -> Option<Duration> {
        let index = usize::try_from(attempt.checked_sub(1)?).ok()?;
        let builder = ExponentialBuilder::default()
            .with_min_delay(self.first_delay)
            .with_max_delay(self.max_delay)
            .with_factor(self.factor);
        let builder = match self.max_retries {
            Some(retries) => builder.with_max_times(retries),
            None => builder.without_max_times(),
        };
        let builder = if self.jitter {
            builder.with_jitter()
        } else {
            builder
        };
        builder.build().nth(index)
    }

    /// The longest wait `delay_after` can return: the cap, doubled by jitter.
    pub fn longest_delay(&self) -> Duration {
        if self.jitter {
            self.max_delay.saturating_mul(2)
        } else {
            self.max_delay
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn waits_grow_by_the_factor_up_to_the_cap_and_jitter_adds_at_most_as_much_again() {
        let policy = BackoffPolicy::MODEL_CALLS;
        let mut floor = policy.first_delay;
        for attempt in 1..40 {
            let wait = policy.delay_after(attempt).unwrap();
            assert!(wait >= floor && wait <= floor * 2, "{attempt}: {wait:?}");
            assert!(wait <= policy.longest_delay());
            floor = (floor * 2).min(policy.max_delay);
        }
    }

    #[test]
    fn without_jitter_the_schedule_is_exact() {
        let policy = BackoffPolicy {
            jitter: false,
            ..BackoffPolicy::WEBHOOKS
        };
        let waits: Vec<u64> = (1..=10)
            .map(|attempt| policy.delay_after(attempt).unwrap().as_secs())
            .collect();
        assert_eq!(
            waits,
            [
                5, 25, 125, 625, 3125, 10_800, 10_800, 10_800, 10_800, 10_800
            ]
        );
    }

    #[test]
    fn webhook_retries_stop_after_ten_and_span_about_a_day() {
        let policy = BackoffPolicy::WEBHOOKS;
        assert_eq!(policy.delay_after(11), None);
        assert_eq!(policy.delay_after(0), None);
        let total: Duration = (1..=10).map(|a| policy.delay_after(a).unwrap()).sum();
        assert!(
            total >= 16 * 3600 * SECOND && total <= 33 * 3600 * SECOND,
            "{total:?}"
        );
    }

    #[test]
    fn a_short_schedule_for_tests_is_a_policy_too() {
        let policy = BackoffPolicy {
            first_delay: Duration::from_millis(100),
            factor: 1.0,
            max_delay: Duration::from_millis(100),
            max_retries: Some(2),
            jitter: false,
        };
        assert_eq!(policy.delay_after(1), Some(Duration::from_millis(100)));
        assert_eq!(policy.delay_after(2), Some(Duration::from_millis(100)));
        assert_eq!(policy.delay_after(3), None);
    }
}
