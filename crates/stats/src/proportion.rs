//! Two-proportion z-test and the Wilson score interval.

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoProportionZ {
    pub p1: f64,
    pub p2: f64,
    pub diff: f64,
    pub p_pooled: f64,
    pub se: f64,
    pub z: f64,
    pub p_value: f64,
}

pub fn two_proportion_z(x1: u64, n1: u64, x2: u64, n2: u64) -> TwoProportionZ {
    let _ = (x1, n1, x2, n2);
    todo!()
}

/// Wilson score interval for `successes` out of `n` at the given confidence (e.g. 0.95).
pub fn wilson_interval(successes: u64, n: u64, confidence: f64) -> (f64, f64) {
    let _ = (successes, n, confidence);
    todo!()
}
