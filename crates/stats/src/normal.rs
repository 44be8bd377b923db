//! Standard normal distribution functions.
//!
//! `ndtr` with the cephes rational approximations of erf/erfc, the same ones
//! SciPy's `special.ndtr` (and so `stats.norm.sf`) evaluates; other erfc
//! implementations (statrs') differ from them by up to ~5e-10 relative, too
//! much for the reference tolerance of 1e-9 on p-values. erfc keeps full
//! relative precision far into the tail, where 1 - cdf would not.

const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
const MAXLOG: f64 = 709.782712893384;

const ERFC_P: [f64; 9] = [
    2.461969814735305e-10,
    0.5641895648310689,
    7.463210564422699,
    48.63719709856814,
    196.5208329560771,
    526.4451949954773,
    934.5285271719576,
    1027.5518868951572,
    557.5353353693994,
];
const ERFC_Q: [f64; 8] = [
    13.228195115474499,
    86.70721408859897,
    354.9377788878199,
    975.7085017432055,
    1823.9091668790973,
    2246.3376081871097,
    1656.6630919416134,
    557.5353408177277,
];
const ERFC_R: [f64; 6] = [
    0.5641895835477551,
    1.275366707599781,
    5.019050422511805,
    6.160210979930536,
    7.4097426995044895,
    2.9788666537210022,
];
const ERFC_S: [f64; 6] = [
    2.2605286322011726,
    9.396035249380015,
    12.048953980809666,
    17.08144507475659,
    9.608968090632859,
    3.369076451000815,
];
const ERF_T: [f64; 5] = [
    9.604973739870516,
    90.02601972038427,
    2232.005345946843,
    7003.325141128051,
    55592.30130103949,
];
const ERF_U: [f64; 5] = [
    33.56171416475031,
    521.3579497801527,
    4594.323829709801,
    22629.000061389095,
    49267.39426086359,
];

/// coef[0] x^N + ... + coef[N] (cephes `polevl`).
fn polevl(x: f64, coef: &[f64]) -> f64 {
    coef.iter().skip(1).fold(coef[0], |acc, &c| acc * x + c)
}

/// x^N + coef[0] x^(N-1) + ... + coef[N-1] (cephes `p1evl`).
fn p1evl(x: f64, coef: &[f64]) -> f64 {
    coef.iter().skip(1).fold(x + coef[0], |acc, &c| acc * x + c)
}

fn erf(x: f64) -> f64 {
    if x.abs() > 1.0 {
        return 1.0 - erfc(x);
    }
    let z = x * x;
    x * polevl(z, &ERF_T) / p1evl(z, &ERF_U)
}

fn erfc(a: f64) -> f64 {
    let x = a.abs();
    if x < 1.0 {
        return 1.0 - erf(a);
    }
    let z = -a * a;
    let under = if a < 0.0 { 2.0 } else { 0.0 };
    if z < -MAXLOG {
        return under;
    }
    let z = z.exp();
    let (p, q) = if x < 8.0 {
        (polevl(x, &ERFC_P), p1evl(x, &ERFC_Q))
    } else {
        (polevl(x, &ERFC_R), p1evl(x, &ERFC_S))
    };
    let mut y = (z * p) / q;
    if a < 0.0 {
        y = 2.0 - y;
    }
    if y == 0.0 { under } else { y }
}

/// Standard normal CDF, cephes `ndtr`.
pub(crate) fn norm_cdf(a: f64) -> f64 {
    if a.is_nan() {
        return f64::NAN;
    }
    let x = a * FRAC_1_SQRT_2;
    let z = x.abs();
    if z < FRAC_1_SQRT_2 {
        0.5 + 0.5 * erf(x)
    } else {
        let y = 0.5 * erfc(z);
        if x > 0.0 { 1.0 - y } else { y }
    }
}

/// Standard normal survival function P(Z > z).
pub(crate) fn norm_sf(z: f64) -> f64 {
    norm_cdf(-z)
}

/// Standard normal quantile (NaN outside (0, 1)): Abramowitz and Stegun's
/// 26.2.23 (error below 4.5e-4) refined by Halley's method on `norm_cdf`,
/// whose cubic convergence reaches the CDF's own precision in two steps; a
/// third costs nothing and guards the far tail.
pub(crate) fn norm_ppf(p: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    if p > 0.5 {
        return -norm_ppf(1.0 - p);
    }
    let t = (-2.0 * p.ln()).sqrt();
    let mut x = -(t
        - (2.515_517 + 0.802_853 * t + 0.010_328 * t * t)
            / (1.0 + 1.432_788 * t + 0.189_269 * t * t + 0.001_308 * t * t * t));
    for _ in 0..3 {
        let error = norm_cdf(x) - p;
        // error / φ(x), with φ the standard normal density.
        let u = error * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
        if !u.is_finite() {
            // Below p ≈ 1e-300 the density underflows; the estimate stands.
            break;
        }
        x -= u / (1.0 + x * u / 2.0);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_known_normal_values() {
        // scipy.stats.norm.sf / norm.ppf reference values.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs();
        assert!(close(norm_sf(1.959963984540054), 0.025));
        assert!(close(norm_sf(0.0), 0.5));
        assert!(close(norm_sf(-1.0), 0.8413447460685429));
        assert!(close(norm_sf(10.0), 7.619853024160527e-24));
        assert!((norm_ppf(0.975) - 1.959963984540054).abs() < 1e-12);
        assert!(norm_ppf(1.0).is_nan());
        assert!(norm_ppf(0.0).is_nan());
        assert!(norm_ppf(0.5).abs() < 1e-15);
        assert!((norm_ppf(0.025) + 1.959963984540054).abs() < 1e-12);
        assert!(norm_ppf(1e-300) < -37.0 && norm_ppf(1e-300).is_finite());
    }

    #[test]
    fn quantile_inverts_the_cdf() {
        // The quantile is Halley's root of the CDF, so it must give back p to
        // the CDF's precision, from the far lower tail to the upper one. In
        // the tail the CDF's slope is |x| times p, so the rounding of x alone
        // moves it by about x² ulps: up to ~3e-13 at p = 1e-300.
        for exponent in 1..=300 {
            let p = 10f64.powi(-exponent);
            let x = norm_ppf(p);
            let back = norm_cdf(x);
            let tolerance = 1e-14 + 4.0 * f64::EPSILON * x * x;
            assert!((back - p).abs() <= tolerance * p, "p = {p:e}: {back:e}");
        }
        for i in 1..1000 {
            let p = f64::from(i) / 1000.0;
            let back = norm_cdf(norm_ppf(p));
            assert!((back - p).abs() <= 1e-14, "p = {p}: {back}");
        }
    }
}
