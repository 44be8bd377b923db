//! Deleting data, on SQLite and PostgreSQL: a project's traffic on request
//! (`POST /api/v1/projects/{id}/traffic/delete`) and old traffic swept by
//! the background retention sweeper.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use evalguard_domain::{ProjectId, Role, Target};
use evalguard_worker::RetentionConfig;
use serde_json::{Value, json};
use support::{Db, TestApp, sample};

/// Samples `s0…s{n-1}` of model `m`, one a minute from 10:00 on 2026-11-02.
async fn send(app: &TestApp, key: &str, project: &str, n: usize) {
    let samples: Vec<Value> = (0..n)
        .map(|i| {
            let mut s = sample(project, "m", "p", &format!("s{i}"), "fine");
            s["timestamp"] = json!(format!("2026-11-02T10:{i:02}:00Z"));
            s
        })
        .collect();
    let r = app
        .post(key, "/api/v1/traffic", json!({"samples": samples}))
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
}

/// The ids of a project's remaining samples, oldest first (read from storage:
/// the API has no traffic listing).
async fn remaining(app: &TestApp, org: &str, project: &str) -> Vec<String> {
    let org_id = app.storage.access.find_org(org).await.unwrap().unwrap();
    let target = Target {
        model: "m".into(),
        prompt_id: "p".into(),
        project_id: ProjectId::parse(project).unwrap(),
    };
    let mut ids: Vec<String> = app
        .storage
        .traffic
        .recent_samples(org_id, &target, 1_000, None)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.sample.id)
        .collect();
    ids.reverse();
    ids
}

async fn delete(app: &TestApp, key: &str, project: &str, body: Value) -> (u16, Value) {
    let r = app
        .post(
            key,
            &format!("/api/v1/projects/{project}/traffic/delete"),
            body,
        )
        .await;
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn an_admin_deletes_a_projects_traffic_by_id_and_time(db: Db) {
    let Some(app) = TestApp::spawn_with(db, |c| c.workers = 0).await else {
        return;
    };
    let owner = app.project("acme", "bot").await;
    let r = app
        .post(
            &owner,
            "/api/v1/projects",
            json!({"id": "other", "name": "Other"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    send(&app, &owner, "bot", 10).await;
    send(&app, &owner, "other", 3).await;
    let theirs = app.project("globex", "bot").await;
    send(&app, &theirs, "bot", 3).await;

    let (status, body) = delete(
        &app,
        &owner,
        "bot",
        json!({"sample_ids": ["s1", "s3", "nope"]}),
    )
    .await;
    assert_eq!(
        (status, &body),
        (200, &json!({"project_id": "bot", "deleted": 2}))
    );
    let (status, body) = delete(
        &app,
        &owner,
        "bot",
        json!({"from": "2026-11-02T10:05:00Z", "to": "2026-11-02T10:08:00Z"}),
    )
    .await;
    assert_eq!((status, body["deleted"].as_u64()), (200, Some(3)));
    assert_eq!(
        remaining(&app, "acme", "bot").await,
        ["s0", "s2", "s4", "s8", "s9"]
    );
    let (status, body) = delete(&app, &owner, "bot", json!({"to": "2026-11-02T10:03:00Z"})).await;
    assert_eq!((status, body["deleted"].as_u64()), (200, Some(2)));
    assert_eq!(remaining(&app, "acme", "bot").await, ["s4", "s8", "s9"]);
    // Other projects and organizations keep theirs.
    assert_eq!(remaining(&app, "acme", "other").await.len(), 3);
    assert_eq!(remaining(&app, "globex", "bot").await.len(), 3);

    // Roles, scope and existence.
    let member = app.key("acme", Role::Member, None).await;
    let (status, body) = delete(&app, &member, "bot", json!({"sample_ids": ["s4"]})).await;
    assert_eq!(status, 403, "{body}");
    let scoped = app.key("acme", Role::Admin, Some("other")).await;
    let (status, _) = delete(&app, &scoped, "bot", json!({"sample_ids": ["s4"]})).await;
    assert_eq!(status, 403);
    let (status, body) = delete(&app, &theirs, "other", json!({"sample_ids": ["s0"]})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
    // Bad bodies: a 400 naming the field, and nothing deleted.
    for (bad, param) in [
        (json!({}), "body"),
        (
            json!({"sample_ids": ["s4"], "from": "2026-11-02T10:00:00Z"}),
            "sample_ids",
        ),
        (json!({"sample_ids": []}), "sample_ids"),
        (json!({"sample_ids": ["s4", 7]}), "sample_ids[1]"),
        (json!({"from": "monday"}), "from"),
        (
            json!({"from": "2026-11-03T00:00:00Z", "to": "2026-11-02T00:00:00Z"}),
            "to",
        ),
        (json!({"sample_ids": ["s4"], "project": "x"}), "project"),
    ] {
        let (status, body) = delete(&app, &owner, "bot", bad.clone()).await;
        assert_eq!(status, 400, "{bad} -> {body}");
        assert_eq!(body["error"]["param"], param, "{bad} -> {body}");
    }
    assert_eq!(remaining(&app, "acme", "bot").await, ["s4", "s8", "s9"]);
    app.stop().await;
}

async fn the_sweeper_deletes_traffic_older_than_configured(db: Db) {
    let retention = RetentionConfig {
        traffic: Some(Duration::from_secs(86_400)),
        sweep_every: Duration::from_millis(50),
        batch_size: 2,
        ..RetentionConfig::default()
    };
    let Some(app) = TestApp::spawn_with(db, |c| c.retention = retention).await else {
        return;
    };
    let key = app.project("acme", "bot").await;
    let at = |hours_ago: i64| {
        (Utc::now() - chrono::Duration::hours(hours_ago)).to_rfc3339_opts(SecondsFormat::Secs, true)
    };
    let samples: Vec<Value> = [
        ("old-1", 49),
        ("old-2", 30),
        ("old-3", 25),
        ("new-1", 23),
        ("new-2", 0),
    ]
    .iter()
    .map(|(id, hours)| {
        let mut s = sample("bot", "m", "p", id, "fine");
        s["timestamp"] = json!(at(*hours));
        s
    })
    .collect();
    let r = app
        .post(&key, "/api/v1/traffic", json!({"samples": samples}))
        .await;
    assert_eq!(r.status(), 202);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = remaining(&app, "acme", "bot").await;
        if left == ["new-1", "new-2"] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still there: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}

on_both_databases!(
    an_admin_deletes_a_projects_traffic_by_id_and_time,
    the_sweeper_deletes_traffic_older_than_configured,
);
