//! Webhook delivery from the durable queue: signed as the Standard Webhooks
//! specification says, retried for about a day by EvalGuard's one backoff
//! policy (`BackoffPolicy::WEBHOOKS`; each next attempt's time is stored with
//! the delivery, so a restart loses no retry), and never sent to private
//! addresses unless the configuration allows it.

mod signature;
mod target;

use std::time::Duration;

use chrono::Utc;
use evalguard_domain::BackoffPolicy;
use evalguard_storage::{DeliveryAttempt, Storage, WebhookDelivery, WebhookEndpoint};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

pub use crate::events::{EVENT_COMPLETED, EVENT_FLAGGED, event_payload};
use crate::metrics_names::{WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES};
pub use evalguard_domain::webhook_target::WebhookTargetError;
pub use signature::sign;
pub use target::{CheckedTarget, check_target};

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Deliver to private, loopback and link-local addresses too (tests, closed networks).
    pub allow_private: bool,
    /// Time limit of one delivery attempt.
    pub timeout: Duration,
    /// The wait after each failed attempt (`BackoffPolicy::WEBHOOKS` unless
    /// set); once its retries are used up the delivery is `failed`.
    pub retry: BackoffPolicy,
    /// How often an idle deliverer looks for due deliveries.
    pub poll_interval: Duration,
    /// Deliveries in flight at once.
    pub concurrency: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout: Duration::from_secs(10),
            retry: BackoffPolicy::WEBHOOKS,
            poll_interval: Duration::from_secs(1),
            concurrency: 4,
        }
    }
}

/// Starts the delivery loops; the handle completes after `shutdown` once
/// they have stopped (an attempt cut short is retried after its claim lapses).
pub fn spawn_webhook_deliverer(
    storage: Storage,
    config: WebhookConfig,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut set = JoinSet::new();
        for _ in 0..config.concurrency.max(1) {
            set.spawn(delivery_loop(
                storage.clone(),
                config.clone(),
                shutdown.clone(),
            ));
        }
        while let Some(joined) = set.join_next().await {
            if let Err(error) = joined {
                tracing::error!(%error, "a webhook delivery loop ended abnormally");
            }
        }
    })
}

async fn delivery_loop(storage: Storage, config: WebhookConfig, shutdown: CancellationToken) {
    // Longer than any attempt, so a claimed delivery is not taken twice.
    let claim_lease = config.timeout + Duration::from_secs(30);
    while !shutdown.is_cancelled() {
        match storage
            .webhooks
            .claim_delivery(Utc::now(), claim_lease)
            .await
        {
            Ok(Some((delivery, endpoint))) => {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = deliver(&storage, &config, &delivery, &endpoint) => {}
                }
            }
            Ok(None) => {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(config.poll_interval) => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not claim a webhook delivery");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(config.poll_interval.max(Duration::from_secs(1))) => {}
                }
            }
        }
    }
}

/// What one attempt led to.
enum Attempted {
    Delivered(u16),
    /// Worth trying again later.
    Failed {
        status: Option<u16>,
        error: String,
    },
    /// Never worth trying again.
    Refused(String),
}

/// Makes one attempt and records it.
pub async fn deliver(
    storage: &Storage,
    config: &WebhookConfig,
    delivery: &WebhookDelivery,
    endpoint: &WebhookEndpoint,
) {
    // reqwest is built without a default TLS crypto provider; the first
    // delivery installs ring's (a no-op once one is installed).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let attempted = attempt(config, delivery, endpoint).await;
    let attempt_no = delivery.attempts.saturating_add(1);
    let retry_at = |_: ()| {
        config
            .retry
            .delay_after(attempt_no)
            .and_then(|wait| chrono::Duration::from_std(wait).ok())
            .map(|wait| Utc::now() + wait)
    };
    let record = match attempted {
        Attempted::Delivered(code) => DeliveryAttempt {
            status_code: Some(code),
            error: None,
            retry_at: None,
            delivered: true,
        },
        Attempted::Failed { status, error } => DeliveryAttempt {
            status_code: status,
            error: Some(error),
            retry_at: retry_at(()),
            delivered: false,
        },
        Attempted::Refused(error) => DeliveryAttempt {
            status_code: None,
            error: Some(error),
            retry_at: None,
            delivered: false,
        },
    };
    let outcome = if record.delivered {
        "delivered"
    } else if record.retry_at.is_some() {
        "retry"
    } else {
        "failed"
    };
    metrics::counter!(WEBHOOK_ATTEMPTS, "outcome" => outcome).increment(1);
    if outcome != "retry" {
        metrics::counter!(WEBHOOK_DELIVERIES, "outcome" => outcome).increment(1);
    }
    tracing::info!(delivery = %delivery.id, endpoint = %endpoint.id, attempt = attempt_no, outcome,
        error = record.error.as_deref().unwrap_or(""), "webhook attempt");
    if let Err(error) = storage.webhooks.record_attempt(delivery.id, &record).await {
        // The claim lapses and the attempt is made again: at-least-once delivery.
        tracing::warn!(delivery = %delivery.id, %error, "could not record a webhook attempt");
    }
}

async fn attempt(
    config: &WebhookConfig,
    delivery: &WebhookDelivery,
    endpoint: &WebhookEndpoint,
) -> Attempted {
    let target = match check_target(&endpoint.url, config.allow_private).await {
        Ok(target) => target,
        Err(error) if error.is_transient() => {
            return Attempted::Failed {
                status: None,
                error: error.to_string(),
            };
        }
        Err(error) => return Attempted::Refused(error.to_string()),
    };
    let body = match serde_json::to_vec(&delivery.payload) {
        Ok(body) => body,
        Err(error) => return Attempted::Refused(format!("the payload does not encode: {error}")),
    };
    // Pinned to the checked addresses, and never through a proxy (a proxy
    // would resolve the name again, itself). Redirects are not followed,
    // since one could lead to an address that was never checked.
    let client = match reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.timeout)
        .resolve_to_addrs(&target.host, &target.addrs)
        .user_agent(concat!("EvalGuard-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            return Attempted::Failed {
                status: None,
                error: format!("cannot build an HTTP client: {error}"),
            };
        }
    };
    let id = delivery.id.to_string();
    let timestamp = Utc::now().timestamp();
    let signature = sign(&endpoint.secret, &id, timestamp, &body);
    let sent = client
        .post(target.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => {
            Attempted::Delivered(response.status().as_u16())
        }
        Ok(response) => Attempted::Failed {
            status: Some(response.status().as_u16()),
            error: format!("the endpoint answered {}", response.status()),
        },
        Err(error) => Attempted::Failed {
            status: None,
            error: format!("request failed: {error}"),
        },
    }
}
