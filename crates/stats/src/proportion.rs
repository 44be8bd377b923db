//! Two-proportion z-test and the Wilson score interval.

use crate::normal::{norm_ppf, norm_sf};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoProportionZ {
    pub p1: f64,
    pub p2: f64,
    pub diff: f64,
    pub p_pooled: f64,
    pub se: f64,
    pub z: f64,
    pub p_value: f64,
}

/// Pooled two-sided z-test of x1/n1 against x2/n2. A pooled proportion of 0
/// or 1 (or empty samples) gives z = p-value = NaN.
pub fn two_proportion_z(x1: u64, n1: u64, x2: u64, n2: u64) -> TwoProportionZ {
    let (x1f, n1f, x2f, n2f) = (x1 as f64, n1 as f64, x2 as f64, n2 as f64);
    let p1 = x1f / n1f;
    let p2 = x2f / n2f;
    let diff = p1 - p2;
    let p_pooled = (x1f + x2f) / (n1f + n2f);
    let se = (p_pooled * (1.0 - p_pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    let z = diff / se;
    let p_value = if z.is_nan() {
        f64::NAN
    } else {
        (2.0 * norm_sf(z.abs())).clamp(0.0, 1.0)
    };
    TwoProportionZ {
        p1,
        p2,
        diff,
        p_pooled,
        se,
        z,
        p_value,
    }
}

/// Wilson score interval for `successes` out of `n` at the given confidence (e.g. 0.95).
///
/// z is the normal quantile at 1 - (1 - confidence)/2. `n = 0` gives (0, 1)
/// (no information); successes above n are treated as n; a confidence outside
/// (0, 1) gives (NaN, NaN).
pub fn wilson_interval(successes: u64, n: u64, confidence: f64) -> (f64, f64) {
    if !(confidence > 0.0 && confidence < 1.0) {
        return (f64::NAN, f64::NAN);
    }
    if n == 0 {
        return (0.0, 1.0);
    }
    let nf = n as f64;
    let p = successes.min(n) as f64 / nf;
    let z = norm_ppf(1.0 - (1.0 - confidence) / 2.0);
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let center = (p + z2 / (2.0 * nf)) / denom;
    let half = z / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    // The exact bounds at p = 0 and p = 1 are 0 and 1; rounding could miss them.
    let lower = if successes == 0 {
        0.0
    } else {
        (center - half).clamp(0.0, p)
    };
    let upper = if successes >= n {
        1.0
    } else {
        (center + half).clamp(p, 1.0)
    };
    (lower, upper)
}
