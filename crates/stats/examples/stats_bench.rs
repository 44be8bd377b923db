//! Timing of the drift statistics on large inputs, compared with SciPy when
//! it is installed.
//!
//! Run: `cargo run --release -p evalguard-stats --example stats_bench`
//!
//! Writes the 1,000,000 vs 1,000,000 sample to `target/stats_bench_data.bin`
//! (little-endian f64: n1, n2 as f64, then x, then y) and, if `python3` with
//! SciPy is available, runs `examples/scipy_bench.py` on the same file.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use evalguard_stats::{KsMethod, binned, ks_2samp, mann_whitney_u, mmd_permutation_test};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const N: usize = 1_000_000;
const MMD_N: usize = 2_000;
const MMD_DIM: usize = 384;
const MMD_PERMUTATIONS: u32 = 100;

/// Standard normal draws by Box–Muller (the workspace has no rand_distr).
fn normals(rng: &mut StdRng, n: usize, mean: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        out.push(mean + r * t.cos());
        out.push(mean + r * t.sin());
    }
    out.truncate(n);
    out
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let start = Instant::now();
    let mut last = f();
    let mut best = start.elapsed();
    for _ in 1..runs {
        let start = Instant::now();
        last = f();
        best = best.min(start.elapsed());
    }
    (best, last)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = StdRng::seed_from_u64(20_240_601);
    let x = normals(&mut rng, N, 0.0);
    let y = normals(&mut rng, N, 0.002);

    let data_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/stats_bench_data.bin");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&data_path)?);
        for v in [N as f64, N as f64].iter().chain(&x).chain(&y) {
            f.write_all(&v.to_le_bytes())?;
        }
    }

    println!("evalguard-stats, {N} vs {N} normal values (best of 3)");
    println!("{:<34} {:>10}  result", "statistic", "ms");
    let (t, ks) = best_of(3, || ks_2samp(&x, &y, KsMethod::Auto));
    println!(
        "{:<34} {:>10.1}  D={:.6} p={:.6e} ({:?})",
        "ks_2samp (auto)",
        ms(t),
        ks.statistic,
        ks.p_value,
        ks.method
    );
    let (t, mw) = best_of(3, || mann_whitney_u(&x, &y));
    println!(
        "{:<34} {:>10.1}  U1={} p={:.6e}",
        "mann_whitney_u",
        ms(t),
        mw.u1,
        mw.p_value
    );
    let (t, b) = best_of(3, || binned(&x, &y));
    println!(
        "{:<34} {:>10.1}  psi={:.6e} js={:.6e}",
        "binned (PSI + JS)",
        ms(t),
        b.psi,
        b.js_distance
    );

    let xe = &x[..10_000];
    let ye: Vec<f64> = y[..9_000].iter().map(|v| v + 0.3).collect();
    let (t, ke) = best_of(3, || ks_2samp(xe, &ye, KsMethod::Exact));
    println!(
        "{:<34} {:>10.1}  D={:.6} p={:.6e}",
        "ks_2samp exact 10000 vs 9000",
        ms(t),
        ke.statistic,
        ke.p_value
    );

    let points = |rng: &mut StdRng, shift: f64| -> Vec<Vec<f64>> {
        (0..MMD_N).map(|_| normals(rng, MMD_DIM, shift)).collect()
    };
    let ex = points(&mut rng, 0.0);
    let ey = points(&mut rng, 0.02);
    let (t, mmd) = best_of(1, || mmd_permutation_test(&ex, &ey, MMD_PERMUTATIONS, 7));
    println!(
        "{:<34} {:>10.1}  mmd2={:.6e} p={:.4}",
        format!("mmd_permutation ({MMD_N}x{MMD_N}, d={MMD_DIM}, {MMD_PERMUTATIONS} perms)"),
        ms(t),
        mmd.mmd2,
        mmd.p_value
    );

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/scipy_bench.py");
    match Command::new("python3")
        .arg(&script)
        .arg(&data_path)
        .output()
    {
        Ok(out) if out.status.success() => {
            println!();
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
        Ok(out) => println!(
            "\nSciPy comparison skipped: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => println!("\nSciPy comparison skipped: {e}"),
    }
    Ok(())
}
