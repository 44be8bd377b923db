//! The command line. Common flags may come before or after the subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "evalguard",
    version,
    about = "A safety net for LLM applications in production"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Address to listen on.
    #[arg(long, env = "EVALGUARD_ADDR", global = true)]
    pub addr: Option<String>,
    /// `sqlite://path` (default `sqlite://evalguard.db`, created if missing) or `postgres://…`.
    #[arg(long, env = "EVALGUARD_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Concurrent jobs in this process; 0 = API only.
    #[arg(long, env = "EVALGUARD_WORKERS", global = true)]
    pub workers: Option<usize>,
    /// Requests per minute per API key (token bucket).
    #[arg(long, env = "EVALGUARD_RATE_LIMIT_PER_MINUTE", global = true)]
    pub rate_limit_per_minute: Option<u32>,
    /// Optional TOML file (judge providers, scorers, limits).
    #[arg(long, env = "EVALGUARD_CONFIG", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// HTTP API + dashboard + in-process workers.
    Serve,
    /// Workers only (for scaling out on PostgreSQL).
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage API keys directly in the database.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage the people who sign in to the dashboard.
    #[command(subcommand)]
    Users(UsersCommand),
    /// CI/CD gate: trigger an auto-eval, wait, exit 1 when a flag was raised.
    Eval(EvalArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key (and the organization if missing); prints the secret as the last line.
    Create {
        #[arg(long)]
        org: String,
        /// viewer, member, admin or owner.
        #[arg(long)]
        role: String,
        /// Restrict the key to one project.
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a person (and the organization if missing). Without
    /// --password-stdin a password is generated and printed as the last line.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        /// viewer, member, admin or owner.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The server's base URL.
    #[arg(long, env = "EVALGUARD_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    #[arg(long, env = "EVALGUARD_API_KEY", hide_env_values = true)]
    pub api_key: String,
    #[arg(long)]
    pub project: String,
    #[arg(long)]
    pub model: String,
    #[arg(long)]
    pub prompt_id: String,
    /// How many recent samples to evaluate.
    #[arg(long)]
    pub samples: Option<u32>,
    /// Compare with this model's traffic on the same prompt.
    #[arg(long)]
    pub baseline_model: Option<String>,
    /// Flag kinds that fail the gate (default: all).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "hallucination,regression,drift"
    )]
    pub fail_on: Vec<String>,
    /// Print the finished job as JSON instead of a report.
    #[arg(long)]
    pub json: bool,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 3600)]
    pub timeout_secs: u64,
}
