//! 1-D Wasserstein-1 distance, as `scipy.stats.wasserstein_distance(x, y)`.

use crate::pairwise_sum::pairwise_sum;

/// W1 between the empirical distributions of `x` and `y` (NaN if either is empty).
pub fn wasserstein_distance(x: &[f64], y: &[f64]) -> f64 {
    let mut xs = x.to_vec();
    let mut ys = y.to_vec();
    xs.sort_unstable_by(f64::total_cmp);
    ys.sort_unstable_by(f64::total_cmp);
    wasserstein_distance_sorted(&xs, &ys)
}

/// As [`wasserstein_distance`] for samples already sorted ascending.
///
/// W = sum_k |F_x(s_k) - F_y(s_k)| (s_{k+1} - s_k) over the pooled sorted
/// values, summed pairwise as NumPy does.
pub fn wasserstein_distance_sorted(xs: &[f64], ys: &[f64]) -> f64 {
    if xs.is_empty() || ys.is_empty() {
        return f64::NAN;
    }
    let (n1, n2) = (xs.len() as f64, ys.len() as f64);
    let total = xs.len() + ys.len();
    let mut terms = Vec::with_capacity(total - 1);
    let (mut i, mut j) = (0usize, 0usize);
    let mut prev = f64::NAN;
    for k in 0..total {
        let take_x = match (xs.get(i), ys.get(j)) {
            (Some(a), Some(b)) => a <= b,
            (Some(_), None) => true,
            _ => false,
        };
        let v = if take_x { xs[i] } else { ys[j] };
        if k > 0 {
            let delta = v - prev;
            // When v > prev every value <= prev has been consumed, so i and j
            // are the ECDF counts at prev; a tie contributes exactly 0.
            let term = if delta == 0.0 {
                0.0
            } else {
                (i as f64 / n1 - j as f64 / n2).abs() * delta
            };
            terms.push(term);
        }
        if take_x {
            i += 1;
        } else {
            j += 1;
        }
        prev = v;
    }
    pairwise_sum(&terms)
}
