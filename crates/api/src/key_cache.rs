//! Keys verified recently, so that a request with a valid key costs no
//! database lookup. An entry holds the key's stored hash, and a hit needs the
//! presented key to match that hash (compared in constant time): the public
//! key id alone never authenticates.
//!
//! Revocation: the process that revokes a key forgets it at once; every other
//! process keeps trusting its entry for at most the entry's lifetime (the
//! `key_cache_ttl`, 10 s by default), after which the key is read again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use evalguard_domain::Principal;
use evalguard_domain::access::PresentedKey;

/// Beyond this many entries, expired ones are dropped.
const PRUNE_ABOVE: usize = 10_000;

struct Entry {
    hash: String,
    principal: Principal,
    verified_at: Instant,
}

pub(crate) struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl KeyCache {
    /// A zero `ttl` disables the cache (every request reads the key).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The principal of a key verified less than `ttl` ago, when the
    /// presented key matches the hash it was verified with.
    pub fn get(&self, presented: &PresentedKey<'_>, now: Instant) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get(presented.key_id)?;
        let fresh = now.saturating_duration_since(entry.verified_at) < self.ttl;
        (fresh && presented.matches(&entry.hash)).then(|| entry.principal.clone())
    }

    /// Whether the presented key is one this process verified before, fresh
    /// or not: its id is cached and it matches the stored hash. Such a key is
    /// not a guess, so when its entry has expired it is read again even from
    /// an address out of failed authentications (otherwise a flood from a
    /// shared address would lock out a valid key every `ttl`).
    pub fn was_verified(&self, presented: &PresentedKey<'_>) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(presented.key_id)
            .is_some_and(|entry| presented.matches(&entry.hash))
    }

    /// Remembers a key just verified against the database (never a revoked one).
    pub fn insert(&self, hash: String, principal: Principal, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > PRUNE_ABOVE {
            let ttl = self.ttl;
            entries.retain(|_, e| now.saturating_duration_since(e.verified_at) < ttl);
        }
        entries.insert(
            principal.key_id.clone(),
            Entry {
                hash,
                principal,
                verified_at: now,
            },
        );
    }

    /// Forgets a key, e.g. when this process revokes it.
    pub fn forget(&self, key_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(key_id);
    }
}

#[cfg(test)]
mod tests {
    use evalguard_domain::access::ApiKeySecret;
    use evalguard_domain::{OrgId, Role};

    use super::*;

    fn principal(key: &ApiKeySecret) -> Principal {
        Principal {
            org_id: OrgId::new(),
            key_id: key.key_id().to_owned(),
            role: Role::Viewer,
            project: None,
        }
    }

    #[test]
    fn a_hit_needs_the_matching_secret_not_just_the_id() {
        let cache = KeyCache::new(Duration::from_secs(10));
        let key = ApiKeySecret::generate();
        let t0 = Instant::now();
        let who = principal(&key);
        cache.insert(key.hash(), who.clone(), t0);
        let presented = PresentedKey::parse(key.expose()).unwrap();
        assert_eq!(cache.get(&presented, t0), Some(who));
        // Same id, another secret.
        let forged = format!("{}{}", &key.expose()[..16], "0".repeat(64));
        let forged = PresentedKey::parse(&forged).unwrap();
        assert_eq!(forged.key_id, key.key_id());
        assert!(cache.get(&forged, t0).is_none());
    }

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let cache = KeyCache::new(Duration::from_secs(10));
        let key = ApiKeySecret::generate();
        let presented = PresentedKey::parse(key.expose()).unwrap();
        let t0 = Instant::now();
        cache.insert(key.hash(), principal(&key), t0);
        assert!(cache.get(&presented, t0 + Duration::from_secs(9)).is_some());
        assert!(
            cache
                .get(&presented, t0 + Duration::from_secs(10))
                .is_none()
        );
        cache.insert(key.hash(), principal(&key), t0);
        cache.forget(key.key_id());
        assert!(cache.get(&presented, t0).is_none());
        let disabled = KeyCache::new(Duration::ZERO);
        disabled.insert(key.hash(), principal(&key), t0);
        assert!(disabled.get(&presented, t0).is_none());
    }
}
