//! The job report's words: a flag's evidence, the baseline and why it was
//! chosen, and the job's warnings, as sentences a person reads.

use evalguard_domain::Job;
use evalguard_domain::job::{Evidence, JobStatus};

use super::charts::short;
use super::job_report::WarningView;

/// "= 0.0123", or "< 0.0001" when four decimals would show zero.
fn p_value(p: f64) -> String {
    if p < 0.0001 {
        "< 0.0001".to_owned()
    } else {
        format!("= {p:.4}")
    }
}

pub fn evidence_in_words(e: &Evidence) -> String {
    let mut parts = Vec::new();
    if let Some(test) = &e.test {
        parts.push(format!("test: {}", test.replace('_', " ")));
    }
    if let Some(v) = e.statistic {
        parts.push(format!("statistic {}", short(v)));
    }
    if let Some(p) = e.p_value {
        parts.push(format!("p {}", p_value(p)));
    }
    if let Some(p) = e.p_adjusted {
        parts.push(format!("after Benjamini–Hochberg p {}", p_value(p)));
    }
    if let Some(v) = e.effect {
        let interval = match (e.ci_low, e.ci_high) {
            (Some(lo), Some(hi)) => format!(" (95% CI {} to {})", short(lo), short(hi)),
            _ => String::new(),
        };
        parts.push(format!(
            "effect (current − baseline) {}{interval}",
            short(v)
        ));
    }
    match (e.n_current, e.n_baseline) {
        (Some(c), Some(b)) => parts.push(format!("{c} current and {b} baseline samples")),
        (Some(c), None) => parts.push(format!("{c} samples")),
        _ => {}
    }
    for (k, v) in &e.extra {
        let v = match v {
            serde_json::Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), short),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        parts.push(format!("{}: {v}", k.replace('_', " ")));
    }
    parts.join("; ")
}

pub fn baseline_in_words(job: &Job) -> String {
    let Some(b) = &job.baseline else {
        return if matches!(job.status, JobStatus::Queued | JobStatus::Running) {
            "chosen when the job runs".to_owned()
        } else {
            "none".to_owned()
        };
    };
    let mut words = match b.kind.as_str() {
        "deployment" => format!(
            "the previous deployment: model {} on prompt {}",
            b.model.as_deref().unwrap_or("?"),
            b.prompt_id.as_deref().unwrap_or("?")
        ),
        "window" => "the requested time window".to_owned(),
        "earlier_window" => "the same target's samples just older than the current ones".to_owned(),
        "none" => "no baseline".to_owned(),
        other => other.replace('_', " "),
    };
    if let (Some(from), Some(to)) = (b.from, b.to) {
        words.push_str(&format!(
            ", from {} to {}",
            from.format("%Y-%m-%d %H:%M"),
            to.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    words.push_str(&format!(" ({} samples)", b.n));
    if let Some(reason) = &b.reason {
        words.push_str(&format!(". Why: {reason}"));
    }
    words
}

/// `warnings` as the job's JSON has them (codes such as `judge_verdicts_missing`).
pub fn warnings(job: &Job) -> Vec<WarningView> {
    let json = serde_json::to_value(job).unwrap_or_default();
    json.get("warnings")
        .and_then(|w| w.as_array())
        .map(|list| {
            list.iter()
                .map(|w| WarningView {
                    code: w
                        .get("code")
                        .and_then(|c| c.as_str())
                        .unwrap_or("warning")
                        .to_owned(),
                    message: w
                        .get("message")
                        .and_then(|m| m.as_str())
                        .map_or_else(|| w.to_string(), str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default()
}
