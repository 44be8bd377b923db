//! One change, one flag, in the words a person uses; the hallucination
//! metric alone answers two questions (above the threshold, worse than before).

use serde_json::{Value, json};

use super::*;

pub async fn hallucinations_rising_fail_a_regression_gate(db: Db) {
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
            GOOD_ANSWER.into()
        }
    })
    .await;
    let out = gate(
        &app,
        &key,
        &[
            "--fail-on",
            "regression",
            "--scorers",
            "hallucination,refusal",
            "--json",
        ],
    );
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
    let out = gate(
        &app,
        &key,
        &[
            "--fail-on",
            "regression",
            "--scorers",
            "hallucination,refusal",
        ],
    );
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

pub async fn refusals_rising_raise_one_flag_in_plain_words(db: Db) {
    let Some(app) = spawn(db, None).await else {
        return;
    };
    let key = app.project("acme", "bot").await;
    deployments(&app, &key, |model, i| {
        if model == "new" && i % 5 == 0 {
            "I'm sorry, but I can't help with that.".into()
        } else {
            GOOD_ANSWER.into()
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
    let out = gate(&app, &key, &["--fail-on", "regression"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("effect −20.0 pp (95% CI −27.8 pp to −12.2 pp)"),
        "{}",
        text(&out)
    );
    app.stop().await;
}
