//! Chi-square test of independence for 2 x K tables, as
//! `scipy.stats.chi2_contingency(table, correction=False)`.

use crate::pairwise_sum::pairwise_sum;
use crate::special_functions::chi2_sf;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("a row or column of the table sums to zero")]
    ZeroExpectedFrequency,
    #[error("the table must have 2 rows of equal length")]
    BadShape,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chi2Contingency {
    pub statistic: f64,
    pub dof: u64,
    pub p_value: f64,
    pub expected_freq: Vec<Vec<f64>>,
}

/// Pearson chi-square test of a 2 x K table (rows: baseline, current).
pub fn chi2_contingency(table: &[Vec<u64>]) -> Result<Chi2Contingency, StatsError> {
    if table.len() != 2 || table[0].len() != table[1].len() || table[0].is_empty() {
        return Err(StatsError::BadShape);
    }
    let k = table[0].len();
    let row_sums: Vec<u128> = table
        .iter()
        .map(|r| r.iter().map(|&c| u128::from(c)).sum())
        .collect();
    let col_sums: Vec<u128> = (0..k)
        .map(|j| u128::from(table[0][j]) + u128::from(table[1][j]))
        .collect();
    let total: u128 = row_sums.iter().sum();
    // SciPy forms the integer product of the margins, then divides by N.
    let expected_freq: Vec<Vec<f64>> = row_sums
        .iter()
        .map(|&r| {
            col_sums
                .iter()
                .map(|&c| (r * c) as f64 / total as f64)
                .collect()
        })
        .collect();
    if expected_freq
        .iter()
        .flatten()
        .any(|&e| e == 0.0 || e.is_nan())
    {
        return Err(StatsError::ZeroExpectedFrequency);
    }
    let dof = (k - 1) as u64;
    if dof == 0 {
        return Ok(Chi2Contingency {
            statistic: 0.0,
            dof,
            p_value: 1.0,
            expected_freq,
        });
    }
    let terms: Vec<f64> = table
        .iter()
        .zip(&expected_freq)
        .flat_map(|(obs, exp)| {
            obs.iter().zip(exp).map(|(&o, &e)| {
                let d = o as f64 - e;
                d * d / e
            })
        })
        .collect();
    let statistic = pairwise_sum(&terms);
    let p_value = chi2_sf(statistic, dof as f64);
    Ok(Chi2Contingency {
        statistic,
        dof,
        p_value,
        expected_freq,
    })
}
