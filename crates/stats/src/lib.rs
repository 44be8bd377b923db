//! Statistics for drift and regression detection. Pure functions, no I/O.
//!
//! Every function here is checked against SciPy/NumPy reference vectors
//! (`shared/testdata/stats/vectors.json`). Convention: `x` is the baseline
//! (reference) sample, `y` the current one; differences are `x - y`.
//!
//! Most of this crate is hand-written on purpose: no maintained Rust crate
//! reproduces SciPy's definitions (exact and finite-N KS p-values, tie and
//! continuity corrected Mann–Whitney, NumPy's quantile and summation order,
//! the MMD median heuristic). The binomial, chi-square and Student-t tails
//! come from the incomplete beta and gamma functions in `special_functions`
//! (why they are hand-written is said there).

pub mod binned;
pub mod binomial;
pub mod contingency;
pub mod fdr;
pub mod kolmogorov;
mod kolmogorov_cdf;
pub mod ks;
pub mod mann_whitney;
pub mod mmd;
mod normal;
mod pairwise_sum;
pub mod proportion;
mod special_functions;
pub mod wasserstein;
pub mod welch;

pub use binned::{Binned, binned, jensen_shannon};
pub use binomial::binomial_test_greater;
pub use contingency::{Chi2Contingency, StatsError, chi2_contingency};
pub use fdr::benjamini_hochberg;
pub use kolmogorov::{kolmogorov_limit_sf, kstwo_sf};
pub use ks::{KsMethod, KsResult, ks_2samp};
pub use mann_whitney::{MannWhitney, mann_whitney_u};
pub use mmd::{MmdPermutation, MmdRbf, mmd_permutation_test, mmd_rbf};
pub use proportion::{TwoProportionZ, two_proportion_z, wilson_interval};
pub use wasserstein::wasserstein_distance;
pub use welch::{MeanDiffCi, WelchT, mean_diff_ci, welch_t};
