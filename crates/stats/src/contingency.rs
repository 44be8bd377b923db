//! Chi-square test of independence for 2 x K tables.

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

pub fn chi2_contingency(table: &[Vec<u64>]) -> Result<Chi2Contingency, StatsError> {
    let _ = table;
    todo!()
}
