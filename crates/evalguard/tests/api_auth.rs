//! Authentication errors (401 with WWW-Authenticate), the per-key rate limit
//! (429 with Retry-After and RateLimit-* headers) and webhook target rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use evalguard_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_requests_get_401_with_www_authenticate() {
    let app = TestApp::spawn_sqlite().await;
    let owner = app.project("org-a", "alpha").await;
    let revoked = app.key("org-a", Role::Viewer, None).await;
    let revoked_id = revoked.split('_').nth(1).unwrap().to_owned();
    let r = app
        .request(
            Method::DELETE,
            Some(&owner),
            &format!("/api/v1/keys/{revoked_id}"),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let unknown = format!("eg_{}_{}", "0".repeat(12), "0".repeat(64));
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "missing_api_key"),
        (Some("Basic dXNlcjpwYXNz".into()), "invalid_authorization"),
        (Some("Bearer".into()), "invalid_authorization"),
        (Some("Bearer not-a-key".into()), "invalid_api_key"),
        (Some(format!("Bearer {unknown}")), "invalid_api_key"),
        (
            Some(format!("Bearer {}x", &owner[..owner.len() - 1])),
            "invalid_api_key",
        ),
        (Some(format!("Bearer {revoked}")), "api_key_revoked"),
    ];
    for (header, code) in cases {
        let mut req = app.client.get(format!("{}/api/v1/projects", app.base));
        if let Some(h) = &header {
            req = req.header("authorization", h);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{header:?}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"]["code"], code, "{header:?}");
    }
    // Public routes need no key.
    for path in ["/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"] {
        assert_eq!(
            app.client
                .get(format!("{}{path}", app.base))
                .send()
                .await
                .unwrap()
                .status(),
            200,
            "{path}"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answers_429_with_retry_after_and_headers() {
    let app = TestApp::spawn_sqlite_with(|c| c.rate_limit_per_minute = 3).await;
    let owner = app.project("org-a", "alpha").await; // spends one token
    let r = app.get(&owner, "/api/v1/projects").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["ratelimit-limit"], "3");
    assert_eq!(r.headers()["ratelimit-remaining"], "1");
    assert!(r.headers().contains_key("ratelimit-reset"));
    // Error answers after authentication carry the headers too.
    let r = app.get(&owner, "/api/v1/projects/nope").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["ratelimit-remaining"], "0");
    let r = app.get(&owner, "/api/v1/projects").await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    assert_eq!(r.headers()["ratelimit-remaining"], "0");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "rate_limited");
    // Another key has its own bucket.
    let other = app.key("org-a", Role::Viewer, None).await;
    assert_eq!(app.get(&other, "/api/v1/projects").await.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_webhook_targets_are_refused_unless_allowed() {
    let app = TestApp::spawn_sqlite_with(|c| c.allow_private_webhooks = false).await;
    let owner = app.project("org-a", "alpha").await;
    // Every IANA special-purpose range, IPv4 embedded in IPv6 included.
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/",
        "http://[::1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[64:ff9b:1::a9fe:a9fe]/",
        "http://[2002:7f00:1::]/",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:8.8.8.8]/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://[2001:db8::1]/",
        "http://198.18.0.1/",
        "http://198.19.255.1/",
        "http://192.0.0.8/",
        "http://192.0.2.1/",
        "http://192.88.99.1/",
        "http://100.64.0.1/",
        "http://198.51.100.1/",
        "http://203.0.113.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://240.0.0.1/",
        "http://0.1.2.3/",
        "http://127.1/",
        "http://0x7f000001/",
        "http://localhost/",
    ] {
        let r = app
            .post(
                &owner,
                "/api/v1/projects/alpha/webhooks",
                json!({"url": url}),
            )
            .await;
        assert_eq!(r.status(), 400, "{url}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"]["code"], "webhook_target_forbidden", "{url}");
        assert_eq!(b["error"]["param"], "url", "{url}");
    }
    let r = app
        .post(
            &owner,
            "/api/v1/projects/alpha/webhooks",
            json!({"url": "ftp://example.com/"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = app
        .post(
            &owner,
            "/api/v1/projects/alpha/webhooks",
            json!({"url": "https://8.8.8.8/hook"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let b: Value = r.json().await.unwrap();
    assert!(b["secret"].as_str().unwrap().starts_with("whsec_"));
    let listed = app
        .get(&owner, "/api/v1/projects/alpha/webhooks")
        .await
        .text()
        .await
        .unwrap();
    assert!(!listed.contains("whsec_"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_managed_up_to_the_own_role_only() {
    let app = TestApp::spawn_sqlite().await;
    let owner = app.project("org-a", "alpha").await;
    let admin = app.key("org-a", Role::Admin, None).await;
    let r = app
        .post(&admin, "/api/v1/keys", json!({"role": "owner"}))
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "role_too_high"
    );
    let r = app
        .post(&owner, "/api/v1/keys", json!({"role": "owner"}))
        .await;
    assert_eq!(r.status(), 201);
    let owner_key_id = r.json::<Value>().await.unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .request(
            Method::DELETE,
            Some(&admin),
            &format!("/api/v1/keys/{owner_key_id}"),
            None,
        )
        .await;
    assert_eq!(r.status(), 403);
    // A revoked key is refused at once.
    let r = app
        .post(&owner, "/api/v1/keys", json!({"role": "viewer"}))
        .await;
    let created: Value = r.json().await.unwrap();
    let (secret, id) = (
        created["key"].as_str().unwrap(),
        created["key_id"].as_str().unwrap(),
    );
    assert_eq!(app.get(secret, "/api/v1/projects").await.status(), 200);
    let r = app
        .request(
            Method::DELETE,
            Some(&admin),
            &format!("/api/v1/keys/{id}"),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["revoked_at"].is_string());
    let r = app.get(secret, "/api/v1/projects").await;
    assert_eq!(r.status(), 401);
    // Listing never shows hashes or secrets.
    let listed = app.get(&owner, "/api/v1/keys").await.text().await.unwrap();
    assert!(!listed.contains(&secret[16..]));
    assert!(!listed.contains("hash"));
    app.stop().await;
}
