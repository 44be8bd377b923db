//! `evalguard eval`: the CI/CD gate. Triggers an auto-eval through the API,
//! waits with a progress bar, prints a report and decides the exit code:
//! 0 no failing flag, 1 a flag of a `--fail-on` kind, 2 any error.

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use crate::cli::EvalArgs;

pub enum GateOutcome {
    Pass,
    Flagged,
}

const KINDS: [&str; 3] = ["hallucination", "regression", "drift"];

pub async fn run(args: &EvalArgs) -> anyhow::Result<GateOutcome> {
    for kind in &args.fail_on {
        if !KINDS.contains(&kind.as_str()) {
            bail!("--fail-on takes hallucination, regression and drift, not {kind:?}");
        }
    }
    crate::install_tls_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("building the HTTP client")?;
    let base = args.url.trim_end_matches('/');

    let mut body = json!({
        "target": {"model": args.model, "prompt_id": args.prompt_id, "project_id": args.project},
    });
    if let Some(n) = args.samples {
        body["sample_count"] = json!(n);
    }
    if let Some(model) = &args.baseline_model {
        body["baseline"] = json!({"model": model, "prompt_id": args.prompt_id});
    }
    let created = call(
        &args.api_key,
        client.post(format!("{base}/api/v1/auto-eval")).json(&body),
    )
    .await?;
    let job_id = created["job_id"]
        .as_str()
        .ok_or_else(|| anyhow!("the server answered without a job_id"))?
        .to_owned();

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} samples ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(format!("auto-eval {job_id}"));
    let started = Instant::now();
    let job = loop {
        let job = call(
            &args.api_key,
            client.get(format!("{base}/api/v1/auto-eval/{job_id}")),
        )
        .await?;
        bar.set_length(job["progress"]["total"].as_u64().unwrap_or(0));
        bar.set_position(job["progress"]["done"].as_u64().unwrap_or(0));
        match job["status"].as_str() {
            Some("succeeded") => break job,
            Some("failed") | Some("cancelled") => {
                bar.finish_and_clear();
                let error = &job["error"];
                bail!(
                    "the job {} {}: {}",
                    job_id,
                    job["status"].as_str().unwrap_or("ended"),
                    error["message"].as_str().unwrap_or("no reason given")
                );
            }
            _ => {}
        }
        if started.elapsed() > Duration::from_secs(args.timeout_secs) {
            bar.finish_and_clear();
            bail!(
                "gave up waiting for job {job_id} after {} s",
                args.timeout_secs
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    bar.finish_and_clear();

    let failing: Vec<&Value> = job["flags"]
        .as_array()
        .map(|flags| {
            flags
                .iter()
                .filter(|f| {
                    f["kind"]
                        .as_str()
                        .is_some_and(|k| args.fail_on.iter().any(|x| x == k))
                })
                .collect()
        })
        .unwrap_or_default();

    if args.json {
        println!("{}", serde_json::to_string_pretty(&job)?);
    } else {
        let worst = call(
            &args.api_key,
            client.get(format!(
                "{base}/api/v1/auto-eval/{job_id}/results?flagged=true&limit=5"
            )),
        )
        .await
        .unwrap_or(Value::Null);
        print!("{}", render_report(&job, &worst));
    }
    Ok(if failing.is_empty() {
        GateOutcome::Pass
    } else {
        GateOutcome::Flagged
    })
}

async fn call(key: &str, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let response = request
        .bearer_auth(key)
        .send()
        .await
        .context("reaching the EvalGuard server")?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or("no error message");
        bail!("the server answered {status}: {message}");
    }
    Ok(body)
}

/// A plain-text report: summary per scorer, flags with evidence, worst samples.
pub fn render_report(job: &Value, worst: &Value) -> String {
    let mut out = String::new();
    let target = &job["target"];
    out.push_str(&format!(
        "EvalGuard auto-eval {} — {} / {} / {}\n",
        job["job_id"].as_str().unwrap_or("?"),
        target["project_id"].as_str().unwrap_or("?"),
        target["model"].as_str().unwrap_or("?"),
        target["prompt_id"].as_str().unwrap_or("?"),
    ));
    if let Some(baseline) = job["baseline"].as_object() {
        out.push_str(&format!(
            "baseline: {} {} (n = {})\n",
            baseline
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("none"),
            baseline.get("model").and_then(Value::as_str).unwrap_or(""),
            baseline.get("n").and_then(Value::as_u64).unwrap_or(0),
        ));
    }
    out.push_str("\nscorer                    n     mean   baseline\n");
    if let Some(summary) = job["summary"].as_object() {
        for (name, s) in summary {
            let mean = s["mean"]
                .as_f64()
                .map(|m| format!("{m:.3}"))
                .unwrap_or_else(|| "-".into());
            let base = s["baseline"]["mean"]
                .as_f64()
                .map(|m| format!("{m:.3}"))
                .unwrap_or_else(|| "-".into());
            out.push_str(&format!(
                "{name:<22} {:>6} {mean:>8} {base:>10}\n",
                s["n"].as_u64().unwrap_or(0)
            ));
        }
    }
    let flags = job["flags"].as_array().cloned().unwrap_or_default();
    if flags.is_empty() {
        out.push_str("\nno flags raised\n");
    } else {
        out.push_str(&format!("\n{} flag(s):\n", flags.len()));
        for flag in &flags {
            out.push_str(&format!(
                "  [{}] {} on {}: {}\n",
                flag["severity"].as_str().unwrap_or("?"),
                flag["kind"].as_str().unwrap_or("?"),
                flag["metric"].as_str().unwrap_or("?"),
                flag["message"].as_str().unwrap_or(""),
            ));
            let e = &flag["evidence"];
            out.push_str(&format!(
                "      test={} p={} p_adj={} effect={} CI=[{}, {}]\n",
                e["test"].as_str().unwrap_or("-"),
                number(&e["p_value"]),
                number(&e["p_adjusted"]),
                number(&e["effect"]),
                number(&e["ci_low"]),
                number(&e["ci_high"]),
            ));
        }
    }
    if let Some(samples) = worst["data"].as_array().filter(|d| !d.is_empty()) {
        out.push_str("\nworst samples:\n");
        for sample in samples {
            out.push_str(&format!(
                "  {}\n",
                sample["sample_id"].as_str().unwrap_or("?")
            ));
            if let Some(scores) = sample["scores"].as_object() {
                for (scorer, score) in scores {
                    if let Some(reasoning) = score["reasoning"].as_str() {
                        out.push_str(&format!("    {scorer}: {reasoning}\n"));
                    }
                }
            }
        }
    }
    out
}

fn number(v: &Value) -> String {
    v.as_f64()
        .map(|x| format!("{x:.4}"))
        .unwrap_or_else(|| "-".into())
}
