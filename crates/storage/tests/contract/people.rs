//! Dashboard users, sessions and the first-run setup token.

use chrono::Duration;
use evalguard_domain::Role;
use evalguard_storage::{NewSession, NewUser, StorageError};
use uuid::Uuid;

use crate::fixture::{Db, now_micros, two_orgs};

fn user(org: evalguard_domain::OrgId, email: &str, role: Role) -> NewUser {
    NewUser {
        org_id: org,
        email: email.to_owned(),
        role,
        password_hash: format!("phc-of-{email}"),
    }
}

pub async fn users_are_unique_by_email_and_isolated(db: &Db) {
    let (a, b) = two_orgs(db).await;
    assert_eq!(db.users.count_users().await.unwrap(), 0);
    let ann = db
        .users
        .create_user(user(a, "ann@a.example", Role::Admin))
        .await
        .unwrap();
    db.users
        .create_user(user(a, "bob@a.example", Role::Viewer))
        .await
        .unwrap();
    db.users
        .create_user(user(b, "cid@b.example", Role::Owner))
        .await
        .unwrap();
    let again = db
        .users
        .create_user(user(b, "ann@a.example", Role::Viewer))
        .await;
    assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    assert_eq!(db.users.count_users().await.unwrap(), 3);

    let found = db
        .users
        .find_user_by_email("ann@a.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, ann);
    assert!(db.users.get_user(b, ann.id).await.unwrap().is_none());
    assert_eq!(
        db.users.get_user(a, ann.id).await.unwrap(),
        Some(ann.clone())
    );

    let page = db.users.list_users(a, None, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].email, "ann@a.example");
    let next = db
        .users
        .list_users(a, Some(&page[0].email), 10)
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].email, "bob@a.example");

    assert!(
        !db.users
            .set_user_role(b, ann.id, Role::Viewer)
            .await
            .unwrap()
    );
    assert!(
        db.users
            .set_user_role(a, ann.id, Role::Member)
            .await
            .unwrap()
    );
    let ann = db.users.get_user(a, ann.id).await.unwrap().unwrap();
    assert_eq!(ann.role, Role::Member);
}

fn session(user_id: Uuid, id_hash: &str, lifetime: Duration) -> NewSession {
    let now = now_micros();
    NewSession {
        id_hash: id_hash.to_owned(),
        user_id,
        created_at: now,
        expires_at: now + lifetime,
    }
}

pub async fn sessions_end_at_sign_out_disable_and_password_change(db: &Db) {
    let (a, b) = two_orgs(db).await;
    let ann = db
        .users
        .create_user(user(a, "ann@a.example", Role::Admin))
        .await
        .unwrap();
    let bob = db
        .users
        .create_user(user(a, "bob@a.example", Role::Member))
        .await
        .unwrap();
    for (user_id, hash) in [
        (ann.id, "s1"),
        (ann.id, "s2"),
        (bob.id, "s3"),
        (bob.id, "s4"),
    ] {
        db.sessions
            .create_session(session(user_id, hash, Duration::hours(12)))
            .await
            .unwrap();
    }
    let s1 = db.sessions.find_session("s1").await.unwrap().unwrap();
    assert_eq!(s1.user, ann);
    assert_eq!(s1.created_at, s1.last_seen_at);
    let later = now_micros() + Duration::minutes(5);
    db.sessions.touch_session("s1", later).await.unwrap();
    assert_eq!(
        db.sessions
            .find_session("s1")
            .await
            .unwrap()
            .unwrap()
            .last_seen_at,
        later
    );

    db.sessions.delete_session("s1").await.unwrap();
    assert!(db.sessions.find_session("s1").await.unwrap().is_none());
    assert!(db.sessions.find_session("s2").await.unwrap().is_some());

    // Another organization cannot change the password; the user's own can.
    assert!(!db.users.set_password(b, ann.id, "new").await.unwrap());
    assert!(db.sessions.find_session("s2").await.unwrap().is_some());
    assert!(db.users.set_password(a, ann.id, "new").await.unwrap());
    assert!(db.sessions.find_session("s2").await.unwrap().is_none());
    assert_eq!(
        db.users
            .get_user(a, ann.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new"
    );

    assert!(
        !db.users
            .disable_user(b, bob.id, now_micros())
            .await
            .unwrap()
    );
    assert!(db.sessions.find_session("s3").await.unwrap().is_some());
    let when = now_micros();
    assert!(db.users.disable_user(a, bob.id, when).await.unwrap());
    assert!(db.sessions.find_session("s3").await.unwrap().is_none());
    assert!(db.sessions.find_session("s4").await.unwrap().is_none());
    assert_eq!(
        db.users
            .get_user(a, bob.id)
            .await
            .unwrap()
            .unwrap()
            .disabled_at,
        Some(when)
    );
}

pub async fn expired_sessions_are_deleted(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let ann = db
        .users
        .create_user(user(a, "ann@a.example", Role::Admin))
        .await
        .unwrap();
    db.sessions
        .create_session(session(ann.id, "fresh", Duration::hours(12)))
        .await
        .unwrap();
    db.sessions
        .create_session(session(ann.id, "ended", Duration::seconds(-1)))
        .await
        .unwrap();
    db.sessions
        .create_session(session(ann.id, "idle", Duration::hours(12)))
        .await
        .unwrap();
    let now = now_micros();
    db.sessions
        .touch_session("idle", now - Duration::hours(2))
        .await
        .unwrap();
    let deleted = db
        .sessions
        .delete_expired_sessions(now - Duration::hours(1), now)
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    assert!(db.sessions.find_session("fresh").await.unwrap().is_some());
    assert!(db.sessions.find_session("idle").await.unwrap().is_none());
}

pub async fn the_setup_token_creates_one_first_owner(db: &Db) {
    db.users
        .replace_setup_token("old", now_micros())
        .await
        .unwrap();
    db.users
        .replace_setup_token("token", now_micros())
        .await
        .unwrap();
    // A replaced token is gone.
    assert!(
        db.users
            .create_first_owner("old", "acme", "o@acme.example", "phc")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(db.users.count_users().await.unwrap(), 0);
    let owner = db
        .users
        .create_first_owner("token", "acme", "o@acme.example", "phc")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.role, Role::Owner);
    assert_eq!(owner.org_id, db.access.ensure_org("acme").await.unwrap());
    // Single use.
    assert!(
        db.users
            .create_first_owner("token", "acme", "x@acme.example", "phc")
            .await
            .unwrap()
            .is_none()
    );
    // A token made while a user exists cannot create another owner.
    db.users
        .replace_setup_token("late", now_micros())
        .await
        .unwrap();
    assert!(
        db.users
            .create_first_owner("late", "other", "y@other.example", "phc")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(db.users.count_users().await.unwrap(), 1);
}

pub async fn targets_are_counted_at_ingest_without_duplicates(db: &Db) {
    use crate::fixture::{at, pid, project, sample, target};
    let (a, b) = two_orgs(db).await;
    db.projects
        .create_project(a, &project("bot"))
        .await
        .unwrap();
    db.projects
        .create_project(b, &project("bot"))
        .await
        .unwrap();
    let new = target("bot", "new-model", "answer-v3");
    let old = target("bot", "old-model", "answer-v3");
    let batch: Vec<_> = (0..5)
        .map(|i| sample(&format!("n{i}"), &new, at(100 + i)))
        .chain((0..3).map(|i| sample(&format!("o{i}"), &old, at(i))))
        .collect();
    assert_eq!(db.traffic.insert_samples(a, &batch).await.unwrap(), 8);
    // A repeated sample id is stored once and counted once.
    let again = vec![sample("n0", &new, at(500)), sample("n9", &new, at(50))];
    assert_eq!(db.traffic.insert_samples(a, &again).await.unwrap(), 1);
    db.traffic
        .insert_samples(b, &[sample("x", &new, at(7))])
        .await
        .unwrap();

    let targets = db
        .targets
        .list_targets(a, &pid("bot"), None, 10)
        .await
        .unwrap();
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[0].model, "new-model");
    assert_eq!(targets[0].sample_count, 6);
    assert_eq!(targets[0].first_seen, at(50));
    assert_eq!(targets[0].last_seen, at(104));
    assert_eq!(targets[1].model, "old-model");
    assert_eq!(targets[1].sample_count, 3);

    let first = db
        .targets
        .list_targets(a, &pid("bot"), None, 1)
        .await
        .unwrap();
    let next = db
        .targets
        .list_targets(
            a,
            &pid("bot"),
            Some((&first[0].model, &first[0].prompt_id)),
            10,
        )
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].model, "old-model");
    let of_b = db
        .targets
        .list_targets(b, &pid("bot"), None, 10)
        .await
        .unwrap();
    assert_eq!(of_b.len(), 1);
    assert_eq!(of_b[0].sample_count, 1);
}
