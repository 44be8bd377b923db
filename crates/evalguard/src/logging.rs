//! Process logs: where they go, in which format, and the start-up lines an
//! operator reads first. Never a key, a password or a request body.

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

use crate::config::Config;

/// The filter used when `EVALGUARD_LOG` is unset. sqlx reports PostgreSQL's
/// NOTICEs (e.g. "relation _sqlx_migrations already exists, skipping" on
/// every restart) and slow statements at info; they are noise to an
/// operator, so sqlx speaks from warnings up.
const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One line per event for people; colours only on a terminal.
    #[default]
    Text,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// Installs the process's subscriber (stderr: stdout carries command output
/// such as key secrets). `EVALGUARD_LOG` takes a `tracing` filter.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("EVALGUARD_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        // Escape codes only where a terminal interprets them: a file or a
        // log collector gets plain text.
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
}

/// What the process runs with, in a few lines: the database (without its
/// password), each judge provider (name, kind, model, base URL; never a key),
/// the embeddings provider and the worker count.
pub fn log_startup(config: &Config) {
    tracing::info!(
        database = %redacted_url(&config.database_url),
        workers = config.workers,
        http = config.serve_http,
        "starting EvalGuard"
    );
    if config.judge.providers.is_empty() {
        tracing::info!("no judge provider configured: LLM judges are skipped");
    }
    for provider in &config.judge.providers {
        tracing::info!(
            name = %provider.name,
            kind = ?provider.kind,
            model = %provider.model,
            base_url = %redacted_url(&provider.base_url),
            max_concurrency = provider.max_concurrency,
            "judge provider"
        );
    }
    if config.retention.is_enabled() {
        let days = |age: Option<std::time::Duration>| {
            age.map_or_else(
                || "forever".to_owned(),
                |a| format!("{} days", a.as_secs_f64() / 86_400.0),
            )
        };
        tracing::info!(
            traffic = %days(config.retention.traffic),
            results = %days(config.retention.results),
            verdict_cache = %days(config.retention.verdict_cache),
            webhook_deliveries = %days(config.retention.webhook_deliveries),
            ingest_keys = %days(config.retention.ingest_keys),
            "retention"
        );
    }
    if let Some(embeddings) = &config.embeddings {
        tracing::info!(
            model = %embeddings.model,
            base_url = %redacted_url(&embeddings.base_url),
            "embeddings provider"
        );
    }
}

/// `url` without a password or query string (either may hold a secret).
/// What cannot be parsed is not printed.
pub fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("redacted"));
            }
            if parsed.query().is_some() {
                parsed.set_query(Some("redacted"));
            }
            parsed.to_string()
        }
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redacted_url;

    #[test]
    fn passwords_never_appear() {
        let shown = redacted_url("postgres://evalguard:s3cret@db:5432/evalguard");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(shown, "postgres://evalguard:redacted@db:5432/evalguard");
    }

    #[test]
    fn query_strings_are_hidden() {
        let shown = redacted_url("postgres://db/evalguard?password=s3cret&sslmode=require");
        assert!(!shown.contains("s3cret"), "{shown}");
        let shown = redacted_url("https://example.openai.azure.com/v1?api-key=k3y");
        assert!(!shown.contains("k3y"), "{shown}");
    }

    #[test]
    fn urls_without_secrets_are_shown_as_given() {
        assert_eq!(
            redacted_url("sqlite://evalguard.db"),
            "sqlite://evalguard.db"
        );
        assert_eq!(
            redacted_url("https://api.openai.com/v1"),
            "https://api.openai.com/v1"
        );
    }

    #[test]
    fn unparsable_urls_are_not_echoed() {
        assert_eq!(redacted_url("not a url with s3cret"), "<unparsable URL>");
    }
}
