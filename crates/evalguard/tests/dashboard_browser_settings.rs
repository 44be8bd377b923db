//! The project settings and account pages in a real browser (see
//! `browser_support`): thresholds, rubric scorers and webhooks changed
//! through their forms, a form error shown next to its field, and a person
//! changing their own password. Screenshots go to `target/screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_support;
mod dashboard_support;

use std::time::Duration;

use evalguard_domain::Role;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use browser_support::{PASSWORD, click, fill, path, screenshot, signed_in};

/// The text of the first element `css` selects, once it is there.
async fn text(client: &Client, css: &str) -> String {
    client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_changes_thresholds_rubrics_and_webhooks_through_the_forms() {
    let Some((driver, app)) = signed_in("ada@acme.example", Role::Admin).await else {
        return;
    };
    let c = &driver.client;
    let key = app.api_key("acme", Role::Owner).await;
    let api = reqwest::Client::new();
    let get = |path: &str| {
        api.get(format!("{}{path}", app.base))
            .bearer_auth(&key)
            .send()
    };
    let created = api
        .post(format!("{}/api/v1/projects", app.base))
        .bearer_auth(&key)
        .json(&json!({"id": "support-bot", "name": "Support bot"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    c.goto(&format!("{}/dashboard/projects/support-bot", app.base))
        .await
        .unwrap();
    click(c, "#settings-link").await;
    let settings = "/dashboard/projects/support-bot/settings";
    assert_eq!(path(c, settings).await, settings);

    // A threshold out of range: the API's message right after its field.
    fill(c, "#threshold-hallucination_rate", "1.5").await;
    click(c, "#save-thresholds").await;
    let error = text(c, "#threshold-hallucination_rate + p.field-error").await;
    assert!(error.contains("between 0 and 1"), "{error}");
    let invalid = c
        .find(Locator::Css("#threshold-hallucination_rate"))
        .await
        .unwrap();
    assert_eq!(
        invalid.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    screenshot(c, "settings-threshold-error").await;
    fill(c, "#threshold-hallucination_rate", "0.2").await;
    click(c, "#save-thresholds").await;
    text(c, "#thresholds-saved").await;
    let project: Value = get("/api/v1/projects/support-bot")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        project["settings"]["thresholds"]["hallucination_rate"],
        json!(0.2)
    );

    fill(c, "#rubric-name", "policy_cited").await;
    fill(c, "#rubric-criteria", "Cites the refund policy by name").await;
    fill(c, "#rubric-min", "0").await;
    fill(c, "#rubric-max", "10").await;
    fill(c, "#rubric-pass", "7").await;
    click(c, "#add-rubric-button").await;
    let row = text(c, "#rubric-policy_cited").await;
    assert!(row.contains("Cites the refund policy"), "{row}");
    let rubrics: Value = get("/api/v1/projects/support-bot/scorers")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rubrics["data"][0]["name"], "policy_cited");

    fill(c, "#webhook-url", "https://8.8.8.8/evalguard").await;
    click(c, "#add-webhook-button").await;
    let secret = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#new-secret[data-secret]"))
        .await
        .unwrap()
        .attr("data-secret")
        .await
        .unwrap()
        .unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let hooks = text(c, "#webhooks").await;
    assert!(hooks.contains("https://8.8.8.8/evalguard"), "{hooks}");
    assert!(hooks.contains("No deliveries yet"), "{hooks}");
    screenshot(c, "settings").await;
    let stored: Value = get("/api/v1/projects/support-bot/webhooks")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["data"][0]["url"], "https://8.8.8.8/evalguard");
    driver.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_changes_their_password_from_the_account_page() {
    let Some((driver, _server)) = signed_in("vic@acme.example", Role::Viewer).await else {
        return;
    };
    let c = &driver.client;
    let new_password = "a brand new passphrase";
    click(c, "nav a[href='/dashboard/account']").await;
    assert_eq!(path(c, "/dashboard/account").await, "/dashboard/account");

    fill(c, "#current-password", PASSWORD).await;
    fill(c, "#new-password", new_password).await;
    fill(c, "#confirm-password", "something else entirely").await;
    click(c, "#change-password-button").await;
    let error = text(c, "#confirm-password + p.field-error").await;
    assert!(error.contains("does not match"), "{error}");
    screenshot(c, "account-error").await;

    fill(c, "#current-password", PASSWORD).await;
    fill(c, "#new-password", new_password).await;
    fill(c, "#confirm-password", new_password).await;
    click(c, "#change-password-button").await;
    let changed = text(c, "#password-changed").await;
    assert!(changed.contains("other session"), "{changed}");
    screenshot(c, "account").await;

    // Still signed in; after signing out only the new password works.
    click(c, "#sign-out").await;
    assert_eq!(path(c, "/dashboard/login").await, "/dashboard/login");
    fill(c, "#email", "vic@acme.example").await;
    fill(c, "#password", PASSWORD).await;
    click(c, "#sign-in").await;
    assert!(text(c, "#login-error").await.contains("not right"));
    fill(c, "#email", "vic@acme.example").await;
    fill(c, "#password", new_password).await;
    click(c, "#sign-in").await;
    assert_eq!(path(c, "/dashboard").await, "/dashboard");
    driver.client.clone().close().await.unwrap();
}
