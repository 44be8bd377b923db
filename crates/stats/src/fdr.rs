//! Benjamini–Hochberg adjusted p-values.

pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let _ = p_values;
    todo!()
}
