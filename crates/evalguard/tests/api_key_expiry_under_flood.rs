//! A valid key keeps working from an address that used up its failed
//! authentications, also once its verified-key cache entry has expired
//! (found by `bench --scenario auth-flood`: every `key_cache_secs` the valid
//! key got `429` for as long as the flood from its address lasted).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

mod support;

use support::TestApp;

#[tokio::test]
async fn a_valid_key_whose_cache_entry_expired_passes_a_throttled_address() {
    let app = TestApp::spawn_sqlite_with(|c| {
        c.rate_limit_per_minute = 0;
        c.failed_auth_per_minute = 3;
        c.key_cache_ttl = Duration::from_millis(200);
    })
    .await;
    let owner = app.project("org-a", "alpha").await;
    assert_eq!(app.get(&owner, "/api/v1/projects").await.status(), 200);
    let unknown = format!("eg_{}_{}", "1".repeat(12), "1".repeat(64));
    for _ in 0..3 {
        assert_eq!(app.get(&unknown, "/api/v1/projects").await.status(), 401);
    }
    assert_eq!(app.get(&unknown, "/api/v1/projects").await.status(), 429);
    // Past the cache entry's lifetime: the key is read again, not refused.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.get(&owner, "/api/v1/projects").await.status(), 200);
    // A forged secret for the same key id is still refused without a lookup.
    let forged = format!("{}{}", &owner[..16], "0".repeat(64));
    assert_eq!(app.get(&forged, "/api/v1/projects").await.status(), 429);
    app.stop().await;
}
