use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Parser;
use evalguard::cli::{Cli, Command, GlobalArgs, KeysCommand, ServeArgs, UsersCommand};
use evalguard::config::{Config, FileConfig, Overrides};
use evalguard::gate::GateOutcome;
use evalguard::keys::{CreateKey, Revoked, create_key, keys_table, list_keys, revoke_key};
use evalguard::users::{CreateUser, NewPassword, create_user, reset_password};
use evalguard::{Application, gate, logging};
use evalguard_domain::{ProjectId, Role};
use evalguard_storage::Storage;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let Cli {
        global,
        leading_serve,
        command,
    } = cli;
    if !matches!(command, Command::Eval(_)) {
        // The gate prints a report, not logs.
        logging::init(global.log_format);
    }
    match command {
        Command::Eval(args) => {
            return Ok(match gate::run(&args).await? {
                GateOutcome::Pass => ExitCode::SUCCESS,
                GateOutcome::Flagged => ExitCode::from(1),
                GateOutcome::Undecided(reasons) => {
                    for reason in reasons {
                        eprintln!("evalguard: cannot decide: {reason}");
                    }
                    ExitCode::from(2)
                }
            });
        }
        Command::Serve(args) => {
            serve(
                load_config(&global, args.or_leading(leading_serve))?,
                global.log_format,
            )
            .await?;
        }
        Command::Worker(args) => {
            let mut config = load_config(&global, args.or_leading(leading_serve))?;
            config.serve_http = false;
            if config.workers == 0 {
                return Err(anyhow!("`evalguard worker` needs --workers of at least 1"));
            }
            serve(config, global.log_format).await?;
        }
        Command::Migrate => {
            // Connecting applies the migrations.
            let config = load_config(&global, ServeArgs::default())?;
            Storage::connect(&config.database_url)
                .await
                .context("migrating the database")?;
            tracing::info!("migrations applied");
        }
        Command::Keys(KeysCommand::Create {
            org,
            role,
            project,
            name,
        }) => {
            let role = Role::parse(&role)
                .ok_or_else(|| anyhow!("--role must be viewer, member, admin or owner"))?;
            let project = project
                .map(|p| ProjectId::parse(&p))
                .transpose()
                .map_err(|e| anyhow!("--project: {e}"))?;
            let storage = open_storage(&global).await?;
            let secret = create_key(
                &storage,
                CreateKey {
                    org,
                    role,
                    project,
                    name,
                },
            )
            .await?;
            println!("{}", secret.expose());
        }
        Command::Keys(KeysCommand::List { org }) => {
            let storage = open_storage(&global).await?;
            print!("{}", keys_table(&list_keys(&storage, &org).await?));
        }
        Command::Keys(KeysCommand::Revoke { id }) => {
            let storage = open_storage(&global).await?;
            match revoke_key(&storage, &id).await? {
                Revoked::Now => println!("revoked {id}"),
                Revoked::Already => println!("{id} was already revoked"),
            }
        }
        Command::Users(UsersCommand::Create {
            org,
            email,
            role,
            password_stdin,
        }) => {
            let role = Role::parse(&role)
                .ok_or_else(|| anyhow!("--role must be viewer, member, admin or owner"))?;
            let password = NewPassword::read_or_generate(password_stdin)?;
            let storage = open_storage(&global).await?;
            let request = CreateUser {
                org,
                email,
                role,
                password: password.text.clone(),
            };
            create_user(&storage, request).await?;
            password.print_if_generated();
        }
        Command::Users(UsersCommand::ResetPassword {
            email,
            password_stdin,
        }) => {
            let password = NewPassword::read_or_generate(password_stdin)?;
            let storage = open_storage(&global).await?;
            reset_password(&storage, &email, &password.text).await?;
            password.print_if_generated();
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn open_storage(global: &GlobalArgs) -> anyhow::Result<Storage> {
    let config = load_config(global, ServeArgs::default())?;
    Storage::connect(&config.database_url)
        .await
        .context("opening the database")
}

fn load_config(global: &GlobalArgs, serving: ServeArgs) -> anyhow::Result<Config> {
    let file = match &global.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let overrides = Overrides {
        addr: serving.addr,
        database_url: global.database_url.clone(),
        workers: serving.workers,
        rate_limit_per_minute: serving.rate_limit_per_minute,
        ingest_rate_limit_per_minute: serving.ingest_rate_limit_per_minute,
    };
    Ok(Config::resolve(overrides, file))
}

async fn serve(config: Config, log_format: logging::LogFormat) -> anyhow::Result<()> {
    logging::log_startup(&config);
    let app = Application::build(config).await?;
    if let Some(url) = app.setup_url() {
        // Not through tracing, whose filter could hide it: the link must reach
        // the person starting the server. In JSON, so log pipelines can parse it.
        let message = format!("No one can sign in yet. Create the first owner at {url}");
        match log_format {
            logging::LogFormat::Json => eprintln!(
                "{}",
                serde_json::json!({"level": "WARN", "fields": {"message": message, "setup_url": url}})
            ),
            logging::LogFormat::Text => eprintln!("{message}"),
        }
    }
    match app.local_addr() {
        Some(addr) => tracing::info!(%addr, "EvalGuard listening"),
        // A worker-only process has no address to announce; this line tells
        // operators (and supervisors) that it has migrated and is taking jobs.
        None => tracing::info!("workers running"),
    }
    let token = app.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: finishing or releasing running jobs");
        token.cancel();
    });
    app.run_until_stopped().await
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
