//! The one severity rule of every flag family: a flag is `critical` when even
//! the favourable end of its 95% interval is beyond twice the family's
//! tolerance (regression: `min_effect`; hallucination: the tolerated rate
//! above which the interval lies; drift: `drift_distance` in baseline standard
//! deviations). A flag whose test gives no interval (the embedding MMD test)
//! is a `warning`; a distance-only flag (large samples) is critical when the
//! distance itself is beyond twice the threshold. Drift then caps at `warning`
//! a numeric shift that is small next to the baseline's mean
//! ([`super::drift::CRITICAL_MIN_RELATIVE_SHIFT`]).

use crate::job::Severity;

/// Severity of an effect whose 95% interval is `[low, high]`, against a
/// tolerance on the same scale: critical when the interval lies entirely
/// beyond twice the tolerance, on either side of zero.
pub(super) fn of_interval(low: f64, high: f64, tolerance: f64) -> Severity {
    let nearest_to_zero = if low > 0.0 {
        low
    } else if high < 0.0 {
        -high
    } else {
        0.0
    };
    if nearest_to_zero > 2.0 * tolerance {
        Severity::Critical
    } else {
        Severity::Warning
    }
}

/// Severity of a distance compared with its threshold.
pub(super) fn of_distance(distance: f64, threshold: f64) -> Severity {
    if distance > 2.0 * threshold {
        Severity::Critical
    } else {
        Severity::Warning
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_only_when_the_whole_interval_is_beyond_twice_the_tolerance() {
        assert_eq!(of_interval(-0.30, -0.15, 0.05), Severity::Critical);
        assert_eq!(of_interval(-0.30, -0.08, 0.05), Severity::Warning);
        assert_eq!(of_interval(0.12, 0.30, 0.05), Severity::Critical);
        assert_eq!(of_interval(-0.3, 0.3, 0.05), Severity::Warning);
        assert_eq!(of_distance(0.25, 0.1), Severity::Critical);
        assert_eq!(of_distance(0.15, 0.1), Severity::Warning);
    }
}
