//! `evalguard eval`: the CI/CD gate. Triggers an auto-eval through the API,
//! waits with a progress bar, prints a report and decides the exit code:
//! 0 no failing flag, 1 a flag of a `--fail-on` kind, 2 any error — and 2 when
//! the job could not look where it was asked to (missing judge verdicts, a
//! judge `--fail-on` needs that did not run, no baseline with
//! `--require-baseline`): a safety net that could not look must not pass.

mod report;

use std::time::{Duration, Instant};

use anyhow::bail;
use evalguard_client::{
    BaselineSpec, Client, CreateAutoEval, FlagKind, Job, JobStatus, SampleResult, Target,
    Thresholds, WarningCode,
};
use evalguard_domain::ProjectId;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::EvalArgs;

pub use report::{render_report, worst_samples};

pub enum GateOutcome {
    Pass,
    Flagged,
    /// The job's evidence is incomplete; each string says why.
    Undecided(Vec<String>),
}

/// How many samples the report shows, and how many flagged ones it ranks.
const WORST_SHOWN: usize = 5;
const WORST_RANKED: u32 = 1000;
const HALLUCINATION_SCORER: &str = "hallucination";

/// The base URL: `--url`, else `EVALGUARD_URL`, else `EVALGUARD_BASE_URL` (the
/// SDKs' name), else a local server.
fn base_url(args: &EvalArgs) -> String {
    args.url
        .clone()
        .or_else(|| std::env::var("EVALGUARD_URL").ok())
        .or_else(|| std::env::var("EVALGUARD_BASE_URL").ok())
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| evalguard_client::DEFAULT_BASE_URL.to_owned())
}

fn fail_on(args: &EvalArgs) -> anyhow::Result<Vec<FlagKind>> {
    args.fail_on
        .iter()
        .filter(|k| !k.trim().is_empty())
        .map(|kind| match kind.trim() {
            "hallucination" => Ok(FlagKind::Hallucination),
            "regression" => Ok(FlagKind::Regression),
            "drift" => Ok(FlagKind::Drift),
            other => bail!("--fail-on takes hallucination, regression and drift, not {other:?}"),
        })
        .collect()
}

fn request(args: &EvalArgs) -> anyhow::Result<CreateAutoEval> {
    if !(0.0..=1.0).contains(&args.max_missing_verdicts) {
        bail!("--max-missing-verdicts is a share between 0 and 1");
    }
    let project_id =
        ProjectId::parse(&args.project).map_err(|e| anyhow::anyhow!("--project: {e}"))?;
    let mut request = CreateAutoEval::new(Target {
        model: args.model.clone(),
        prompt_id: args.prompt_id.clone(),
        project_id,
    });
    request.sample_count = args.samples;
    request.scorers = args.scorers.clone();
    request.baseline = args
        .baseline_model
        .as_ref()
        .map(|model| BaselineSpec::Deployment {
            model: model.clone(),
            prompt_id: args
                .baseline_prompt_id
                .clone()
                .unwrap_or_else(|| args.prompt_id.clone()),
        });
    request.max_cost_usd = args.max_cost_usd;
    request.cache = args.no_cache.then_some(false);
    request.repeats = args.repeats;
    let thresholds = Thresholds {
        alpha: args.alpha,
        min_effect: args.min_effect,
        hallucination_rate: args.hallucination_rate,
        drift_fdr: args.drift_fdr,
        drift_distance: args.drift_distance,
    };
    request.thresholds = (thresholds != Thresholds::default()).then_some(thresholds);
    Ok(request)
}

pub async fn run(args: &EvalArgs) -> anyhow::Result<GateOutcome> {
    let fail_on = fail_on(args)?;
    let request = request(args)?;
    crate::install_tls_provider();
    let client = Client::new(&base_url(args), &args.api_key)?;
    let job_id = client.create_auto_eval(&request).await?.job_id;
    let job = wait(&client, &job_id, args.timeout_secs).await?;

    let undecided = undecided(&job, &fail_on, args);
    let failing = job.flags.iter().any(|f| fail_on.contains(&f.kind));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&job)?);
        for reason in &undecided {
            eprintln!("evalguard: cannot decide: {reason}");
        }
    } else {
        let flagged = client
            .results(&job_id, Some(true), Some(WORST_RANKED), None)
            .await
            .map(|page| page.data)
            .unwrap_or_default();
        print!(
            "{}",
            render_report(&job, &worst_samples(flagged, WORST_SHOWN), &undecided)
        );
    }
    Ok(if !undecided.is_empty() {
        GateOutcome::Undecided(undecided)
    } else if failing {
        GateOutcome::Flagged
    } else {
        GateOutcome::Pass
    })
}

async fn wait(client: &Client, job_id: &str, timeout_secs: u64) -> anyhow::Result<Job> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} samples ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(format!("auto-eval {job_id}"));
    let started = Instant::now();
    loop {
        let job = client.job(job_id).await?;
        bar.set_length(u64::from(job.progress.total));
        bar.set_position(u64::from(job.progress.done));
        match job.status {
            JobStatus::Succeeded => {
                bar.finish_and_clear();
                return Ok(job);
            }
            JobStatus::Failed | JobStatus::Cancelled => {
                bar.finish_and_clear();
                let reason = job
                    .error
                    .as_ref()
                    .map(|e| format!("{}: {}", e.code, e.message))
                    .unwrap_or_else(|| "no reason given".to_owned());
                bail!("the job {job_id} {}: {reason}", job.status.as_str());
            }
            JobStatus::Queued | JobStatus::Running => {}
        }
        if started.elapsed() > Duration::from_secs(timeout_secs) {
            bar.finish_and_clear();
            bail!("gave up waiting for job {job_id} after {timeout_secs} s");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Why the job's silence cannot be read as a pass (empty: it can).
pub fn undecided(job: &Job, fail_on: &[FlagKind], args: &EvalArgs) -> Vec<String> {
    let mut reasons = Vec::new();
    for (name, s) in &job.summary {
        let missing = s.outcomes.error + s.outcomes.unparsable;
        let applied = s.outcomes.scored + missing;
        if applied > 0 && missing as f64 > args.max_missing_verdicts * applied as f64 {
            reasons.push(format!(
                "{name} gave no verdict on {missing} of {applied} samples ({} errors, {} unparsable), more than --max-missing-verdicts {}",
                s.outcomes.error, s.outcomes.unparsable, args.max_missing_verdicts
            ));
        }
    }
    for w in &job.warnings {
        if w.code == WarningCode::JudgeNotConfigured {
            reasons.push(w.message.clone());
        }
    }
    if fail_on.contains(&FlagKind::Hallucination) {
        match job.summary.get(HALLUCINATION_SCORER) {
            None => reasons.push(
                "--fail-on hallucination needs the hallucination judge, which this job did not run (add it to --scorers or drop hallucination from --fail-on)".to_owned(),
            ),
            Some(s) => {
                if let Some(why) = &s.skipped {
                    reasons.push(format!(
                        "--fail-on hallucination needs the hallucination judge, which did not run: {why}"
                    ));
                }
            }
        }
    }
    if args.require_baseline && job.baseline.as_ref().is_none_or(|b| b.kind == "none") {
        reasons.push(format!(
            "--require-baseline: the job had no baseline ({})",
            report::no_baseline_reason(job)
        ));
    }
    reasons
}

/// Flagged results with at least one failed check (for the report).
pub fn failed_checks(result: &SampleResult) -> Vec<&str> {
    result
        .scores
        .iter()
        .filter(|(_, s)| s.passed == Some(false))
        .map(|(name, _)| name.as_str())
        .collect()
}
