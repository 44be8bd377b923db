//! The binary as an operator runs it: key administration, the flags each
//! command takes, and the logs it writes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use clap::CommandFactory;
use evalguard::cli::Cli;

const BIN: &str = env!("CARGO_BIN_EXE_evalguard");

fn evalguard(dir: &tempfile::TempDir, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir.path())
        .env_remove("EVALGUARD_DATABASE_URL")
        .env_remove("EVALGUARD_LOG_FORMAT")
        .args(args)
        .output()
        .unwrap()
}

fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The key id of a secret `eg_<id>_<secret>`.
fn key_id(secret: &str) -> &str {
    secret
        .strip_prefix("eg_")
        .unwrap()
        .split('_')
        .next()
        .unwrap()
}

#[tokio::test]
async fn keys_are_listed_per_organization_and_revoked_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let create = |org: &str, name: &str| {
        let out = evalguard(
            &dir,
            &[
                "keys", "create", "--org", org, "--role", "admin", "--name", name,
            ],
        );
        stdout_of(&out).lines().last().unwrap().trim().to_owned()
    };
    let ci = create("acme", "ci");
    let laptop = create("acme", "laptop");
    let other = create("globex", "theirs");

    let listed = stdout_of(&evalguard(&dir, &["keys", "list", "--org", "acme"]));
    let rows: Vec<&str> = listed.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{listed}");
    assert!(
        rows[0].starts_with(key_id(&ci)) && rows[0].contains("\tadmin\t"),
        "{listed}"
    );
    assert!(rows[0].contains("\tci\t"), "{listed}");
    assert!(rows[1].starts_with(key_id(&laptop)), "{listed}");
    assert!(
        !listed.contains(key_id(&other)),
        "another organization's key: {listed}"
    );
    for secret in [&ci, &laptop] {
        assert!(!listed.contains(secret.as_str()), "a secret was printed");
    }

    let revoked = stdout_of(&evalguard(&dir, &["keys", "revoke", key_id(&laptop)]));
    assert!(revoked.contains("revoked"), "{revoked}");
    let again = stdout_of(&evalguard(&dir, &["keys", "revoke", key_id(&laptop)]));
    assert!(again.contains("already revoked"), "{again}");
    let listed = stdout_of(&evalguard(&dir, &["keys", "list", "--org", "acme"]));
    let laptop_row = listed
        .lines()
        .find(|l| l.starts_with(key_id(&laptop)))
        .unwrap();
    assert!(
        !laptop_row.ends_with("\t-"),
        "revocation time shown: {laptop_row}"
    );
    let ci_row = listed.lines().find(|l| l.starts_with(key_id(&ci))).unwrap();
    assert!(ci_row.ends_with("\t-"), "not revoked: {ci_row}");

    // Unknown organization or key: exit 2 with a message, nothing created.
    let unknown = evalguard(&dir, &["keys", "list", "--org", "initech"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("initech"));
    let unknown = evalguard(&dir, &["keys", "revoke", "0123456789abcdef"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no key"));
}

#[tokio::test]
async fn a_revoked_key_is_refused_by_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("evalguard.db").display());
    let out = evalguard(
        &dir,
        &[
            "keys",
            "create",
            "--org",
            "acme",
            "--role",
            "viewer",
            "--database-url",
            &url,
        ],
    );
    let secret = stdout_of(&out).lines().last().unwrap().trim().to_owned();
    stdout_of(&evalguard(
        &dir,
        &["keys", "revoke", key_id(&secret), "--database-url", &url],
    ));
    let mut config = evalguard::Config::for_tests(&url);
    config.workers = 0;
    let app = evalguard::Application::build(config).await.unwrap();
    let addr = app.local_addr().unwrap();
    let shutdown = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped());
    let r = reqwest::Client::new()
        .get(format!("http://{addr}/api/v1/projects"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    shutdown.cancel();
    server.await.unwrap().unwrap();
}

#[test]
fn every_flag_has_help_text() {
    fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in command.get_subcommands() {
            if sub.get_about().is_none() {
                missing.push(format!("{path} {} (the command itself)", sub.get_name()));
            }
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(&Cli::command(), "evalguard", &mut missing);
    assert!(missing.is_empty(), "flags without help: {missing:?}");
}

#[test]
fn serving_flags_belong_to_serve_and_worker() {
    let dir = tempfile::tempdir().unwrap();
    for command in [&["serve", "--help"][..], &["worker", "--help"]] {
        let help = stdout_of(&evalguard(&dir, command));
        for flag in [
            "--addr",
            "--workers",
            "--rate-limit-per-minute",
            "--database-url",
        ] {
            assert!(help.contains(flag), "{command:?} lacks {flag}: {help}");
        }
    }
    for command in [
        &["keys", "create", "--help"][..],
        &["migrate", "--help"],
        &["--help"],
    ] {
        let help = stdout_of(&evalguard(&dir, command));
        for flag in ["--addr", "--workers", "--rate-limit-per-minute"] {
            assert!(!help.contains(flag), "{command:?} offers {flag}: {help}");
        }
    }
    let refused = evalguard(
        &dir,
        &[
            "keys",
            "create",
            "--org",
            "a",
            "--role",
            "owner",
            "--workers",
            "2",
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--workers"));
}

#[test]
fn serving_flags_are_accepted_before_or_after_the_subcommand() {
    use clap::Parser;
    use evalguard::cli::Command as Sub;
    let workers = |argv: &[&str]| match Cli::try_parse_from(argv).unwrap() {
        Cli {
            leading_serve,
            command: Sub::Serve(args) | Sub::Worker(args),
            ..
        } => args.or_leading(leading_serve).workers,
        other => panic!("{other:?}"),
    };
    assert_eq!(workers(&["evalguard", "serve", "--workers", "3"]), Some(3));
    assert_eq!(workers(&["evalguard", "--workers", "2", "worker"]), Some(2));
    assert_eq!(
        workers(&["evalguard", "--workers", "2", "serve", "--workers", "3"]),
        Some(2),
        "a flag before the subcommand wins (the one after may come from the environment)"
    );
    assert!(Cli::try_parse_from(["evalguard", "migrate", "--workers", "2"]).is_err());
}

/// Starts `serve` and collects its stderr until it listens; then stops it.
fn startup_logs(dir: &tempfile::TempDir, extra: &[&str]) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut args = vec!["serve", "--addr", &addr, "--workers", "3"];
    args.extend_from_slice(extra);
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env_remove("EVALGUARD_DATABASE_URL")
        .env_remove("EVALGUARD_LOG")
        .env_remove("EVALGUARD_LOG_FORMAT")
        .env("EVALGUARD_JUDGE_BASE_URL", "http://127.0.0.1:9/v1")
        .env("EVALGUARD_JUDGE_API_KEY", "sk-never-logged-4242")
        .env("EVALGUARD_JUDGE_MODEL", "judge-model-x")
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut logs = String::new();
    while let Ok(line) = lines_rx.recv_timeout(Duration::from_secs(60)) {
        logs.push_str(&line);
        logs.push('\n');
        if line.contains("listening") {
            break;
        }
    }
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    child.wait().unwrap();
    logs
}

#[test]
fn startup_lines_name_database_judges_and_workers_in_plain_text_or_json() {
    let dir = tempfile::tempdir().unwrap();
    let text = startup_logs(&dir, &[]);
    assert!(text.contains("listening"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "ANSI codes when stderr is a pipe: {text:?}"
    );
    assert!(text.contains("sqlite://evalguard.db"), "{text}");
    assert!(text.contains("workers=3"), "{text}");
    assert!(text.contains("judge-model-x"), "{text}");
    assert!(text.contains("http://127.0.0.1:9/v1"), "{text}");
    assert!(
        !text.contains("sk-never-logged-4242"),
        "a key was logged: {text}"
    );

    let json = startup_logs(&dir, &["--log-format", "json"]);
    let events: Vec<serde_json::Value> = json
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let start = events
        .iter()
        .find(|e| e["fields"]["message"] == "starting EvalGuard")
        .unwrap();
    assert_eq!(start["fields"]["database"], "sqlite://evalguard.db");
    assert_eq!(start["fields"]["workers"], 3);
    let judge = events
        .iter()
        .find(|e| e["fields"]["message"] == "judge provider")
        .unwrap();
    assert_eq!(judge["fields"]["model"], "judge-model-x");
    assert_eq!(judge["fields"]["base_url"], "http://127.0.0.1:9/v1");
    assert!(!json.contains("sk-never-logged-4242"));
}

#[tokio::test]
async fn restarting_on_postgresql_logs_no_sqlx_notices() {
    let Some(url) = evalguard_storage::testing::fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The second start finds the migrations table: PostgreSQL answers its
    // CREATE … IF NOT EXISTS with a NOTICE, which sqlx logs at info.
    for start in 0..2 {
        let out = Command::new(BIN)
            .current_dir(dir.path())
            .env_remove("EVALGUARD_LOG")
            .env_remove("EVALGUARD_LOG_FORMAT")
            .args(["migrate", "--database-url", &url])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("migrations applied"), "{stderr}");
        assert!(
            !stderr.contains("already exists") && !stderr.contains("sqlx::postgres::notice"),
            "start {start}: {stderr}"
        );
    }
    // The notice is there to be hidden: with sqlx at info it shows.
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env("EVALGUARD_LOG", "info")
        .env_remove("EVALGUARD_LOG_FORMAT")
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
}
