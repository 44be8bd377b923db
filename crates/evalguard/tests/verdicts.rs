//! Verdicts a team can trust at deploy time, over HTTP and through the CI
//! gate, on SQLite and PostgreSQL: no silent pass when the judge could not
//! look, one flag per change, the sample and the reasoning behind each verdict.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Command, Output};

use axum::Json;
use axum::routing::post;
use evalguard::Config;
use evalguard_judge::{JudgeConfig, ProviderConfig};
use serde_json::{Value, json};
use support::{Db, TestApp};

const BIN: &str = env!("CARGO_BIN_EXE_evalguard");
/// Answers containing this word are judged hallucinated by the test judge.
const MARKER: &str = "Globex";

/// An OpenAI-compatible judge: a claim is contradicted when the judge prompt
/// contains [`MARKER`], supported otherwise.
async fn start_judge() -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(|Json(body): Json<Value>| async move {
            let prompt = body["messages"].to_string();
            let verdict = if prompt.contains(MARKER) {
                json!({"claims": [{"claim": "Globex is a partner", "verdict": "contradicted"}],
                       "reasoning": "the context names no partner called Globex"})
            } else {
                json!({"claims": [{"claim": "the answer", "verdict": "supported"}],
                       "reasoning": "supported by the context"})
            };
            Json(support::chat_completion(&verdict.to_string()))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

/// A port nothing listens on.
fn unreachable_judge() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/v1")
}

fn with_judge(config: &mut Config, base_url: &str) {
    config.judge = JudgeConfig {
        providers: vec![ProviderConfig {
            max_attempts: Some(1),
            ..ProviderConfig::openai("mock", base_url, "judge-1", Some("test-key".into()))
        }],
        ..JudgeConfig::default()
    };
}

async fn spawn(db: Db, judge: Option<String>) -> Option<TestApp> {
    let tweak = move |c: &mut Config| {
        if let Some(url) = &judge {
            with_judge(c, url);
        }
    };
    match db {
        Db::Sqlite => Some(TestApp::spawn_sqlite_with(tweak).await),
        Db::Postgres => TestApp::spawn_postgres_with(tweak).await,
    }
}

fn sample(model: &str, day: u32, i: usize, input: &str, output: &str, context: &str) -> Value {
    json!({
        "id": format!("{model}-{i}"), "project_id": "bot", "model": model, "prompt_id": "answer-v1",
        "input": input, "output": output, "context": [context],
        "timestamp": format!("2026-11-{day:02}T10:{:02}:{:02}Z", i / 60, i % 60),
        "latency_ms": 800, "prompt_tokens": 100, "completion_tokens": 20,
    })
}

/// 100 samples of the previous deployment (`old`, a day earlier) and 100 of
/// `new`; `output(model, i)` writes each answer.
async fn deployments(app: &TestApp, key: &str, output: impl Fn(&str, usize) -> String) {
    let context = "EvalGuard answers questions about deployments and flags regressions.";
    let mut samples = Vec::new();
    for (model, day) in [("old", 1), ("new", 2)] {
        for i in 0..100 {
            let input = "What does EvalGuard answer questions about?";
            samples.push(sample(model, day, i, input, &output(model, i), context));
        }
    }
    let r = app
        .post(key, "/api/v1/traffic", json!({"samples": samples}))
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
}

fn gate(app: &TestApp, key: &str, extra: &[&str]) -> Output {
    gate_for("new", app, key, extra)
}

/// `evalguard eval` for the model's target, the server's URL in `EVALGUARD_BASE_URL`.
fn gate_for(model: &str, app: &TestApp, key: &str, extra: &[&str]) -> Output {
    let out = Command::new(BIN)
        .args([
            "eval",
            "--project",
            "bot",
            "--model",
            model,
            "--prompt-id",
            "answer-v1",
        ])
        .args(extra)
        .env("EVALGUARD_BASE_URL", &app.base)
        .env_remove("EVALGUARD_URL")
        .env("EVALGUARD_API_KEY", key)
        .output()
        .unwrap();
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn job_of(app: &TestApp, key: &str, request: Value) -> Value {
    let id = app.trigger(key, request).await;
    app.wait_for_job(key, &id, 120).await
}

fn target() -> Value {
    json!({"model": "new", "prompt_id": "answer-v1", "project_id": "bot"})
}

async fn an_unreachable_judge_is_never_a_pass(db: Db) {
    let Some(app) = spawn(db, Some(unreachable_judge())).await else {
        return;
    };
    let key = app.project("acme", "bot").await;
    deployments(&app, &key, |_, _| {
        "EvalGuard answers questions about deployments.".into()
    })
    .await;

    let job = job_of(
        &app,
        &key,
        json!({"target": target(), "scorers": ["hallucination", "refusal"]}),
    )
    .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        job["summary"]["hallucination"]["outcomes"]["error"], 100,
        "{job}"
    );
    let warning = &job["warnings"][0];
    assert_eq!(warning["code"], "judge_verdicts_missing", "{job}");
    assert_eq!(warning["scorer"], "hallucination");
    assert_eq!(warning["count"], 100, "{job}");

    let out = tokio::task::block_in_place(|| {
        gate(
            &app,
            &key,
            &[
                "--fail-on",
                "hallucination",
                "--scorers",
                "hallucination,refusal",
            ],
        )
    });
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let report = text(&out);
    assert!(report.contains("cannot decide (exit 2)"), "{report}");
    assert!(
        report.contains("hallucination gave no verdict on 100 of 100 samples"),
        "{report}"
    );
    // The report lists each scorer's outcome counts.
    assert!(
        report.contains("unparsable") && report.contains("error"),
        "{report}"
    );

    // An allowance can be raised, but not past what is missing.
    let out = tokio::task::block_in_place(|| {
        gate(
            &app,
            &key,
            &[
                "--fail-on",
                "hallucination",
                "--scorers",
                "hallucination",
                "--max-missing-verdicts",
                "0.5",
            ],
        )
    });
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    app.stop().await;
}

async fn a_judge_the_gate_needs_but_the_server_lacks_is_exit_2(db: Db) {
    let Some(app) = spawn(db, None).await else {
        return;
    };
    let key = app.project("acme", "bot").await;
    deployments(&app, &key, |_, _| {
        "EvalGuard answers questions about deployments.".into()
    })
    .await;
    // Named in the request: a warning on the job.
    let job = job_of(
        &app,
        &key,
        json!({"target": target(), "scorers": ["hallucination", "refusal"]}),
    )
    .await;
    assert_eq!(job["warnings"][0]["code"], "judge_not_configured", "{job}");
    // Needed by --fail-on (the default includes hallucination): exit 2, saying why.
    let out = tokio::task::block_in_place(|| gate(&app, &key, &[]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--fail-on hallucination needs the hallucination judge"),
        "{}",
        text(&out)
    );
    // Without hallucination in --fail-on, nothing changed: exit 0.
    let out = tokio::task::block_in_place(|| gate(&app, &key, &["--fail-on", "regression,drift"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // No baseline: the gate says so, and --require-baseline makes it an exit 2.
    // The old deployment has no earlier traffic to compare with.
    let out = tokio::task::block_in_place(|| {
        gate_for(
            "old",
            &app,
            &key,
            &["--fail-on", "regression", "--require-baseline"],
        )
    });
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("baseline: none"), "{}", text(&out));
    assert!(text(&out).contains("--require-baseline"), "{}", text(&out));
    app.stop().await;
}

async fn hallucinations_rising_fail_a_regression_gate(db: Db) {
    let Some(app) = spawn(db, Some(start_judge().await)).await else {
        return;
    };
    let key = app.project("acme", "bot").await;
    // 3% of the old deployment's answers hallucinate, 30% of the new one's.
    deployments(&app, &key, |model, i| {
        let bad = if model == "old" {
            i % 33 == 0 && i > 0
        } else {
            i % 10 < 3
        };
        if bad {
            format!("EvalGuard answers questions about deployments with its partner {MARKER}.")
        } else {
            "EvalGuard answers questions about deployments.".into()
        }
    })
    .await;
    let out = tokio::task::block_in_place(|| {
        gate(
            &app,
            &key,
            &[
                "--fail-on",
                "regression",
                "--scorers",
                "hallucination,refusal",
                "--json",
            ],
        )
    });
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let job: Value = serde_json::from_slice(&out.stdout).unwrap();
    let on_hallucination: Vec<&Value> = job["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["metric"] == "hallucination")
        .collect();
    let kinds: Vec<&str> = on_hallucination
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"regression") && kinds.contains(&"hallucination"),
        "{job}"
    );
    let absolute = on_hallucination
        .iter()
        .find(|f| f["kind"] == "hallucination")
        .unwrap();
    let e = &absolute["evidence"];
    assert_eq!(e["test"], "binomial_exact");
    assert!(
        e["p_value"].as_f64().unwrap() < 1e-6 && e["p_adjusted"] == e["p_value"],
        "{e}"
    );
    assert!(
        e["ci_low"].as_f64().unwrap() > 0.05 && e["n_current"] == 100,
        "{e}"
    );
    let regression = on_hallucination
        .iter()
        .find(|f| f["kind"] == "regression")
        .unwrap();
    assert!(
        regression["message"]
            .as_str()
            .unwrap()
            .starts_with("hallucinations rose from 3% to 30%"),
        "{regression}"
    );
    assert!(regression["evidence"]["effect"].as_f64().unwrap() < -0.2);
    assert_eq!(regression["evidence"]["n_baseline"], 100);
    assert!(job["warnings"].as_array().unwrap().is_empty(), "{job}");

    // The report's worst samples: the hallucinated ones, input and output, and
    // the reasoning of the failed check only.
    let out = tokio::task::block_in_place(|| {
        gate(
            &app,
            &key,
            &[
                "--fail-on",
                "regression",
                "--scorers",
                "hallucination,refusal",
            ],
        )
    });
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let worst = report.split("worst samples:").nth(1).expect(&report);
    assert!(
        worst.contains("failed: hallucination") && worst.contains(MARKER),
        "{report}"
    );
    assert!(
        worst.contains("input:  What does EvalGuard answer"),
        "{report}"
    );
    assert!(worst.contains("the context names no partner"), "{report}");
    assert!(!worst.contains("supported by the context"), "{report}");
    app.stop().await;
}

async fn refusals_rising_raise_one_flag_in_plain_words(db: Db) {
    let Some(app) = spawn(db, None).await else {
        return;
    };
    let key = app.project("acme", "bot").await;
    deployments(&app, &key, |model, i| {
        if model == "new" && i % 5 == 0 {
            "I'm sorry, but I can't help with that.".into()
        } else {
            "EvalGuard answers questions about deployments.".into()
        }
    })
    .await;
    let job = job_of(&app, &key, json!({"target": target()})).await;
    let flags = job["flags"].as_array().unwrap();
    assert_eq!(flags.len(), 1, "one change, one flag: {job}");
    let flag = &flags[0];
    assert_eq!(
        (flag["kind"].as_str(), flag["metric"].as_str()),
        (Some("regression"), Some("refusal"))
    );
    assert!(
        flag["message"]
            .as_str()
            .unwrap()
            .starts_with("refusals rose from 0% to 20%"),
        "{flag}"
    );
    assert_eq!(flag["evidence"]["test"], "two_proportion_z");
    assert_eq!(flag["severity"], "critical");
    let out = tokio::task::block_in_place(|| gate(&app, &key, &["--fail-on", "regression"]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("effect −20.0 pp (95% CI −27.8 pp to −12.2 pp)"),
        "{}",
        text(&out)
    );
    app.stop().await;
}

async fn results_carry_the_sample_and_a_paraphrase_is_not_flagged(db: Db) {
    let Some(app) = spawn(db, None).await else {
        return;
    };
    let key = app.project("acme", "bot").await;
    let samples = json!({"samples": [
        {"id": "s1", "project_id": "bot", "model": "new", "prompt_id": "answer-v1",
         "input": "When is the office open?", "output": "From 9 to 5 on weekdays.",
         "context": ["The office is open 9:00-17:00, Monday to Friday."], "latency_ms": 640},
        {"id": "s2", "project_id": "bot", "model": "new", "prompt_id": "answer-v1",
         "input": "Can you help?", "output": "", "context": ["Opening hours."]},
    ]});
    assert_eq!(
        app.post(&key, "/api/v1/traffic", samples).await.status(),
        202
    );
    let job = job_of(&app, &key, json!({"target": target()})).await;
    let id = job["job_id"].as_str().unwrap();
    let results = |query: &'static str| {
        let app = &app;
        let key = &key;
        async move {
            let r = app
                .get(key, &format!("/api/v1/auto-eval/{id}/results{query}"))
                .await;
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()["data"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let flagged = results("?flagged=true").await;
    let unflagged = results("?flagged=false").await;
    assert_eq!(results("").await.len(), 2);
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert_eq!(
        flagged[0]["sample_id"], "s2",
        "only the empty answer fails a check"
    );
    assert_eq!(flagged[0]["scores"]["empty_output"]["passed"], false);
    assert_eq!(unflagged.len(), 1);
    let paraphrase = &unflagged[0];
    assert_eq!(paraphrase["sample_id"], "s1");
    assert_eq!(paraphrase["flagged"], false);
    assert_eq!(paraphrase["sample"]["input"], "When is the office open?");
    assert_eq!(paraphrase["sample"]["output"], "From 9 to 5 on weekdays.");
    assert_eq!(
        paraphrase["sample"]["context"][0],
        "The office is open 9:00-17:00, Monday to Friday."
    );
    assert_eq!(paraphrase["sample"]["model"], "new");
    // Grounding is measured (below 1: the words differ) but has no pass threshold.
    let grounding = &paraphrase["scores"]["grounding"];
    assert_eq!(grounding["outcome"], "scored");
    assert!(grounding["value"].as_f64().unwrap() < 1.0);
    assert!(grounding.get("passed").is_none(), "{grounding}");
    assert_eq!(paraphrase["scores"]["refusal"]["passed"], true);
    assert!(paraphrase["scores"]["latency"].get("passed").is_none());
    // A bad filter is a 400 naming it.
    let r = app
        .get(
            &key,
            &format!("/api/v1/auto-eval/{id}/results?flagged=maybe"),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["param"],
        "flagged"
    );
    app.stop().await;
}

macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Db::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Db::Postgres).await;
                }
            )*
        }
    };
}

on_both_databases!(
    an_unreachable_judge_is_never_a_pass,
    a_judge_the_gate_needs_but_the_server_lacks_is_exit_2,
    hallucinations_rising_fail_a_regression_gate,
    refusals_rising_raise_one_flag_in_plain_words,
    results_carry_the_sample_and_a_paraphrase_is_not_flagged,
);
