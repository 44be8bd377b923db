//! Abuse over HTTP: floods of bad keys are limited per client address without
//! slowing valid keys, revocation reaches every replica within the key
//! cache's bound, a project-scoped key cannot probe project ids, and ingest
//! has a rate limit of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use evalguard::Config;
use evalguard_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use support::{Db, TestApp, sample};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentications_are_limited_per_address_but_valid_keys_pass() {
    let app = TestApp::spawn_sqlite_with(|c| {
        c.rate_limit_per_minute = 0;
        c.failed_auth_per_minute = 5;
    })
    .await;
    let owner = app.project("org-a", "alpha").await;
    let unknown = format!("eg_{}_{}", "0".repeat(12), "0".repeat(64));
    for _ in 0..5 {
        let r = app.get(&unknown, "/api/v1/projects").await;
        assert_eq!(r.status(), 401);
    }
    // The address has used its failures: 429 without looking the key up,
    // for any request that does not carry a key already verified.
    for key in [Some(unknown.as_str()), Some("not-a-key"), None] {
        let r = app
            .request(Method::GET, key, "/api/v1/projects", None)
            .await;
        assert_eq!(r.status(), 429, "{key:?}");
        let retry: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        // 5 a minute: one failure allowed again every 12 s.
        assert!((1..=12).contains(&retry), "{retry}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"]["code"], "rate_limited");
    }
    // The valid key in use is not slowed down or refused.
    for _ in 0..20 {
        assert_eq!(app.get(&owner, "/api/v1/projects").await.status(), 200);
    }
    // Its cached verification needs the secret, not only the public id.
    let forged = format!("{}{}", &owner[..16], "0".repeat(64));
    assert_eq!(app.get(&forged, "/api/v1/projects").await.status(), 429);
    app.stop().await;
}

async fn two_replicas(db: Db, tweak: fn(&mut Config)) -> Option<(TestApp, TestApp)> {
    let first = TestApp::spawn_with(db, tweak).await?;
    let mut config = Config::for_tests(&first.database_url);
    tweak(&mut config);
    let second = TestApp::start(config, None).await;
    Some((first, second))
}

/// The key cache's lifetime in this test: the bound on a revocation
/// reaching the other replica.
const KEY_CACHE_TTL: Duration = Duration::from_secs(2);

async fn revocation_is_immediate_here_and_bounded_elsewhere(db: Db) {
    let Some((here, elsewhere)) = two_replicas(db, |c| {
        c.rate_limit_per_minute = 0;
        c.key_cache_ttl = KEY_CACHE_TTL;
        c.workers = 0;
    })
    .await
    else {
        return;
    };
    let owner = here.project("org-a", "alpha").await;
    let key = here.key("org-a", Role::Viewer, None).await;
    // Both replicas have verified (and cached) the key.
    assert_eq!(here.get(&key, "/api/v1/projects").await.status(), 200);
    assert_eq!(elsewhere.get(&key, "/api/v1/projects").await.status(), 200);

    let key_id = key.split('_').nth(1).unwrap();
    let r = here
        .request(
            Method::DELETE,
            Some(&owner),
            &format!("/api/v1/keys/{key_id}"),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let revoked_at = Instant::now();
    // At once in the revoking process.
    let r = here.get(&key, "/api/v1/projects").await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "api_key_revoked"
    );
    // Within the cache's lifetime on the other one.
    loop {
        let status = elsewhere.get(&key, "/api/v1/projects").await.status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            revoked_at.elapsed() < KEY_CACHE_TTL + Duration::from_secs(1),
            "the other replica still accepts the key after {:?}",
            revoked_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(revoked_at.elapsed() <= KEY_CACHE_TTL + Duration::from_secs(1));
    elsewhere.stop().await;
    here.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_reaches_every_replica_sqlite() {
    revocation_is_immediate_here_and_bounded_elsewhere(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_reaches_every_replica_postgres() {
    revocation_is_immediate_here_and_bounded_elsewhere(Db::Postgres).await;
}

async fn scoped_keys_cannot_probe_project_ids(db: Db) {
    let Some(app) = TestApp::spawn_with(db, |c| c.rate_limit_per_minute = 0).await else {
        return;
    };
    let owner = app.project("org-a", "alpha").await;
    let r = app
        .post(
            &owner,
            "/api/v1/projects",
            json!({"id": "beta", "name": "Beta"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let scoped = app.key("org-a", Role::Admin, Some("alpha")).await;
    let probes: [(Method, &str, Option<Value>); 6] = [
        (Method::GET, "/api/v1/projects/{}", None),
        (
            Method::PATCH,
            "/api/v1/projects/{}",
            Some(json!({"name": "x"})),
        ),
        (Method::GET, "/api/v1/projects/{}/scorers", None),
        (Method::DELETE, "/api/v1/projects/{}/scorers/tone", None),
        (Method::GET, "/api/v1/projects/{}/webhooks", None),
        (
            Method::POST,
            "/api/v1/projects/{}/webhooks",
            Some(json!({"url": "https://8.8.8.8/hook"})),
        ),
    ];
    for (method, template, body) in probes {
        let mut answers = Vec::new();
        for id in ["beta", "no-such-project", "a%00"] {
            let path = template.replace("{}", id);
            let r = app
                .request(method.clone(), Some(&scoped), &path, body.clone())
                .await;
            answers.push((r.status(), r.text().await.unwrap()));
        }
        assert_eq!(answers[0].0, 403, "{method} {template}: {}", answers[0].1);
        assert!(
            answers.iter().all(|a| *a == answers[0]),
            "{method} {template}: {answers:?}"
        );
        let code = serde_json::from_str::<Value>(&answers[0].1).unwrap()["error"]["code"].clone();
        assert_eq!(code, "project_out_of_scope");
    }
    // Its own project still works.
    assert_eq!(
        app.get(&scoped, "/api/v1/projects/alpha").await.status(),
        200
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoped_keys_cannot_probe_project_ids_sqlite() {
    scoped_keys_cannot_probe_project_ids(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoped_keys_cannot_probe_project_ids_postgres() {
    scoped_keys_cannot_probe_project_ids(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_has_its_own_ten_times_higher_limit() {
    // The defaults: 600 a minute for the API, 6,000 for ingest.
    let app = TestApp::spawn_sqlite_with(|c| {
        let defaults = Config::for_tests("sqlite::memory:");
        c.rate_limit_per_minute = defaults.rate_limit_per_minute;
        c.ingest_rate_limit_per_minute = defaults.ingest_rate_limit_per_minute;
    })
    .await;
    let owner = app.project("org-a", "alpha").await;
    // 700 single-sample requests, as an application sending as it goes would.
    for i in 0..700 {
        let id = format!("s{i}");
        let r = app
            .post(
                &owner,
                "/api/v1/traffic",
                json!({"samples": [sample("alpha", "m", "p", &id, "an answer")]}),
            )
            .await;
        assert_eq!(r.status(), 202, "request {i}: {}", r.text().await.unwrap());
        assert_eq!(r.headers()["ratelimit-limit"], "6000");
    }
    // The other endpoints kept their own bucket: only the project's creation
    // and this request were taken from it.
    let r = app.get(&owner, "/api/v1/projects").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["ratelimit-limit"], "600");
    let remaining: u32 = r.headers()["ratelimit-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(remaining >= 597, "{remaining}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_and_api_buckets_run_out_separately() {
    let app = TestApp::spawn_sqlite_with(|c| {
        c.rate_limit_per_minute = 2;
        c.ingest_rate_limit_per_minute = 3;
    })
    .await;
    let owner = app.project("org-a", "alpha").await; // one API token
    assert_eq!(app.get(&owner, "/api/v1/projects").await.status(), 200);
    assert_eq!(app.get(&owner, "/api/v1/projects").await.status(), 429);
    let ingest =
        |i: usize| json!({"samples": [sample("alpha", "m", "p", &format!("s{i}"), "an answer")]});
    for i in 0..3 {
        assert_eq!(
            app.post(&owner, "/api/v1/traffic", ingest(i))
                .await
                .status(),
            202
        );
    }
    let r = app.post(&owner, "/api/v1/traffic", ingest(3)).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    app.stop().await;
}
