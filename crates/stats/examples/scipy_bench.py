"""SciPy timings on the sample written by `stats_bench.rs`.

Usage: python3 scipy_bench.py target/stats_bench_data.bin
File layout: little-endian float64 n1, n2, then x (n1 values), then y (n2 values).
"""
import sys
import time

import numpy as np
import scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon


def best_of(runs, f):
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = f()
        best = min(best, time.perf_counter() - start)
    return best * 1e3, result


def psi_js(x, y):
    cuts = np.quantile(x, np.arange(1, 10) / 10, method="linear")
    xc = np.bincount(np.searchsorted(cuts, x, side="left"), minlength=10)
    yc = np.bincount(np.searchsorted(cuts, y, side="left"), minlength=10)
    xp = np.where(xc == 0, 1e-4, xc / len(x))
    yp = np.where(yc == 0, 1e-4, yc / len(y))
    return np.sum((yp - xp) * np.log(yp / xp)), jensenshannon(xc, yc, base=2)


def main():
    data = np.fromfile(sys.argv[1], dtype="<f8")
    n1, n2 = int(data[0]), int(data[1])
    x, y = data[2:2 + n1], data[2 + n1:2 + n1 + n2]
    print(f"SciPy {scipy.__version__} / NumPy {np.__version__}, {n1} vs {n2} (best of 3)")
    print(f"{'statistic':<34} {'ms':>10}  result")
    t, r = best_of(3, lambda: stats.ks_2samp(x, y))
    print(f"{'ks_2samp (auto)':<34} {t:>10.1f}  D={r.statistic:.6f} p={r.pvalue:.6e}")
    t, r = best_of(3, lambda: stats.mannwhitneyu(x, y, method="asymptotic"))
    print(f"{'mannwhitneyu':<34} {t:>10.1f}  U1={r.statistic} p={r.pvalue:.6e}")
    t, (psi, js) = best_of(3, lambda: psi_js(x, y))
    print(f"{'numpy PSI + JS':<34} {t:>10.1f}  psi={psi:.6e} js={js:.6e}")


if __name__ == "__main__":
    main()
