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
use evalguard_domain::job::{FlagKind, JobStatus};
use evalguard_domain::scoring::SampleRole;
use evalguard_domain::{Job, JobId, ScoreOutcome};
use evalguard_storage::ScoreDistribution;
use serde::Deserialize;

use super::DashboardCtx;
use super::charts::{
    BINS, distributions as distributions_chart, drifting_features, rate_against_threshold, short,
};
use super::forms::page;
use super::overview::{Nav, serde_name, status_name};
use super::page_error::PageError;
use super::report_words::{baseline_in_words, evidence_in_words, warnings};
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

/// Mean and normal-approximation 95% interval of one side's values.
fn mean_with_interval(side: Option<&ScoreDistribution>) -> String {
    let Some(side) = side.filter(|d| d.n > 0) else {
        return "no scored samples".to_owned();
    };
    let (n, mean) = (side.n, side.mean);
    if n < 2 {
        return format!("n = 1, mean {}", short(mean));
    }
    let var = side.squared_deviations / (n - 1) as f64;
    let half = 1.96 * (var / n as f64).sqrt();
    format!(
        "n = {n}, mean {} (95% CI {} to {})",
        short(mean),
        short(mean - half),
        short(mean + half)
    )
}

/// Per scorer, its current and baseline distributions (either may be absent).
type Sides<'a> = BTreeMap<&'a str, (Option<&'a ScoreDistribution>, Option<&'a ScoreDistribution>)>;

fn sides(distributions: &[ScoreDistribution]) -> Sides<'_> {
    let mut map: Sides<'_> = BTreeMap::new();
    for d in distributions {
        let entry = map.entry(d.scorer.as_str()).or_default();
        match d.role {
            SampleRole::Current => entry.0 = Some(d),
            SampleRole::Baseline => entry.1 = Some(d),
        }
    }
    map
}

/// The hallucination rate of the current side (values labelled
/// hallucinated among the scored ones) with its Wilson interval.
fn hallucination_chart(job: &Job, current: Option<&ScoreDistribution>) -> Option<String> {
    let current = current.filter(|d| d.n > 0)?;
    let (n, bad) = (current.n, current.labelled);
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
    // Counted by the database: the page reads a few rows per scorer, not
    // every result of the job.
    let distributions = storage
        .dashboard
        .score_distributions(id, BINS as u32, HALLUCINATED_LABEL)
        .await?;
    let by_scorer = sides(&distributions);
    let scorers = job
        .summary
        .iter()
        .map(|(name, s)| {
            let (cur, base) = by_scorer.get(name.as_str()).copied().unwrap_or_default();
            ScorerRow {
                name: name.clone(),
                unit: s.unit.clone().unwrap_or_default(),
                current: mean_with_interval(cur),
                baseline: if base.is_some_and(|b| b.n > 0) {
                    mean_with_interval(base)
                } else {
                    s.baseline
                        .as_ref()
                        .map_or_else(|| "—".to_owned(), |b| format!("n = {}", b.n))
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

    let mut charts: Vec<String> = by_scorer
        .iter()
        .enumerate()
        .map(|(i, (name, (cur, base)))| {
            let span = cur.or(*base).map_or((0.0, 1.0), |d| (d.low, d.high));
            let bins =
                |d: &Option<&ScoreDistribution>| d.map(|d| d.bins.clone()).unwrap_or_default();
            distributions_chart(&format!("dist-{i}"), name, span, &bins(cur), &bins(base))
        })
        .collect();
    let hallucination = by_scorer
        .get(HALLUCINATION_SCORER)
        .and_then(|(cur, _)| *cur);
    charts.extend(hallucination_chart(&job, hallucination));
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
