//! Two-sample Kolmogorov–Smirnov test, as `scipy.stats.ks_2samp` (two-sided).
//!
//! Hand-written: no maintained Rust crate computes SciPy's exact lattice-path
//! p-value (Hodges 1958 with Viehmann's 1 - p recursion) or its finite-N
//! asymptotic `kstwo.sf`, and the drift decisions must match SciPy.

use crate::kolmogorov::kstwo_sf;

/// `method='auto'` uses the exact p-value up to this sample size.
const MAX_AUTO_N: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KsMethod {
    /// Exact when max(n1, n2) <= 10,000 and the exact computation succeeds, else asymptotic.
    Auto,
    Exact,
    Asymp,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsResult {
    pub statistic: f64,
    pub p_value: f64,
    /// +1 when D+ was chosen, -1 when D-.
    pub statistic_sign: i8,
    pub statistic_location: f64,
    /// The method actually used (never `Auto`).
    pub method: KsMethod,
}

/// The ECDF-difference statistic before the p-value step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsStatistic {
    /// D as max of the ECDF differences (the `asymp` statistic).
    pub d: f64,
    pub sign: i8,
    pub location: f64,
}

/// D, its sign and location from two samples sorted ascending.
///
/// The ECDFs are evaluated at every element of `x` followed by every element
/// of `y` (SciPy's `data_all`), each difference formed as `a/n1 - b/n2` in
/// floating point exactly as SciPy does, so the statistic matches bit for bit.
pub fn ks_statistic_sorted(xs: &[f64], ys: &[f64]) -> KsStatistic {
    let (n1, n2) = (xs.len() as f64, ys.len() as f64);
    // (value, index in data_all) of the first maximum and first minimum.
    let mut max_diff = f64::NEG_INFINITY;
    let mut max_loc = f64::NAN;
    let mut min_diff = f64::INFINITY;
    let mut min_loc = f64::NAN;
    let mut visit = |diff: f64, v: f64| {
        if diff > max_diff {
            max_diff = diff;
            max_loc = v;
        }
        if diff < min_diff {
            min_diff = diff;
            min_loc = v;
        }
    };
    // Pass over x: for a run of equal values the count in x is the run's end.
    let mut j = 0;
    let mut i = 0;
    while i < xs.len() {
        let v = xs[i];
        let mut end = i + 1;
        while end < xs.len() && xs[end] <= v {
            end += 1;
        }
        while j < ys.len() && ys[j] <= v {
            j += 1;
        }
        let diff = end as f64 / n1 - j as f64 / n2;
        for _ in i..end {
            visit(diff, v);
        }
        i = end;
    }
    // Pass over y.
    let mut i = 0;
    let mut j = 0;
    while j < ys.len() {
        let v = ys[j];
        let mut end = j + 1;
        while end < ys.len() && ys[end] <= v {
            end += 1;
        }
        while i < xs.len() && xs[i] <= v {
            i += 1;
        }
        let diff = i as f64 / n1 - end as f64 / n2;
        for _ in j..end {
            visit(diff, v);
        }
        j = end;
    }
    let min_s = (-min_diff).clamp(0.0, 1.0);
    let max_s = max_diff;
    if min_s > max_s {
        KsStatistic {
            d: min_s,
            sign: -1,
            location: min_loc,
        }
    } else {
        KsStatistic {
            d: max_s,
            sign: 1,
            location: max_loc,
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Exact two-sided p-value; `None` when the computation is not possible
/// (SciPy then falls back to the asymptotic method). Returns (h/L, p).
pub fn ks_exact_pvalue(n1: usize, n2: usize, d: f64) -> Option<(f64, f64)> {
    if n1 == 0 || n2 == 0 || !d.is_finite() {
        return None;
    }
    let (n1u, n2u) = (n1 as u64, n2 as u64);
    let g = gcd(n1u, n2u);
    let lcm = (n1u / g) * n2u;
    let h_f = (d * lcm as f64).round_ties_even();
    let h = h_f as u64;
    let d_exact = h_f / lcm as f64;
    if h == 0 {
        return Some((d_exact, 1.0));
    }
    let prob = if n1 == n2 {
        prob_outside_square(n1u, h)
    } else {
        outer_prob_inside(n1u, n2u, g, h)?
    };
    if !(0.0..=1.0).contains(&prob) {
        return None;
    }
    Some((d_exact, prob))
}

/// n1 = n2 = n: P(D >= h/n) = 2 * sum_k (-1)^(k-1) C(2n, n-kh)/C(2n, n), in Horner form.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let (n, h) = (n as i64, h as i64);
    let mut p = 0.0;
    let mut k = n / h;
    while k >= 0 {
        let mut p1 = 1.0;
        for j in 0..h {
            p1 = (n - k * h - j) as f64 * p1 / (n + k * h + j + 1) as f64;
        }
        p = p1 * (1.0 - p);
        k -= 1;
    }
    2.0 * p
}

/// n1 != n2: proportion of lattice paths leaving |i/m - j/n| < h/L, computed
/// column by column as 1 - p directly (SciPy's `_compute_outer_prob_inside_method`).
fn outer_prob_inside(m: u64, n: u64, g: u64, h: u64) -> Option<f64> {
    let (m, n) = if m < n {
        (n as i64, m as i64)
    } else {
        (m as i64, n as i64)
    };
    let (g, h) = (g as i64, h as i64);
    let mg = m / g;
    let ng = n / g;
    let ceil_div = |a: i64, b: i64| -> i64 { -((-a).div_euclid(b)) };
    let mut minj: i64 = 0;
    let mut maxj: i64 = ceil_div(h, mg).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1) as usize;
    let mut a = vec![1.0f64; len_a];
    for v in a.iter_mut().take(maxj as usize) {
        *v = 0.0;
    }
    for i in 1..=m {
        let lastminj = minj;
        let lastlen = curlen;
        minj = ((ng * i - h).div_euclid(mg) + 1).max(0).min(n);
        maxj = ceil_div(ng * i + h, mg).min(n + 1);
        if maxj <= minj {
            return Some(1.0);
        }
        let fi = i as f64;
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        let shift = (minj - lastminj) as usize;
        for jj in 0..(maxj - minj) as usize {
            let j = jj as f64 + minj as f64;
            let prev = *a.get(jj + shift)?;
            val = (prev * fi + val * j) / (fi + j);
            *a.get_mut(jj)? = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let start = curlen as usize;
            let end = (start + (lastlen - curlen) as usize).min(len_a);
            for v in a.iter_mut().take(end).skip(start) {
                *v = 1.0;
            }
        }
    }
    a.get((maxj - minj - 1) as usize).copied()
}

/// Asymptotic p-value: `kstwo.sf(D, round(en))` with en = m n / (m + n).
pub fn ks_asymp_pvalue(n1: usize, n2: usize, d: f64) -> (u64, f64) {
    let (a, b) = (n1 as f64, n2 as f64);
    let (m, n) = if a >= b { (a, b) } else { (b, a) };
    let en = m * n / (m + n);
    let n_eff = en.round_ties_even();
    if n_eff.is_nan() {
        return (0, f64::NAN);
    }
    let n_eff = n_eff as u64;
    (n_eff, kstwo_sf(n_eff, d).clamp(0.0, 1.0))
}

/// Two-sided two-sample KS test. Inputs are expected finite; an empty sample
/// gives NaN statistic and p-value.
pub fn ks_2samp(x: &[f64], y: &[f64], method: KsMethod) -> KsResult {
    if x.is_empty() || y.is_empty() {
        return KsResult {
            statistic: f64::NAN,
            p_value: f64::NAN,
            statistic_sign: 1,
            statistic_location: f64::NAN,
            method: if method == KsMethod::Exact {
                KsMethod::Exact
            } else {
                KsMethod::Asymp
            },
        };
    }
    let mut xs = x.to_vec();
    let mut ys = y.to_vec();
    xs.sort_unstable_by(f64::total_cmp);
    ys.sort_unstable_by(f64::total_cmp);
    ks_2samp_sorted(&xs, &ys, method)
}

/// As [`ks_2samp`] for samples already sorted ascending (avoids copying and sorting).
pub fn ks_2samp_sorted(xs: &[f64], ys: &[f64], method: KsMethod) -> KsResult {
    let stat = ks_statistic_sorted(xs, ys);
    let (n1, n2) = (xs.len(), ys.len());
    let try_exact = match method {
        KsMethod::Exact => true,
        KsMethod::Asymp => false,
        KsMethod::Auto => n1.max(n2) <= MAX_AUTO_N,
    };
    if try_exact && let Some((d, p)) = ks_exact_pvalue(n1, n2, stat.d) {
        return KsResult {
            statistic: d,
            p_value: p.clamp(0.0, 1.0),
            statistic_sign: stat.sign,
            statistic_location: stat.location,
            method: KsMethod::Exact,
        };
    }
    let (_, p) = ks_asymp_pvalue(n1, n2, stat.d);
    KsResult {
        statistic: stat.d,
        p_value: p,
        statistic_sign: stat.sign,
        statistic_location: stat.location,
        method: KsMethod::Asymp,
    }
}
