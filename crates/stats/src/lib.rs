//! Statistics for drift and regression detection. Pure functions, no I/O.
//!
//! Every function here is checked against SciPy/NumPy reference vectors
//! (`shared/testdata/stats/vectors.json`). Convention: `x` is the baseline
//! (reference) sample, `y` the current one; differences are `x - y`.

pub mod binned;
pub mod contingency;
pub mod fdr;
pub mod ks;
pub mod mann_whitney;
pub mod mmd;
pub mod proportion;
pub mod welch;
pub mod wasserstein;

pub use binned::{binned, jensen_shannon, Binned};
pub use contingency::{chi2_contingency, Chi2Contingency, StatsError};
pub use fdr::benjamini_hochberg;
pub use ks::{ks_2samp, KsMethod, KsResult};
pub use mann_whitney::{mann_whitney_u, MannWhitney};
pub use mmd::{mmd_permutation_test, mmd_rbf, MmdPermutation, MmdRbf};
pub use proportion::{two_proportion_z, wilson_interval, TwoProportionZ};
pub use wasserstein::wasserstein_distance;
pub use welch::{mean_diff_ci, welch_t, MeanDiffCi, WelchT};
