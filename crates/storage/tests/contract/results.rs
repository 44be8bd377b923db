//! Per-sample results and the judge cache.

use std::collections::BTreeMap;

use evalguard_domain::ScoreOutcome;
use evalguard_domain::scoring::{CallUsage, SampleRole};
use evalguard_storage::StoredResult;
use serde_json::json;

use crate::fixture::{Db, new_job, target, two_orgs};

fn result(role: SampleRole, key: i64, flagged: bool, value: f64) -> StoredResult {
    StoredResult {
        role,
        sample_key: key,
        sample_id: format!("s{key}"),
        flagged,
        scores: BTreeMap::from([
            ("latency".to_owned(), ScoreOutcome::scored(value)),
            (
                "faithfulness".to_owned(),
                ScoreOutcome::Scored {
                    value: 0.125,
                    label: Some("partly".to_owned()),
                    reasoning: Some("one claim is unsupported".to_owned()),
                },
            ),
            (
                "refusal".to_owned(),
                ScoreOutcome::NotApplicable {
                    reason: "n/a".to_owned(),
                },
            ),
        ]),
        usage: CallUsage {
            judge_requests: 1,
            prompt_tokens: 300,
            completion_tokens: 40,
            cache_hits: 0,
            cost_usd: 0.0031,
        },
        agreement: BTreeMap::from([("faithfulness".to_owned(), true)]),
        passed: BTreeMap::from([("faithfulness".to_owned(), !flagged)]),
    }
}

async fn a_job(db: &Db) -> evalguard_domain::JobId {
    let (a, _) = two_orgs(db).await;
    db.jobs
        .enqueue(new_job(a, &target("bot", "m", "p"), None))
        .await
        .unwrap()
        .0
        .id
}

pub async fn results_are_kept_once_per_sample_and_role(db: &Db) {
    let job = a_job(db).await;
    let other_job = a_job(db).await;
    let first = vec![
        result(SampleRole::Current, 5, false, 0.5),
        result(SampleRole::Baseline, 5, false, 0.7),
        result(SampleRole::Current, 2, true, 0.1),
    ];
    db.results.save_results(job, &first).await.unwrap();
    // A resumed job saves the same samples again, with other values: the first stay.
    let retry = vec![
        result(SampleRole::Current, 5, true, 0.99),
        result(SampleRole::Current, 9, false, 0.3),
    ];
    db.results.save_results(job, &retry).await.unwrap();
    db.results.save_results(job, &[]).await.unwrap();
    db.results
        .save_results(other_job, &[result(SampleRole::Current, 5, true, 0.0)])
        .await
        .unwrap();

    let stored = db.results.job_results(job).await.unwrap();
    let keys: Vec<(i64, SampleRole)> = stored.iter().map(|r| (r.sample_key, r.role)).collect();
    assert_eq!(stored.len(), 4);
    assert_eq!(keys[0], (2, SampleRole::Current));
    assert!(
        keys[1..3].contains(&(5, SampleRole::Current))
            && keys[1..3].contains(&(5, SampleRole::Baseline))
    );
    assert_eq!(keys[3], (9, SampleRole::Current));
    let five = stored
        .iter()
        .find(|r| r.sample_key == 5 && r.role == SampleRole::Current)
        .unwrap();
    assert_eq!(five, &first[0]);
    assert_eq!(db.results.job_results(other_job).await.unwrap().len(), 1);
}

pub async fn list_results_pages_current_results(db: &Db) {
    let job = a_job(db).await;
    let mut all = Vec::new();
    for key in 1..=450 {
        all.push(result(SampleRole::Current, key, key % 3 == 0, 0.5));
        all.push(result(SampleRole::Baseline, key, true, 0.5));
    }
    db.results.save_results(job, &all).await.unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = db
            .results
            .list_results(job, None, after, 100)
            .await
            .unwrap();
        assert!(page.len() <= 100);
        let Some(last) = page.last() else { break };
        after = Some(last.sample_key);
        assert!(page.iter().all(|r| r.role == SampleRole::Current));
        seen.extend(page.iter().map(|r| r.sample_key));
    }
    assert_eq!(seen, (1..=450).collect::<Vec<_>>());

    let flagged = db
        .results
        .list_results(job, Some(true), Some(30), 5)
        .await
        .unwrap();
    let keys: Vec<i64> = flagged.iter().map(|r| r.sample_key).collect();
    assert_eq!(keys, [33, 36, 39, 42, 45]);
    assert!(
        flagged
            .iter()
            .all(|r| r.flagged && r.role == SampleRole::Current)
    );
    assert!(
        db.results
            .list_results(job, Some(true), Some(450), 100)
            .await
            .unwrap()
            .is_empty()
    );
    let unflagged = db
        .results
        .list_results(job, Some(false), Some(30), 5)
        .await
        .unwrap();
    let keys: Vec<i64> = unflagged.iter().map(|r| r.sample_key).collect();
    assert_eq!(keys, [31, 32, 34, 35, 37]);
    assert!(
        unflagged
            .iter()
            .all(|r| !r.flagged && r.passed["faithfulness"])
    );
}

pub async fn judge_verdicts_are_cached(db: &Db) {
    assert!(db.judge_cache.get_verdict("k1").await.unwrap().is_none());
    let verdict = json!({"score": 4, "reasoning": "fine", "usage": {"prompt_tokens": 10}});
    db.judge_cache.put_verdict("k1", &verdict).await.unwrap();
    assert_eq!(
        db.judge_cache.get_verdict("k1").await.unwrap(),
        Some(verdict)
    );
    let newer = json!({"score": 2});
    db.judge_cache.put_verdict("k1", &newer).await.unwrap();
    assert_eq!(db.judge_cache.get_verdict("k1").await.unwrap(), Some(newer));
    assert!(db.judge_cache.get_verdict("k2").await.unwrap().is_none());
}

pub async fn judge_verdicts_are_written_in_batches(db: &Db) {
    db.judge_cache.put_verdicts(&[]).await.unwrap();
    db.judge_cache
        .put_verdict("b0", &json!({"old": true}))
        .await
        .unwrap();
    let batch: Vec<(String, serde_json::Value)> = (0..700)
        .map(|i| (format!("b{i}"), json!({"score": i})))
        .chain([("b1".to_owned(), json!({"score": "last"}))])
        .collect();
    db.judge_cache.put_verdicts(&batch).await.unwrap();
    assert_eq!(
        db.judge_cache.get_verdict("b0").await.unwrap(),
        Some(json!({"score": 0}))
    );
    assert_eq!(
        db.judge_cache.get_verdict("b699").await.unwrap(),
        Some(json!({"score": 699}))
    );
    // Within one batch, the later verdict of a key wins.
    assert_eq!(
        db.judge_cache.get_verdict("b1").await.unwrap(),
        Some(json!({"score": "last"}))
    );
}
