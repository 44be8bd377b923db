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

const EXP128: i32 = 128;
/// 2^128, the rescaling step of the matrix and recursion algorithms.
const TWO_POW_128: f64 = 3.402_823_669_209_385e38;
/// 2^-128.
const TWO_POW_MINUS_128: f64 = 2.938_735_877_055_718_8e-39;
/// Natural log below which `exp` underflows (cephes MINLOG).
const MIN_LOG: f64 = -7.083_964_185_322_641e2;
const SQRT_2PI: f64 = 2.506_628_274_631_000_7;
const LOG_2PI: f64 = 1.837_877_066_409_345_5;
const SQRT3: f64 = 1.732_050_807_568_877_2;
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

fn matmul(a: &[f64], b: &[f64], out: &mut [f64], m: usize) {
    out.iter_mut().for_each(|v| *v = 0.0);
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            if aik == 0.0 {
                continue;
            }
            let brow = &b[k * m..(k + 1) * m];
            let orow = &mut out[i * m..(i + 1) * m];
            for (o, &bv) in orow.iter_mut().zip(brow) {
                *o += aik * bv;
            }
        }
    }
}

/// P(D_n <= d) by Durbin's matrix algorithm as Marsaglia, Tsang and Wang compute it.
fn durbin_mtw_cdf(n: u64, d: f64) -> f64 {
    let nf = n as f64;
    let nd = nf * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut v = vec![0.0; m];
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] = (1.0 - h.powi(j as i32)) * fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;

    let mut hm = vec![0.0; m * m];
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }

    let mut hpwr = vec![0.0; m * m];
    for i in 0..m {
        hpwr[i * m + i] = 1.0;
    }
    let mut scratch = vec![0.0; m * m];
    let mut nn = n;
    let mut expnt: i32 = 0;
    let mut h_expnt: i32 = 0;
    while nn > 0 {
        if nn % 2 == 1 {
            matmul(&hpwr, &hm, &mut scratch, m);
            std::mem::swap(&mut hpwr, &mut scratch);
            expnt += h_expnt;
        }
        matmul(&hm, &hm, &mut scratch, m);
        std::mem::swap(&mut hm, &mut scratch);
        h_expnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > TWO_POW_128 {
            hm.iter_mut().for_each(|x| *x *= TWO_POW_MINUS_128);
            h_expnt += EXP128;
        }
        nn /= 2;
    }
    let mut p = hpwr[(k - 1) * m + (k - 1)];
    for i in 1..=n {
        p = (i as f64) * p / nf;
        if p.abs() < TWO_POW_MINUS_128 {
            p *= TWO_POW_128;
            expnt -= EXP128;
        }
    }
    ldexp(p, expnt)
}

/// First and last column of row `i` of the Pomeranz recursion.
fn pomeranz_j1j2(i: i64, n: i64, ll: i64, ceilf: i64, roundf: i64) -> (i64, i64) {
    let (j1, j2) = if i == 0 {
        (-ll - ceilf - 1, ll + ceilf - 1)
    } else {
        let ip1div2 = (i + 1) / 2;
        let ip1mod2 = (i + 1) % 2;
        if ip1mod2 == 0 {
            if ip1div2 == n + 1 {
                (n - ll - ceilf - 1, n + ll + ceilf - 1)
            } else {
                (ip1div2 - 1 - ll - roundf - 1, ip1div2 + ll - 1 + ceilf - 1)
            }
        } else {
            (ip1div2 - 1 - ll - 1, ip1div2 + ll + roundf - 1)
        }
    };
    ((j1 + 2).max(0), j2.min(n))
}

/// P(D_n <= x) by the Pomeranz (1974) recursion.
fn pomeranz_cdf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let ni = n as i64;
    let t = nf * x;
    let ll = t.floor() as i64;
    let f = t - ll as f64;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let npwrs = (2 * (ll + 1)) as usize;
    let mut gpower = vec![1.0; npwrs];
    let mut twogpower = vec![1.0; npwrs];
    let mut onem2gpower = vec![1.0; npwrs];
    let (g_over_n, two_g_over_n, one_minus_two_g_over_n) = (g / nf, 2.0 * g / nf, (1.0 - 2.0 * g) / nf);
    for m in 1..npwrs {
        gpower[m] = gpower[m - 1] * g_over_n / m as f64;
        twogpower[m] = twogpower[m - 1] * two_g_over_n / m as f64;
        onem2gpower[m] = onem2gpower[m - 1] * one_minus_two_g_over_n / m as f64;
    }
    let mut v0 = vec![0.0; npwrs];
    let mut v1 = vec![0.0; npwrs];
    v1[0] = 1.0;
    let (mut v0s, mut v1s): (i64, i64) = (0, 0);
    let mut expnt: i32 = 0;
    let (mut j1, mut _j2) = pomeranz_j1j2(0, ni, ll, ceilf, roundf);
    for i in 1..(2 * ni + 2) {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.iter_mut().for_each(|v| *v = 0.0);
        let (nj1, nj2) = pomeranz_j1j2(i, ni, ll, ceilf, roundf);
        j1 = nj1;
        _j2 = nj2;
        let pwrs = if i == 1 || i == 2 * ni + 1 {
            &gpower
        } else if i % 2 == 1 {
            &twogpower
        } else {
            &onem2gpower
        };
        let ln2 = nj2 - k1 + 1;
        if ln2 > 0 {
            // np.convolve(V0[start:start+ln2], pwrs[:ln2]); slices are truncated
            // at the array ends as NumPy does.
            let start = (k1 - v0s).max(0) as usize;
            let a_end = (start + ln2 as usize).min(npwrs);
            let a = &v0[start.min(a_end)..a_end];
            let b = &pwrs[..(ln2 as usize).min(npwrs)];
            let conv_start = (nj1 - k1).max(0) as usize;
            let conv_len = (nj2 - nj1 + 1).max(0) as usize;
            for (out_idx, slot) in v1.iter_mut().take(conv_len).enumerate() {
                let c = conv_start + out_idx;
                let lo = c.saturating_sub(b.len().saturating_sub(1));
                let hi = c.min(a.len().saturating_sub(1));
                let mut s = 0.0;
                if !a.is_empty() {
                    for ai in lo..=hi {
                        s += a[ai] * b[c - ai];
                    }
                }
                *slot = s;
            }
            let vmax = v1.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if vmax > 0.0 && vmax < TWO_POW_MINUS_128 {
                v1.iter_mut().for_each(|v| *v *= TWO_POW_128);
                expnt -= EXP128;
            }
            v1s = v0s + nj1 - k1;
        }
    }
    let idx = ni - v1s;
    let mut ans = if idx >= 0 && (idx as usize) < npwrs { v1[idx as usize] } else { 0.0 };
    for m in 1..=n {
        if ans.abs() > TWO_POW_128 {
            ans *= TWO_POW_MINUS_128;
            expnt += EXP128;
        }
        ans *= m as f64;
    }
    ldexp(ans, expnt)
}

/// P(D_n <= x) by the Pelz–Good (1976) expansion.
fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let pi2 = PI * PI;
    let pi4 = pi2 * pi2;
    let pi6 = pi4 * pi2;
    let z = nf.sqrt() * x;
    let (zsquared, zthree, zfour, zsix) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let qlog = -pi2 / 8.0 / zsquared;
    if qlog < -708.0 {
        return 0.0;
    }
    let q = qlog.exp();
    let k1a = -zsquared;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * zsix + 2.0 * zfour;
    let k2b = (2.0 * zfour - 5.0 * zsquared) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * zsquared) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * zsquared) / 64.0;
    let k3c = pi4 * (-60.0 * zsquared + 212.0 * zfour) / 16.0;
    let k3b = pi2 * (135.0 * zfour - 96.0 * zsix) / 4.0;
    let k3a = -30.0 * zsix - 90.0 * z.powi(8);

    let mut kk = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for k in (1..=maxk).rev() {
        let m = (2 * k - 1) as f64;
        let (msquared, mfour, msix) = (m * m, m.powi(4), m.powi(6));
        let qpower = q.powf((8 * k) as f64);
        let coeffs = [
            1.0,
            k1a + k1b * msquared,
            k2a + k2b * msquared + k2c * mfour,
            k3a + k3b * msquared + k3c * mfour + k3d * msix,
        ];
        for (acc, c) in kk.iter_mut().zip(coeffs) {
            *acc = *acc * qpower + c;
        }
    }
    let denoms = [z, 6.0 * zfour, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (acc, d) in kk.iter_mut().zip(denoms) {
        *acc = *acc * q * SQRT_2PI / d;
    }
    let q2 = (-pi2 / 2.0 / zsquared).exp();
    let sqrt3z = SQRT3 * z;
    let (mut k2extra, mut k3extra) = (0.0, 0.0);
    for k in (1..=maxk).rev() {
        let kf = k as f64;
        let ksquared = kf * kf;
        let qp = q2.powf(ksquared);
        let kspi = PI * kf;
        k2extra += ksquared * qp;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qp;
    }
    kk[2] += k2extra * pi2 * SQRT_2PI / (-36.0 * zthree);
    kk[3] += k3extra * pi2 * SQRT_2PI / (216.0 * zsix);
    for (i, acc) in kk.iter_mut().enumerate() {
        *acc /= nf.powf(i as f64 / 2.0);
    }
    kk.iter().sum()
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
        let sf = if logp < -LN_2 { logp.exp() } else { 1.0 - (-logp.exp_m1()) };
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
        let log_term = c_man.ln() + f64::from(c_exp) * LN_2 + (v - 1.0) * t1x.ln() + (nf - v) * t2x.ln();
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
        if c_man > TWO_POW_128 {
            c_man *= TWO_POW_MINUS_128;
            c_exp += EXP128;
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
