//! Traffic ingest and the queries jobs select samples with.

use serde_json::json;

use crate::fixture::{Db, at, pid, sample, target, two_orgs};

pub async fn samples_round_trip_every_field(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let t = target("bot", "gpt-x", "greet");
    let mut full = sample("s-1", &t, at(0) + chrono::Duration::microseconds(123_456));
    full.context = vec!["doc one".to_owned(), "doc two ✓".to_owned()];
    full.reference = Some("the answer".to_owned());
    full.metadata = Some(
        evalguard_domain::SampleMetadata::new(
            &json!({"user": "u1", "tags": ["a", 1, null], "score": 0.25}),
        )
        .unwrap(),
    );
    full.latency_ms = Some(812.5);
    full.prompt_tokens = Some(120);
    full.completion_tokens = Some(45);
    full.input = "multi\nline \"quoted\" input".to_owned();
    let bare = sample("s-2", &t, at(1));
    assert_eq!(
        db.traffic
            .insert_samples(a, &[full.clone(), bare.clone()])
            .await
            .unwrap(),
        2
    );

    let got = db.traffic.recent_samples(a, &t, 10, None).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].sample, bare);
    assert_eq!(got[1].sample, full);
    assert!(got[1].key < got[0].key, "keys increase with arrival");
}

pub async fn inserts_are_idempotent_on_sample_id(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    let first: Vec<_> = (0..3)
        .map(|i| sample(&format!("id-{i}"), &t, at(i)))
        .collect();
    assert_eq!(db.traffic.insert_samples(a, &first).await.unwrap(), 3);
    // Two seen before, one new, and the new one twice in the same batch.
    let mut changed = sample("id-0", &t, at(50));
    changed.output = "a different output".to_owned();
    let second = vec![
        changed,
        sample("id-2", &t, at(2)),
        sample("id-3", &t, at(3)),
        sample("id-3", &t, at(3)),
    ];
    assert_eq!(db.traffic.insert_samples(a, &second).await.unwrap(), 1);
    assert_eq!(db.traffic.insert_samples(a, &[]).await.unwrap(), 0);

    let got = db.traffic.recent_samples(a, &t, 100, None).await.unwrap();
    let ids: Vec<&str> = got.iter().map(|s| s.sample.id.as_str()).collect();
    assert_eq!(ids, ["id-3", "id-2", "id-1", "id-0"]);
    assert_eq!(
        got[3].sample.output, "answer id-0",
        "the first copy is kept"
    );
    // The same id in another project of the org is another sample.
    let other = target("other", "m", "p");
    assert_eq!(
        db.traffic
            .insert_samples(a, &[sample("id-0", &other, at(0))])
            .await
            .unwrap(),
        1
    );
}

pub async fn a_failing_batch_stores_nothing(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    db.poison_sample_inserts().await;
    // The poisoned sample sits after several hundred good ones (beyond one statement).
    let mut batch: Vec<_> = (0..450)
        .map(|i| sample(&format!("ok-{i}"), &t, at(i)))
        .collect();
    batch.push(sample("poison", &t, at(999)));
    batch.push(sample("after", &t, at(1000)));
    assert!(db.traffic.insert_samples(a, &batch).await.is_err());
    assert!(
        db.traffic
            .recent_samples(a, &t, 1000, None)
            .await
            .unwrap()
            .is_empty()
    );
    // The store still works afterwards.
    assert_eq!(
        db.traffic.insert_samples(a, &batch[..10]).await.unwrap(),
        10
    );
}

pub async fn large_batches_span_statements(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    let batch: Vec<_> = (0..2_345)
        .map(|i| sample(&format!("s{i}"), &t, at(i)))
        .collect();
    assert_eq!(db.traffic.insert_samples(a, &batch).await.unwrap(), 2_345);
    assert_eq!(db.traffic.insert_samples(a, &batch).await.unwrap(), 0);
    let got = db
        .traffic
        .recent_samples(a, &t, 10_000, None)
        .await
        .unwrap();
    assert_eq!(got.len(), 2_345);
    assert_eq!(got[0].sample.id, "s2344");
    assert_eq!(got[2_344].sample.id, "s0");
}

pub async fn recent_samples_are_newest_first_and_page_with_older_than(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    // Arrival order differs from time order, and some timestamps are equal.
    let batch = vec![
        sample("t5", &t, at(5)),
        sample("t1", &t, at(1)),
        sample("t3-a", &t, at(3)),
        sample("t3-b", &t, at(3)),
        sample("t9", &t, at(9)),
        sample("t3-c", &t, at(3)),
    ];
    db.traffic.insert_samples(a, &batch).await.unwrap();
    // Noise on other targets of the same project.
    db.traffic
        .insert_samples(
            a,
            &[
                sample("x", &target("bot", "other-model", "p"), at(4)),
                sample("y", &target("bot", "m", "q"), at(4)),
            ],
        )
        .await
        .unwrap();

    let all = db.traffic.recent_samples(a, &t, 100, None).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|s| s.sample.id.as_str()).collect();
    assert_eq!(ids, ["t9", "t5", "t3-c", "t3-b", "t3-a", "t1"]);

    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page = db.traffic.recent_samples(a, &t, 2, cursor).await.unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        cursor = Some((last.sample.timestamp, last.key));
        paged.extend(page.into_iter().map(|s| s.sample.id));
    }
    assert_eq!(paged, ids);
}

pub async fn window_is_half_open(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    let batch: Vec<_> = (0..10)
        .map(|i| sample(&format!("w{i}"), &t, at(i * 10)))
        .collect();
    db.traffic.insert_samples(a, &batch).await.unwrap();
    let got = db
        .traffic
        .samples_in_window(a, &t, at(20), at(60), 100)
        .await
        .unwrap();
    let ids: Vec<&str> = got.iter().map(|s| s.sample.id.as_str()).collect();
    assert_eq!(ids, ["w5", "w4", "w3", "w2"]);
    let limited = db
        .traffic
        .samples_in_window(a, &t, at(20), at(60), 2)
        .await
        .unwrap();
    assert_eq!(
        limited
            .iter()
            .map(|s| s.sample.id.as_str())
            .collect::<Vec<_>>(),
        ["w5", "w4"]
    );
    let other = target("bot", "m2", "p");
    assert!(
        db.traffic
            .samples_in_window(a, &other, at(0), at(1000), 100)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn deployments_summarise_models_of_a_prompt(db: &Db) {
    let (a, b) = two_orgs(db).await;
    let old = target("bot", "old-model", "greet");
    let new = target("bot", "new-model", "greet");
    let mut batch: Vec<_> = (0..3)
        .map(|i| sample(&format!("o{i}"), &old, at(i)))
        .collect();
    batch.extend((0..2).map(|i| sample(&format!("n{i}"), &new, at(100 + i))));
    batch.push(sample(
        "elsewhere",
        &target("bot", "third", "other-prompt"),
        at(5),
    ));
    db.traffic.insert_samples(a, &batch).await.unwrap();
    db.traffic
        .insert_samples(b, &[sample("b", &target("bot", "b-model", "greet"), at(1))])
        .await
        .unwrap();

    let mut got = db
        .traffic
        .deployments(a, &pid("bot"), "greet")
        .await
        .unwrap();
    got.sort_by(|x, y| x.model.cmp(&y.model));
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].model.as_str(), got[0].samples), ("new-model", 2));
    assert_eq!((got[0].first_seen, got[0].last_seen), (at(100), at(101)));
    assert_eq!((got[1].model.as_str(), got[1].samples), ("old-model", 3));
    assert_eq!((got[1].first_seen, got[1].last_seen), (at(0), at(2)));
    assert!(
        db.traffic
            .deployments(a, &pid("nope"), "greet")
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn samples_by_key_keep_the_requested_order(db: &Db) {
    let (a, b) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    let batch: Vec<_> = (0..5)
        .map(|i| sample(&format!("k{i}"), &t, at(i)))
        .collect();
    db.traffic.insert_samples(a, &batch).await.unwrap();
    let stored = db.traffic.recent_samples(a, &t, 10, None).await.unwrap();
    let key_of = |id: &str| stored.iter().find(|s| s.sample.id == id).unwrap().key;
    let wanted = [key_of("k3"), key_of("k0"), i64::MAX - 7, key_of("k4")];
    let got = db.traffic.samples_by_key(a, &wanted).await.unwrap();
    let ids: Vec<&str> = got.iter().map(|s| s.sample.id.as_str()).collect();
    assert_eq!(ids, ["k3", "k0", "k4"]);
    assert!(db.traffic.samples_by_key(a, &[]).await.unwrap().is_empty());
    assert!(
        db.traffic
            .samples_by_key(b, &wanted)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn orgs_never_see_each_others_traffic(db: &Db) {
    let (a, b) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    db.traffic
        .insert_samples(
            a,
            &[sample("same-id", &t, at(1)), sample("only-a", &t, at(2))],
        )
        .await
        .unwrap();
    assert!(
        db.traffic
            .recent_samples(b, &t, 10, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.traffic
            .samples_in_window(b, &t, at(0), at(10), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.traffic
            .deployments(b, &pid("bot"), "p")
            .await
            .unwrap()
            .is_empty()
    );
    // The same sample id in org B is B's own sample, not a duplicate of A's.
    let mut theirs = sample("same-id", &t, at(3));
    theirs.output = "b's output".to_owned();
    assert_eq!(
        db.traffic
            .insert_samples(b, &[theirs.clone()])
            .await
            .unwrap(),
        1
    );
    let of_b = db.traffic.recent_samples(b, &t, 10, None).await.unwrap();
    assert_eq!(of_b.len(), 1);
    assert_eq!(of_b[0].sample, theirs);
    assert_eq!(
        db.traffic
            .recent_samples(a, &t, 10, None)
            .await
            .unwrap()
            .len(),
        2
    );
}
