//! Welch's t-test and the normal-approximation CI of a mean difference.

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WelchT {
    pub statistic: f64,
    pub df: f64,
    pub p_value: f64,
}

pub fn welch_t(x: &[f64], y: &[f64]) -> WelchT {
    let _ = (x, y);
    todo!()
}

/// Mean difference x - y with a 95% normal-approximation interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanDiffCi {
    pub mean_x: f64,
    pub mean_y: f64,
    pub var_x: f64,
    pub var_y: f64,
    pub diff: f64,
    pub se: f64,
    pub lower: f64,
    pub upper: f64,
}

pub fn mean_diff_ci(x: &[f64], y: &[f64]) -> MeanDiffCi {
    let _ = (x, y);
    todo!()
}
