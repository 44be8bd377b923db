#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Webhook delivery to a real local HTTP server.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use common::*;
use evalguard_domain::{BackoffPolicy, JobStatus};
use evalguard_storage::WebhookEndpoint;
use evalguard_worker::webhook::{WebhookConfig, deliver, event_payload, sign};
use evalguard_worker::{JobRunner, spawn_webhook_deliverer};
use tokio_util::sync::CancellationToken;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Clone, Default)]
struct Receiver {
    /// Status to answer, one per request; 200 once they run out.
    script: Arc<Mutex<Vec<u16>>>,
    received: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
}

async fn receive(
    State(rx): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
    let (id, ts, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let ts: i64 = ts.parse().unwrap();
    if sign(SECRET, &id, ts, &body) != signature || (Utc::now().timestamp() - ts).abs() > 60 {
        return StatusCode::UNAUTHORIZED;
    }
    rx.received
        .lock()
        .unwrap()
        .push((id, serde_json::from_slice(&body).unwrap()));
    let mut script = rx.script.lock().unwrap();
    let code = if script.is_empty() {
        200
    } else {
        script.remove(0)
    };
    StatusCode::from_u16(code).unwrap()
}

async fn serve(rx: Receiver) -> String {
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(rx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

async fn endpoint(fx: &Fixture, url: &str, events: &[&str]) -> WebhookEndpoint {
    let endpoint = WebhookEndpoint {
        id: uuid::Uuid::now_v7(),
        org_id: fx.org,
        project_id: fx.project.clone(),
        url: url.to_owned(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        secret: SECRET.to_owned(),
        created_at: Utc::now(),
    };
    fx.storage
        .webhooks
        .create_endpoint(&endpoint)
        .await
        .unwrap();
    endpoint
}

/// An endpoint at a local receiver, subscribed to `event`, with one such
/// event queued for it.
async fn endpoint_with_queued_event(fx: &Fixture, rx: &Receiver, event: &str) -> WebhookEndpoint {
    let url = serve(rx.clone()).await;
    let ep = endpoint(fx, &url, &[event]).await;
    let payload = event_payload(event, serde_json::json!({"job_id": "x"}));
    fx.storage
        .webhooks
        .enqueue_event(fx.org, &fx.project, event, &payload)
        .await
        .unwrap();
    ep
}

fn fast(allow_private: bool) -> WebhookConfig {
    WebhookConfig {
        allow_private,
        timeout: Duration::from_secs(5),
        // The webhook policy's shape with waits short enough for a test.
        retry: BackoffPolicy {
            first_delay: Duration::from_millis(100),
            factor: 1.0,
            max_delay: Duration::from_millis(100),
            max_retries: Some(2),
            jitter: false,
        },
        poll_interval: Duration::from_millis(20),
        concurrency: 1,
    }
}

#[tokio::test]
async fn a_finished_job_is_delivered_signed_and_retried_after_a_500() {
    let fx = fixture().await;
    fx.traffic("m1", 5, 0).await;
    let rx = Receiver::default();
    rx.script.lock().unwrap().push(500);
    let url = serve(rx.clone()).await;
    let ep = endpoint(&fx, &url, &["auto_eval.completed"]).await;

    let id = fx.enqueue(fx.request("m1", 5)).await;
    let runner = JobRunner::new(fx.storage.clone(), catalog(vec![]), config("w1"));
    let claimed = fx
        .storage
        .jobs
        .claim_job("w1", runner.config().lease)
        .await
        .unwrap()
        .unwrap();
    runner.run(claimed, CancellationToken::new()).await;
    assert_eq!(fx.job(id).await.status, JobStatus::Succeeded);

    let shutdown = CancellationToken::new();
    let handle = spawn_webhook_deliverer(fx.storage.clone(), fast(true), shutdown.clone());
    let storage = fx.storage.clone();
    let org = fx.org;
    eventually(Duration::from_secs(10), || {
        let storage = storage.clone();
        async move {
            storage
                .webhooks
                .list_deliveries(org, ep.id, 10)
                .await
                .unwrap()[0]
                .status
                == "delivered"
        }
    })
    .await;
    shutdown.cancel();
    handle.await.unwrap();

    let deliveries = fx
        .storage
        .webhooks
        .list_deliveries(fx.org, ep.id, 10)
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 1, "no flags: no auto_eval.flagged event");
    assert_eq!(deliveries[0].attempts, 2);
    assert_eq!(deliveries[0].last_status_code, Some(200));
    let stored =
        serde_json::to_value(fx.storage.jobs.get_job(fx.org, id).await.unwrap().unwrap()).unwrap();
    let received = rx.received.lock().unwrap();
    assert_eq!(received.len(), 2);
    // Both attempts carry the same webhook-id, so the receiver can deduplicate.
    assert_eq!(received[0].0, deliveries[0].id.to_string());
    assert_eq!(received[1].0, received[0].0);
    let body = &received[1].1;
    assert_eq!(body["type"], "auto_eval.completed");
    assert!(body["timestamp"].is_string());
    assert_eq!(body["data"]["job_id"], id.to_string());
    assert_eq!(body["data"]["status"], "succeeded");
    // The event carries the job exactly as the API shows it once finished.
    assert_eq!(body["data"], stored);
}

#[tokio::test]
async fn a_private_target_is_refused_unless_allowed() {
    let fx = fixture().await;
    let rx = Receiver::default();
    let ep = endpoint_with_queued_event(&fx, &rx, "auto_eval.completed").await;
    let shutdown = CancellationToken::new();
    let handle = spawn_webhook_deliverer(fx.storage.clone(), fast(false), shutdown.clone());
    let storage = fx.storage.clone();
    let org = fx.org;
    eventually(Duration::from_secs(5), || {
        let storage = storage.clone();
        async move {
            storage
                .webhooks
                .list_deliveries(org, ep.id, 10)
                .await
                .unwrap()[0]
                .status
                == "failed"
        }
    })
    .await;
    shutdown.cancel();
    handle.await.unwrap();
    let delivery = &fx
        .storage
        .webhooks
        .list_deliveries(fx.org, ep.id, 10)
        .await
        .unwrap()[0];
    assert_eq!(delivery.attempts, 1, "a refusal is not retried");
    assert!(
        delivery.last_error.as_deref().unwrap().contains("refused"),
        "{delivery:?}"
    );
    assert!(rx.received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_failing_endpoint_is_given_up_after_the_schedule() {
    let fx = fixture().await;
    let rx = Receiver::default();
    rx.script.lock().unwrap().extend([503, 503, 503, 503]);
    let ep = endpoint_with_queued_event(&fx, &rx, "auto_eval.flagged").await;
    let shutdown = CancellationToken::new();
    let handle = spawn_webhook_deliverer(fx.storage.clone(), fast(true), shutdown.clone());
    let storage = fx.storage.clone();
    let org = fx.org;
    eventually(Duration::from_secs(5), || {
        let storage = storage.clone();
        async move {
            storage
                .webhooks
                .list_deliveries(org, ep.id, 10)
                .await
                .unwrap()[0]
                .status
                == "failed"
        }
    })
    .await;
    shutdown.cancel();
    handle.await.unwrap();
    let delivery = &fx
        .storage
        .webhooks
        .list_deliveries(fx.org, ep.id, 10)
        .await
        .unwrap()[0];
    // Two retries in the schedule: three attempts in all.
    assert_eq!(delivery.attempts, 3);
    assert_eq!(delivery.last_status_code, Some(503));
    assert_eq!(rx.received.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_failed_attempt_stores_the_next_one_at_the_webhook_policys_wait() {
    let fx = fixture().await;
    let rx = Receiver::default();
    rx.script.lock().unwrap().push(503);
    let ep = endpoint_with_queued_event(&fx, &rx, "auto_eval.flagged").await;
    // The production schedule, not a test one.
    let config = WebhookConfig {
        allow_private: true,
        ..WebhookConfig::default()
    };
    let (delivery, claimed_endpoint) = fx
        .storage
        .webhooks
        .claim_delivery(Utc::now(), Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let before = Utc::now();
    deliver(&fx.storage, &config, &delivery, &claimed_endpoint).await;
    let after = Utc::now();

    let stored = &fx
        .storage
        .webhooks
        .list_deliveries(fx.org, ep.id, 10)
        .await
        .unwrap()[0];
    assert_eq!(stored.status, "pending");
    assert_eq!(stored.attempts, 1);
    assert_eq!(stored.last_status_code, Some(503));
    // BackoffPolicy::WEBHOOKS: 5 s after the first failure, plus up to as much again.
    let first = BackoffPolicy::WEBHOOKS.first_delay;
    let next = stored.next_attempt_at.unwrap();
    // A second of slack either side for the stored timestamp's precision.
    let slack = chrono::Duration::seconds(1);
    let earliest = before + chrono::Duration::from_std(first).unwrap() - slack;
    let latest = after + chrono::Duration::from_std(first * 2).unwrap() + slack;
    assert!(
        next >= earliest && next <= latest,
        "{next} not in {earliest}..{latest}"
    );
    // Not due yet: the queue holds it until its time.
    assert!(
        fx.storage
            .webhooks
            .claim_delivery(after, Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
}
