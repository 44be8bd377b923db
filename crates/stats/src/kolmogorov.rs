//! Distribution of the one-sample two-sided Kolmogorov statistic D_n for finite n
//! (`scipy.stats.kstwo.sf`) and of its limit (`scipy.stats.kstwobign.sf`).
//!
//! Hand-written: no maintained Rust crate implements the Simard & L'Ecuyer (2011)
//! selection of algorithms SciPy uses, and the drift tests must reproduce SciPy's
//! p-values. The structure follows SciPy's `_ksstats.py` and its `smirnov`
//! (Birnbaum–Tingey sum): Ruben–Gambino closed forms at the ends, the Durbin
//! matrix (Marsaglia–Tsang–Wang), the Pomeranz recursion, the Pelz–Good
//! expansion, and 2·smirnov in the upper tail.

use std::f64::consts::{LN_2, PI};

use crate::kolmogorov_cdf::{durbin_mtw_cdf, pelz_good_cdf, pomeranz_cdf};

pub(crate) const EXP128: i32 = 128;
/// 2^128, the rescaling step of the matrix and recursion algorithms.
pub(crate) const TWO_POW_128: f64 = 3.402_823_669_209_385e38;
/// 2^-128.
pub(crate) const TWO_POW_MINUS_128: f64 = 2.938_735_877_055_719e-39;
/// Natural log below which `exp` underflows (cephes MINLOG).
const MIN_LOG: f64 = -7.083_964_185_322_641e2;
pub(crate) const SQRT_2PI: f64 = 2.506_628_274_631_000_7;
const LOG_2PI: f64 = 1.837_877_066_409_345_5;
/// Stirling series coefficients B_2j / (2j (2j - 1)), j = 8..1.
const STIRLING_COEFFS: [f64; 8] = [
    -2.955_065_359_477_124e-2,
    6.410_256_410_256_41e-3,
    -1.917_526_917_526_917_5e-3,
    8.417_508_417_508_417e-4,
    -5.952_380_952_380_952e-4,
    7.936_507_936_507_937e-4,
    -2.777_777_777_777_778e-3,
    8.333_333_333_333_333e-2,
];

/// x * 2^exp without overflowing or underflowing intermediate powers of two.
pub(crate) fn ldexp(mut x: f64, mut exp: i32) -> f64 {
    while exp > 1000 {
        x *= 2f64.powi(1000);
        exp -= 1000;
    }
    while exp < -1000 {
        x *= 2f64.powi(-1000);
        exp += 1000;
    }
    x * 2f64.powi(exp)
}

/// P(D_n >= x), `scipy.stats.kstwo.sf(x, n)`. `n = 0` gives NaN.
pub fn kstwo_sf(n: u64, x: f64) -> f64 {
    if n == 0 || x.is_nan() {
        return f64::NAN;
    }
    let nf = n as f64;
    // kstwo's support is [0.5/n, 1]; SciPy's distribution framework returns
    // the bounds' values outside it.
    if x <= 0.5 / nf {
        return 1.0;
    }
    if x >= 1.0 {
        return 0.0;
    }
    kolmogn_sf(n, x).clamp(0.0, 1.0)
}

fn kolmogn_sf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let t = nf * x;
    if t <= 1.0 {
        // Ruben–Gambino: 1/(2n) <= x <= 1/n.
        if t <= 0.5 {
            return 1.0;
        }
        let prob = if n <= 140 {
            let mut p = 1.0;
            for i in 1..=n {
                p *= (i as f64) * (1.0 / nf) * (2.0 * t - 1.0);
            }
            p
        } else {
            (log_nfactorial_div_n_pow_n(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return 1.0 - prob;
    }
    if t >= nf - 1.0 {
        return 2.0 * (1.0 - x).powf(nf);
    }
    if x >= 0.5 {
        return 2.0 * smirnov_sf(n, x);
    }
    let nxsquared = t * x;
    if n <= 140 {
        if nxsquared <= 0.754_693 {
            return 1.0 - durbin_mtw_cdf(n, x);
        }
        if nxsquared <= 4.0 {
            return 1.0 - pomeranz_cdf(n, x);
        }
        return 2.0 * smirnov_sf(n, x);
    }
    if nxsquared >= 370.0 {
        return 0.0;
    }
    if nxsquared >= 2.2 {
        return 2.0 * smirnov_sf(n, x);
    }
    let cdf = if nxsquared >= 18.0 {
        1.0
    } else if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        durbin_mtw_cdf(n, x)
    } else {
        pelz_good_cdf(n, x)
    };
    1.0 - cdf
}

/// log(n! / n^n) by Stirling's series with n log n removed up front.
fn log_nfactorial_div_n_pow_n(n: f64) -> f64 {
    let rn = 1.0 / n;
    let z = rn / n;
    let poly = STIRLING_COEFFS.iter().fold(0.0, |acc, &c| acc * z + c);
    n.ln() / 2.0 - n + LOG_2PI / 2.0 + rn * poly
}

/// floor(n x) and the fractional part of n x, computed exactly with an FMA.
fn floor_and_fraction_of_nx(n: u64, x: f64) -> (u64, f64, f64, f64) {
    let nf = n as f64;
    let hi = nf * x;
    let lo = nf.mul_add(x, -hi);
    let mut fl = hi.floor();
    let mut alpha = (hi - fl) + lo;
    if alpha < 0.0 {
        fl -= 1.0;
        alpha += 1.0;
    }
    if alpha >= 1.0 {
        fl += 1.0;
        alpha = 0.0;
    }
    (fl as u64, alpha, hi, lo)
}

/// P(D_n^+ >= x) for the one-sided statistic, `scipy.special.smirnov(n, x)`,
/// by the Birnbaum–Tingey sum (terms in log space so large n cannot underflow).
pub(crate) fn smirnov_sf(n: u64, x: f64) -> f64 {
    if !(0.0..=1.0).contains(&x) || n == 0 {
        return f64::NAN;
    }
    if n == 1 {
        return 1.0 - x;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x == 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    let (nxfl, alpha, nx_hi, nx_lo) = floor_and_fraction_of_nx(n, x);
    let mut n1mxfl = n as i64 - nxfl as i64 - i64::from(alpha != 0.0);
    if alpha == 0.0 {
        n1mxfl -= 1;
    }
    if nxfl == 0 || (nxfl == 1 && alpha == 0.0) {
        let cdf = x * (1.0 + x).powf(nf - 1.0);
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    if -2.0 * nf * x * x < MIN_LOG {
        return 0.0;
    }
    if nxfl >= n - 1 {
        return (1.0 - x).powf(nf).clamp(0.0, 1.0);
    }
    if n > 1_000_000 {
        let logp = -(6.0 * nf * x + 1.0).powi(2) / 18.0 / nf;
        let sf = if logp < -LN_2 {
            logp.exp()
        } else {
            1.0 - (-logp.exp_m1())
        };
        return sf.clamp(0.0, 1.0);
    }
    let n_terms = n1mxfl + 1;
    let vmid = (n / 2) as i64;
    // v = 0 term: (1 - x)^n / x.
    let mut sum = (nf * (-x).ln_1p()).exp() / x;
    // Binomial coefficient C(n, v) as mantissa * 2^exponent.
    let mut c_man = nf;
    let mut c_exp: i32 = 0;
    for j in 1..n_terms {
        let v = j as f64;
        let t1x = ((v + nx_hi) + nx_lo) / nf;
        let t2x = (((nf - v) - nx_hi) - nx_lo) / nf;
        let log_term =
            c_man.ln() + f64::from(c_exp) * LN_2 + (v - 1.0) * t1x.ln() + (nf - v) * t2x.ln();
        let term = log_term.exp();
        if term.is_finite() && term != 0.0 {
            sum += term;
        }
        if term != 0.0 {
            if 4.0 * ((n_terms - j) as f64) * term.abs() < f64::EPSILON * sum && j != n_terms - 1 {
                break;
            }
        } else if j > vmid {
            break;
        }
        c_man *= (nf - v) / (v + 1.0);
        // Keep the mantissa in range both ways: C(n, v) grows then shrinks.
        if c_man > TWO_POW_128 {
            c_man *= TWO_POW_MINUS_128;
            c_exp += EXP128;
        } else if c_man < TWO_POW_MINUS_128 {
            c_man *= TWO_POW_128;
            c_exp -= EXP128;
        }
    }
    (x * sum).clamp(0.0, 1.0)
}

/// P(K >= x) for the limiting Kolmogorov distribution, `scipy.special.kolmogorov(x)`
/// (= `scipy.stats.kstwobign.sf(x)`).
pub fn kolmogorov_limit_sf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= PI / (8.0f64 * (708.0 + 38.0)).sqrt() {
        return 1.0;
    }
    if x <= 0.82 {
        let w = SQRT_2PI / x;
        let logu8 = -PI * PI / (x * x);
        let u = (logu8 / 8.0).exp();
        let p = if u == 0.0 {
            (logu8 / 8.0 + w.ln()).exp()
        } else {
            let u8 = logu8.exp();
            let u8cub = u8.powi(3);
            let mut p = 1.0 + u8cub;
            p = 1.0 + u8 * u8 * p;
            p = 1.0 + u8 * p;
            w * u * p
        };
        (1.0 - p).clamp(0.0, 1.0)
    } else {
        let v = (-2.0 * x * x).exp();
        let vsq = v * v;
        let v3 = v.powi(3);
        let mut p = 1.0 - v3 * v3 * v;
        p = 1.0 - v3 * vsq * p;
        p = 1.0 - v3 * p;
        (2.0 * v * p).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_n_matches_scipy_kstwo() {
        // scipy.stats.kstwo.sf(d, 500000) (SciPy 1.17.1): Pelz–Good and 2·smirnov branches.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b;
        assert!(close(kstwo_sf(500_000, 0.002), 0.036_582_179_671_620_585));
        assert!(close(kstwo_sf(500_000, 0.004), 2.244_597_849_385_146_7e-7));
        assert_eq!(kstwo_sf(10, 1.0), 0.0);
        assert_eq!(kstwo_sf(10, 0.01), 1.0);
        assert!(kstwo_sf(0, 0.5).is_nan());
    }
}

#[cfg(test)]
mod smirnov_tests {
    #[test]
    fn one_sided_matches_scipy_smirnov_for_large_n() {
        // scipy.special.smirnov(n, sqrt(8/n)) (SciPy 1.17.1).
        let want = [
            (1_000u64, 1.0338891647238424e-07),
            (10_000, 1.1015793189514652e-07),
            (100_000, 1.1183828482526666e-07),
            (500_000, 1.1222989246925734e-07),
        ];
        for (n, p) in want {
            let got = super::smirnov_sf(n, (8.0 / n as f64).sqrt());
            assert!((got - p).abs() <= 1e-9 * p, "n={n}: {got:e} vs {p:e}");
        }
    }
}
