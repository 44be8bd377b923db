//! Results carry the sample, each score's `passed`, and both `flagged` filters;
//! a correct paraphrase is not flagged by word overlap.

use serde_json::{Value, json};

use super::*;

pub async fn results_carry_the_sample_and_a_paraphrase_is_not_flagged(db: Db) {
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
