//! Mann–Whitney U, two-sided, tie and continuity corrected (asymptotic), as
//! `scipy.stats.mannwhitneyu(..., use_continuity=True, method='asymptotic')`.
//!
//! Ranks come from one linear merge of the two sorted samples; rank sums and
//! the tie term are accumulated in integers, so U1, U2 and the tie term are exact.

use crate::normal::norm_sf;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of x (the statistic SciPy returns).
    pub u1: f64,
    pub u2: f64,
    pub tie_term: f64,
    pub z: f64,
    pub p_value: f64,
}

pub fn mann_whitney_u(x: &[f64], y: &[f64]) -> MannWhitney {
    let mut xs = x.to_vec();
    let mut ys = y.to_vec();
    xs.sort_unstable_by(f64::total_cmp);
    ys.sort_unstable_by(f64::total_cmp);
    mann_whitney_u_sorted(&xs, &ys)
}

/// As [`mann_whitney_u`] for samples already sorted ascending.
pub fn mann_whitney_u_sorted(xs: &[f64], ys: &[f64]) -> MannWhitney {
    let (n1, n2) = (xs.len() as u64, ys.len() as u64);
    // Twice the rank sum of x (average ranks are multiples of 1/2).
    let mut twice_r1: u128 = 0;
    let mut tie_term: u128 = 0;
    let (mut i, mut j) = (0usize, 0usize);
    let mut before: u128 = 0;
    while i < xs.len() || j < ys.len() {
        let v = match (xs.get(i), ys.get(j)) {
            (Some(&a), Some(&b)) => {
                if a <= b {
                    a
                } else {
                    b
                }
            }
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => break,
        };
        let start_i = i;
        while i < xs.len() && xs[i] <= v {
            i += 1;
        }
        let start_j = j;
        while j < ys.len() && ys[j] <= v {
            j += 1;
        }
        let cx = (i - start_i) as u128;
        let t = cx + (j - start_j) as u128;
        // Ranks before + 1 ..= before + t; their mean is before + (t + 1)/2.
        twice_r1 += cx * (2 * before + t + 1);
        tie_term += t * t * t - t;
        before += t;
    }
    let r1 = twice_r1 as f64 / 2.0;
    let n1f = n1 as f64;
    let u1 = r1 - n1f * (n1f + 1.0) / 2.0;
    let prod = (n1 * n2) as f64;
    let u2 = prod - u1;
    let tie_term = tie_term as f64;
    let u = u1.max(u2);
    let mu = prod / 2.0;
    let n = (n1 + n2) as f64;
    let s = (prod / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
    let z = (u - mu - 0.5) / s;
    let p_value = (2.0 * norm_sf(z)).clamp(0.0, 1.0);
    MannWhitney {
        u1,
        u2,
        tie_term,
        z,
        p_value,
    }
}
