//! Benjamini–Hochberg adjusted p-values, as
//! `scipy.stats.false_discovery_control(pvalues, method='bh')`.

/// Adjusted p-values in input order. m <= 1 returns the input unchanged.
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    if m <= 1 {
        return p_values.to_vec();
    }
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mf = m as f64;
    let mut adjusted: Vec<f64> = order
        .iter()
        .enumerate()
        .map(|(rank, &idx)| p_values[idx] * (mf / (rank + 1) as f64))
        .collect();
    for k in (0..m - 1).rev() {
        if adjusted[k + 1] < adjusted[k] {
            adjusted[k] = adjusted[k + 1];
        }
    }
    let mut out = vec![0.0; m];
    for (&idx, &a) in order.iter().zip(&adjusted) {
        out[idx] = a.clamp(0.0, 1.0);
    }
    out
}
