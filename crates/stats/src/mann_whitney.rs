//! Mann–Whitney U, two-sided, tie and continuity corrected (asymptotic).

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
    let _ = (x, y);
    todo!()
}
