//! `/dashboard/jobs/{job_id}`: the job's report. Status and progress, the
//! baseline and why, per scorer current against baseline, each flag with
//! its evidence in words, inline SVG charts, the job's warnings, and the
//! flagged samples with the judge's reasoning, a page at a time.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use evalguard_domain::analysis::{
    DEFAULT_HALLUCINATION_RATE, HALLUCINATED_LABEL, HALLUCINATION_SCORER,
};
use evalguard_domain::job::{Evidence, FlagKind, JobStatus};
use evalguard_domain::scoring::SampleRole;
use evalguard_domain::{Job, JobId, ScoreOutcome};
use evalguard_storage::StoredResult;
use serde::Deserialize;

use super::DashboardCtx;
use super::charts::{distributions, drifting_features, rate_against_threshold, short};
use super::forms::page;
use super::overview::{Nav, serde_name, status_name};
use super::page_error::PageError;
use super::session::SignedIn;

const SAMPLES_PER_PAGE: u32 = 20;

pub struct ScorerRow {
    pub name: String,
    pub unit: String,
    pub current: String,
    pub baseline: String,
    pub outcomes: String,
    pub skipped: Option<String>,
}

pub struct FlagView {
    pub kind: String,
    pub severity: String,
    pub metric: String,
    pub message: String,
    pub evidence: String,
}

pub struct WarningView {
    pub code: String,
    pub message: String,
}

pub struct ScoreView {
    pub scorer: String,
    pub outcome: String,
    pub reasoning: String,
}

pub struct SampleView {
    pub id: String,
    pub input: String,
    pub output: String,
    pub context: Vec<String>,
    pub scores: Vec<ScoreView>,
}

#[derive(Template)]
#[template(path = "dashboard/job.html")]
struct JobPage {
    nav: Nav,
    id: String,
    project: String,
    target: String,
    status: &'static str,
    running: bool,
    done: u32,
    total: u32,
    errors: u32,
    error: Option<String>,
    partial: Option<String>,
    baseline: String,
    scorers: Vec<ScorerRow>,
    flags: Vec<FlagView>,
    warnings: Vec<WarningView>,
    charts: Vec<String>,
    samples: Vec<SampleView>,
    next_page: Option<i64>,
}

#[derive(Deserialize)]
pub struct SamplesCursor {
    after: Option<i64>,
}

/// Mean and normal-approximation 95% interval of the values.
fn mean_with_interval(values: &[f64]) -> String {
    let n = values.len();
    if n == 0 {
        return "no scored samples".to_owned();
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return format!("n = 1, mean {}", short(mean));
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = 1.96 * (var / n as f64).sqrt();
    format!(
        "n = {n}, mean {} (95% CI {} to {})",
        short(mean),
        short(mean - half),
        short(mean + half)
    )
}

/// "= 0.0123", or "< 0.0001" when four decimals would show zero.
fn p_value(p: f64) -> String {
    if p < 0.0001 {
        "< 0.0001".to_owned()
    } else {
        format!("= {p:.4}")
    }
}

fn evidence_in_words(e: &Evidence) -> String {
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

fn baseline_in_words(job: &Job) -> String {
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
fn warnings(job: &Job) -> Vec<WarningView> {
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

/// Per scorer, the scored values of each side.
fn values_by_scorer(results: &[StoredResult]) -> BTreeMap<&str, (Vec<f64>, Vec<f64>)> {
    let mut map: BTreeMap<&str, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for r in results {
        for (scorer, outcome) in &r.scores {
            if let Some(v) = outcome.value() {
                let entry = map.entry(scorer.as_str()).or_default();
                match r.role {
                    SampleRole::Current => entry.0.push(v),
                    SampleRole::Baseline => entry.1.push(v),
                }
            }
        }
    }
    map
}

fn hallucination_chart(job: &Job, results: &[StoredResult]) -> Option<String> {
    let (mut n, mut bad) = (0u64, 0u64);
    for r in results.iter().filter(|r| r.role == SampleRole::Current) {
        if let Some(ScoreOutcome::Scored { label, .. }) = r.scores.get(HALLUCINATION_SCORER) {
            n += 1;
            bad += u64::from(label.as_deref() == Some(HALLUCINATED_LABEL));
        }
    }
    if n == 0 {
        return None;
    }
    let threshold = job
        .flags
        .iter()
        .filter(|f| f.kind == FlagKind::Hallucination)
        .find_map(|f| {
            f.evidence
                .extra
                .get("threshold")
                .and_then(serde_json::Value::as_f64)
        })
        .unwrap_or(DEFAULT_HALLUCINATION_RATE);
    let interval = evalguard_stats::proportion::wilson_interval(bad, n, 0.95);
    Some(rate_against_threshold(
        "hallucination-rate",
        "Hallucination rate",
        bad as f64 / n as f64,
        interval,
        threshold,
    ))
}

fn outcome_view(scorer: &str, outcome: &ScoreOutcome) -> ScoreView {
    let (outcome, reasoning) = match outcome {
        ScoreOutcome::Scored {
            value,
            label,
            reasoning,
        } => (
            match label {
                Some(l) => format!("{} ({l})", short(*value)),
                None => short(*value),
            },
            reasoning.clone().unwrap_or_default(),
        ),
        ScoreOutcome::NotApplicable { reason } => ("not applicable".to_owned(), reason.clone()),
        ScoreOutcome::Unparsable { reason, .. } => ("unparsable".to_owned(), reason.clone()),
        ScoreOutcome::Error { cause } => ("error".to_owned(), cause.clone()),
    };
    ScoreView {
        scorer: scorer.to_owned(),
        outcome,
        reasoning,
    }
}

pub async fn job_page(
    State(ctx): State<DashboardCtx>,
    viewer: SignedIn,
    Path(job_id): Path<String>,
    Query(cursor): Query<SamplesCursor>,
) -> Result<Response, PageError> {
    let org = viewer.principal.org_id;
    let not_found = || PageError::NotFound("job");
    let id = JobId(job_id.parse::<uuid::Uuid>().map_err(|_| not_found())?);
    let storage = &ctx.api.storage;
    let job = storage.jobs.get_job(org, id).await?.ok_or_else(not_found)?;
    let results = storage.results.job_results(id).await?;

    let values = values_by_scorer(&results);
    let scorers = job
        .summary
        .iter()
        .map(|(name, s)| {
            let (cur, base) = values.get(name.as_str()).cloned().unwrap_or_default();
            ScorerRow {
                name: name.clone(),
                unit: s.unit.clone().unwrap_or_default(),
                current: mean_with_interval(&cur),
                baseline: if base.is_empty() {
                    s.baseline
                        .as_ref()
                        .map_or_else(|| "—".to_owned(), |b| format!("n = {}", b.n))
                } else {
                    mean_with_interval(&base)
                },
                outcomes: format!(
                    "{} scored, {} not applicable, {} unparsable, {} error",
                    s.outcomes.scored,
                    s.outcomes.not_applicable,
                    s.outcomes.unparsable,
                    s.outcomes.error
                ),
                skipped: s.skipped.clone(),
            }
        })
        .collect();

    let mut charts: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, (name, (cur, base)))| distributions(&format!("dist-{i}"), name, cur, base))
        .collect();
    charts.extend(hallucination_chart(&job, &results));
    let drifting: Vec<(String, f64)> = job
        .flags
        .iter()
        .filter(|f| f.kind == FlagKind::Drift)
        .map(|f| {
            (
                f.metric.clone(),
                f.evidence.statistic.or(f.evidence.effect).unwrap_or(0.0),
            )
        })
        .collect();
    if !drifting.is_empty() {
        charts.push(drifting_features("drift", &drifting));
    }

    let page_results = storage
        .results
        .list_results(id, Some(true), cursor.after, SAMPLES_PER_PAGE + 1)
        .await?;
    let next_page = (page_results.len() > SAMPLES_PER_PAGE as usize)
        .then(|| {
            page_results
                .get(SAMPLES_PER_PAGE as usize - 1)
                .map(|r| r.sample_key)
        })
        .flatten();
    let shown = &page_results[..page_results.len().min(SAMPLES_PER_PAGE as usize)];
    let keys: Vec<i64> = shown.iter().map(|r| r.sample_key).collect();
    let stored: BTreeMap<i64, _> = storage
        .traffic
        .samples_by_key(org, &keys)
        .await?
        .into_iter()
        .map(|s| (s.key, s.sample))
        .collect();
    let samples = shown
        .iter()
        .map(|r| {
            let sample = stored.get(&r.sample_key);
            SampleView {
                id: r.sample_id.clone(),
                input: sample.map(|s| s.input.clone()).unwrap_or_default(),
                output: sample.map(|s| s.output.clone()).unwrap_or_default(),
                context: sample.map(|s| s.context.clone()).unwrap_or_default(),
                scores: r.scores.iter().map(|(k, o)| outcome_view(k, o)).collect(),
            }
        })
        .collect();

    page(&JobPage {
        nav: Nav::new(&viewer, "overview"),
        id: job.id.to_string(),
        project: job.target.project_id.to_string(),
        target: format!("{} · {}", job.target.model, job.target.prompt_id),
        status: status_name(job.status),
        running: matches!(job.status, JobStatus::Queued | JobStatus::Running),
        done: job.progress.done,
        total: job.progress.total,
        errors: job.progress.errors,
        error: job
            .error
            .as_ref()
            .map(|e| format!("{}: {}", e.code, e.message)),
        partial: job.partial.then(|| {
            job.stop_reason
                .clone()
                .unwrap_or_else(|| "stopped early".to_owned())
        }),
        baseline: baseline_in_words(&job),
        scorers,
        flags: job
            .flags
            .iter()
            .map(|f| FlagView {
                kind: serde_name(&f.kind),
                severity: serde_name(&f.severity),
                metric: f.metric.clone(),
                message: f.message.clone(),
                evidence: evidence_in_words(&f.evidence),
            })
            .collect(),
        warnings: warnings(&job),
        charts,
        samples,
        next_page,
    })
}
