//! Configuration: command-line flags over `EVALGUARD_*` environment variables
//! over the optional TOML file (`--config`) over built-in defaults.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use evalguard_api::DashboardSettings;
use evalguard_judge::{EmbeddingConfig, JudgeConfig};
use serde::Deserialize;

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://evalguard.db";
pub const DEFAULT_WORKERS: usize = 4;
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 600;
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
    #[serde(default)]
    pub limits: LimitsSection,
    #[serde(default)]
    pub webhooks: WebhooksSection,
    #[serde(default)]
    pub dashboard: DashboardSection,
    /// Judge providers and the scorer → provider mapping.
    pub judge: Option<JudgeConfig>,
    /// An OpenAI-compatible embeddings model for drift of the inputs' meaning.
    pub embeddings: Option<EmbeddingConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Largest `POST /api/v1/traffic` body, in bytes (default 16 MiB).
    pub traffic_body_bytes: Option<usize>,
    /// Largest body of every other endpoint, in bytes (default 256 KiB).
    pub body_bytes: Option<usize>,
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
        toml::from_str(&text).with_context(|| format!("parsing the config file {}", path.display()))
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
    pub traffic_body_bytes: usize,
    pub body_bytes: usize,
    pub allow_private_webhooks: bool,
    pub dashboard: DashboardSettings,
    /// Judge providers: the `EVALGUARD_JUDGE_*` shortcut when set, else the
    /// file's `[judge]` section, else none (judges are then skipped).
    pub judge: JudgeConfig,
    /// The embedding model for input drift; `None` uses the built-in embedding.
    pub embeddings: Option<EmbeddingConfig>,
}

/// Values given on the command line or in the environment (clap merges those two).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub addr: Option<String>,
    pub database_url: Option<String>,
    pub workers: Option<usize>,
    pub rate_limit_per_minute: Option<u32>,
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
    fn unknown_fields_are_refused() {
        assert!(toml::from_str::<FileConfig>("adr = \"x\"").is_err());
    }
}
