//! Fresh databases and data builders shared by the contract cases.

use chrono::{DateTime, Duration, TimeZone, Utc};
use evalguard_domain::job::AutoEvalRequest;
use evalguard_domain::project::{Project, ProjectSettings};
use evalguard_domain::{JobId, OrgId, ProjectId, Target, TrafficSample};
use evalguard_storage::testing::{fresh_postgres, try_fresh_sqlite};
use evalguard_storage::{Backend, NewJob, Storage};
use sqlx::Connection;

pub struct Db {
    pub storage: Storage,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl std::ops::Deref for Db {
    type Target = Storage;
    fn deref(&self) -> &Storage {
        &self.storage
    }
}

pub async fn sqlite() -> Db {
    let (storage, dir) = try_fresh_sqlite().await.unwrap();
    let url = evalguard_storage::testing::sqlite_url(&dir);
    Db {
        storage,
        url,
        _dir: Some(dir),
    }
}

pub async fn postgres() -> Option<Db> {
    let url = fresh_postgres().await?;
    let storage = Storage::connect(&url).await.unwrap();
    Some(Db {
        storage,
        url,
        _dir: None,
    })
}

impl Db {
    /// Every running job's lease ends now, as if its worker stopped.
    pub async fn expire_leases(&self) {
        evalguard_storage::testing::expire_running_leases(&self.url)
            .await
            .unwrap();
    }

    /// Makes every insert of a traffic sample with id `poison` fail, to prove
    /// a batch is all or nothing. Uses a side connection: no store exposes this.
    pub async fn poison_sample_inserts(&self) {
        match self.storage.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(
                    "CREATE TRIGGER reject_poison BEFORE INSERT ON traffic
                     WHEN NEW.sample_id = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned sample'); END;",
                )
                .execute(&mut conn)
                .await
                .unwrap();
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(
                    "CREATE FUNCTION reject_poison() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN IF NEW.sample_id = 'poison' THEN RAISE EXCEPTION 'poisoned sample'; END IF; RETURN NEW; END $$;
                     CREATE TRIGGER reject_poison BEFORE INSERT ON traffic_samples
                     FOR EACH ROW EXECUTE FUNCTION reject_poison();",
                )
                .execute(&mut conn)
                .await
                .unwrap();
            }
        }
    }
}

pub fn pid(raw: &str) -> ProjectId {
    ProjectId::parse(raw).unwrap()
}

/// A fixed instant plus `secs` seconds (microsecond precision, as stored).
pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::seconds(secs)
}

pub fn now_micros() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap()
}

pub fn project(id: &str) -> Project {
    Project {
        id: pid(id),
        name: format!("Project {id}"),
        created_at: now_micros(),
        settings: ProjectSettings::default(),
    }
}

pub fn target(project: &str, model: &str, prompt: &str) -> Target {
    Target {
        model: model.to_owned(),
        prompt_id: prompt.to_owned(),
        project_id: pid(project),
    }
}

pub fn sample(id: &str, target: &Target, ts: DateTime<Utc>) -> TrafficSample {
    TrafficSample {
        id: id.to_owned(),
        project_id: target.project_id.clone(),
        model: target.model.clone(),
        prompt_id: target.prompt_id.clone(),
        input: format!("question {id}"),
        output: format!("answer {id}"),
        context: vec![],
        reference: None,
        timestamp: ts,
        metadata: None,
        latency_ms: None,
        prompt_tokens: None,
        completion_tokens: None,
    }
}

pub fn request(target: &Target) -> AutoEvalRequest {
    AutoEvalRequest {
        target: target.clone(),
        sample_count: 50,
        scorers: Some(vec!["empty_output".to_owned()]),
        baseline: None,
        max_cost_usd: Some(1.5),
        cache: true,
        repeats: 1,
        thresholds: None,
    }
}

pub fn new_job(org: OrgId, target: &Target, idempotency_key: Option<&str>) -> NewJob {
    NewJob {
        id: JobId::new(),
        org_id: org,
        request: request(target),
        idempotency_key: idempotency_key.map(str::to_owned),
        created_at: now_micros(),
    }
}

/// Two organizations with distinct names.
pub async fn two_orgs(db: &Db) -> (OrgId, OrgId) {
    let a = db.access.ensure_org("org-a").await.unwrap();
    let b = db.access.ensure_org("org-b").await.unwrap();
    (a, b)
}
