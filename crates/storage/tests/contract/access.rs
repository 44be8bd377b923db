//! Organizations, API keys, projects and rubrics.

use chrono::Duration;
use evalguard_domain::Role;
use evalguard_domain::project::{ProjectSettings, RubricDefinition};
use evalguard_storage::{NewApiKey, StorageError};

use crate::fixture::{Db, now_micros, pid, project, two_orgs};

pub async fn orgs_are_created_once_by_name(db: &Db) {
    let a = db.access.ensure_org("acme").await.unwrap();
    let again = db.access.ensure_org("acme").await.unwrap();
    let other = db.access.ensure_org("globex").await.unwrap();
    assert_eq!(a, again);
    assert_ne!(a, other);
    // Looking an organization up never creates it.
    assert_eq!(db.access.find_org("acme").await.unwrap(), Some(a));
    assert_eq!(db.access.find_org("initech").await.unwrap(), None);
    assert_eq!(db.access.find_org("initech").await.unwrap(), None);
}

fn key(org: evalguard_domain::OrgId, key_id: &str, role: Role) -> NewApiKey {
    NewApiKey {
        org_id: org,
        key_id: key_id.to_owned(),
        hash: format!("hash-of-{key_id}"),
        role,
        project: None,
        name: Some(format!("key {key_id}")),
    }
}

pub async fn api_keys_are_created_found_touched_and_revoked(db: &Db) {
    let (a, b) = two_orgs(db).await;
    let mut scoped = key(a, "aaaaaaaaaaa1", Role::Member);
    scoped.project = Some(pid("bot"));
    let created = db.access.create_api_key(scoped).await.unwrap();
    assert_eq!(created.role, Role::Member);
    assert_eq!(created.project, Some(pid("bot")));
    assert!(created.last_used_at.is_none() && created.revoked_at.is_none());
    assert!((now_micros() - created.created_at).num_seconds().abs() < 60);
    db.access
        .create_api_key(key(a, "aaaaaaaaaaa2", Role::Owner))
        .await
        .unwrap();
    db.access
        .create_api_key(key(b, "bbbbbbbbbbb1", Role::Viewer))
        .await
        .unwrap();

    let found = db
        .access
        .find_api_key("aaaaaaaaaaa1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, created);
    assert!(db.access.find_api_key("nope").await.unwrap().is_none());

    let duplicate = db
        .access
        .create_api_key(key(b, "aaaaaaaaaaa1", Role::Viewer))
        .await;
    assert!(
        matches!(duplicate, Err(StorageError::Conflict(_))),
        "{duplicate:?}"
    );

    let used = now_micros();
    db.access.touch_api_key("aaaaaaaaaaa1", used).await.unwrap();
    let found = db
        .access
        .find_api_key("aaaaaaaaaaa1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.last_used_at, Some(used));

    let listed: Vec<String> = db
        .access
        .list_api_keys(a)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(
        listed.contains(&"aaaaaaaaaaa1".to_owned()) && listed.contains(&"aaaaaaaaaaa2".to_owned())
    );
    assert_eq!(db.access.list_api_keys(b).await.unwrap().len(), 1);

    // Another organization cannot revoke the key; its own can, once.
    assert!(
        !db.access
            .revoke_api_key(b, "aaaaaaaaaaa1", used)
            .await
            .unwrap()
    );
    assert!(
        db.access
            .find_api_key("aaaaaaaaaaa1")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
    assert!(
        db.access
            .revoke_api_key(a, "aaaaaaaaaaa1", used)
            .await
            .unwrap()
    );
    assert!(!db.access.revoke_api_key(a, "missing", used).await.unwrap());
    let revoked = db
        .access
        .find_api_key("aaaaaaaaaaa1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(used));
}

pub async fn projects_are_unique_per_org_and_isolated(db: &Db) {
    let (a, b) = two_orgs(db).await;
    let bot = project("bot");
    db.projects.create_project(a, &bot).await.unwrap();
    let again = db.projects.create_project(a, &bot).await;
    assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    // The same id in another organization is another project.
    db.projects
        .create_project(b, &project("bot"))
        .await
        .unwrap();
    db.projects
        .create_project(a, &project("search"))
        .await
        .unwrap();

    assert_eq!(
        db.projects.get_project(a, &pid("bot")).await.unwrap(),
        Some(bot.clone())
    );
    assert!(
        db.projects
            .get_project(b, &pid("search"))
            .await
            .unwrap()
            .is_none()
    );
    let ids = |list: Vec<evalguard_domain::project::Project>| {
        list.into_iter()
            .map(|p| p.id.to_string())
            .collect::<Vec<_>>()
    };
    let mut of_a = ids(db.projects.list_projects(a).await.unwrap());
    of_a.sort();
    assert_eq!(of_a, ["bot", "search"]);
    assert_eq!(ids(db.projects.list_projects(b).await.unwrap()), ["bot"]);

    let settings = ProjectSettings {
        scorers: Some(vec!["refusal".to_owned()]),
        thresholds: evalguard_domain::job::Thresholds {
            alpha: Some(0.01),
            ..Default::default()
        },
    };
    assert!(
        db.projects
            .update_project_settings(a, &pid("bot"), &settings)
            .await
            .unwrap()
    );
    assert!(
        !db.projects
            .update_project_settings(a, &pid("missing"), &settings)
            .await
            .unwrap()
    );
    assert_eq!(
        db.projects
            .get_project(a, &pid("bot"))
            .await
            .unwrap()
            .unwrap()
            .settings,
        settings
    );
    assert_eq!(
        db.projects
            .get_project(b, &pid("bot"))
            .await
            .unwrap()
            .unwrap()
            .settings,
        ProjectSettings::default()
    );
}

fn rubric(name: &str, criteria: &str) -> RubricDefinition {
    RubricDefinition {
        name: name.to_owned(),
        criteria: criteria.to_owned(),
        score_min: 1.0,
        score_max: 5.0,
        pass_threshold: 3.5,
        created_at: now_micros() - Duration::seconds(5),
    }
}

pub async fn rubrics_are_upserted_listed_and_deleted(db: &Db) {
    let (a, b) = two_orgs(db).await;
    db.projects
        .create_project(a, &project("bot"))
        .await
        .unwrap();
    db.projects
        .create_project(b, &project("bot"))
        .await
        .unwrap();
    db.projects
        .put_rubric(a, &pid("bot"), &rubric("tone", "polite"))
        .await
        .unwrap();
    db.projects
        .put_rubric(a, &pid("bot"), &rubric("accuracy", "correct"))
        .await
        .unwrap();
    let replaced = rubric("tone", "polite and brief");
    db.projects
        .put_rubric(a, &pid("bot"), &replaced)
        .await
        .unwrap();

    let listed = db.projects.list_rubrics(a, &pid("bot")).await.unwrap();
    let names: Vec<&str> = listed.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["accuracy", "tone"]);
    assert_eq!(listed[1], replaced);
    assert!(
        db.projects
            .list_rubrics(b, &pid("bot"))
            .await
            .unwrap()
            .is_empty()
    );

    assert!(
        !db.projects
            .delete_rubric(b, &pid("bot"), "tone")
            .await
            .unwrap()
    );
    assert!(
        db.projects
            .delete_rubric(a, &pid("bot"), "tone")
            .await
            .unwrap()
    );
    assert!(
        !db.projects
            .delete_rubric(a, &pid("bot"), "tone")
            .await
            .unwrap()
    );
    assert_eq!(
        db.projects
            .list_rubrics(a, &pid("bot"))
            .await
            .unwrap()
            .len(),
        1
    );
}
