//! Webhook endpoints and the delivery queue.

use std::time::Duration;

use chrono::Utc;
use evalguard_domain::OrgId;
use evalguard_domain::job::JobStatus;
use evalguard_storage::{DeliveryAttempt, JobEvent, WebhookEndpoint};
use serde_json::json;
use uuid::Uuid;

use crate::fixture::{Db, new_job, now_micros, pid, project, target, two_orgs};
use crate::leases::completion;

pub fn endpoint(org: OrgId, project: &str, events: &[&str]) -> WebhookEndpoint {
    WebhookEndpoint {
        id: Uuid::now_v7(),
        org_id: org,
        project_id: pid(project),
        url: format!("http://127.0.0.1:9/{}", Uuid::new_v4().simple()),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        secret: "whsec_test".to_owned(),
        created_at: now_micros(),
    }
}

async fn setup(db: &Db) -> (OrgId, OrgId) {
    let (a, b) = two_orgs(db).await;
    db.projects
        .create_project(a, &project("bot"))
        .await
        .unwrap();
    db.projects
        .create_project(b, &project("bot"))
        .await
        .unwrap();
    (a, b)
}

pub async fn events_fan_out_to_subscribed_endpoints(db: &Db) {
    let (a, b) = setup(db).await;
    let both = endpoint(a, "bot", &["job.completed", "flag.raised"]);
    let flags_only = endpoint(a, "bot", &["flag.raised"]);
    let completed_only = endpoint(a, "bot", &["job.completed"]);
    let other_org = endpoint(b, "bot", &["flag.raised"]);
    for e in [&both, &flags_only, &completed_only, &other_org] {
        db.webhooks.create_endpoint(e).await.unwrap();
    }
    let listed = db.webhooks.list_endpoints(a, &pid("bot")).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.contains(&both) && listed.contains(&flags_only));
    assert_eq!(
        listed.iter().find(|e| e.id == both.id).unwrap().secret,
        "whsec_test"
    );

    let payload = json!({"type": "flag.raised", "data": {"job_id": "x"}});
    assert_eq!(
        db.webhooks
            .enqueue_event(a, &pid("bot"), "flag.raised", &payload)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        db.webhooks
            .enqueue_event(a, &pid("bot"), "unknown.event", &payload)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        db.webhooks
            .enqueue_event(a, &pid("elsewhere"), "flag.raised", &payload)
            .await
            .unwrap(),
        0
    );

    let queued = db.webhooks.list_deliveries(a, both.id, 10).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].status, "pending");
    assert_eq!(queued[0].attempts, 0);
    assert_eq!(queued[0].payload, payload);
    assert_eq!(queued[0].event_type, "flag.raised");
    assert!(
        db.webhooks
            .list_deliveries(a, completed_only.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.webhooks
            .list_deliveries(a, other_org.id, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Deleting an endpoint drops its queued deliveries with it.
    assert!(db.webhooks.delete_endpoint(a, flags_only.id).await.unwrap());
    assert!(!db.webhooks.delete_endpoint(a, flags_only.id).await.unwrap());
    let claimed = db
        .webhooks
        .claim_delivery(Utc::now(), Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.1.id, both.id);
    assert!(
        db.webhooks
            .claim_delivery(Utc::now(), Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn deliveries_are_leased_and_retried(db: &Db) {
    let (a, _) = setup(db).await;
    let target = endpoint(a, "bot", &["job.completed"]);
    db.webhooks.create_endpoint(&target).await.unwrap();
    assert!(
        db.webhooks
            .claim_delivery(Utc::now(), Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    db.webhooks
        .enqueue_event(a, &pid("bot"), "job.completed", &json!({"n": 1}))
        .await
        .unwrap();

    let (delivery, with) = db
        .webhooks
        .claim_delivery(Utc::now(), Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(with, target);
    // Claimed: hidden from other deliverers until the lease runs out.
    assert!(
        db.webhooks
            .claim_delivery(Utc::now(), Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    let later = Utc::now() + chrono::Duration::seconds(120);
    let (reclaimed, _) = db
        .webhooks
        .claim_delivery(later, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        reclaimed.id, delivery.id,
        "a crashed deliverer's claim expires"
    );

    // A failed attempt with a retry time: pending again, due at that time.
    let retry_at = now_micros() - chrono::Duration::seconds(1);
    let failed_once = DeliveryAttempt {
        status_code: Some(503),
        error: Some("unavailable".to_owned()),
        retry_at: Some(retry_at),
        delivered: false,
    };
    db.webhooks
        .record_attempt(delivery.id, &failed_once)
        .await
        .unwrap();
    let state = &db.webhooks.list_deliveries(a, target.id, 10).await.unwrap()[0];
    assert_eq!((state.status.as_str(), state.attempts), ("pending", 1));
    assert_eq!(state.last_status_code, Some(503));
    assert_eq!(state.last_error.as_deref(), Some("unavailable"));
    assert_eq!(state.next_attempt_at, Some(retry_at));

    let (again, _) = db
        .webhooks
        .claim_delivery(Utc::now(), Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, delivery.id);
    let ok = DeliveryAttempt {
        status_code: Some(200),
        error: None,
        retry_at: None,
        delivered: true,
    };
    db.webhooks.record_attempt(delivery.id, &ok).await.unwrap();
    let state = &db.webhooks.list_deliveries(a, target.id, 10).await.unwrap()[0];
    assert_eq!((state.status.as_str(), state.attempts), ("delivered", 2));
    assert!(state.delivered_at.is_some());
    assert!(
        db.webhooks
            .claim_delivery(later, Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );

    // Giving up: no retry time and not delivered.
    db.webhooks
        .enqueue_event(a, &pid("bot"), "job.completed", &json!({"n": 2}))
        .await
        .unwrap();
    let (second, _) = db
        .webhooks
        .claim_delivery(Utc::now(), Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let give_up = DeliveryAttempt {
        status_code: None,
        error: Some("connection refused".to_owned()),
        retry_at: None,
        delivered: false,
    };
    db.webhooks
        .record_attempt(second.id, &give_up)
        .await
        .unwrap();
    let listed = db.webhooks.list_deliveries(a, target.id, 10).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].id, second.id, "newest first");
    assert_eq!(listed[0].status, "failed");
    assert!(listed[0].delivered_at.is_none());
    assert_eq!(
        db.webhooks
            .list_deliveries(a, target.id, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        db.webhooks
            .claim_delivery(later, Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn endpoints_are_isolated_between_orgs(db: &Db) {
    let (a, b) = setup(db).await;
    let mine = endpoint(a, "bot", &["job.completed"]);
    db.webhooks.create_endpoint(&mine).await.unwrap();
    assert!(
        db.webhooks
            .list_endpoints(b, &pid("bot"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!db.webhooks.delete_endpoint(b, mine.id).await.unwrap());
    db.webhooks
        .enqueue_event(a, &pid("bot"), "job.completed", &json!({}))
        .await
        .unwrap();
    assert!(
        db.webhooks
            .list_deliveries(b, mine.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.webhooks
            .enqueue_event(b, &pid("bot"), "job.completed", &json!({}))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        db.webhooks.list_endpoints(a, &pid("bot")).await.unwrap(),
        vec![mine]
    );
}

/// A finishing job's events are queued with its final state, and only by the
/// lease holder's successful finish: a refused finish queues nothing.
pub async fn finishing_a_job_queues_its_events(db: &Db) {
    let (a, _) = setup(db).await;
    let hook = endpoint(a, "bot", &["auto_eval.completed", "auto_eval.flagged"]);
    db.webhooks.create_endpoint(&hook).await.unwrap();
    let (job, _) = db
        .jobs
        .enqueue(new_job(a, &target("bot", "m", "p"), None))
        .await
        .unwrap();
    db.jobs
        .claim_job("w1", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let mut done = completion(JobStatus::Succeeded);
    done.events = vec![
        JobEvent {
            event_type: "auto_eval.completed".to_owned(),
            payload: json!({"type": "auto_eval.completed", "data": {"n": 1}}),
        },
        JobEvent {
            event_type: "auto_eval.flagged".to_owned(),
            payload: json!({"type": "auto_eval.flagged", "data": {"n": 2}}),
        },
        JobEvent {
            event_type: "nobody.listens".to_owned(),
            payload: json!({}),
        },
    ];
    assert!(!db.jobs.finish_job(job.id, "intruder", &done).await.unwrap());
    assert!(
        db.webhooks
            .list_deliveries(a, hook.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(db.jobs.finish_job(job.id, "w1", &done).await.unwrap());
    let mut queued = db.webhooks.list_deliveries(a, hook.id, 10).await.unwrap();
    queued.sort_by(|x, y| x.event_type.cmp(&y.event_type));
    let types: Vec<&str> = queued.iter().map(|d| d.event_type.as_str()).collect();
    assert_eq!(types, ["auto_eval.completed", "auto_eval.flagged"]);
    assert_eq!(queued[1].payload, done.events[1].payload);
    // A second finish is refused and queues nothing more.
    assert!(!db.jobs.finish_job(job.id, "w1", &done).await.unwrap());
    assert_eq!(
        db.webhooks
            .list_deliveries(a, hook.id, 10)
            .await
            .unwrap()
            .len(),
        2
    );
}
