//! Normal distribution tail functions built on `erfc`, which keeps full
//! relative precision far into the tail (1 - cdf would not).

use statrs::function::erf::erfc;

const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// Standard normal CDF, computed as cephes `ndtr` does.
pub(crate) fn norm_cdf(a: f64) -> f64 {
    if a.is_nan() {
        return f64::NAN;
    }
    let x = a * FRAC_1_SQRT_2;
    let z = x.abs();
    if z < FRAC_1_SQRT_2 {
        0.5 + 0.5 * statrs::function::erf::erf(x)
    } else {
        let y = 0.5 * erfc(z);
        if x > 0.0 { 1.0 - y } else { y }
    }
}

/// Standard normal survival function P(Z > z).
pub(crate) fn norm_sf(z: f64) -> f64 {
    norm_cdf(-z)
}

/// Standard normal quantile (NaN outside (0, 1)).
pub(crate) fn norm_ppf(p: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    if !(p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    Normal::standard().inverse_cdf(p)
}
