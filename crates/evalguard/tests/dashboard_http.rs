//! The dashboard over HTTP, on SQLite and PostgreSQL: sign-in and the setup
//! link, sessions (sign-out, expiry, password change, disabling), CSRF and
//! `Origin` refusals, throttling, other organizations' 404s, API keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod dashboard_support;

use chrono::{Duration, Utc};
use evalguard_api::dashboard::secrets::token_hash;
use evalguard_domain::ProjectId;
use evalguard_domain::Role;
use evalguard_domain::project::{Project, ProjectSettings};
use reqwest::StatusCode;

use dashboard_support::{DashboardApp, Db, attribute_after};

const PASSWORD: &str = "a long enough password";

on_both_databases! {
    pages_need_a_session_and_carry_security_headers,
    the_setup_link_creates_the_first_owner_once,
    sign_in_and_sign_out,
    wrong_passwords_say_nothing_about_which_emails_exist_and_are_throttled,
    sessions_end_when_idle_when_the_password_changes_and_when_disabled,
    posts_without_a_valid_token_or_from_another_origin_are_refused,
    other_organizations_ids_answer_404,
    admins_create_and_revoke_keys_that_work_on_the_api,
    viewers_see_keys_but_cannot_manage_them,
    bad_form_bodies_never_cause_a_500,
    admins_manage_people_up_to_their_role,
    the_project_page_lists_targets_and_triggers_auto_evals,
}

async fn start(db: Db) -> Option<DashboardApp> {
    DashboardApp::start(db, |_| {}).await
}

async fn pages_need_a_session_and_carry_security_headers(db: Db) {
    let Some(app) = start(db).await else { return };
    let mut browser = app.browser();
    for path in [
        "/dashboard",
        "/dashboard/api-keys",
        "/dashboard/projects/bot",
        "/dashboard/jobs/0190a0b0-0000-7000-8000-000000000000",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location.as_deref(), Some("/dashboard/login"), "{path}");
    }
    let login = browser.get("/dashboard/login").await;
    assert_eq!(login.status, StatusCode::OK);
    let csp = login.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(login.headers.contains_key("referrer-policy"));
    assert!(!login.body.contains("<script>"), "no inline script");
    let css = browser.get("/dashboard/assets/dashboard.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

async fn the_setup_link_creates_the_first_owner_once(db: Db) {
    let Some(app) = start(db).await else { return };
    let url = app
        .setup_url
        .clone()
        .expect("a fresh database prints a setup link");
    let path = url.strip_prefix(&app.base).unwrap().to_owned();
    let mut browser = app.browser();
    let form = browser.get(&path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let token = attribute_after(&form.body, "name=\"token\" value=\"").unwrap();
    let csrf = form.csrf();

    // A short password is shown next to its field, and nothing is created.
    let short = browser
        .post(
            "/dashboard/setup",
            &[
                ("token", &token),
                ("org", "acme"),
                ("email", "owner@acme.example"),
                ("password", "short"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(
        short.body.contains("id=\"password-error\""),
        "{}",
        short.body
    );
    assert_eq!(app.storage.users.count_users().await.unwrap(), 0);

    let wrong = browser
        .post(
            "/dashboard/setup",
            &[
                ("token", "not-the-token"),
                ("org", "acme"),
                ("email", "owner@acme.example"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);

    let done = browser
        .post(
            "/dashboard/setup",
            &[
                ("token", &token),
                ("org", "acme"),
                ("email", "Owner@Acme.example"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(browser.session_cookie().is_some());
    let overview = browser.get("/dashboard").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(overview.body.contains("owner@acme.example (owner)"));

    // Single use: the link no longer works, nor does the setup page.
    let mut other = app.browser();
    assert_eq!(other.get(&path).await.status, StatusCode::FORBIDDEN);
    let csrf = other.get("/dashboard/login").await.csrf();
    let again = other
        .post(
            "/dashboard/setup",
            &[
                ("token", &token),
                ("org", "evil"),
                ("email", "x@evil.example"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert_eq!(app.storage.users.count_users().await.unwrap(), 1);
    // The owner signs in with the password chosen at setup.
    app.signed_in("owner@acme.example", PASSWORD).await;
}

async fn sign_in_and_sign_out(db: Db) {
    let Some(app) = start(db).await else { return };
    app.user("acme", "ann@acme.example", Role::Admin, PASSWORD)
        .await;
    let mut browser = app.browser();
    let page = browser.login("ANN@acme.example", PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/dashboard"));
    let set_cookie = page.headers["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    assert!(!set_cookie.contains("Secure"), "not configured for HTTPS");
    let cookie = browser.session_cookie().unwrap().to_owned();
    assert_eq!(cookie.len(), 43, "256 random bits");

    let overview = browser.get("/dashboard").await;
    assert_eq!(overview.status, StatusCode::OK);
    let csrf = overview.csrf();
    let out = browser
        .post("/dashboard/logout", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        app.storage
            .sessions
            .find_session(&token_hash(&cookie))
            .await
            .unwrap()
            .is_none()
    );
    // The old cookie, replayed, no longer opens anything.
    browser
        .cookies
        .insert("evalguard_session".to_owned(), cookie);
    assert_eq!(
        browser.get("/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
}

async fn wrong_passwords_say_nothing_about_which_emails_exist_and_are_throttled(db: Db) {
    let Some(app) = start(db).await else { return };
    app.user("acme", "ann@acme.example", Role::Viewer, PASSWORD)
        .await;
    let mut browser = app.browser();
    let known = browser.login("ann@acme.example", "wrong password!").await;
    let unknown = browser
        .login("nobody@acme.example", "wrong password!")
        .await;
    assert_eq!(known.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let message = |body: &str| {
        attribute_after(body, "id=\"login-error\">").map(|_| {
            let start = body.find("id=\"login-error\">").unwrap();
            body[start..].split('<').next().unwrap().to_owned()
        })
    };
    assert_eq!(message(&known.body), message(&unknown.body));

    for _ in 0..4 {
        browser.login("ann@acme.example", "wrong password!").await;
    }
    // Five failures: even the right password is refused for a while, saying why.
    let blocked = browser.login("ann@acme.example", PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        blocked.body.contains("Too many failed sign-ins"),
        "{}",
        blocked.body
    );
    assert!(browser.session_cookie().is_none());
    // The unknown address is throttled the same way once over its allowance.
    for _ in 0..5 {
        browser
            .login("nobody@acme.example", "wrong password!")
            .await;
    }
    assert_eq!(
        browser.login("nobody@acme.example", "x").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn sessions_end_when_idle_when_the_password_changes_and_when_disabled(db: Db) {
    let Some(app) = start(db).await else { return };
    let org = app
        .user("acme", "ann@acme.example", Role::Admin, PASSWORD)
        .await;
    let ann = app
        .storage
        .users
        .find_user_by_email("ann@acme.example")
        .await
        .unwrap()
        .unwrap();

    // Idle: the session's last use is moved past the idle limit (2 hours).
    let mut browser = app.signed_in("ann@acme.example", PASSWORD).await;
    let hash = token_hash(browser.session_cookie().unwrap());
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::OK);
    app.storage
        .sessions
        .touch_session(&hash, Utc::now() - Duration::hours(3))
        .await
        .unwrap();
    assert_eq!(
        browser.get("/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
    assert!(
        app.storage
            .sessions
            .find_session(&hash)
            .await
            .unwrap()
            .is_none()
    );

    // A password change ends every session.
    let mut browser = app.signed_in("ann@acme.example", PASSWORD).await;
    let new_hash =
        evalguard_api::dashboard::secrets::hash_password("another long password").unwrap();
    app.storage
        .users
        .set_password(org, ann.id, &new_hash)
        .await
        .unwrap();
    assert_eq!(
        browser.get("/dashboard").await.status,
        StatusCode::SEE_OTHER
    );

    // Disabling ends them too, and the person can no longer sign in.
    let mut browser = app
        .signed_in("ann@acme.example", "another long password")
        .await;
    app.storage
        .users
        .disable_user(org, ann.id, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        browser.get("/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
    let again = app
        .browser()
        .login("ann@acme.example", "another long password")
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
}

async fn posts_without_a_valid_token_or_from_another_origin_are_refused(db: Db) {
    let Some(app) = start(db).await else { return };
    app.user("acme", "ann@acme.example", Role::Owner, PASSWORD)
        .await;
    let mut browser = app.signed_in("ann@acme.example", PASSWORD).await;
    let csrf = browser.get("/dashboard/api-keys").await.csrf();
    let form = [("name", "ci"), ("role", "viewer"), ("project_id", "")];

    let missing = browser.post("/dashboard/api-keys", &form).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let mut forged = form.to_vec();
    forged.push(("csrf_token", "0000"));
    assert_eq!(
        browser.post("/dashboard/api-keys", &forged).await.status,
        StatusCode::FORBIDDEN
    );
    let mut valid = form.to_vec();
    valid.push(("csrf_token", &csrf));
    let cross = browser
        .post_from("/dashboard/api-keys", &valid, Some("https://evil.example"))
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.post("/dashboard/logout", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let org = app.storage.access.ensure_org("acme").await.unwrap();
    assert!(
        app.storage
            .access
            .list_api_keys(org)
            .await
            .unwrap()
            .is_empty(),
        "nothing was created"
    );

    // Another session's token is not this session's.
    let mut other = app.signed_in("ann@acme.example", PASSWORD).await;
    let mut theirs = form.to_vec();
    theirs.push(("csrf_token", &csrf));
    assert_eq!(
        other.post("/dashboard/api-keys", &theirs).await.status,
        StatusCode::FORBIDDEN
    );
    // The sign-in form needs its own token too.
    let mut fresh = app.browser();
    let login = fresh
        .post(
            "/dashboard/login",
            &[("email", "ann@acme.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(login.status, StatusCode::FORBIDDEN);

    assert_eq!(
        browser.post("/dashboard/api-keys", &valid).await.status,
        StatusCode::OK
    );
}

async fn other_organizations_ids_answer_404(db: Db) {
    let Some(app) = start(db).await else { return };
    app.user("acme", "ann@acme.example", Role::Owner, PASSWORD)
        .await;
    let globex = app
        .user("globex", "gus@globex.example", Role::Owner, PASSWORD)
        .await;
    let project = Project {
        id: ProjectId::parse("secret-bot").unwrap(),
        name: "Globex bot".to_owned(),
        created_at: Utc::now(),
        settings: ProjectSettings::default(),
    };
    app.storage
        .projects
        .create_project(globex, &project)
        .await
        .unwrap();
    let mut gus = app.signed_in("gus@globex.example", PASSWORD).await;
    let csrf = gus.get("/dashboard/api-keys").await.csrf();
    let created = gus
        .post(
            "/dashboard/api-keys",
            &[
                ("name", "g"),
                ("role", "viewer"),
                ("project_id", ""),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let key = app
        .storage
        .access
        .list_api_keys(globex)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        gus.get("/dashboard/projects/secret-bot").await.status,
        StatusCode::OK
    );

    let mut ann = app.signed_in("ann@acme.example", PASSWORD).await;
    assert_eq!(
        ann.get("/dashboard/projects/secret-bot").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ann.get("/dashboard/projects/no-such").await.status,
        StatusCode::NOT_FOUND
    );
    let job = ann
        .get("/dashboard/jobs/0190a0b0-0000-7000-8000-000000000000")
        .await;
    assert_eq!(job.status, StatusCode::NOT_FOUND);
    assert_eq!(
        ann.get("/dashboard/jobs/not-a-uuid").await.status,
        StatusCode::NOT_FOUND
    );
    let keys = ann.get("/dashboard/api-keys").await;
    assert!(
        !keys.body.contains(&key.key_id),
        "another organization's key is not listed"
    );
    let csrf = keys.csrf();
    let revoke = ann
        .post(
            &format!("/dashboard/api-keys/{}/revoke", key.key_id),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(revoke.status, StatusCode::NOT_FOUND);
    let still = app
        .storage
        .access
        .find_api_key(&key.key_id)
        .await
        .unwrap()
        .unwrap();
    assert!(still.revoked_at.is_none());
}

async fn admins_create_and_revoke_keys_that_work_on_the_api(db: Db) {
    let Some(app) = start(db).await else { return };
    app.user("acme", "ann@acme.example", Role::Admin, PASSWORD)
        .await;
    let mut ann = app.signed_in("ann@acme.example", PASSWORD).await;
    let csrf = ann.get("/dashboard/api-keys").await.csrf();

    // Up to her own role: an owner key is refused next to the role field.
    let too_high = ann
        .post(
            "/dashboard/api-keys",
            &[
                ("name", "x"),
                ("role", "owner"),
                ("project_id", ""),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(too_high.status, StatusCode::BAD_REQUEST);
    assert!(
        too_high.body.contains("id=\"role-error\""),
        "{}",
        too_high.body
    );
    let bad_project = ann
        .post(
            "/dashboard/api-keys",
            &[
                ("name", "x"),
                ("role", "viewer"),
                ("project_id", "nope"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(bad_project.status, StatusCode::BAD_REQUEST);
    assert!(bad_project.body.contains("id=\"project-error\""));

    let created = ann
        .post(
            "/dashboard/api-keys",
            &[
                ("name", "deploy <gate>"),
                ("role", "member"),
                ("project_id", ""),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(
        created.body.contains("deploy &") && !created.body.contains("deploy <gate>"),
        "names are escaped"
    );
    let secret = attribute_after(&created.body, "data-secret=\"").unwrap();
    assert!(secret.starts_with("eg_"));
    assert_eq!(created.headers["cache-control"], "no-store");

    let api = reqwest::Client::new();
    let projects = format!("{}/api/v1/projects", app.base);
    let ok = api
        .get(&projects)
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);

    // Shown once: the list shows only the public prefix.
    let list = ann.get("/dashboard/api-keys").await;
    assert!(!list.body.contains(&secret));
    let key_id = &secret[3..15];
    assert!(list.body.contains(&format!("eg_{key_id}_")));

    let revoked = ann
        .post(
            &format!("/dashboard/api-keys/{key_id}/revoke"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let refused = api
        .get(&projects)
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

async fn viewers_see_keys_but_cannot_manage_them(db: Db) {
    let Some(app) = start(db).await else { return };
    app.user("acme", "ann@acme.example", Role::Owner, PASSWORD)
        .await;
    app.user("acme", "vic@acme.example", Role::Viewer, PASSWORD)
        .await;
    let mut ann = app.signed_in("ann@acme.example", PASSWORD).await;
    let csrf = ann.get("/dashboard/api-keys").await.csrf();
    ann.post(
        "/dashboard/api-keys",
        &[
            ("name", "ci"),
            ("role", "viewer"),
            ("project_id", ""),
            ("csrf_token", &csrf),
        ],
    )
    .await;
    let org = app.storage.access.ensure_org("acme").await.unwrap();
    let key = app
        .storage
        .access
        .list_api_keys(org)
        .await
        .unwrap()
        .remove(0);

    let mut vic = app.signed_in("vic@acme.example", PASSWORD).await;
    let page = vic.get("/dashboard/api-keys").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&key.key_id));
    assert!(page.body.contains("id=\"read-only\""));
    assert!(!page.body.contains("action=\"/dashboard/api-keys\""));
    let csrf = page.csrf();
    let create = vic
        .post(
            "/dashboard/api-keys",
            &[
                ("name", "x"),
                ("role", "viewer"),
                ("project_id", ""),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    let revoke = vic
        .post(
            &format!("/dashboard/api-keys/{}/revoke", key.key_id),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(revoke.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.storage.access.list_api_keys(org).await.unwrap().len(),
        1
    );
}

async fn bad_form_bodies_never_cause_a_500(db: Db) {
    let Some(app) = start(db).await else { return };
    app.user("acme", "ann@acme.example", Role::Owner, PASSWORD)
        .await;
    let mut ann = app.signed_in("ann@acme.example", PASSWORD).await;
    let csrf = ann.get("/dashboard/api-keys").await.csrf();
    let long = "x".repeat(5000);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("csrf_token", &csrf)],
        vec![("csrf_token", &csrf), ("role", "emperor")],
        vec![("csrf_token", &csrf), ("role", "viewer"), ("name", &long)],
        vec![("csrf_token", &csrf), ("role", "viewer"), ("name", "nul\0")],
        vec![
            ("csrf_token", &csrf),
            ("role", "viewer"),
            ("project_id", "../../etc"),
        ],
        vec![
            ("csrf_token", &csrf),
            ("role", "viewer"),
            ("project_id", "\u{0}"),
        ],
    ];
    for form in cases {
        let page = ann.post("/dashboard/api-keys", &form).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{form:?}");
    }
    for path in [
        "/dashboard/login",
        "/dashboard/setup",
        "/dashboard/logout",
        "/dashboard/api-keys",
    ] {
        let mut b = app.browser();
        let page = b
            .post(path, &[("email", "\u{0}"), ("password", &long)])
            .await;
        // Refused (403: no token), or sent to sign in (303: no session).
        assert!(
            page.status.is_client_error() || page.status == StatusCode::SEE_OTHER,
            "{path}: {}",
            page.status
        );
    }
    let page = ann.get("/dashboard/projects/bot?before=not-a-uuid").await;
    assert!(page.status.is_client_error());
    let page = ann
        .get("/dashboard/jobs/0190a0b0-0000-7000-8000-000000000000?after=x")
        .await;
    assert!(page.status.is_client_error());
}

async fn admins_manage_people_up_to_their_role(db: Db) {
    let Some(app) = start(db).await else { return };
    app.user("acme", "ann@acme.example", Role::Admin, PASSWORD)
        .await;
    app.user("acme", "own@acme.example", Role::Owner, PASSWORD)
        .await;
    let globex = app
        .user("globex", "gus@globex.example", Role::Viewer, PASSWORD)
        .await;
    let gus = app
        .storage
        .users
        .find_user_by_email("gus@globex.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gus.org_id, globex);

    let mut ann = app.signed_in("ann@acme.example", PASSWORD).await;
    let page = ann.get("/dashboard/users").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("own@acme.example") && !page.body.contains("gus@globex.example"));
    let csrf = page.csrf();

    let too_high = ann
        .post(
            "/dashboard/users",
            &[
                ("email", "x@acme.example"),
                ("role", "owner"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(too_high.status, StatusCode::BAD_REQUEST);
    assert!(too_high.body.contains("id=\"role-error\""));
    let bad_email = ann
        .post(
            "/dashboard/users",
            &[
                ("email", "not an email"),
                ("role", "viewer"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(bad_email.status, StatusCode::BAD_REQUEST);
    assert!(bad_email.body.contains("id=\"email-error\""));
    let taken = ann
        .post(
            "/dashboard/users",
            &[
                ("email", "gus@globex.example"),
                ("role", "viewer"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST);

    let created = ann
        .post(
            "/dashboard/users",
            &[
                ("email", "Mia@acme.example"),
                ("role", "member"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let password = attribute_after(&created.body, "data-secret=\"").unwrap();
    let mut mia = app.signed_in("mia@acme.example", &password).await;
    assert_eq!(
        mia.get("/dashboard/users").await.status,
        StatusCode::FORBIDDEN,
        "members do not manage people"
    );
    let mia_id = app
        .storage
        .users
        .find_user_by_email("mia@acme.example")
        .await
        .unwrap()
        .unwrap()
        .id;

    let promoted = ann
        .post(
            &format!("/dashboard/users/{mia_id}/role"),
            &[("role", "admin"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(promoted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        mia.get("/dashboard/users").await.status,
        StatusCode::OK,
        "the new role applies at once"
    );

    let owner = app
        .storage
        .users
        .find_user_by_email("own@acme.example")
        .await
        .unwrap()
        .unwrap();
    let above = ann
        .post(
            &format!("/dashboard/users/{}/disable", owner.id),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(above.status, StatusCode::FORBIDDEN);
    let other_org = ann
        .post(
            &format!("/dashboard/users/{}/disable", gus.id),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(other_org.status, StatusCode::NOT_FOUND);

    let disabled = ann
        .post(
            &format!("/dashboard/users/{mia_id}/disable"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    assert_eq!(
        mia.get("/dashboard").await.status,
        StatusCode::SEE_OTHER,
        "disabling ends the session"
    );
    assert_eq!(
        app.browser()
            .login("mia@acme.example", &password)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn the_project_page_lists_targets_and_triggers_auto_evals(db: Db) {
    let Some(app) = start(db).await else { return };
    app.user("acme", "mem@acme.example", Role::Member, PASSWORD)
        .await;
    app.user("acme", "vic@acme.example", Role::Viewer, PASSWORD)
        .await;
    let key = app.api_key("acme", Role::Owner).await;
    let api = reqwest::Client::new();
    let r = api
        .post(format!("{}/api/v1/projects", app.base))
        .bearer_auth(&key)
        .json(&serde_json::json!({"id": "bot", "name": "Bot"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let samples: Vec<_> = (0..7)
        .map(|i| {
            serde_json::json!({"id": format!("s{i}"), "project_id": "bot", "model": "gpt-x",
                                    "prompt_id": "answer-v3", "input": "q", "output": "a"})
        })
        .collect();
    for _ in 0..2 {
        // Sent twice: the repeated ids are stored, and counted, once.
        let r = api
            .post(format!("{}/api/v1/traffic", app.base))
            .bearer_auth(&key)
            .json(&serde_json::json!({"samples": samples}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }

    let mut mem = app.signed_in("mem@acme.example", PASSWORD).await;
    let page = mem.get("/dashboard/projects/bot").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("<td>gpt-x</td><td>answer-v3</td><td>7</td>"),
        "{}",
        page.body
    );
    let csrf = page.csrf();

    let bad = mem
        .post(
            "/dashboard/projects/bot/auto-eval",
            &[
                ("model", "gpt-x"),
                ("prompt_id", "answer-v3"),
                ("sample_count", "0"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(bad.body.contains("id=\"count-error\""), "{}", bad.body);
    let words = mem
        .post(
            "/dashboard/projects/bot/auto-eval",
            &[
                ("model", "gpt-x"),
                ("prompt_id", "answer-v3"),
                ("sample_count", "many"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(words.status, StatusCode::BAD_REQUEST);

    let run = mem
        .post(
            "/dashboard/projects/bot/auto-eval",
            &[
                ("model", "gpt-x"),
                ("prompt_id", "answer-v3"),
                ("sample_count", "5"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(run.status, StatusCode::SEE_OTHER, "{}", run.body);
    let location = run.location.unwrap();
    let job_id = location.strip_prefix("/dashboard/jobs/").unwrap();
    let job = app.wait_for_job(&key, job_id).await;
    assert_eq!(job["sample_count"], 5, "{job}");
    assert_eq!(job["target"]["model"], "gpt-x");
    let report = mem.get(&location).await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(
        report.body.contains("id=\"job-status\">succeeded<"),
        "{}",
        report.body
    );

    let mut vic = app.signed_in("vic@acme.example", PASSWORD).await;
    let page = vic.get("/dashboard/projects/bot").await;
    assert!(
        !page.body.contains("id=\"trigger\""),
        "viewers get no trigger form"
    );
    let csrf = page.csrf();
    let refused = vic
        .post(
            "/dashboard/projects/bot/auto-eval",
            &[
                ("model", "gpt-x"),
                ("prompt_id", "answer-v3"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
