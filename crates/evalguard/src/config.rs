//! Configuration: command-line flags over `EVALGUARD_*` environment variables
//! over the optional TOML file (`--config`) over built-in defaults.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use evalguard_api::DashboardSettings;
use evalguard_judge::{EmbeddingConfig, JudgeConfig};
use evalguard_worker::RetentionConfig;
use serde::Deserialize;

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://evalguard.db";
pub const DEFAULT_WORKERS: usize = 4;
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 600;
/// Ten times the other endpoints': an application may send one sample a request.
pub const DEFAULT_INGEST_RATE_LIMIT_PER_MINUTE: u32 = 6_000;
pub const DEFAULT_FAILED_AUTH_PER_MINUTE: u32 = 60;
pub const DEFAULT_KEY_CACHE_SECS: u64 = 10;
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_BODY_READ_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 60;
pub const DEFAULT_TRAFFIC_BODY_BYTES: usize = 16 * 1024 * 1024;
pub const DEFAULT_BODY_BYTES: usize = 256 * 1024;

/// The TOML file. Every field is optional; unknown fields are refused so a
/// typo does not silently fall back to a default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub addr: Option<String>,
    pub database_url: Option<String>,
    pub workers: Option<usize>,
    pub rate_limit_per_minute: Option<u32>,
    pub ingest_rate_limit_per_minute: Option<u32>,
    #[serde(default)]
    pub limits: LimitsSection,
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub webhooks: WebhooksSection,
    #[serde(default)]
    pub dashboard: DashboardSection,
    /// Judge providers and the scorer → provider mapping.
    pub judge: Option<JudgeConfig>,
    /// An OpenAI-compatible embeddings model for drift of the inputs' meaning.
    pub embeddings: Option<EmbeddingConfig>,
    /// How long data is kept (default: forever).
    #[serde(default)]
    pub retention: RetentionSection,
}

/// `[retention]`: ages in days (fractions allowed); an absent key keeps
/// that data forever.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSection {
    /// Traffic samples, by their timestamp.
    pub traffic_days: Option<f64>,
    /// Per-sample job results, by the job's finish time (jobs stay).
    pub results_days: Option<f64>,
    /// Cached judge verdicts.
    pub verdict_cache_days: Option<f64>,
    /// Delivered or abandoned webhook deliveries.
    pub webhook_deliveries_days: Option<f64>,
    /// Seconds between sweeps (default 3600).
    pub sweep_interval_secs: Option<u64>,
    /// Rows deleted per transaction (default 500).
    pub batch_size: Option<u32>,
}

impl RetentionSection {
    /// The sweeper's configuration; refuses ages that are not positive.
    pub fn resolve(&self) -> anyhow::Result<RetentionConfig> {
        let age = |name: &str, days: Option<f64>| -> anyhow::Result<Option<Duration>> {
            match days {
                None => Ok(None),
                Some(d) if d.is_finite() && d > 0.0 && d <= 36_500.0 => {
                    Ok(Some(Duration::from_secs_f64(d * 86_400.0)))
                }
                Some(d) => {
                    bail!("retention.{name}: a number of days above 0 (at most 36500), not {d}")
                }
            }
        };
        let defaults = RetentionConfig::default();
        let batch_size = self.batch_size.unwrap_or(defaults.batch_size);
        if batch_size == 0 || batch_size > 10_000 {
            bail!("retention.batch_size: from 1 to 10000, not {batch_size}");
        }
        let sweep_every = self
            .sweep_interval_secs
            .map_or(defaults.sweep_every, Duration::from_secs);
        if sweep_every.is_zero() {
            bail!("retention.sweep_interval_secs: at least 1");
        }
        Ok(RetentionConfig {
            traffic: age("traffic_days", self.traffic_days)?,
            results: age("results_days", self.results_days)?,
            verdict_cache: age("verdict_cache_days", self.verdict_cache_days)?,
            webhook_deliveries: age("webhook_deliveries_days", self.webhook_deliveries_days)?,
            ingest_keys: defaults.ingest_keys,
            sweep_every,
            batch_size,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Largest `POST /api/v1/traffic` body, in bytes (default 16 MiB).
    pub traffic_body_bytes: Option<usize>,
    /// Largest body of every other endpoint, in bytes (default 256 KiB).
    pub body_bytes: Option<usize>,
    /// Failed authentications per minute per client address (default 60).
    pub failed_auth_per_minute: Option<u32>,
    /// Seconds a verified key is trusted without reading it again (default 10).
    pub key_cache_secs: Option<u64>,
}

/// Connection limits of the HTTP server.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Seconds to receive a whole request head, and the longest a keep-alive
    /// connection may wait idle for its next request (default 10).
    pub header_timeout_secs: Option<u64>,
    /// Seconds to wait for the next piece of a request body (default 10).
    pub body_read_timeout_secs: Option<u64>,
    /// Seconds from a request's head to its answer (default 60).
    pub request_timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksSection {
    /// Allow webhook targets on loopback, private or link-local addresses.
    pub allow_private: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardSection {
    /// Mark the session cookie `Secure` (when the dashboard is served over HTTPS).
    pub secure_cookies: Option<bool>,
    /// A session unused this many minutes ends (default 120).
    pub session_idle_minutes: Option<u64>,
    /// A session ends this many hours after sign-in (default 24).
    pub session_absolute_hours: Option<u64>,
}

impl DashboardSection {
    fn settings(&self) -> DashboardSettings {
        let defaults = DashboardSettings::default();
        DashboardSettings {
            secure_cookies: self.secure_cookies.unwrap_or(defaults.secure_cookies),
            session_idle: self
                .session_idle_minutes
                .map_or(defaults.session_idle, |m| {
                    Duration::from_secs(m.saturating_mul(60))
                }),
            session_absolute: self
                .session_absolute_hours
                .map_or(defaults.session_absolute, |h| {
                    Duration::from_secs(h.saturating_mul(3600))
                }),
        }
    }
}

impl FileConfig {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the config file {}", path.display()))?;
        let file: Self = toml::from_str(&text)
            .with_context(|| format!("parsing the config file {}", path.display()))?;
        file.retention
            .resolve()
            .with_context(|| format!("in the config file {}", path.display()))?;
        Ok(file)
    }
}

/// Everything a process needs, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: String,
    pub database_url: String,
    /// Concurrent jobs in this process; 0 = API only.
    pub workers: usize,
    /// Serve HTTP (false for `evalguard worker`).
    pub serve_http: bool,
    pub rate_limit_per_minute: u32,
    pub ingest_rate_limit_per_minute: u32,
    pub failed_auth_per_minute: u32,
    pub key_cache_ttl: Duration,
    pub header_timeout: Duration,
    pub body_read_timeout: Duration,
    pub request_timeout: Duration,
    pub traffic_body_bytes: usize,
    pub body_bytes: usize,
    pub allow_private_webhooks: bool,
    pub dashboard: DashboardSettings,
    /// Judge providers: the `EVALGUARD_JUDGE_*` shortcut when set, else the
    /// file's `[judge]` section, else none (judges are then skipped).
    pub judge: JudgeConfig,
    /// The embedding model for input drift; `None` uses the built-in embedding.
    pub embeddings: Option<EmbeddingConfig>,
    /// What the background sweeper deletes, and how often.
    pub retention: RetentionConfig,
}

/// Values given on the command line or in the environment (clap merges those two).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub addr: Option<String>,
    pub database_url: Option<String>,
    pub workers: Option<usize>,
    pub rate_limit_per_minute: Option<u32>,
    pub ingest_rate_limit_per_minute: Option<u32>,
}

impl Config {
    pub fn resolve(overrides: Overrides, file: FileConfig) -> Self {
        Self {
            addr: overrides
                .addr
                .or(file.addr)
                .unwrap_or_else(|| DEFAULT_ADDR.to_owned()),
            database_url: overrides
                .database_url
                .or(file.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            workers: overrides
                .workers
                .or(file.workers)
                .unwrap_or(DEFAULT_WORKERS),
            serve_http: true,
            rate_limit_per_minute: overrides
                .rate_limit_per_minute
                .or(file.rate_limit_per_minute)
                .unwrap_or(DEFAULT_RATE_LIMIT_PER_MINUTE),
            ingest_rate_limit_per_minute: overrides
                .ingest_rate_limit_per_minute
                .or(file.ingest_rate_limit_per_minute)
                .unwrap_or(DEFAULT_INGEST_RATE_LIMIT_PER_MINUTE),
            failed_auth_per_minute: file
                .limits
                .failed_auth_per_minute
                .unwrap_or(DEFAULT_FAILED_AUTH_PER_MINUTE),
            key_cache_ttl: secs(file.limits.key_cache_secs, DEFAULT_KEY_CACHE_SECS),
            header_timeout: secs(file.server.header_timeout_secs, DEFAULT_HEADER_TIMEOUT_SECS),
            body_read_timeout: secs(
                file.server.body_read_timeout_secs,
                DEFAULT_BODY_READ_TIMEOUT_SECS,
            ),
            request_timeout: secs(
                file.server.request_timeout_secs,
                DEFAULT_REQUEST_TIMEOUT_SECS,
            ),
            traffic_body_bytes: file
                .limits
                .traffic_body_bytes
                .unwrap_or(DEFAULT_TRAFFIC_BODY_BYTES),
            body_bytes: file.limits.body_bytes.unwrap_or(DEFAULT_BODY_BYTES),
            allow_private_webhooks: file.webhooks.allow_private.unwrap_or(false),
            dashboard: file.dashboard.settings(),
            judge: JudgeConfig::from_env_shortcut()
                .or(file.judge)
                .unwrap_or_default(),
            embeddings: file.embeddings,
            // Checked when the file was loaded; a section built in code that
            // does not resolve keeps everything.
            retention: file.retention.resolve().unwrap_or_default(),
        }
    }

    /// A configuration for tests: port 0 on loopback, the given database.
    pub fn for_tests(database_url: &str) -> Self {
        let mut config = Self::resolve(Overrides::default(), FileConfig::default());
        config.addr = "127.0.0.1:0".to_owned();
        config.database_url = database_url.to_owned();
        config.workers = 2;
        config.allow_private_webhooks = true;
        // Tests configure judges explicitly, never from the environment.
        config.judge = JudgeConfig::default();
        config.embeddings = None;
        config
    }
}

fn secs(configured: Option<u64>, default: u64) -> Duration {
    Duration::from_secs(configured.unwrap_or(default))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let file: FileConfig =
            toml::from_str("addr = \"0.0.0.0:9000\"\nworkers = 8\n[limits]\nbody_bytes = 1024\n")
                .unwrap();
        let config = Config::resolve(
            Overrides {
                workers: Some(1),
                ..Overrides::default()
            },
            file,
        );
        assert_eq!(config.addr, "0.0.0.0:9000");
        assert_eq!(config.workers, 1);
        assert_eq!(config.body_bytes, 1024);
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.rate_limit_per_minute, 600);
        assert_eq!(config.ingest_rate_limit_per_minute, 6_000);
        assert_eq!(config.header_timeout, Duration::from_secs(10));
    }

    #[test]
    fn connection_limits_and_ingest_limit_are_read() {
        let file: FileConfig = toml::from_str(
            "ingest_rate_limit_per_minute = 9000\n[server]\nheader_timeout_secs = 2\nbody_read_timeout_secs = 3\nrequest_timeout_secs = 4\n[limits]\nfailed_auth_per_minute = 5\nkey_cache_secs = 0\n",
        )
        .unwrap();
        let config = Config::resolve(
            Overrides {
                ingest_rate_limit_per_minute: Some(7000),
                ..Overrides::default()
            },
            file.clone(),
        );
        assert_eq!(config.ingest_rate_limit_per_minute, 7000);
        let config = Config::resolve(Overrides::default(), file);
        assert_eq!(config.ingest_rate_limit_per_minute, 9000);
        assert_eq!(config.header_timeout, Duration::from_secs(2));
        assert_eq!(config.body_read_timeout, Duration::from_secs(3));
        assert_eq!(config.request_timeout, Duration::from_secs(4));
        assert_eq!(config.failed_auth_per_minute, 5);
        assert_eq!(config.key_cache_ttl, Duration::ZERO);
    }

    #[test]
    fn embeddings_section_is_read() {
        let file: FileConfig = toml::from_str(
            "[embeddings]\nbase_url = \"http://127.0.0.1:9100/v1\"\nmodel = \"text-embedding-3-small\"\napi_key_env = \"OPENAI_API_KEY\"\n",
        )
        .unwrap();
        let config = Config::resolve(Overrides::default(), file);
        let embeddings = config.embeddings.unwrap();
        assert_eq!(embeddings.model, "text-embedding-3-small");
        assert_eq!(embeddings.batch_size, 256);
        assert!(
            toml::from_str::<FileConfig>(
                "[embeddings]\nbase_url = \"x\"\nmodel = \"m\"\nkey = \"k\"\n"
            )
            .is_err()
        );
    }

    #[test]
    fn retention_is_read_in_days_and_checked() {
        let file: FileConfig = toml::from_str(
            "[retention]\ntraffic_days = 30\nverdict_cache_days = 0.5\nbatch_size = 200\n",
        )
        .unwrap();
        let config = Config::resolve(Overrides::default(), file);
        let r = config.retention;
        assert_eq!(r.traffic, Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(r.verdict_cache, Some(Duration::from_secs(43_200)));
        assert_eq!((r.results, r.webhook_deliveries), (None, None));
        assert_eq!(
            (r.batch_size, r.sweep_every),
            (200, Duration::from_secs(3600))
        );
        assert_eq!(r.ingest_keys, Some(Duration::from_secs(86_400)));
        // Ingest keys are forgotten after a day even when nothing else expires.
        let defaults = Config::resolve(Overrides::default(), FileConfig::default()).retention;
        assert_eq!((defaults.traffic, defaults.results), (None, None));
        assert!(defaults.is_enabled());
        for bad in [
            "traffic_days = 0",
            "results_days = -1",
            "batch_size = 0",
            "sweep_interval_secs = 0",
        ] {
            let file: FileConfig = toml::from_str(&format!("[retention]\n{bad}\n")).unwrap();
            assert!(file.retention.resolve().is_err(), "{bad}");
        }
        assert!(toml::from_str::<FileConfig>("[retention]\ntraffic = 3\n").is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(toml::from_str::<FileConfig>("adr = \"x\"").is_err());
    }
}
