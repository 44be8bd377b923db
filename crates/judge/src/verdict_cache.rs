//! The judges' view of the verdict cache: reads go to the store, writes go
//! behind the judge call in batches. One write transaction per verdict cost
//! more CPU than the judge call itself (measured: about half of a judged
//! sample's CPU on SQLite), so a background task gathers the verdicts of a
//! short window and stores them in one transaction. Verdicts waiting to be
//! written are answered from memory, so a judge always reads its own writes.
//! A verdict lost in a crash before its write is only a later cache miss.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

use crate::verdict_store::{VerdictStore, VerdictStoreError};

/// How long the writer gathers verdicts before one transaction stores them.
const WRITE_WINDOW: Duration = Duration::from_millis(100);
/// Most verdicts stored in one transaction.
const MAX_BATCH: usize = 500;

pub struct VerdictCache {
    store: Arc<dyn VerdictStore>,
    pending: Arc<Mutex<HashMap<String, Value>>>,
    /// Started on the first write, inside the async runtime that makes it.
    queue: OnceLock<mpsc::UnboundedSender<String>>,
}

impl VerdictCache {
    pub fn new(store: Arc<dyn VerdictStore>) -> Self {
        Self {
            store,
            pending: Arc::new(Mutex::new(HashMap::new())),
            queue: OnceLock::new(),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Value>, VerdictStoreError> {
        if let Some(verdict) = lock(&self.pending).get(key) {
            return Ok(Some(verdict.clone()));
        }
        self.store.get_verdict(key).await
    }

    /// Queues a verdict for the next batch. Must be called from within a
    /// Tokio runtime (every judge call is).
    pub fn put(&self, key: String, verdict: Value) {
        lock(&self.pending).insert(key.clone(), verdict);
        let queue = self
            .queue
            .get_or_init(|| spawn_writer(self.store.clone(), self.pending.clone()));
        if queue.send(key).is_err() {
            tracing::warn!("the verdict cache writer has stopped; a verdict was not cached");
        }
    }
}

fn lock(
    pending: &Mutex<HashMap<String, Value>>,
) -> std::sync::MutexGuard<'_, HashMap<String, Value>> {
    // A panic while holding the lock cannot leave the map inconsistent.
    pending
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes queued verdicts until every sender is gone (the scorer is dropped),
/// then writes what is left and ends.
fn spawn_writer(
    store: Arc<dyn VerdictStore>,
    pending: Arc<Mutex<HashMap<String, Value>>>,
) -> mpsc::UnboundedSender<String> {
    let (sender, mut receiver) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(first) = receiver.recv().await {
            let mut keys = vec![first];
            let deadline = tokio::time::Instant::now() + WRITE_WINDOW;
            while keys.len() < MAX_BATCH {
                match tokio::time::timeout_at(deadline, receiver.recv()).await {
                    Ok(Some(key)) => keys.push(key),
                    Ok(None) | Err(_) => break,
                }
            }
            let batch: Vec<(String, Value)> = {
                let pending = lock(&pending);
                keys.iter()
                    .filter_map(|k| pending.get(k).map(|v| (k.clone(), v.clone())))
                    .collect()
            };
            if let Err(error) = store.put_verdicts(&batch).await {
                tracing::warn!(%error, verdicts = batch.len(), "judge cache write failed");
            }
            let mut pending = lock(&pending);
            for (key, verdict) in &batch {
                // A newer verdict for the same key stays queued for the next batch.
                if pending.get(key) == Some(verdict) {
                    pending.remove(key);
                }
            }
        }
    });
    sender
}
