//! The EvalGuard binary's library: configuration and the [`Application`] that
//! wires storage, scorers, workers and the HTTP API together. `main.rs` only
//! parses the command line; tests build an `Application` on port 0.

pub mod cli;
pub mod config;
pub mod gate;
pub mod keys;
pub mod logging;
mod serve;
pub mod stored_verdicts;
pub mod users;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use evalguard_api::{ApiLimits, ApiState, WebhookPolicy};
use evalguard_domain::scoring::ScorerCatalog;
use evalguard_storage::Storage;
use evalguard_worker::{ConfiguredEmbedder, WebhookConfig, WorkerConfig};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::Config;

/// Installs the process-wide TLS provider (reqwest is built without one).
pub fn install_tls_provider() {
    // Err only means a provider is installed already, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A running EvalGuard process: HTTP API (unless `serve_http` is off) and
/// in-process job and webhook workers.
pub struct Application {
    listener: Option<TcpListener>,
    connection_limits: serve::ConnectionLimits,
    local_addr: Option<SocketAddr>,
    storage: Storage,
    state: Option<ApiState>,
    shutdown: CancellationToken,
    workers: Vec<JoinHandle<()>>,
    setup_url: Option<String>,
}

impl Application {
    /// Connects to the database (applying migrations), binds the listener and
    /// starts the workers. Serving starts with [`Application::run_until_stopped`].
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        install_tls_provider();
        // The recorder first: descriptions given before it exists are lost.
        let _ = evalguard_api::prometheus_handle();
        evalguard_worker::metrics_names::describe();
        evalguard_judge::judge_metrics::describe();
        let storage = Storage::connect(&config.database_url)
            .await
            .with_context(|| "opening the database")?;
        let catalog = build_catalog(&config, &storage)?;
        let shutdown = CancellationToken::new();
        let wakeup = Arc::new(Notify::new());

        let mut workers = Vec::new();
        if config.workers > 0 {
            let embedder = match &config.embeddings {
                None => None,
                Some(embeddings) => Some(ConfiguredEmbedder(Arc::new(
                    evalguard_judge::OpenAiEmbedder::new(embeddings.clone())
                        .context("configuring the embeddings provider")?,
                ))),
            };
            let worker_config = WorkerConfig {
                concurrency: config.workers,
                embedder,
                ..WorkerConfig::default()
            };
            workers.push(evalguard_worker::spawn_job_workers(
                storage.clone(),
                catalog.clone(),
                worker_config,
                wakeup.clone(),
                shutdown.clone(),
            ));
            let webhook_config = WebhookConfig {
                allow_private: config.allow_private_webhooks,
                ..WebhookConfig::default()
            };
            workers.push(evalguard_worker::spawn_webhook_deliverer(
                storage.clone(),
                webhook_config,
                shutdown.clone(),
            ));
            workers.push(evalguard_worker::spawn_retention_sweeper(
                storage.clone(),
                config.retention.clone(),
                shutdown.clone(),
            ));
        }

        let (listener, local_addr, state) = if config.serve_http {
            let listener = TcpListener::bind(&config.addr)
                .await
                .with_context(|| format!("binding {}", config.addr))?;
            let local_addr = listener.local_addr()?;
            let state = ApiState {
                storage: storage.clone(),
                catalog,
                limits: ApiLimits {
                    traffic_body_bytes: config.traffic_body_bytes,
                    body_bytes: config.body_bytes,
                    rate_limit_per_minute: config.rate_limit_per_minute,
                    ingest_rate_limit_per_minute: config.ingest_rate_limit_per_minute,
                    failed_auth_per_minute: config.failed_auth_per_minute,
                    key_cache_ttl: config.key_cache_ttl,
                    request_timeout: config.request_timeout,
                    body_read_timeout: config.body_read_timeout,
                },
                job_wakeup: wakeup,
                webhook_policy: WebhookPolicy {
                    allow_private: config.allow_private_webhooks,
                },
                dashboard: config.dashboard,
            };
            (Some(listener), Some(local_addr), Some(state))
        } else {
            (None, None, None)
        };

        let connection_limits = serve::ConnectionLimits {
            header_timeout: config.header_timeout,
            drain_timeout: config.request_timeout,
        };
        let setup_url = match local_addr {
            Some(addr) => users::first_run_setup_url(&storage, addr).await?,
            None => None,
        };

        Ok(Self {
            setup_url,
            listener,
            connection_limits,
            local_addr,
            storage,
            state,
            shutdown,
            workers,
        })
    }

    /// The bound address (`None` for a workers-only process).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// While no one can sign in: the single-use link that creates the first
    /// owner (a fresh token each start).
    pub fn setup_url(&self) -> Option<&str> {
        self.setup_url.as_deref()
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Cancel it to stop: the server stops accepting, workers finish or
    /// release their jobs, and `run_until_stopped` returns.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let shutdown = self.shutdown.clone();
        if let (Some(listener), Some(state)) = (self.listener, self.state) {
            let router = evalguard_api::router(state);
            serve::serve(listener, router, self.connection_limits, shutdown.clone()).await;
        } else {
            shutdown.cancelled().await;
        }
        for worker in self.workers {
            // A worker task that panicked has already lost nothing durable:
            // its leases expire and another worker resumes the jobs.
            let _ = worker.await;
        }
        Ok(())
    }
}

/// Deterministic scorers plus the LLM judges of the configured providers.
fn build_catalog(config: &Config, storage: &Storage) -> anyhow::Result<Arc<dyn ScorerCatalog>> {
    let catalog = evalguard_judge::JudgeCatalog::with_deterministic_scorers(
        &config.judge,
        Some(Arc::new(stored_verdicts::StoredVerdicts(
            storage.judge_cache.clone(),
        ))),
    )
    .context("configuring the judge providers")?;
    Ok(Arc::new(catalog))
}
