#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Verdicts are written behind the judge calls, in batches, and read back at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use evalguard_judge::verdict_cache::VerdictCache;
use evalguard_judge::{VerdictStore, VerdictStoreError};
use serde_json::{Value, json};

#[derive(Default)]
struct CountingStore {
    verdicts: Mutex<HashMap<String, Value>>,
    batches: Mutex<Vec<usize>>,
}

#[async_trait]
impl VerdictStore for CountingStore {
    async fn get_verdict(&self, key: &str) -> Result<Option<Value>, VerdictStoreError> {
        Ok(self.verdicts.lock().unwrap().get(key).cloned())
    }
    async fn put_verdicts(&self, entries: &[(String, Value)]) -> Result<(), VerdictStoreError> {
        self.batches.lock().unwrap().push(entries.len());
        let mut verdicts = self.verdicts.lock().unwrap();
        for (key, verdict) in entries {
            verdicts.insert(key.clone(), verdict.clone());
        }
        Ok(())
    }
}

#[tokio::test]
async fn verdicts_are_readable_at_once_and_stored_in_few_transactions() {
    let store = Arc::new(CountingStore::default());
    let cache = VerdictCache::new(store.clone());
    for i in 0..200 {
        cache.put(format!("k{i}"), json!({"score": i}));
    }
    // Read-your-writes before anything reached the store.
    assert_eq!(cache.get("k7").await.unwrap(), Some(json!({"score": 7})));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        store.get_verdict("k199").await.unwrap(),
        Some(json!({"score": 199}))
    );
    let batches = store.batches.lock().unwrap().clone();
    assert_eq!(batches.iter().sum::<usize>(), 200);
    assert!(
        batches.len() <= 2,
        "200 verdicts in {batches:?} transactions"
    );
    assert_eq!(cache.get("k3").await.unwrap(), Some(json!({"score": 3})));
    assert_eq!(cache.get("missing").await.unwrap(), None);
}
