//! The traffic samples a run holds in memory, by storage key. Planning reads
//! whole samples to choose them, so a fresh run scores and analyses those
//! without reading them again; a resumed run loads what it lacks on demand.

use std::collections::HashMap;
use std::sync::Arc;

use evalguard_domain::{OrgId, TrafficSample};
use evalguard_storage::{Storage, StorageError, StoredSample};

/// Samples read from storage at a time.
const LOAD_CHUNK: usize = 500;

#[derive(Debug, Default)]
pub(crate) struct LoadedSamples(HashMap<i64, Arc<TrafficSample>>);

impl LoadedSamples {
    pub fn extend(&mut self, samples: impl IntoIterator<Item = StoredSample>) {
        self.0
            .extend(samples.into_iter().map(|s| (s.key, Arc::new(s.sample))));
    }

    pub fn get(&self, key: i64) -> Option<Arc<TrafficSample>> {
        self.0.get(&key).cloned()
    }

    /// Reads the samples of `keys` that are not held yet. A key that no longer
    /// exists in storage stays absent.
    pub async fn load_missing(
        &mut self,
        storage: &Storage,
        org: OrgId,
        keys: &[i64],
    ) -> Result<(), StorageError> {
        let missing: Vec<i64> = keys
            .iter()
            .copied()
            .filter(|k| !self.0.contains_key(k))
            .collect();
        for chunk in missing.chunks(LOAD_CHUNK) {
            let loaded = storage.traffic.samples_by_key(org, chunk).await?;
            self.extend(loaded);
        }
        Ok(())
    }

    /// The held samples of `keys`, in order.
    pub fn of<'a>(&'a self, keys: &'a [i64]) -> impl Iterator<Item = &'a TrafficSample> + 'a {
        keys.iter()
            .filter_map(|k| self.0.get(k).map(|s| s.as_ref()))
    }
}
