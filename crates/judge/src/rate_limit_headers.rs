//! What a provider says about its request budget in every answer, so calls
//! can be paced before a 429 rather than after: OpenAI's `x-ratelimit-*`
//! (remaining requests, and a Go-style duration until the budget is full
//! again) and Anthropic's `anthropic-ratelimit-*` (an RFC 3339 reset time).

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;

/// The provider's request budget as of one answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestBudget {
    /// Requests allowed per window.
    pub limit: u64,
    /// Requests left in it.
    pub remaining: u64,
    /// Time until the budget is full again.
    pub reset_after: Duration,
}

impl RequestBudget {
    /// How long to hold new calls when `others` more calls are already on
    /// their way: nothing while the budget covers them, else the time the
    /// provider needs to refill the missing requests (it refills linearly,
    /// `limit` per `reset_after` window), at most `reset_after`.
    pub fn pause_for(&self, others: u64) -> Duration {
        if self.remaining > others {
            return Duration::ZERO;
        }
        let missing = others + 1 - self.remaining;
        let refilling = self.limit.saturating_sub(self.remaining).max(1);
        let per_request = self.reset_after.div_f64(refilling as f64);
        per_request
            .saturating_mul(u32::try_from(missing).unwrap_or(u32::MAX))
            .min(self.reset_after)
    }
}

/// The request budget the headers give, if they give one.
pub fn request_budget(headers: &HeaderMap, now: DateTime<Utc>) -> Option<RequestBudget> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let number = |name: &str| header(name).and_then(|v| v.parse::<u64>().ok());
    if let (Some(limit), Some(remaining)) = (
        number("x-ratelimit-limit-requests"),
        number("x-ratelimit-remaining-requests"),
    ) {
        let reset_after = header("x-ratelimit-reset-requests").and_then(parse_go_duration)?;
        return Some(RequestBudget {
            limit,
            remaining,
            reset_after,
        });
    }
    let limit = number("anthropic-ratelimit-requests-limit")?;
    let remaining = number("anthropic-ratelimit-requests-remaining")?;
    let reset = header("anthropic-ratelimit-requests-reset")
        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())?;
    let reset_after = (reset.with_timezone(&Utc) - now)
        .to_std()
        .unwrap_or(Duration::ZERO);
    Some(RequestBudget {
        limit,
        remaining,
        reset_after,
    })
}

/// A Go duration as OpenAI writes it: `20ms`, `1s`, `6m0s`, `1h2m3.5s`.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    let mut total = 0.0_f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&end| end > 0)?;
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * seconds;
        rest = &rest[unit_len..];
    }
    (total.is_finite() && total <= 86_400.0).then(|| Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    #[test]
    fn go_durations() {
        let ms = |n: u64| Some(Duration::from_millis(n));
        assert_eq!(parse_go_duration("20ms"), ms(20));
        assert_eq!(parse_go_duration("1s"), ms(1000));
        assert_eq!(parse_go_duration("6m0s"), ms(360_000));
        assert_eq!(parse_go_duration("1h2m3.5s"), ms(3_723_500));
        assert_eq!(parse_go_duration("0s"), ms(0));
        for bad in ["", "s", "5", "5 s", "1x", "-1s", "1s2"] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn go_durations_round_trip(h in 0u64..24, m in 0u64..60, ms in 0u64..60_000) {
            let text = format!("{h}h{m}m{}.{:03}s", ms / 1000, ms % 1000);
            let expected = Duration::from_millis(h * 3_600_000 + m * 60_000 + ms);
            let parsed = parse_go_duration(&text).unwrap();
            prop_assert!(parsed.abs_diff(expected) < Duration::from_micros(1), "{text}");
        }

        #[test]
        fn any_text_parses_or_not_without_panicking(text in "\\PC{0,12}") {
            let _ = parse_go_duration(&text);
        }
    }

    #[test]
    fn openai_and_anthropic_budgets() {
        let now = Utc::now();
        let openai = headers(&[
            ("x-ratelimit-limit-requests", "100"),
            ("x-ratelimit-remaining-requests", "7"),
            ("x-ratelimit-reset-requests", "930ms"),
        ]);
        assert_eq!(
            request_budget(&openai, now),
            Some(RequestBudget {
                limit: 100,
                remaining: 7,
                reset_after: Duration::from_millis(930)
            })
        );
        let reset = (now + chrono::Duration::milliseconds(1500)).to_rfc3339();
        let anthropic = headers(&[
            ("anthropic-ratelimit-requests-limit", "50"),
            ("anthropic-ratelimit-requests-remaining", "0"),
            ("anthropic-ratelimit-requests-reset", &reset),
        ]);
        let budget = request_budget(&anthropic, now).unwrap();
        assert_eq!((budget.limit, budget.remaining), (50, 0));
        assert!(
            budget.reset_after.abs_diff(Duration::from_millis(1500)) < Duration::from_millis(2)
        );
        assert_eq!(request_budget(&HeaderMap::new(), now), None);
        let partial = headers(&[("x-ratelimit-remaining-requests", "3")]);
        assert_eq!(request_budget(&partial, now), None);
    }

    #[test]
    fn pauses_only_when_the_budget_does_not_cover_calls_on_their_way() {
        let budget = RequestBudget {
            limit: 100,
            remaining: 5,
            reset_after: Duration::from_secs(1),
        };
        assert_eq!(budget.pause_for(4), Duration::ZERO);
        // 100 requests refill per second over the 95 used: ~10.5 ms each.
        let one = budget.pause_for(5);
        assert!(
            one > Duration::from_millis(10) && one < Duration::from_millis(11),
            "{one:?}"
        );
        assert!(budget.pause_for(7).abs_diff(one * 3) < Duration::from_micros(1));
        assert_eq!(budget.pause_for(10_000), Duration::from_secs(1));
    }
}
