//! What the API needs from the rest of the service, and the per-process state
//! (rate-limit buckets, last-used bookkeeping) it keeps itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use evalguard_domain::scoring::ScorerCatalog;
use evalguard_storage::Storage;
use tokio::sync::Notify;

use crate::key_cache::KeyCache;
use crate::rate_limit::RateLimiter;

/// Everything the router is built from.
#[derive(Clone)]
pub struct ApiState {
    pub storage: Storage,
    pub catalog: Arc<dyn ScorerCatalog>,
    pub limits: ApiLimits,
    /// Notified when a job is queued, so in-process workers start at once.
    pub job_wakeup: Arc<Notify>,
    pub webhook_policy: WebhookPolicy,
    /// Dashboard sessions: cookie security and lifetimes.
    pub dashboard: crate::dashboard::DashboardSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLimits {
    /// Largest `POST /api/v1/traffic` body (default 16 MiB).
    pub traffic_body_bytes: usize,
    /// Largest body of every other endpoint (default 256 KiB).
    pub body_bytes: usize,
    /// Requests per minute per API key to every endpoint but ingest; 0
    /// disables the limit (default 600).
    pub rate_limit_per_minute: u32,
    /// Requests per minute per API key to the ingest endpoints, a bucket of
    /// their own; 0 disables the limit (default 6,000).
    pub ingest_rate_limit_per_minute: u32,
    /// Failed authentications per minute per client address before requests
    /// without an already verified key get `429`; 0 disables (default 60).
    pub failed_auth_per_minute: u32,
    /// How long a verified key is trusted without reading it again: the bound
    /// on a revocation reaching other processes (default 10 s; 0 = no cache).
    pub key_cache_ttl: Duration,
    /// Longest a request may take from its head to its answer, body read
    /// included; beyond it the answer is `408` (default 60 s).
    pub request_timeout: Duration,
    /// Longest wait for the next piece of a request body (default 10 s).
    pub body_read_timeout: Duration,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            traffic_body_bytes: 16 * 1024 * 1024,
            body_bytes: 256 * 1024,
            rate_limit_per_minute: 600,
            ingest_rate_limit_per_minute: 6_000,
            failed_auth_per_minute: 60,
            key_cache_ttl: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            body_read_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// Allow webhook targets on private, loopback and link-local addresses.
    pub allow_private: bool,
}

/// How often a key's `last_used_at` is written at most.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// The router's shared state: the caller's [`ApiState`] plus what the API
/// keeps in memory.
pub(crate) struct AppContext {
    pub api: ApiState,
    /// Per key, every endpoint but ingest.
    pub limiter: RateLimiter,
    /// Per key, the ingest endpoints.
    pub ingest_limiter: RateLimiter,
    /// Per client address, failed authentications.
    pub failed_auth: RateLimiter,
    pub keys: KeyCache,
    last_touched: Mutex<HashMap<String, Instant>>,
}

pub(crate) type Shared = Arc<AppContext>;

impl AppContext {
    pub fn new(api: ApiState) -> Self {
        let limits = api.limits;
        Self {
            api,
            limiter: RateLimiter::new(limits.rate_limit_per_minute),
            ingest_limiter: RateLimiter::new(limits.ingest_rate_limit_per_minute),
            failed_auth: RateLimiter::new(limits.failed_auth_per_minute),
            keys: KeyCache::new(limits.key_cache_ttl),
            last_touched: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `last_used_at` of this key is due to be written now; records
    /// the write when it is, so that a busy key costs one write per minute.
    pub fn touch_due(&self, key_id: &str, now: Instant) -> bool {
        let mut map = self.last_touched.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key_id) {
            Some(last) if now.saturating_duration_since(*last) < TOUCH_EVERY => false,
            _ => {
                if map.len() > 10_000 {
                    map.retain(|_, t| now.saturating_duration_since(*t) < TOUCH_EVERY);
                }
                map.insert(key_id.to_owned(), now);
                true
            }
        }
    }
}
