#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every case of tests/data/vectors.json (SciPy reference values), compared
//! with the tolerances tests/data/README.md gives. The file lives in the
//! repository, so a fresh clone runs every case; a missing file is a failure.

use evalguard_stats::ks::{ks_asymp_pvalue, ks_exact_pvalue, ks_statistic_sorted};
use evalguard_stats::*;
use serde_json::Value;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vectors.json");

/// Tolerance classes from the README.
#[derive(Clone, Copy)]
enum Tol {
    Exact,
    /// Sums of many terms: rtol 1e-12, atol 1e-15.
    Sum,
    /// mmd2 and js_distance: rtol 1e-12, atol 1e-12.
    Small,
    /// p-values: rtol 1e-9.
    PValue,
}

fn decode(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            other => panic!("unexpected string number {other}"),
        },
        Value::Null => None,
        other => panic!("unexpected value {other}"),
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| decode(e).unwrap())
        .collect()
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(floats).collect()
}

struct Checker {
    failures: Vec<String>,
    checked: usize,
}

impl Checker {
    fn close(&mut self, case: &str, what: &str, got: f64, want: f64, tol: Tol) {
        self.checked += 1;
        let ok = if want.is_nan() {
            got.is_nan()
        } else if want.is_infinite() {
            got == want
        } else {
            let (rtol, atol) = match tol {
                Tol::Exact => (0.0, 0.0),
                Tol::Sum => (1e-12, 1e-15),
                Tol::Small => (1e-12, 1e-12),
                Tol::PValue => (1e-9, 0.0),
            };
            (got - want).abs() <= atol + rtol * want.abs()
        };
        if !ok {
            self.failures
                .push(format!("{case}: {what}: got {got:e}, want {want:e}"));
        }
    }

    fn field(&mut self, case: &str, obj: &Value, key: &str, got: f64, tol: Tol) {
        let want = decode(&obj[key]).unwrap_or_else(|| panic!("{case}: {key} missing"));
        self.close(case, key, got, want, tol);
    }

    fn opt_field(&mut self, case: &str, obj: &Value, key: &str, got: Option<f64>, tol: Tol) {
        match (decode(&obj[key]), got) {
            (Some(want), Some(g)) => self.close(case, key, g, want, tol),
            (None, None) => self.checked += 1,
            (want, got) => self
                .failures
                .push(format!("{case}: {key}: got {got:?}, want {want:?}")),
        }
    }

    fn vec(&mut self, case: &str, what: &str, got: &[f64], want: &[f64], tol: Tol) {
        if got.len() != want.len() {
            self.failures.push(format!(
                "{case}: {what}: length {} != {}",
                got.len(),
                want.len()
            ));
            return;
        }
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            self.close(case, &format!("{what}[{i}]"), g, w, tol);
        }
    }
}

fn check_two_sample(c: &mut Checker, id: &str, input: &Value, exp: &Value) {
    let x = floats(&input["x"]);
    let y = floats(&input["y"]);

    let ks = &exp["ks_2samp"];
    let mut xs = x.clone();
    let mut ys = y.clone();
    xs.sort_by(f64::total_cmp);
    ys.sort_by(f64::total_cmp);
    let stat = ks_statistic_sorted(&xs, &ys);
    c.field(id, &ks["asymp"], "statistic", stat.d, Tol::Exact);
    c.close(
        id,
        "ks.statistic_sign",
        f64::from(stat.sign),
        decode(&ks["statistic_sign"]).unwrap(),
        Tol::Exact,
    );
    c.close(
        id,
        "ks.statistic_location",
        stat.location,
        decode(&ks["statistic_location"]).unwrap(),
        Tol::Exact,
    );
    let (n_eff, p_asymp) = ks_asymp_pvalue(x.len(), y.len(), stat.d);
    c.close(
        id,
        "ks.asymp_n_eff",
        n_eff as f64,
        decode(&ks["asymp_n_eff"]).unwrap(),
        Tol::Exact,
    );
    c.close(
        id,
        "ks.asymp.pvalue",
        p_asymp,
        decode(&ks["asymp"]["pvalue"]).unwrap(),
        Tol::PValue,
    );
    let asymp = ks_2samp(&x, &y, KsMethod::Asymp);
    c.close(
        id,
        "ks(Asymp).pvalue",
        asymp.p_value,
        decode(&ks["asymp"]["pvalue"]).unwrap(),
        Tol::PValue,
    );
    c.close(
        id,
        "ks(Asymp).statistic",
        asymp.statistic,
        decode(&ks["asymp"]["statistic"]).unwrap(),
        Tol::Exact,
    );
    if ks["exact"].is_null() {
        if ks_exact_pvalue(x.len(), y.len(), stat.d).is_some() {
            c.failures
                .push(format!("{id}: exact should be unavailable"));
        }
    } else {
        let exact = ks_2samp(&x, &y, KsMethod::Exact);
        if exact.method != KsMethod::Exact {
            c.failures
                .push(format!("{id}: exact computation fell back to asymp"));
        }
        c.close(
            id,
            "ks.exact.statistic",
            exact.statistic,
            decode(&ks["exact"]["statistic"]).unwrap(),
            Tol::Exact,
        );
        c.close(
            id,
            "ks.exact.pvalue",
            exact.p_value,
            decode(&ks["exact"]["pvalue"]).unwrap(),
            Tol::PValue,
        );
        c.close(
            id,
            "ks(Exact).sign",
            f64::from(exact.statistic_sign),
            decode(&ks["statistic_sign"]).unwrap(),
            Tol::Exact,
        );
    }
    let auto = ks_2samp(&x, &y, KsMethod::Auto);
    let want_method = match ks["auto_method"].as_str().unwrap() {
        "exact" => KsMethod::Exact,
        "asymp" => KsMethod::Asymp,
        other => panic!("{id}: auto_method {other}"),
    };
    if auto.method != want_method {
        c.failures.push(format!(
            "{id}: auto chose {:?}, want {want_method:?}",
            auto.method
        ));
    }
    c.close(
        id,
        "ks.limit",
        kolmogorov_limit_sf(
            ((x.len() * y.len()) as f64 / (x.len() + y.len()) as f64).sqrt() * stat.d,
        ),
        decode(&ks["pvalue_kolmogorov_limit"]).unwrap(),
        Tol::PValue,
    );

    let mw = mann_whitney_u(&x, &y);
    let e = &exp["mannwhitneyu"];
    c.field(id, e, "U1", mw.u1, Tol::Exact);
    c.field(id, e, "U2", mw.u2, Tol::Exact);
    c.field(id, e, "tie_term", mw.tie_term, Tol::Exact);
    c.field(id, e, "z", mw.z, Tol::Sum);
    c.field(id, e, "pvalue", mw.p_value, Tol::PValue);

    let w = welch_t(&x, &y);
    let e = &exp["welch_t"];
    c.field(id, e, "statistic", w.statistic, Tol::Sum);
    c.field(id, e, "df", w.df, Tol::Sum);
    c.field(id, e, "pvalue", w.p_value, Tol::PValue);

    let ci = mean_diff_ci(&x, &y);
    let e = &exp["mean_diff_ci"];
    c.field(id, e, "mean_x", ci.mean_x, Tol::Sum);
    c.field(id, e, "mean_y", ci.mean_y, Tol::Sum);
    c.field(id, e, "var_x", ci.var_x, Tol::Sum);
    c.field(id, e, "var_y", ci.var_y, Tol::Sum);
    c.field(id, e, "diff", ci.diff, Tol::Sum);
    c.field(id, e, "se", ci.se, Tol::Sum);
    c.field(
        id,
        e,
        "z_crit",
        evalguard_stats::welch::Z_CRIT_95,
        Tol::Exact,
    );
    c.field(id, e, "lower", ci.lower, Tol::Sum);
    c.field(id, e, "upper", ci.upper, Tol::Sum);

    c.close(
        id,
        "wasserstein",
        wasserstein_distance(&x, &y),
        decode(&exp["wasserstein"]).unwrap(),
        Tol::Sum,
    );

    let b = binned(&x, &y);
    let e = &exp["binned"];
    c.vec(id, "cuts", &b.cuts, &floats(&e["cuts"]), Tol::Exact);
    let as_f = |v: &[u64]| v.iter().map(|&c| c as f64).collect::<Vec<_>>();
    c.vec(
        id,
        "x_counts",
        &as_f(&b.x_counts),
        &floats(&e["x_counts"]),
        Tol::Exact,
    );
    c.vec(
        id,
        "y_counts",
        &as_f(&b.y_counts),
        &floats(&e["y_counts"]),
        Tol::Exact,
    );
    c.vec(
        id,
        "x_props",
        &b.x_props,
        &floats(&e["x_props"]),
        Tol::Exact,
    );
    c.vec(
        id,
        "y_props",
        &b.y_props,
        &floats(&e["y_props"]),
        Tol::Exact,
    );
    c.field(id, e, "psi", b.psi, Tol::Sum);
    c.field(id, e, "js_distance", b.js_distance, Tol::Small);
}

fn check_case(c: &mut Checker, case: &Value) {
    let id = case["id"].as_str().unwrap();
    let input = &case["input"];
    let exp = &case["expected"];
    match case["kind"].as_str().unwrap() {
        "two_sample" => check_two_sample(c, id, input, exp),
        "chi2_contingency" => {
            let table: Vec<Vec<u64>> = input["table"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_u64().unwrap())
                        .collect()
                })
                .collect();
            match (chi2_contingency(&table), exp.get("error")) {
                (Err(StatsError::ZeroExpectedFrequency), Some(e))
                    if e == "zero_expected_frequency" =>
                {
                    c.checked += 1
                }
                (Ok(r), None) => {
                    c.field(id, exp, "statistic", r.statistic, Tol::Sum);
                    c.field(id, exp, "pvalue", r.p_value, Tol::PValue);
                    c.field(id, exp, "dof", r.dof as f64, Tol::Exact);
                    let want = matrix(&exp["expected_freq"]);
                    for (row, (g, w)) in r.expected_freq.iter().zip(&want).enumerate() {
                        c.vec(id, &format!("expected_freq[{row}]"), g, w, Tol::Sum);
                    }
                }
                (got, want) => c.failures.push(format!("{id}: got {got:?}, want {want:?}")),
            }
        }
        "two_proportion_ztest" => {
            let g = |k: &str| input[k].as_u64().unwrap();
            let r = two_proportion_z(g("x1"), g("n1"), g("x2"), g("n2"));
            c.field(id, exp, "p1", r.p1, Tol::Sum);
            c.field(id, exp, "p2", r.p2, Tol::Sum);
            c.field(id, exp, "p_pooled", r.p_pooled, Tol::Sum);
            c.field(id, exp, "diff", r.diff, Tol::Sum);
            c.field(id, exp, "se", r.se, Tol::Sum);
            c.field(id, exp, "z", r.z, Tol::Sum);
            c.field(id, exp, "pvalue", r.p_value, Tol::PValue);
        }
        "jensenshannon" => {
            let d = jensen_shannon(&floats(&input["p"]), &floats(&input["q"]));
            c.field(id, exp, "distance", d, Tol::Small);
        }
        "mmd_rbf" => {
            let r = mmd_rbf(&matrix(&input["x"]), &matrix(&input["y"]));
            c.opt_field(id, exp, "median_sq_dist", r.median_sq_dist, Tol::Sum);
            c.opt_field(id, exp, "gamma", r.gamma, Tol::Sum);
            c.opt_field(id, exp, "kxx_mean", r.kxx_mean, Tol::Sum);
            c.opt_field(id, exp, "kyy_mean", r.kyy_mean, Tol::Sum);
            c.opt_field(id, exp, "kxy_mean", r.kxy_mean, Tol::Sum);
            c.field(id, exp, "mmd2", r.mmd2, Tol::Small);
        }
        "bh_adjust" => {
            let got = benjamini_hochberg(&floats(&input["pvalues"]));
            c.vec(id, "adjusted", &got, &floats(&exp["adjusted"]), Tol::Sum);
        }
        other => c.failures.push(format!("{id}: unknown kind {other}")),
    }
}

#[test]
fn every_reference_vector_matches() {
    let text = std::fs::read_to_string(VECTORS)
        .unwrap_or_else(|e| panic!("reference vectors must exist at {VECTORS}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["format"], "drift-stats-vectors");
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let mut c = Checker {
        failures: Vec::new(),
        checked: 0,
    };
    for case in cases {
        check_case(&mut c, case);
    }
    assert!(
        c.failures.is_empty(),
        "{} of {} checks failed:\n{}",
        c.failures.len(),
        c.checked,
        c.failures.join("\n")
    );
    eprintln!("{} checks over {} cases passed", c.checked, cases.len());
}
