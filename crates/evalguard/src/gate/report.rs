//! The gate's plain-text report: baseline, per-scorer outcome counts, flags
//! with their evidence (effects with the sign of the evidence; rates in
//! percentage points), the worst samples, and why the gate cannot decide.

use std::fmt::Write;

use evalguard_client::{Flag, Job, SampleResult, ScoreOutcome};

use super::failed_checks;

/// Tests whose effect is a difference of rates, shown in percentage points.
const RATE_TESTS: [&str; 2] = ["two_proportion_z", "jensen_shannon"];
/// Longest input or output shown per sample, in characters.
const SHOWN_CHARS: usize = 240;

/// The flagged results ranked worst first: most failed checks, then the
/// lowest score among the checks; at most `n`.
pub fn worst_samples(mut flagged: Vec<SampleResult>, n: usize) -> Vec<SampleResult> {
    let lowest = |r: &SampleResult| {
        r.scores
            .values()
            .filter(|s| s.passed.is_some())
            .filter_map(|s| s.outcome.value())
            .fold(f64::INFINITY, f64::min)
    };
    flagged.retain(|r| !failed_checks(r).is_empty());
    flagged.sort_by(|a, b| {
        failed_checks(b)
            .len()
            .cmp(&failed_checks(a).len())
            .then(lowest(a).total_cmp(&lowest(b)))
    });
    flagged.truncate(n);
    flagged
}

/// Why a job has no baseline, as the job says.
pub fn no_baseline_reason(job: &Job) -> String {
    job.baseline
        .as_ref()
        .and_then(|b| b.reason.clone())
        .unwrap_or_else(|| "no earlier traffic to compare with".to_owned())
}

pub fn render_report(job: &Job, worst: &[SampleResult], undecided: &[String]) -> String {
    let mut out = String::new();
    let t = &job.target;
    let _ = writeln!(
        out,
        "EvalGuard auto-eval {} — {} / {} / {}",
        job.id.0, t.project_id, t.model, t.prompt_id
    );
    match &job.baseline {
        Some(b) if b.kind != "none" => {
            let what = match (&b.model, &b.prompt_id) {
                (Some(m), Some(p)) => format!(" {m} / {p}"),
                _ => String::new(),
            };
            let _ = writeln!(out, "baseline: {}{what} (n = {})", b.kind, b.n);
        }
        _ => {
            let _ = writeln!(
                out,
                "baseline: none — {}. Without one, nothing was tested for regression or drift; only the absolute hallucination threshold could flag.",
                no_baseline_reason(job)
            );
        }
    }
    for w in &job.warnings {
        let _ = writeln!(out, "warning: {}", w.message);
    }

    let _ = writeln!(
        out,
        "\n{:<20} {:>6} {:>9} {:>9} {:>7} {:>5} {:>10} {:>6}",
        "scorer", "n", "mean", "baseline", "scored", "n/a", "unparsable", "error"
    );
    for (name, s) in &job.summary {
        if let Some(why) = &s.skipped {
            let _ = writeln!(out, "{name:<20} skipped: {why}");
            continue;
        }
        let mean = s.mean.map(number).unwrap_or_else(|| "-".into());
        let base = s
            .baseline
            .as_ref()
            .and_then(|b| b.mean)
            .map(number)
            .unwrap_or_else(|| "-".into());
        let o = &s.outcomes;
        let _ = writeln!(
            out,
            "{name:<20} {:>6} {mean:>9} {base:>9} {:>7} {:>5} {:>10} {:>6}",
            s.n, o.scored, o.not_applicable, o.unparsable, o.error
        );
    }

    if job.flags.is_empty() {
        let _ = writeln!(out, "\nno flags raised");
    } else {
        let _ = writeln!(out, "\n{} flag(s):", job.flags.len());
        for flag in &job.flags {
            let _ = writeln!(
                out,
                "  [{}] {} on {}: {}",
                wire_name(&flag.severity),
                wire_name(&flag.kind),
                flag.metric,
                flag.message
            );
            let _ = writeln!(out, "      {}", evidence_line(flag));
        }
    }

    if !worst.is_empty() {
        let _ = writeln!(out, "\nworst samples:");
        for r in worst {
            let failed = failed_checks(r);
            let _ = writeln!(out, "  {} — failed: {}", r.sample_id, failed.join(", "));
            if let Some(sample) = &r.sample {
                let _ = writeln!(out, "    input:  {}", shorten(&sample.input));
                let _ = writeln!(out, "    output: {}", shorten(&sample.output));
            }
            for name in failed {
                if let Some(ScoreOutcome::Scored {
                    reasoning: Some(why),
                    ..
                }) = r.scores.get(name).map(|s| &s.outcome)
                {
                    let _ = writeln!(out, "    {name}: {}", shorten(why));
                }
            }
        }
    }

    if !undecided.is_empty() {
        let _ = writeln!(
            out,
            "\ncannot decide (exit 2): the job could not look where it was asked to"
        );
        for reason in undecided {
            let _ = writeln!(out, "  - {reason}");
        }
    }
    out
}

/// The evidence of a flag in one line, every number with the sign it has in
/// the evidence; rate effects in percentage points.
pub fn evidence_line(flag: &Flag) -> String {
    let e = &flag.evidence;
    let test = e.test.as_deref().unwrap_or("-");
    let mut parts = vec![test.to_owned()];
    let rates = RATE_TESTS.contains(&test);
    if let Some(effect) = e.effect {
        let shown = |x: f64| {
            if rates {
                format!("{} pp", signed(x * 100.0, 1))
            } else {
                signed(x, 3)
            }
        };
        let mut part = format!("effect {}", shown(effect));
        if let (Some(low), Some(high)) = (e.ci_low, e.ci_high) {
            let _ = write!(part, " (95% CI {} to {})", shown(low), shown(high));
        }
        parts.push(part);
    } else if test == "binomial_exact" {
        if let (Some(rate), Some(low), Some(high)) = (e.statistic, e.ci_low, e.ci_high) {
            parts.push(format!(
                "rate {:.1}% (95% Wilson CI {:.1}% to {:.1}%)",
                rate * 100.0,
                low * 100.0,
                high * 100.0
            ));
        }
        if let Some(threshold) = e.extra.get("threshold").and_then(|v| v.as_f64()) {
            parts.push(format!("threshold {:.1}%", threshold * 100.0));
        }
    } else if let Some(statistic) = e.statistic {
        parts.push(format!("statistic {statistic:.4}"));
    }
    if let Some(p) = e.p_value {
        parts.push(format!("p{}", p_value(p)));
    }
    if let Some(p) = e.p_adjusted {
        parts.push(format!("p_adj{}", p_value(p)));
    }
    match (e.n_current, e.n_baseline) {
        (Some(c), Some(b)) => parts.push(format!("n={c} vs {b}")),
        (Some(c), None) => parts.push(format!("n={c}")),
        _ => {}
    }
    parts.join(", ")
}

fn signed(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x.abs());
    if x < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("−{s}")
    } else if x > 0.0 {
        format!("+{s}")
    } else {
        s
    }
}

/// `<0.0001` or `=0.0123`.
fn p_value(p: f64) -> String {
    if p < 0.0001 {
        "<0.0001".to_owned()
    } else {
        format!("={p:.4}")
    }
}

/// The name a value has in the API (`critical`, `regression`).
fn wire_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => "?".to_owned(),
    }
}

fn number(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.3}")
    }
}

fn shorten(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= SHOWN_CHARS {
        return one_line;
    }
    let cut: String = one_line.chars().take(SHOWN_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use evalguard_client::{FlagKind, Severity};
    use evalguard_domain::job::Evidence;

    fn flag(test: &str, effect: f64, low: f64, high: f64) -> Flag {
        Flag {
            kind: FlagKind::Regression,
            severity: Severity::Critical,
            metric: "refusal".into(),
            message: "refusals rose from 0% to 20%".into(),
            evidence: Evidence {
                test: Some(test.into()),
                effect: Some(effect),
                ci_low: Some(low),
                ci_high: Some(high),
                p_value: Some(0.00001),
                p_adjusted: Some(0.00002),
                n_current: Some(100),
                n_baseline: Some(100),
                ..Evidence::default()
            },
        }
    }

    fn result(id: &str, scores: &[(&str, f64, Option<bool>)]) -> SampleResult {
        SampleResult {
            sample_id: id.into(),
            flagged: scores.iter().any(|s| s.2 == Some(false)),
            sample: None,
            scores: scores
                .iter()
                .map(|(name, value, passed)| {
                    let outcome = ScoreOutcome::Scored {
                        value: *value,
                        label: None,
                        reasoning: Some(format!("why {name}")),
                    };
                    let score = evalguard_client::ResultScore {
                        outcome,
                        passed: *passed,
                    };
                    ((*name).to_owned(), score)
                })
                .collect(),
        }
    }

    #[test]
    fn worst_samples_fail_most_checks_then_score_lowest() {
        let ranked = worst_samples(
            vec![
                result(
                    "one-fail-high",
                    &[
                        ("refusal", 0.0, Some(false)),
                        ("relevance", 0.9, Some(true)),
                    ],
                ),
                result(
                    "two-fails",
                    &[
                        ("refusal", 0.0, Some(false)),
                        ("hallucination", 0.4, Some(false)),
                    ],
                ),
                result(
                    "one-fail-low",
                    &[
                        ("hallucination", 0.1, Some(false)),
                        ("relevance", 0.2, Some(true)),
                    ],
                ),
                result(
                    "no-fail",
                    &[("relevance", 0.0, Some(true)), ("latency", 9.0, None)],
                ),
            ],
            3,
        );
        let ids: Vec<&str> = ranked.iter().map(|r| r.sample_id.as_str()).collect();
        assert_eq!(ids, ["two-fails", "one-fail-high", "one-fail-low"]);
        let report = render_report_for_test(&ranked[2..]);
        assert!(
            report.contains("hallucination: why hallucination"),
            "{report}"
        );
        assert!(
            !report.contains("why relevance"),
            "only failed checks' reasoning: {report}"
        );
    }

    fn render_report_for_test(worst: &[SampleResult]) -> String {
        let job: Job = serde_json::from_value(serde_json::json!({
            "job_id": "01a233a9-daea-77bf-97e9-815b988b03dc", "status": "succeeded",
            "target": {"model": "m", "prompt_id": "p", "project_id": "bot"},
            "sample_count": 10, "created_at": "2026-12-01T00:00:00Z",
            "started_at": null, "finished_at": null,
            "progress": {"total": 10, "done": 10, "errors": 0}, "partial": false,
            "summary": {}, "flags": [], "usage": {"judge_requests": 0, "prompt_tokens": 0,
            "completion_tokens": 0, "cache_hits": 0}, "baseline": null, "error": null
        }))
        .unwrap();
        render_report(&job, worst, &[])
    }

    #[test]
    fn rate_effects_keep_their_sign_in_percentage_points() {
        let line = evidence_line(&flag("two_proportion_z", -0.2, -0.278, -0.122));
        assert!(
            line.contains("effect −20.0 pp (95% CI −27.8 pp to −12.2 pp)"),
            "{line}"
        );
        assert!(line.contains("n=100 vs 100"), "{line}");
        let line = evidence_line(&flag("mann_whitney_u", -0.125, -0.2, -0.05));
        assert!(
            line.contains("effect −0.125 (95% CI −0.200 to −0.050)"),
            "{line}"
        );
    }
}
