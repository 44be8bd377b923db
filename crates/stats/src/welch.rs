//! Welch's t-test and the normal-approximation CI of a mean difference.
//!
//! Means and variances are summed in NumPy's pairwise order so they agree with
//! `scipy.stats.ttest_ind(equal_var=False)` and `numpy.var(ddof=1)` to a few ulps.

use crate::pairwise_sum::{mean, sample_variance};
use crate::special_functions::student_t_two_sided;

/// `scipy.stats.norm.ppf(0.975)`.
pub const Z_CRIT_95: f64 = 1.959_963_984_540_054;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WelchT {
    pub statistic: f64,
    pub df: f64,
    pub p_value: f64,
}

/// Two-sided Welch t-test of mean(x) - mean(y).
pub fn welch_t(x: &[f64], y: &[f64]) -> WelchT {
    let (n1, n2) = (x.len() as f64, y.len() as f64);
    let (mx, my) = (mean(x), mean(y));
    let (vx, vy) = (sample_variance(x, mx), sample_variance(y, my));
    let (a, b) = (vx / n1, vy / n2);
    let mut df = (a + b).powi(2) / (a * a / (n1 - 1.0) + b * b / (n2 - 1.0));
    if df.is_nan() {
        // SciPy's convention when the df formula is undefined.
        df = 1.0;
    }
    let statistic = (mx - my) / (a + b).sqrt();
    let p_value = student_t_two_sided(statistic, df);
    WelchT {
        statistic,
        df,
        p_value,
    }
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
    let (mean_x, mean_y) = (mean(x), mean(y));
    let (var_x, var_y) = (sample_variance(x, mean_x), sample_variance(y, mean_y));
    let diff = mean_x - mean_y;
    let se = (var_x / x.len() as f64 + var_y / y.len() as f64).sqrt();
    MeanDiffCi {
        mean_x,
        mean_y,
        var_x,
        var_y,
        diff,
        se,
        lower: diff - Z_CRIT_95 * se,
        upper: diff + Z_CRIT_95 * se,
    }
}
