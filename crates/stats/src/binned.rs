//! Decile binning from the baseline, PSI and Jensen–Shannon distance.
//!
//! Cut points follow `numpy.quantile(method='linear')` arithmetic exactly;
//! PSI uses epsilon 1e-4 for empty bins; the JS distance is
//! `scipy.spatial.distance.jensenshannon(base=2)` of the raw counts.

use crate::pairwise_sum::pairwise_sum;

/// Proportion substituted for an empty bin in PSI.
pub const PSI_EPSILON: f64 = 1e-4;
/// Number of bins (deciles of the baseline).
pub const BIN_COUNT: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct Binned {
    pub cuts: Vec<f64>,
    pub x_counts: Vec<u64>,
    pub y_counts: Vec<u64>,
    pub x_props: Vec<f64>,
    pub y_props: Vec<f64>,
    pub psi: f64,
    pub js_distance: f64,
}

/// `numpy.quantile(sorted, q, method='linear')` on a sorted non-empty slice.
pub(crate) fn quantile_linear_sorted(s: &[f64], q: f64) -> f64 {
    let n = s.len();
    let h = (n - 1) as f64 * q;
    let i = h.floor();
    if h >= (n - 1) as f64 {
        return s[n - 1];
    }
    let g = h - i;
    let idx = i as usize;
    let (a, b) = (s[idx], s[idx + 1]);
    let d = b - a;
    if g < 0.5 {
        a + d * g
    } else {
        b - d * (1.0 - g)
    }
}

/// Decile cut points of the baseline: `numpy.quantile(x, k/10)`, k = 1..9.
pub fn decile_cuts_sorted(xs: &[f64]) -> Vec<f64> {
    if xs.is_empty() {
        return vec![f64::NAN; BIN_COUNT - 1];
    }
    (1..BIN_COUNT)
        .map(|k| quantile_linear_sorted(xs, k as f64 / 10.0))
        .collect()
}

/// Counts per right-closed bin: bin(v) = #{k : cuts_k < v}.
pub fn bin_counts(cuts: &[f64], values: &[f64]) -> Vec<u64> {
    let mut counts = vec![0u64; cuts.len() + 1];
    for &v in values {
        counts[cuts.partition_point(|&c| c < v)] += 1;
    }
    counts
}

fn proportions(counts: &[u64], n: usize) -> Vec<f64> {
    counts
        .iter()
        .map(|&c| {
            if c == 0 {
                PSI_EPSILON
            } else {
                c as f64 / n as f64
            }
        })
        .collect()
}

/// Population stability index of y against x over proportions with epsilon.
pub fn psi(x_props: &[f64], y_props: &[f64]) -> f64 {
    let terms: Vec<f64> = x_props
        .iter()
        .zip(y_props)
        .map(|(&xp, &yp)| (yp - xp) * (yp / xp).ln())
        .collect();
    pairwise_sum(&terms)
}

/// Places the order statistics at `ranks` (ascending, relative to `buf`)
/// where a full sort would put them, by recursive selection: O(n log k)
/// instead of sorting (NumPy's quantile partitions likewise).
fn select_ranks(buf: &mut [f64], ranks: &[usize]) {
    if ranks.is_empty() || buf.is_empty() {
        return;
    }
    let mid = ranks.len() / 2;
    let r = ranks[mid];
    buf.select_nth_unstable_by(r, f64::total_cmp);
    let (left, right) = buf.split_at_mut(r);
    select_ranks(left, &ranks[..mid]);
    let upper: Vec<usize> = ranks[mid + 1..].iter().map(|&k| k - r - 1).collect();
    select_ranks(&mut right[1..], &upper);
}

/// Decile cut points of an unsorted baseline (same values as sorting first).
pub fn decile_cuts(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    if n == 0 {
        return vec![f64::NAN; BIN_COUNT - 1];
    }
    let mut ranks: Vec<usize> = (1..BIN_COUNT)
        .flat_map(|k| {
            let i = ((n - 1) as f64 * (k as f64 / 10.0)).floor() as usize;
            [i.min(n - 1), (i + 1).min(n - 1)]
        })
        .collect();
    ranks.sort_unstable();
    ranks.dedup();
    let mut buf = x.to_vec();
    select_ranks(&mut buf, &ranks);
    // Only the selected ranks of `buf` hold sorted-order values, and those are
    // exactly the ones the quantile formula reads.
    (1..BIN_COUNT)
        .map(|k| quantile_linear_sorted(&buf, k as f64 / 10.0))
        .collect()
}

/// Binning of baseline `x` and current `y` with PSI and JS distance.
pub fn binned(x: &[f64], y: &[f64]) -> Binned {
    binned_with_cuts(decile_cuts(x), x, y)
}

/// As [`binned`] when the baseline is already sorted ascending.
pub fn binned_with_sorted_baseline(xs: &[f64], y: &[f64]) -> Binned {
    binned_with_cuts(decile_cuts_sorted(xs), xs, y)
}

fn binned_with_cuts(cuts: Vec<f64>, xs: &[f64], y: &[f64]) -> Binned {
    let x_counts = bin_counts(&cuts, xs);
    let y_counts = bin_counts(&cuts, y);
    let x_props = proportions(&x_counts, xs.len());
    let y_props = proportions(&y_counts, y.len());
    let psi = psi(&x_props, &y_props);
    let xc: Vec<f64> = x_counts.iter().map(|&c| c as f64).collect();
    let yc: Vec<f64> = y_counts.iter().map(|&c| c as f64).collect();
    let js_distance = jensen_shannon(&xc, &yc);
    Binned {
        cuts,
        x_counts,
        y_counts,
        x_props,
        y_props,
        psi,
        js_distance,
    }
}

/// a ln(a/b) for a > 0, 0 for a = 0 (`scipy.special.rel_entr`).
fn rel_entr(a: f64, b: f64) -> f64 {
    if a > 0.0 && b > 0.0 {
        a * (a / b).ln()
    } else if a == 0.0 && b >= 0.0 {
        0.0
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        f64::INFINITY
    }
}

/// Jensen–Shannon distance (base 2) of two weight vectors, each normalised by its sum.
///
/// NaN when a vector sums to 0 or the lengths differ. Rounding can push the
/// divergence a hair outside [0, 1]; it is clamped there before the square root.
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    if p.len() != q.len() {
        return f64::NAN;
    }
    let (sp, sq) = (pairwise_sum(p), pairwise_sum(q));
    let pn: Vec<f64> = p.iter().map(|&v| v / sp).collect();
    let qn: Vec<f64> = q.iter().map(|&v| v / sq).collect();
    let m: Vec<f64> = pn.iter().zip(&qn).map(|(&a, &b)| (a + b) / 2.0).collect();
    let left: Vec<f64> = pn.iter().zip(&m).map(|(&a, &b)| rel_entr(a, b)).collect();
    let right: Vec<f64> = qn.iter().zip(&m).map(|(&a, &b)| rel_entr(a, b)).collect();
    let js = (pairwise_sum(&left) + pairwise_sum(&right)) / std::f64::consts::LN_2;
    let half = js / 2.0;
    if half.is_nan() {
        return f64::NAN;
    }
    half.clamp(0.0, 1.0).sqrt()
}
