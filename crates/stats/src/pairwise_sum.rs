//! NumPy's pairwise summation (`np.add.reduce` on a contiguous array).
//!
//! The reference values were produced by NumPy; summing in the same order keeps
//! means, variances and other sums within a few ulps of the reference rather
//! than the `n * eps` drift of a sequential sum.

/// Block size below which NumPy sums with eight interleaved accumulators.
const BLOCK: usize = 128;

/// Sum of `values` in NumPy's pairwise order.
pub(crate) fn pairwise_sum(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 8 {
        let mut res = 0.0;
        for &v in values {
            res += v;
        }
        return res;
    }
    if n <= BLOCK {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&values[..8]);
        let unrolled = n - n % 8;
        let mut i = 8;
        while i < unrolled {
            for (k, acc) in r.iter_mut().enumerate() {
                *acc += values[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &values[unrolled..] {
            res += v;
        }
        return res;
    }
    let mut half = n / 2;
    half -= half % 8;
    pairwise_sum(&values[..half]) + pairwise_sum(&values[half..])
}

/// Arithmetic mean as `numpy.mean` computes it (NaN for an empty slice).
pub(crate) fn mean(values: &[f64]) -> f64 {
    pairwise_sum(values) / values.len() as f64
}

/// Sample variance with divisor n - 1 as `numpy.var(ddof=1)` computes it
/// (NaN for fewer than two values).
pub(crate) fn sample_variance(values: &[f64], mean: f64) -> f64 {
    if values.len() < 2 {
        return f64::NAN;
    }
    let squares: Vec<f64> = values
        .iter()
        .map(|&v| {
            let d = v - mean;
            d * d
        })
        .collect();
    pairwise_sum(&squares) / (values.len() - 1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_small_and_large_inputs() {
        assert_eq!(pairwise_sum(&[]), 0.0);
        assert_eq!(pairwise_sum(&[1.0, 2.0, 3.0]), 6.0);
        let v: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(pairwise_sum(&v), 500_500.0);
        assert!(sample_variance(&[1.0], 1.0).is_nan());
        assert_eq!(sample_variance(&[1.0, 3.0], 2.0), 2.0);
    }
}
