//! The exact one-sided binomial test, as SciPy's
//! `binomtest(k, n, p, alternative="greater")`.

use crate::special_functions::binomial_sf_at_least;

/// P(X >= k) for X ~ Binomial(n, p): the exact p-value of "the rate is above
/// p" after `k` successes in `n` trials. `k = 0` gives 1; `k > n` gives 0; a
/// `p` outside [0, 1] or `n = 0` gives NaN (there is nothing to test).
pub fn binomial_test_greater(k: u64, n: u64, p: f64) -> f64 {
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    binomial_sf_at_least(k, n, p).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values computed with SciPy:
    /// `scipy.stats.binomtest(k, n, p, alternative="greater").pvalue`.
    const SCIPY: [(u64, u64, f64, f64); 12] = [
        (10, 100, 0.05, 0.02818829416341614),
        (8, 100, 0.05, 0.127960478620379),
        (1, 1, 0.05, 0.05),
        (3, 20, 0.05, 0.07548367378849626),
        (30, 100, 0.05, 8.556384800197208e-16),
        (6, 100, 0.05, 0.38400087204385897),
        (60, 500, 0.05, 5.712717167998096e-10),
        (0, 50, 0.1, 1.0),
        (50, 50, 0.3, 7.178979876918513e-27),
        (12, 40, 0.2, 0.08750523592200611),
        (150, 1000, 0.1, 4.489442859450041e-07),
        (7, 10, 0.5, 0.171875),
    ];

    #[test]
    fn matches_scipy() {
        for (k, n, p, expected) in SCIPY {
            let got = binomial_test_greater(k, n, p);
            let tolerance = expected * 1e-9;
            assert!(
                (got - expected).abs() <= tolerance,
                "binomtest({k}, {n}, {p}) = {expected}, got {got}"
            );
        }
    }

    #[test]
    fn edges() {
        assert_eq!(binomial_test_greater(0, 10, 0.05), 1.0);
        assert_eq!(binomial_test_greater(11, 10, 0.05), 0.0);
        assert!(binomial_test_greater(1, 0, 0.05).is_nan());
        assert!(binomial_test_greater(1, 10, 1.5).is_nan());
        // All successes: p^n.
        assert!((binomial_test_greater(3, 3, 0.5) - 0.125).abs() < 1e-15);
    }
}
