//! Known values (exact sums and closed forms, computed independently of the
//! code under test) and the properties every CDF has.

use proptest::prelude::*;

use super::*;

fn assert_relative(got: f64, want: f64, rtol: f64, what: &str) {
    assert!(
        (got - want).abs() <= rtol * want.abs(),
        "{what}: want {want:e}, got {got:e}"
    );
}

#[test]
fn ln_gamma_matches_known_values() {
    // Python's math.lgamma.
    for (x, want) in [
        (0.5, 0.572_364_942_924_700_4),
        (10.0, 12.801_827_480_081_467),
        (100.0, 359.134_205_369_575_4),
        (1e6, 12_815_504.569_147_611),
        (0.1, 2.252_712_651_734_205_5),
    ] {
        assert_relative(ln_gamma(x), want, 1e-14, &format!("ln Γ({x})"));
    }
}

#[test]
fn binomial_tail_matches_exact_sums() {
    // Σ_{i ≥ k} C(n, i) p^i (1 − p)^(n − i) in exact rational arithmetic
    // (Python's fractions) on the double nearest p.
    for (k, n, p, want) in [
        (500, 1000, 0.4, 1.014_803_038_440_021_8e-10),
        (420, 1000, 0.4, 0.104_279_147_110_995_81),
        (900, 1000, 0.5, 6.701_717_790_006_296e-162),
        (5000, 10_000, 0.5, 0.503_989_323_069_691_1),
        (1, 1000, 0.001, 0.632_304_575_229_035_9),
        (60, 100, 0.5, 0.028_443_966_820_490_395),
        (2, 2, 0.999, 0.998_001),
    ] {
        let got = binomial_sf_at_least(k, n, p);
        assert_relative(got, want, 1e-11, &format!("P(X ≥ {k}), n = {n}, p = {p}"));
    }
}

#[test]
fn chi_square_tail_matches_closed_forms() {
    // Even dof 2m: e^{−x/2} Σ_{j<m} (x/2)^j / j!; one dof: erfc(√(x/2)).
    for (x, dof, want) in [
        (70.0, 2.0, 6.305_116_760_146_989e-16),
        (100.0, 4.0, 9.836_624_224_615_98e-21),
        (3.0, 10.0, 0.981_424_063_777_859_3),
        (0.5, 6.0, 0.997_838_503_310_237_5),
        (200.0, 20.0, 1.125_347_396_084_273_3e-31),
        (70.0, 1.0, 5.930_445_850_082_481e-17),
        (1000.0, 1.0, 1.795_832_784_800_638_5e-219),
        (0.1, 1.0, 0.751_829_634_045_849_2),
        (3.841_458_820_694_124, 1.0, 0.05),
    ] {
        assert_relative(chi2_sf(x, dof), want, 1e-12, &format!("χ²({dof}) > {x}"));
    }
    assert_eq!(chi2_sf(0.0, 3.0), 1.0);
    assert!(chi2_sf(1.0, 0.0).is_nan());
    assert!(chi2_sf(f64::NAN, 2.0).is_nan());
}

#[test]
fn student_t_tail_matches_closed_forms() {
    // One dof (Cauchy): (2/π) atan(1/|t|); two dof: 2 / (s (s + |t|)), s = √(2 + t²).
    for (t, want) in [
        (0.1, 0.936_548_965_138_893),
        (1.0, 0.5),
        (12.706_204_736_174_7, 0.05),
        (1e3, 0.000_636_619_560_161_118),
        (-1e8, 6.366_197_723_675_814e-9),
    ] {
        assert_relative(
            student_t_two_sided(t, 1.0),
            want,
            1e-12,
            &format!("t = {t}, df = 1"),
        );
    }
    for (t, want) in [
        (0.1, 0.929_465_438_414_140_2),
        (1.0, 0.422_649_730_810_374_27),
        (4.302_652_729_911_275, 0.049_999_999_996_516_636),
        (1e3, 9.999_985_000_025e-7),
        (1e8, 1e-16),
    ] {
        assert_relative(
            student_t_two_sided(t, 2.0),
            want,
            1e-12,
            &format!("t = {t}, df = 2"),
        );
    }
    assert_eq!(student_t_two_sided(0.0, 5.0), 1.0);
    assert_eq!(student_t_two_sided(f64::INFINITY, 5.0), 0.0);
    assert!(student_t_two_sided(1.0, 0.0).is_nan());
    assert!(student_t_two_sided(1.0, -1.0).is_nan());
    // An infinite df is the normal distribution.
    assert_relative(
        student_t_two_sided(1.959_963_984_540_054, f64::INFINITY),
        0.05,
        1e-14,
        "z",
    );
}

#[test]
fn arguments_outside_the_domain_give_nan_not_a_panic() {
    for (a, b, x) in [
        (0.0, 1.0, 0.5),
        (1.0, -1.0, 0.5),
        (1.0, 1.0, 1.5),
        (f64::NAN, 1.0, 0.5),
    ] {
        assert!(beta_reg(a, b, x, 1.0 - x).is_nan(), "I_{x}({a}, {b})");
    }
    for (a, x) in [
        (0.0, 1.0),
        (1.0, -1.0),
        (f64::INFINITY, 1.0),
        (1.0, f64::NAN),
    ] {
        assert!(gamma_q(a, x).is_nan(), "Q({a}, {x})");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn binomial_tail_is_a_decreasing_probability(n in 1u64..3000, p in 0.0f64..=1.0, k_share in 0.0f64..1.0) {
        let k = 1 + (k_share * n as f64) as u64;
        let k = k.min(n);
        let here = binomial_sf_at_least(k, n, p);
        prop_assert!((0.0..=1.0 + 1e-12).contains(&here), "{here}");
        if k < n {
            // P(X ≥ k) ≥ P(X ≥ k + 1).
            prop_assert!(binomial_sf_at_least(k + 1, n, p) <= here * (1.0 + 1e-12));
        }
    }

    #[test]
    fn binomial_tail_is_the_complement_of_the_mirrored_tail(n in 2u64..2000, p in 0.001f64..0.999, k_share in 0.0f64..1.0) {
        // P(X ≥ k) + P(n − X ≥ n − k + 1) = 1, and n − X ~ Binomial(n, 1 − p).
        let k = (1 + (k_share * (n - 1) as f64) as u64).min(n);
        let upper = binomial_sf_at_least(k, n, p);
        let lower = binomial_sf_at_least(n - k + 1, n, 1.0 - p);
        prop_assert!((upper + lower - 1.0).abs() < 1e-12, "{upper} + {lower}");
    }

    #[test]
    fn chi_square_tail_is_a_decreasing_probability(dof in 1u32..200, x in 0.0f64..500.0, step in 0.0f64..10.0) {
        let dof = f64::from(dof);
        let here = chi2_sf(x, dof);
        prop_assert!((0.0..=1.0).contains(&here), "{here}");
        prop_assert!(chi2_sf(x + step, dof) <= here);
        // More degrees of freedom put more mass above any point.
        prop_assert!(chi2_sf(x, dof + 1.0) >= here * (1.0 - 1e-12));
    }

    #[test]
    fn student_t_tail_is_symmetric_decreasing_and_heavier_than_normal(t in -50.0f64..50.0, df in 0.5f64..1e5, step in 0.0f64..5.0) {
        let here = student_t_two_sided(t, df);
        prop_assert!((0.0..=1.0).contains(&here), "{here}");
        prop_assert_eq!(here, student_t_two_sided(-t, df));
        prop_assert!(student_t_two_sided(t.abs() + step, df) <= here);
        // The t distribution has heavier tails than the normal it tends to.
        let normal = 2.0 * crate::normal::norm_sf(t.abs());
        prop_assert!(here >= normal * (1.0 - 1e-9), "{here} < {normal}");
    }

    #[test]
    fn incomplete_beta_is_symmetric(a in 0.1f64..500.0, b in 0.1f64..500.0, x in 0.0f64..=1.0) {
        // I_x(a, b) = 1 − I_{1−x}(b, a).
        let sum = beta_reg(a, b, x, 1.0 - x) + beta_reg(b, a, 1.0 - x, x);
        prop_assert!((sum - 1.0).abs() < 1e-10, "{sum}");
    }
}
