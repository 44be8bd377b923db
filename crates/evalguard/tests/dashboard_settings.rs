//! The project settings page over HTTP, on SQLite and PostgreSQL: viewers
//! see thresholds, rubric scorers and webhooks with their deliveries; admins
//! change them through the API's own checks (errors next to their field,
//! the webhook SSRF guard, a secret shown once); CSRF, roles and other
//! organizations' projects are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod dashboard_support;

use chrono::Utc;
use evalguard_domain::Role;
use evalguard_storage::WebhookEndpoint;
use reqwest::StatusCode;
use serde_json::{Value, json};

use dashboard_support::{Browser, DashboardApp, Db, attribute_after};

const PASSWORD: &str = "a long enough password";
const SETTINGS: &str = "/dashboard/projects/bot/settings";

on_both_databases! {
    viewers_see_the_settings_but_cannot_change_them,
    admins_save_thresholds_with_errors_next_to_their_field,
    admins_add_rubric_scorers_the_api_sees,
    webhooks_pass_the_ssrf_guard_show_their_secret_once_and_their_deliveries,
    forms_without_a_valid_token_and_other_organizations_are_refused,
}

/// An app that refuses private webhook targets (the production rule), with
/// acme's project `bot`, an admin and a viewer; returns it with an owner key.
async fn start(db: Db) -> Option<(DashboardApp, String)> {
    let app = DashboardApp::start(db, |c| c.allow_private_webhooks = false).await?;
    app.user("acme", "ada@acme.example", Role::Admin, PASSWORD)
        .await;
    app.user("acme", "vic@acme.example", Role::Viewer, PASSWORD)
        .await;
    let key = app.api_key("acme", Role::Owner).await;
    let (status, _) = api(
        &app,
        &key,
        "POST",
        "/api/v1/projects",
        Some(json!({"id": "bot", "name": "Bot"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    Some((app, key))
}

async fn api(
    app: &DashboardApp,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let client = reqwest::Client::new();
    let url = format!("{}{path}", app.base);
    let mut request = match method {
        "POST" => client.post(url),
        "PATCH" => client.patch(url),
        _ => client.get(url),
    }
    .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn admin(app: &DashboardApp) -> (Browser, String) {
    let mut browser = app.signed_in("ada@acme.example", PASSWORD).await;
    let csrf = browser.get(SETTINGS).await.csrf();
    (browser, csrf)
}

/// Posts a valid thresholds, rubric and webhook form to acme's `bot`; the
/// status of each.
async fn post_each_valid_form(
    browser: &mut Browser,
    csrf: &str,
) -> Vec<(&'static str, StatusCode)> {
    let forms: [(&str, &[(&str, &str)]); 3] = [
        ("thresholds", &[("alpha", "0.2")]),
        (
            "scorers",
            &[
                ("name", "tone"),
                ("criteria", "x"),
                ("score_min", "0"),
                ("score_max", "1"),
                ("pass_threshold", "0.5"),
            ],
        ),
        (
            "webhooks",
            &[("url", "https://8.8.8.8/hook"), ("event_flagged", "on")],
        ),
    ];
    let mut statuses = Vec::new();
    for (form, fields) in forms {
        let mut fields = fields.to_vec();
        fields.push(("csrf_token", csrf));
        let page = browser
            .post(&format!("/dashboard/projects/bot/settings/{form}"), &fields)
            .await;
        statuses.push((form, page.status));
    }
    statuses
}

async fn viewers_see_the_settings_but_cannot_change_them(db: Db) {
    let Some((app, key)) = start(db).await else {
        return;
    };
    let (status, _) = api(
        &app,
        &key,
        "PATCH",
        "/api/v1/projects/bot",
        Some(json!({"settings": {"thresholds": {"alpha": 0.01}}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api(
        &app,
        &key,
        "POST",
        "/api/v1/projects/bot/scorers",
        Some(
            json!({"name": "politeness", "criteria": "Is the answer polite?",
                    "score_min": 1, "score_max": 5, "pass_threshold": 3}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let mut vic = app.signed_in("vic@acme.example", PASSWORD).await;
    let project = vic.get("/dashboard/projects/bot").await;
    assert!(
        project.body.contains(&format!("href=\"{SETTINGS}\"")),
        "{}",
        project.body
    );
    let page = vic.get(SETTINGS).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        attribute_after(&page.body, "name=\"alpha\" value=\"").as_deref(),
        Some("0.01")
    );
    assert!(
        page.body.contains("(default 0.1)"),
        "drift distance default shown"
    );
    assert!(page.body.contains("id=\"rubric-politeness\""));
    assert!(page.body.contains("Is the answer polite?"));
    assert!(page.body.contains("1 to 5"));
    assert!(page.body.contains("id=\"read-only\""));
    assert!(!page.body.contains("id=\"add-rubric\""));

    let csrf = page.csrf();
    for (form, status) in post_each_valid_form(&mut vic, &csrf).await {
        assert_eq!(status, StatusCode::FORBIDDEN, "{form}");
    }
    let (_, project) = api(&app, &key, "GET", "/api/v1/projects/bot", None).await;
    assert_eq!(project["settings"]["thresholds"], json!({"alpha": 0.01}));
    let (_, rubrics) = api(&app, &key, "GET", "/api/v1/projects/bot/scorers", None).await;
    assert_eq!(rubrics["data"].as_array().unwrap().len(), 1);
    let (_, hooks) = api(&app, &key, "GET", "/api/v1/projects/bot/webhooks", None).await;
    assert_eq!(hooks["data"], json!([]));
}

async fn admins_save_thresholds_with_errors_next_to_their_field(db: Db) {
    let Some((app, key)) = start(db).await else {
        return;
    };
    let (mut ada, csrf) = admin(&app).await;
    let path = "/dashboard/projects/bot/settings/thresholds";
    let saved = ada
        .post(
            path,
            &[
                ("alpha", "0.01"),
                ("min_effect", ""),
                ("hallucination_rate", "0.2"),
                ("drift_fdr", ""),
                ("drift_distance", "0.3"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK);
    assert!(saved.body.contains("id=\"thresholds-saved\""));
    let (_, project) = api(&app, &key, "GET", "/api/v1/projects/bot", None).await;
    assert_eq!(
        project["settings"]["thresholds"],
        json!({"alpha": 0.01, "hallucination_rate": 0.2, "drift_distance": 0.3})
    );

    for (value, field) in [
        ("1.5", "hallucination_rate"),
        ("abc", "hallucination_rate"),
        ("0", "drift_fdr"),
        ("NaN", "drift_fdr"),
    ] {
        let refused = ada
            .post(path, &[(field, value), ("csrf_token", &csrf)])
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{field}={value}");
        let error = attribute_after(&refused.body, &format!("id=\"threshold-{field}\""))
            .map(|_| refused.body.contains(&format!("id=\"{field}-error\"")));
        assert_eq!(error, Some(true), "{field}={value}: {}", refused.body);
        assert_eq!(
            attribute_after(&refused.body, &format!("name=\"{field}\" value=\"")).as_deref(),
            Some(value),
            "the posted value is kept"
        );
    }
    let (_, project) = api(&app, &key, "GET", "/api/v1/projects/bot", None).await;
    assert_eq!(
        project["settings"]["thresholds"]["hallucination_rate"],
        json!(0.2),
        "nothing lost"
    );

    // Every field empty restores the defaults.
    let cleared = ada
        .post(path, &[("alpha", ""), ("csrf_token", &csrf)])
        .await;
    assert_eq!(cleared.status, StatusCode::OK);
    let (_, project) = api(&app, &key, "GET", "/api/v1/projects/bot", None).await;
    assert_eq!(project["settings"]["thresholds"], json!({}));
}

async fn admins_add_rubric_scorers_the_api_sees(db: Db) {
    let Some((app, key)) = start(db).await else {
        return;
    };
    let (mut ada, csrf) = admin(&app).await;
    let path = "/dashboard/projects/bot/settings/scorers";
    let rubric = |name: &'static str, max: &'static str, pass: &'static str| {
        vec![
            ("name", name),
            ("criteria", "Cites the policy by name"),
            ("score_min", "0"),
            ("score_max", max),
            ("pass_threshold", pass),
        ]
    };
    let mut form = rubric("policy_cited", "10", "7");
    form.push(("csrf_token", &csrf));
    let added = ada.post(path, &form).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    assert_eq!(added.location.as_deref(), Some(SETTINGS));
    let (_, rubrics) = api(&app, &key, "GET", "/api/v1/projects/bot/scorers", None).await;
    assert_eq!(rubrics["data"][0]["name"], "policy_cited");
    assert_eq!(rubrics["data"][0]["score_max"], json!(10.0));
    assert_eq!(rubrics["data"][0]["pass_threshold"], json!(7.0));
    assert!(
        ada.get(SETTINGS)
            .await
            .body
            .contains("id=\"rubric-policy_cited\"")
    );

    for (form, error_id) in [
        (rubric("Bad Name", "10", "7"), "rubric-name-error"),
        (rubric("toxicity", "10", "7"), "rubric-name-error"),
        (rubric("ok", "0", "0"), "rubric-max-error"),
        (rubric("ok", "10", "11"), "rubric-pass-error"),
        (rubric("ok", "ten", "7"), "rubric-max-error"),
    ] {
        let mut form = form;
        form.push(("csrf_token", &csrf));
        let refused = ada.post(path, &form).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{form:?}");
        assert!(
            refused.body.contains(&format!("id=\"{error_id}\"")),
            "{form:?}: {}",
            refused.body
        );
    }
    let (_, rubrics) = api(&app, &key, "GET", "/api/v1/projects/bot/scorers", None).await;
    assert_eq!(rubrics["data"].as_array().unwrap().len(), 1);
}

async fn webhooks_pass_the_ssrf_guard_show_their_secret_once_and_their_deliveries(db: Db) {
    let Some((app, key)) = start(db).await else {
        return;
    };
    let (mut ada, csrf) = admin(&app).await;
    let path = "/dashboard/projects/bot/settings/webhooks";
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "ftp://8.8.8.8/",
        "not a url",
    ] {
        let refused = ada
            .post(
                path,
                &[
                    ("url", url),
                    ("event_completed", "on"),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{url}");
        assert!(
            refused.body.contains("id=\"webhook-url-error\""),
            "{url}: {}",
            refused.body
        );
        assert!(!refused.body.contains("data-secret"));
    }
    let no_events = ada
        .post(
            path,
            &[("url", "https://8.8.8.8/hook"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(no_events.status, StatusCode::BAD_REQUEST);
    assert!(no_events.body.contains("id=\"webhook-events-error\""));
    let (_, hooks) = api(&app, &key, "GET", "/api/v1/projects/bot/webhooks", None).await;
    assert_eq!(hooks["data"], json!([]), "nothing refused was stored");

    let added = ada
        .post(
            path,
            &[
                ("url", "https://8.8.8.8/hook"),
                ("event_flagged", "on"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK);
    let secret = attribute_after(&added.body, "data-secret=\"").unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let (_, hooks) = api(&app, &key, "GET", "/api/v1/projects/bot/webhooks", None).await;
    assert_eq!(hooks["data"][0]["url"], "https://8.8.8.8/hook");
    assert_eq!(hooks["data"][0]["events"], json!(["auto_eval.flagged"]));
    let later = ada.get(SETTINGS).await.body;
    assert!(!later.contains(&secret), "the secret is shown once");
    assert!(later.contains("https://8.8.8.8/hook"));

    // A delivery to an endpoint shows in its log (stored directly: the
    // address is never contacted, delivery refuses it as private).
    let org = app.storage.access.ensure_org("acme").await.unwrap();
    let project = evalguard_domain::ProjectId::parse("bot").unwrap();
    app.storage
        .webhooks
        .create_endpoint(&WebhookEndpoint {
            id: uuid::Uuid::now_v7(),
            org_id: org,
            project_id: project.clone(),
            url: "http://10.0.0.7/hook".to_owned(),
            events: vec!["auto_eval.completed".to_owned()],
            secret: "whsec_test".to_owned(),
            created_at: Utc::now(),
        })
        .await
        .unwrap();
    app.storage
        .webhooks
        .enqueue_event(org, &project, "auto_eval.completed", &json!({"job": "j"}))
        .await
        .unwrap();
    let page = ada.get(SETTINGS).await.body;
    assert!(page.contains("<td>auto_eval.completed</td>"), "{page}");

    let id = hooks["data"][0]["id"].as_str().unwrap().to_owned();
    let deleted = ada
        .post(&format!("{path}/{id}/delete"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let (_, hooks) = api(&app, &key, "GET", "/api/v1/projects/bot/webhooks", None).await;
    assert_eq!(hooks["data"].as_array().unwrap().len(), 1);
    assert_eq!(hooks["data"][0]["url"], "http://10.0.0.7/hook");
    let again = ada
        .post(&format!("{path}/{id}/delete"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

async fn forms_without_a_valid_token_and_other_organizations_are_refused(db: Db) {
    let Some((app, key)) = start(db).await else {
        return;
    };
    let (mut ada, csrf) = admin(&app).await;
    let path = "/dashboard/projects/bot/settings/thresholds";
    assert_eq!(
        ada.post(path, &[("alpha", "0.2")]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ada.post(path, &[("alpha", "0.2"), ("csrf_token", "0000")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let cross = ada
        .post_from(
            path,
            &[("alpha", "0.2"), ("csrf_token", &csrf)],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let (_, project) = api(&app, &key, "GET", "/api/v1/projects/bot", None).await;
    assert_eq!(project["settings"]["thresholds"], json!({}));

    // Bodies that are not the form never cause a 500.
    for body in [
        vec![("alpha", "0.2"), ("alpha", "0.3"), ("csrf_token", &csrf)],
        vec![("csrf_token", &csrf), ("url", "\u{0}")],
    ] {
        for form in ["thresholds", "scorers", "webhooks", "webhooks/x/delete"] {
            let page = ada
                .post(&format!("/dashboard/projects/bot/settings/{form}"), &body)
                .await;
            assert!(!page.status.is_server_error(), "{form}: {}", page.status);
        }
    }

    // Another organization's project, and one that does not exist: 404.
    app.user("globex", "gus@globex.example", Role::Owner, PASSWORD)
        .await;
    let mut gus = app.signed_in("gus@globex.example", PASSWORD).await;
    let gus_csrf = gus.get("/dashboard").await.csrf();
    for path in [
        SETTINGS,
        "/dashboard/projects/nope/settings",
        "/dashboard/projects/..%2F/settings",
    ] {
        assert_eq!(gus.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    for (form, status) in post_each_valid_form(&mut gus, &gus_csrf).await {
        assert_eq!(status, StatusCode::NOT_FOUND, "{form}");
    }
    let (_, project) = api(&app, &key, "GET", "/api/v1/projects/bot", None).await;
    assert_eq!(project["settings"]["thresholds"], json!({}));
    let (_, hooks) = api(&app, &key, "GET", "/api/v1/projects/bot/webhooks", None).await;
    assert_eq!(hooks["data"], json!([]));
}
