//! The retention sweeper: deletes traffic, per-sample results, cached
//! verdicts and finished webhook deliveries older than configured, and
//! remembered ingest `Idempotency-Key`s after a day, in small
//! batches (each its own short transaction, so SQLite's single writer is
//! free between them for ingest and jobs).

use std::time::Duration;

use chrono::{DateTime, Utc};
use evalguard_storage::{RetentionArea, Storage, StorageError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long an ingest `Idempotency-Key` is remembered by default: a day, as
/// the SDKs retry within minutes (the window Stripe's API keeps too).
pub const INGEST_KEY_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// How long each kind of data is kept; `None` keeps it forever.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionConfig {
    /// Traffic samples, by their timestamp.
    pub traffic: Option<Duration>,
    /// Per-sample results, by their job's finish time (jobs themselves stay).
    pub results: Option<Duration>,
    /// Cached judge verdicts, by when they were stored.
    pub verdict_cache: Option<Duration>,
    /// Delivered or abandoned webhook deliveries, by when they were queued.
    pub webhook_deliveries: Option<Duration>,
    /// Ingest `Idempotency-Key`s, by when their request came: the window in
    /// which a retried `POST /api/v1/traffic` is answered, not stored again.
    pub ingest_keys: Option<Duration>,
    /// Time between sweeps.
    pub sweep_every: Duration,
    /// Rows deleted per transaction.
    pub batch_size: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            traffic: None,
            results: None,
            verdict_cache: None,
            webhook_deliveries: None,
            ingest_keys: Some(INGEST_KEY_WINDOW),
            sweep_every: Duration::from_secs(3600),
            batch_size: 500,
        }
    }
}

impl RetentionConfig {
    /// Whether anything is ever deleted.
    pub fn is_enabled(&self) -> bool {
        self.traffic.is_some()
            || self.results.is_some()
            || self.verdict_cache.is_some()
            || self.webhook_deliveries.is_some()
            || self.ingest_keys.is_some()
    }
}

/// Rows one sweep deleted, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub traffic: u64,
    pub results: u64,
    pub verdicts: u64,
    pub deliveries: u64,
    pub ingest_keys: u64,
}

/// Deletes, as of `now`, everything older than configured, batch by batch.
pub async fn sweep_once(
    storage: &Storage,
    config: &RetentionConfig,
    now: DateTime<Utc>,
) -> Result<SweepReport, StorageError> {
    let mut report = SweepReport::default();
    for (area, keep) in [
        (RetentionArea::Traffic, config.traffic),
        (RetentionArea::Results, config.results),
        (RetentionArea::Verdicts, config.verdict_cache),
        (RetentionArea::Deliveries, config.webhook_deliveries),
        (RetentionArea::IngestKeys, config.ingest_keys),
    ] {
        let Some(keep) = keep else { continue };
        let Ok(keep) = chrono::Duration::from_std(keep) else {
            continue;
        };
        let cutoff = now - keep;
        let limit = config.batch_size.max(1);
        let deleted = loop_batches(limit, || async {
            storage.retention.delete_expired(area, cutoff, limit).await
        })
        .await?;
        match area {
            RetentionArea::Traffic => report.traffic = deleted,
            RetentionArea::Results => report.results = deleted,
            RetentionArea::Verdicts => report.verdicts = deleted,
            RetentionArea::Deliveries => report.deliveries = deleted,
            RetentionArea::IngestKeys => report.ingest_keys = deleted,
        }
    }
    Ok(report)
}

/// Runs `batch` until it deletes fewer than `limit` rows; yields between
/// batches so other writers get their turn.
async fn loop_batches<F, Fut>(limit: u32, mut batch: F) -> Result<u64, StorageError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, StorageError>>,
{
    let mut total = 0;
    loop {
        let n = batch().await?;
        total += n;
        if n < u64::from(limit) {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// Sweeps at start and then every `sweep_every` until `shutdown`. Does
/// nothing (and returns at once) when no retention is configured.
pub fn spawn_retention_sweeper(
    storage: Storage,
    config: RetentionConfig,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if !config.is_enabled() {
            return;
        }
        loop {
            match sweep_once(&storage, &config, Utc::now()).await {
                Ok(report) if report != SweepReport::default() => {
                    tracing::info!(?report, "retention sweep deleted old data");
                }
                Ok(_) => tracing::debug!("retention sweep: nothing to delete"),
                Err(error) => tracing::warn!(%error, "retention sweep failed; trying again later"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(config.sweep_every) => {}
            }
        }
    })
}
