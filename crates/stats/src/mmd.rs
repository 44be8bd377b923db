//! Maximum mean discrepancy with an RBF kernel (median heuristic) and a permutation test.
//!
//! Hand-written: the bandwidth rule (median of the strictly positive pooled
//! squared distances), the biased V-statistic and the permutation p-value are
//! defined by the reference vectors, not by any maintained Rust crate.
//!
//! The permutation test builds the pooled kernel matrix once (upper triangle,
//! packed by rows). A relabelling then needs one dot product per row with the
//! 0/1 indicator of the new x group; permutations are processed in batches so
//! that each row is read from memory once per batch.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MmdRbf {
    pub median_sq_dist: Option<f64>,
    pub gamma: Option<f64>,
    pub kxx_mean: Option<f64>,
    pub kyy_mean: Option<f64>,
    pub kxy_mean: Option<f64>,
    pub mmd2: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MmdPermutation {
    pub mmd2: f64,
    pub p_value: f64,
    pub permutations: u32,
}

/// Permutations evaluated per pass over the kernel matrix.
const BATCH: usize = 8;

/// Upper triangle (i < j) of a symmetric N x N matrix, packed by rows.
struct PackedUpper {
    n: usize,
    values: Vec<f64>,
}

impl PackedUpper {
    fn row_start(&self, i: usize) -> usize {
        // Rows 0..i hold (n-1) + (n-2) + ... + (n-i) entries.
        i * (2 * self.n - i - 1) / 2
    }
    fn row(&self, i: usize) -> &[f64] {
        let start = self.row_start(i);
        &self.values[start..start + (self.n - i - 1)]
    }
}

/// Sum of squared differences with four accumulators (vectorisable).
fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let ca = a.chunks_exact(4);
    let cb = b.chunks_exact(4);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            let d = x[k] - y[k];
            acc[k] += d * d;
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        let d = x - y;
        s += d * d;
    }
    s
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let ca = a.chunks_exact(4);
    let cb = b.chunks_exact(4);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Pooled points (x rows then y rows) flattened, or None when the inputs are
/// empty or of inconsistent dimension.
fn pooled(x: &[Vec<f64>], y: &[Vec<f64>]) -> Option<(Vec<f64>, usize)> {
    let d = x.first()?.len();
    if y.is_empty() || x.iter().chain(y).any(|r| r.len() != d) {
        return None;
    }
    let mut flat = Vec::with_capacity((x.len() + y.len()) * d);
    for r in x.iter().chain(y) {
        flat.extend_from_slice(r);
    }
    Some((flat, d))
}

fn pairwise_sq_distances(flat: &[f64], n: usize, d: usize) -> PackedUpper {
    let mut values = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        let a = &flat[i * d..(i + 1) * d];
        for j in (i + 1)..n {
            values.push(squared_distance(a, &flat[j * d..(j + 1) * d]));
        }
    }
    PackedUpper { n, values }
}

/// numpy.median of the strictly positive distances; None if there are none.
fn median_positive(distances: &[f64]) -> Option<f64> {
    let mut pos: Vec<f64> = distances.iter().copied().filter(|&v| v > 0.0).collect();
    let len = pos.len();
    if len == 0 {
        return None;
    }
    let mid = len / 2;
    let (left, upper, _) = pos.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if len % 2 == 1 {
        return Some(upper);
    }
    let lower = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((lower + upper) / 2.0)
}

/// MMD² (biased V-statistic) with an RBF kernel whose bandwidth comes from the
/// median heuristic on the pooled sample. Empty or ragged inputs give NaN.
pub fn mmd_rbf(x: &[Vec<f64>], y: &[Vec<f64>]) -> MmdRbf {
    let undefined = |mmd2: f64| MmdRbf {
        median_sq_dist: None,
        gamma: None,
        kxx_mean: None,
        kyy_mean: None,
        kxy_mean: None,
        mmd2,
    };
    let Some((flat, d)) = pooled(x, y) else {
        return undefined(f64::NAN);
    };
    let (n, m) = (x.len(), y.len());
    let mut kernel = pairwise_sq_distances(&flat, n + m, d);
    let Some(median) = median_positive(&kernel.values) else {
        return undefined(0.0);
    };
    let gamma = 1.0 / (2.0 * median);
    kernel
        .values
        .iter_mut()
        .for_each(|v| *v = (-gamma * *v).exp());
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for i in 0..n + m {
        let row = kernel.row(i);
        // Columns j = i+1.. ; those below n + ... belong to x.
        let split = n.saturating_sub(i + 1).min(row.len());
        let (to_x, to_y) = row.split_at(split);
        let (sx, sy): (f64, f64) = (to_x.iter().sum(), to_y.iter().sum());
        if i < n {
            sxx += sx;
            sxy += sy;
        } else {
            syy += sy;
        }
    }
    let (nf, mf) = (n as f64, m as f64);
    let kxx_mean = (nf + 2.0 * sxx) / (nf * nf);
    let kyy_mean = (mf + 2.0 * syy) / (mf * mf);
    let kxy_mean = sxy / (nf * mf);
    MmdRbf {
        median_sq_dist: Some(median),
        gamma: Some(gamma),
        kxx_mean: Some(kxx_mean),
        kyy_mean: Some(kyy_mean),
        kxy_mean: Some(kxy_mean),
        mmd2: kxx_mean + kyy_mean - 2.0 * kxy_mean,
    }
}

/// MMD² for the labelling `in_x` (1.0 = x group, 0.0 = y group) from the
/// kernel's upper triangle and its row totals.
fn mmd2_for_labels(sxx: f64, syy: f64, total: f64, n: f64, m: f64) -> f64 {
    let sxy = total - sxx - syy;
    (n + 2.0 * sxx) / (n * n) + (m + 2.0 * syy) / (m * m) - 2.0 * sxy / (n * m)
}

/// MMD² of a batch of labellings, one pass over the kernel rows.
fn batch_mmd2(
    kernel: &PackedUpper,
    row_totals: &[f64],
    total: f64,
    labels: &[Vec<f64>],
    n: f64,
    m: f64,
) -> Vec<f64> {
    let mut sxx = vec![0.0; labels.len()];
    let mut syy = vec![0.0; labels.len()];
    for i in 0..kernel.n {
        let row = kernel.row(i);
        for (b, w) in labels.iter().enumerate() {
            let r = dot(row, &w[i + 1..]);
            if w[i] == 1.0 {
                sxx[b] += r;
            } else {
                syy[b] += row_totals[i] - r;
            }
        }
    }
    sxx.iter()
        .zip(&syy)
        .map(|(&a, &b)| mmd2_for_labels(a, b, total, n, m))
        .collect()
}

/// Permutation p-value of MMD² (bandwidth fixed from the pooled sample), seeded.
///
/// p = (1 + #{permuted MMD² >= observed}) / (1 + permutations). Empty or
/// ragged inputs give NaN; a pooled sample of identical points gives
/// MMD² = 0 and p = 1.
pub fn mmd_permutation_test(
    x: &[Vec<f64>],
    y: &[Vec<f64>],
    permutations: u32,
    seed: u64,
) -> MmdPermutation {
    let Some((flat, d)) = pooled(x, y) else {
        return MmdPermutation {
            mmd2: f64::NAN,
            p_value: f64::NAN,
            permutations,
        };
    };
    let (n, m) = (x.len(), y.len());
    let big_n = n + m;
    let mut kernel = pairwise_sq_distances(&flat, big_n, d);
    drop(flat);
    let Some(median) = median_positive(&kernel.values) else {
        return MmdPermutation {
            mmd2: 0.0,
            p_value: 1.0,
            permutations,
        };
    };
    let gamma = 1.0 / (2.0 * median);
    kernel
        .values
        .iter_mut()
        .for_each(|v| *v = (-gamma * *v).exp());
    let row_totals: Vec<f64> = (0..big_n).map(|i| kernel.row(i).iter().sum()).collect();
    let total: f64 = row_totals.iter().sum();
    let (nf, mf) = (n as f64, m as f64);

    let mut identity = vec![0.0; big_n];
    identity[..n].iter_mut().for_each(|v| *v = 1.0);
    let observed = batch_mmd2(
        &kernel,
        &row_totals,
        total,
        std::slice::from_ref(&identity),
        nf,
        mf,
    )[0];

    let mut rng = StdRng::seed_from_u64(seed);
    let mut at_least = 0u64;
    let mut remaining = permutations as usize;
    let mut labels: Vec<Vec<f64>> = Vec::with_capacity(BATCH);
    while remaining > 0 {
        let batch = remaining.min(BATCH);
        labels.clear();
        for _ in 0..batch {
            let mut w = identity.clone();
            w.shuffle(&mut rng);
            labels.push(w);
        }
        for v in batch_mmd2(&kernel, &row_totals, total, &labels, nf, mf) {
            if v >= observed {
                at_least += 1;
            }
        }
        remaining -= batch;
    }
    let p_value = (1 + at_least) as f64 / (1 + u64::from(permutations)) as f64;
    MmdPermutation {
        mmd2: observed,
        p_value,
        permutations,
    }
}
