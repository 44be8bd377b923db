//! Sign-in throttling: failed attempts are counted per account (the email
//! typed, whether or not it exists, so the answer reveals nothing) and per
//! client address, in a fixed window; a key over its allowance is refused
//! until its window ends. Pure bookkeeping: the caller passes the time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const PER_ACCOUNT: u32 = 5;
pub const PER_ADDRESS: u32 = 20;
/// Entries kept before stale ones are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, (Instant, u32)>>,
}

impl SignInThrottle {
    /// `Some(wait)` when either key is over its allowance.
    pub fn blocked(&self, account: &str, address: &str, now: Instant) -> Option<Duration> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        [
            (account_key(account), PER_ACCOUNT),
            (address_key(address), PER_ADDRESS),
        ]
        .into_iter()
        .filter_map(|(key, allowed)| {
            let (start, count) = map.get(&key)?;
            let elapsed = now.saturating_duration_since(*start);
            (elapsed < WINDOW && *count >= allowed).then(|| WINDOW - elapsed)
        })
        .max()
    }

    pub fn record_failure(&self, account: &str, address: &str, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > SWEEP_AT {
            map.retain(|_, (start, _)| now.saturating_duration_since(*start) < WINDOW);
        }
        for key in [account_key(account), address_key(address)] {
            let entry = map.entry(key).or_insert((now, 0));
            if now.saturating_duration_since(entry.0) >= WINDOW {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
    }

    /// A successful sign-in clears the account's count (not the address's).
    pub fn record_success(&self, account: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&account_key(account));
    }
}

fn account_key(account: &str) -> String {
    format!("account:{}", account.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_blocked_after_its_allowance_until_the_window_ends() {
        let t = SignInThrottle::default();
        let start = Instant::now();
        for i in 0..PER_ACCOUNT {
            assert!(t.blocked("a@x", &format!("10.0.0.{i}"), start).is_none());
            t.record_failure("A@x ", &format!("10.0.0.{i}"), start);
        }
        let wait = t.blocked("a@x", "10.9.9.9", start).unwrap();
        assert_eq!(wait, WINDOW);
        assert!(t.blocked("b@x", "10.9.9.9", start).is_none());
        assert!(t.blocked("a@x", "10.9.9.9", start + WINDOW).is_none());
    }

    #[test]
    fn an_address_is_blocked_across_accounts() {
        let t = SignInThrottle::default();
        let now = Instant::now();
        for i in 0..PER_ADDRESS {
            t.record_failure(&format!("user{i}@x"), "10.0.0.1", now);
        }
        assert!(t.blocked("new@x", "10.0.0.1", now).is_some());
        assert!(t.blocked("new@x", "10.0.0.2", now).is_none());
    }

    #[test]
    fn success_clears_the_account() {
        let t = SignInThrottle::default();
        let now = Instant::now();
        for _ in 0..PER_ACCOUNT {
            t.record_failure("a@x", "10.0.0.1", now);
        }
        t.record_success("a@x");
        assert!(t.blocked("a@x", "10.0.0.1", now).is_none());
    }
}
