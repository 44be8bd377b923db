//! A person changes their own password at `/dashboard/account`, on SQLite
//! and PostgreSQL: the current password is required and throttled like
//! sign-in, each form error shows next to its field, the change ends the
//! person's other sessions and keeps this browser signed in with a new one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod dashboard_support;

use evalguard_domain::Role;
use reqwest::StatusCode;

use dashboard_support::{Browser, DashboardApp, Db};

const PASSWORD: &str = "a long enough password";
const NEW_PASSWORD: &str = "a brand new passphrase";

on_both_databases! {
    changing_the_password_ends_the_other_sessions_and_keeps_this_one,
    form_errors_show_next_to_their_fields_and_change_nothing,
    wrong_current_passwords_are_throttled_like_sign_in,
    the_account_page_needs_a_session_and_a_valid_token,
}

async fn start(db: Db) -> Option<DashboardApp> {
    let app = DashboardApp::start(db, |_| {}).await?;
    app.user("acme", "ann@acme.example", Role::Viewer, PASSWORD)
        .await;
    Some(app)
}

/// Posts the password form of `browser`'s account page.
async fn change(
    browser: &mut Browser,
    current: &str,
    new: &str,
    confirm: &str,
) -> dashboard_support::Page {
    let csrf = browser.get("/dashboard/account").await.csrf();
    browser
        .post(
            "/dashboard/account/password",
            &[
                ("current_password", current),
                ("new_password", new),
                ("confirm_password", confirm),
                ("csrf_token", &csrf),
            ],
        )
        .await
}

async fn changing_the_password_ends_the_other_sessions_and_keeps_this_one(db: Db) {
    let Some(app) = start(db).await else { return };
    let mut laptop = app.signed_in("ann@acme.example", PASSWORD).await;
    let mut phone = app.signed_in("ann@acme.example", PASSWORD).await;
    let page = laptop.get("/dashboard").await;
    assert!(
        page.body.contains("href=\"/dashboard/account\""),
        "the nav links the account page"
    );
    let old_session = laptop.session_cookie().unwrap().to_owned();

    let done = change(&mut laptop, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/dashboard/account?changed=1")
    );
    let renewed = laptop.session_cookie().unwrap().to_owned();
    assert_ne!(renewed, old_session, "this browser gets a new session");
    let page = laptop.get("/dashboard/account?changed=1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("id=\"password-changed\""),
        "{}",
        page.body
    );

    // The other session, and the old session id, are over.
    assert_eq!(phone.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    let mut stale = app.browser();
    stale
        .cookies
        .insert("evalguard_session".to_owned(), old_session);
    assert_eq!(stale.get("/dashboard").await.status, StatusCode::SEE_OTHER);

    // Only the new password signs in, and it is stored as Argon2id.
    let old = app.browser().login("ann@acme.example", PASSWORD).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app.browser().login("ann@acme.example", NEW_PASSWORD).await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);
    let stored = app
        .storage
        .users
        .find_user_by_email("ann@acme.example")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"));
    assert!(!stored.password_hash.contains(NEW_PASSWORD));
}

async fn form_errors_show_next_to_their_fields_and_change_nothing(db: Db) {
    let Some(app) = start(db).await else { return };
    let mut ann = app.signed_in("ann@acme.example", PASSWORD).await;
    let session = ann.session_cookie().unwrap().to_owned();
    let cases = [
        (
            "not my password",
            NEW_PASSWORD,
            NEW_PASSWORD,
            "id=\"current-password-error\"",
        ),
        (PASSWORD, "short", "short", "id=\"new-password-error\""),
        (PASSWORD, PASSWORD, PASSWORD, "id=\"new-password-error\""),
        (
            PASSWORD,
            NEW_PASSWORD,
            "a brand new passphrasE",
            "id=\"confirm-password-error\"",
        ),
    ];
    for (current, new, confirm, error) in cases {
        let page = change(&mut ann, current, new, confirm).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{error}");
        assert!(page.body.contains(error), "{error}: {}", page.body);
        assert!(page.body.contains("aria-invalid=\"true\""));
        assert_eq!(ann.session_cookie(), Some(session.as_str()));
    }
    // Nothing changed: the session lives and the old password still signs in.
    assert_eq!(ann.get("/dashboard").await.status, StatusCode::OK);
    let again = app.browser().login("ann@acme.example", PASSWORD).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
}

async fn wrong_current_passwords_are_throttled_like_sign_in(db: Db) {
    let Some(app) = start(db).await else { return };
    let mut ann = app.signed_in("ann@acme.example", PASSWORD).await;
    for _ in 0..5 {
        let page = change(&mut ann, "a guessed password", NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
    }
    // Over the account's allowance: even the right password is refused,
    // and signing in to the account is too (one throttle).
    let blocked = change(&mut ann, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        blocked.body.contains("id=\"password-form-error\""),
        "{}",
        blocked.body
    );
    let sign_in = app.browser().login("ann@acme.example", PASSWORD).await;
    assert_eq!(sign_in.status, StatusCode::TOO_MANY_REQUESTS);
    // Nothing changed.
    assert_eq!(ann.get("/dashboard").await.status, StatusCode::OK);
}

async fn the_account_page_needs_a_session_and_a_valid_token(db: Db) {
    let Some(app) = start(db).await else { return };
    let mut nobody = app.browser();
    let page = nobody.get("/dashboard/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/dashboard/login"));
    let post = nobody
        .post("/dashboard/account/password", &[("current_password", "x")])
        .await;
    assert_eq!(post.status, StatusCode::SEE_OTHER);

    let mut ann = app.signed_in("ann@acme.example", PASSWORD).await;
    let form = [
        ("current_password", PASSWORD),
        ("new_password", NEW_PASSWORD),
        ("confirm_password", NEW_PASSWORD),
    ];
    let no_token = ann.post("/dashboard/account/password", &form).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let csrf = ann.get("/dashboard/account").await.csrf();
    let mut with_token = form.to_vec();
    with_token.push(("csrf_token", &csrf));
    let cross_site = ann
        .post_from(
            "/dashboard/account/password",
            &with_token,
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    let garbage = ann
        .post(
            "/dashboard/account/password",
            &[("current_password[]", "%%")],
        )
        .await;
    assert!(garbage.status.is_client_error(), "{}", garbage.status);
    // None of these changed the password.
    let again = app.browser().login("ann@acme.example", PASSWORD).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
}
