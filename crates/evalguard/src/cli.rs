//! The command line. Database and log flags work with every command that
//! opens the database; the serving flags belong to `serve` and `worker`
//! (given before the subcommand they are still accepted, as they always were).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::logging::LogFormat;

#[derive(Debug, Parser)]
#[command(
    name = "evalguard",
    version,
    about = "A safety net for LLM applications in production"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Serving flags written before the subcommand (`evalguard --workers 2 serve`).
    #[command(flatten)]
    pub leading_serve: LeadingServeArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// `sqlite://path` (default `sqlite://evalguard.db`, created if missing) or `postgres://…`.
    #[arg(long, env = "EVALGUARD_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Optional TOML file (judge providers, scorers, limits, retention).
    #[arg(long, env = "EVALGUARD_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Log lines on stderr: `text` (colours only on a terminal) or `json` (one object a line).
    #[arg(
        long,
        env = "EVALGUARD_LOG_FORMAT",
        global = true,
        value_enum,
        default_value_t
    )]
    pub log_format: LogFormat,
}

/// Flags of the serving commands (`serve`, `worker`).
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, env = "EVALGUARD_ADDR")]
    pub addr: Option<String>,
    /// Concurrent jobs in this process (default 4); 0 = API only.
    #[arg(long, env = "EVALGUARD_WORKERS")]
    pub workers: Option<usize>,
    /// Requests per minute per API key to every endpoint but ingest (token bucket; default 600).
    #[arg(long, env = "EVALGUARD_RATE_LIMIT_PER_MINUTE")]
    pub rate_limit_per_minute: Option<u32>,
    /// Requests per minute per API key to the ingest endpoints, a bucket of their own (default 6,000).
    #[arg(long, env = "EVALGUARD_INGEST_RATE_LIMIT_PER_MINUTE")]
    pub ingest_rate_limit_per_minute: Option<u32>,
}

/// [`ServeArgs`] before the subcommand: accepted, not advertised.
#[derive(Debug, Clone, Default, Args)]
pub struct LeadingServeArgs {
    /// Address to listen on.
    #[arg(long = "addr", hide = true)]
    pub addr: Option<String>,
    /// Concurrent jobs in this process.
    #[arg(long = "workers", hide = true)]
    pub workers: Option<usize>,
    /// Requests per minute per API key.
    #[arg(long = "rate-limit-per-minute", hide = true)]
    pub rate_limit_per_minute: Option<u32>,
    /// Requests per minute per API key to the ingest endpoints.
    #[arg(long = "ingest-rate-limit-per-minute", hide = true)]
    pub ingest_rate_limit_per_minute: Option<u32>,
}

impl ServeArgs {
    /// These flags with those written before the subcommand. A flag given
    /// there wins: the subcommand's values may come from the environment,
    /// which a flag on the command line overrides.
    pub fn or_leading(self, leading: LeadingServeArgs) -> Self {
        Self {
            addr: leading.addr.or(self.addr),
            workers: leading.workers.or(self.workers),
            rate_limit_per_minute: leading.rate_limit_per_minute.or(self.rate_limit_per_minute),
            ingest_rate_limit_per_minute: leading
                .ingest_rate_limit_per_minute
                .or(self.ingest_rate_limit_per_minute),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// HTTP API + dashboard + in-process workers.
    Serve(ServeArgs),
    /// Workers only (for scaling out on PostgreSQL).
    Worker(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage API keys directly in the database.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage the people who sign in to the dashboard.
    #[command(subcommand)]
    Users(UsersCommand),
    /// CI/CD gate: trigger an auto-eval, wait, exit 1 when a flag was raised,
    /// 2 on an error or when the job could not look where it was asked to.
    Eval(Box<EvalArgs>),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key (and the organization if missing); prints the secret as the last line.
    Create {
        /// Organization name.
        #[arg(long)]
        org: String,
        /// viewer, member, admin or owner.
        #[arg(long)]
        role: String,
        /// Restrict the key to one project.
        #[arg(long)]
        project: Option<String>,
        /// A label shown by `keys list`.
        #[arg(long)]
        name: Option<String>,
    },
    /// List an organization's keys (public ids only: secrets are never stored).
    List {
        /// Organization name.
        #[arg(long)]
        org: String,
    },
    /// Revoke a key: it is refused from then on. Idempotent.
    Revoke {
        /// The key's id, as `keys list` shows it.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a person (and the organization if missing). Without
    /// --password-stdin a password is generated and printed as the last line.
    Create {
        /// The organization the person belongs to (created if missing).
        #[arg(long)]
        org: String,
        /// The email address they sign in with.
        #[arg(long)]
        email: String,
        /// viewer, member, admin or owner.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Give a person a new password and end all their sessions. Without
    /// --password-stdin a password is generated and printed as the last line.
    ResetPassword {
        /// The email address they sign in with.
        #[arg(long)]
        email: String,
        /// Read the new password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The server's base URL [env: EVALGUARD_URL, else EVALGUARD_BASE_URL; default: http://127.0.0.1:8080].
    #[arg(long)]
    pub url: Option<String>,
    /// The API key (role member or above).
    #[arg(long, env = "EVALGUARD_API_KEY", hide_env_values = true)]
    pub api_key: String,
    /// The project of the deployed target.
    #[arg(long)]
    pub project: String,
    /// The deployed model.
    #[arg(long)]
    pub model: String,
    /// The deployed prompt.
    #[arg(long)]
    pub prompt_id: String,
    /// How many recent samples to evaluate (server default: 100).
    #[arg(long)]
    pub samples: Option<u32>,
    /// Compare with this model's traffic (on --baseline-prompt-id, else the same prompt).
    #[arg(long)]
    pub baseline_model: Option<String>,
    /// The baseline's prompt (with --baseline-model; default: --prompt-id).
    #[arg(long, requires = "baseline_model")]
    pub baseline_prompt_id: Option<String>,
    /// Scorers to run, comma-separated (default: the project's scorer set).
    #[arg(long, value_delimiter = ',')]
    pub scorers: Option<Vec<String>>,
    /// Flag kinds that fail the gate: hallucination, regression, drift (default: all).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "hallucination,regression,drift"
    )]
    pub fail_on: Vec<String>,
    /// Judge every sample anew instead of reusing cached verdicts.
    #[arg(long)]
    pub no_cache: bool,
    /// Judge each sample this many times, 1 to 5 (majority verdict).
    #[arg(long)]
    pub repeats: Option<u32>,
    /// Significance level of regression flags, after Benjamini–Hochberg (server default 0.05).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Smallest worsening worth a regression flag, on the 0–1 scale (server default 0.05).
    #[arg(long)]
    pub min_effect: Option<f64>,
    /// Tolerated hallucination rate (server default 0.05).
    #[arg(long)]
    pub hallucination_rate: Option<f64>,
    /// False discovery rate of drift flags (server default 0.05).
    #[arg(long)]
    pub drift_fdr: Option<f64>,
    /// Distance above which large samples drift (server default 0.1).
    #[arg(long)]
    pub drift_distance: Option<f64>,
    /// Stop judging once this much is spent (the job is then partial).
    #[arg(long)]
    pub max_cost_usd: Option<f64>,
    /// Share of a scorer's samples that may lack a verdict (error or unparsable)
    /// before the gate refuses to decide and exits 2.
    #[arg(long, default_value_t = 0.05)]
    pub max_missing_verdicts: f64,
    /// Exit 2 when the job found no baseline to compare with.
    #[arg(long)]
    pub require_baseline: bool,
    /// Print the finished job as JSON instead of a report.
    #[arg(long)]
    pub json: bool,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 3600)]
    pub timeout_secs: u64,
}
