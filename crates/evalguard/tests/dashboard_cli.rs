//! The binary's side of the dashboard: `evalguard users create` and the
//! first-run setup link `serve` prints while no one can sign in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dashboard_support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use dashboard_support::free_port;
use reqwest::StatusCode;

const BIN: &str = env!("CARGO_BIN_EXE_evalguard");

/// `evalguard users create --org acme --email EMAIL --role ROLE`, run in `dir`.
fn users_create(dir: &std::path::Path, email: &str, role: &str) -> std::process::Output {
    Command::new(BIN)
        .current_dir(dir)
        .args([
            "users", "create", "--org", "acme", "--email", email, "--role", role,
        ])
        .output()
        .unwrap()
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve` and returns it with the setup link it printed, if any
/// (read from stderr until the server says it listens or prints the link).
fn serve(dir: &std::path::Path, port: u16) -> (KillOnDrop, Option<String>) {
    let mut child = Command::new(BIN)
        .current_dir(dir)
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--workers",
            "0",
        ])
        .env("EVALGUARD_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut link = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if let Some(at) = line.find("http://")
            && line.contains("/dashboard/setup?token=")
        {
            link = Some(line[at..].trim().to_owned());
            break;
        }
        if line.contains("EvalGuard listening") {
            break;
        }
    }
    (KillOnDrop(child), link)
}

#[tokio::test]
async fn users_create_prints_a_password_that_signs_in_and_ends_the_setup_link() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (first, link) = serve(dir.path(), port);
    let link = link.expect("an empty database prints a setup link");
    assert!(
        link.starts_with(&format!("http://127.0.0.1:{port}/dashboard/setup?token=")),
        "{link}"
    );
    drop(first);

    let out = users_create(dir.path(), "Ann@Acme.example", "admin");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let password = stdout.lines().last().unwrap().trim().to_owned();
    assert!(password.len() >= 12, "{stdout}");

    let mut piped = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "users",
            "create",
            "--org",
            "acme",
            "--email",
            "bob@acme.example",
            "--role",
            "viewer",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    piped
        .stdin
        .take()
        .unwrap()
        .write_all(b"bob's long password\n")
        .unwrap();
    let out = piped.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        !String::from_utf8(out.stdout)
            .unwrap()
            .contains("bob's long password")
    );

    let refused = users_create(dir.path(), "ann@acme.example", "viewer");
    assert!(!refused.status.success(), "an email is taken once");
    let weak = users_create(dir.path(), "cy@acme.example", "emperor");
    assert!(!weak.status.success());

    // With people in the database, no link is printed and the old one is dead.
    let (_server, link_now) = serve(dir.path(), port);
    assert!(link_now.is_none());
    evalguard::install_tls_provider();
    let base = format!("http://127.0.0.1:{port}");
    let dead = reqwest::get(&link).await.unwrap();
    assert_eq!(dead.status(), StatusCode::FORBIDDEN);

    let mut ann = dashboard_support::Browser::new(&base);
    let page = ann.login("ann@acme.example", &password).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let mut bob = dashboard_support::Browser::new(&base);
    assert_eq!(
        bob.login("bob@acme.example", "bob's long password")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

/// `evalguard users …` with `stdin` piped in, run in `dir`.
fn users_with_stdin(dir: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .current_dir(dir)
        .arg("users")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn users_reset_password_replaces_the_password_and_ends_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let created = users_with_stdin(
        dir.path(),
        &[
            "create",
            "--org",
            "acme",
            "--email",
            "ann@acme.example",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        "the first long password\n",
    );
    assert!(created.status.success());
    let port = free_port();
    let (_server, _) = serve(dir.path(), port);
    evalguard::install_tls_provider();
    let base = format!("http://127.0.0.1:{port}");
    let mut before = dashboard_support::Browser::new(&base);
    let page = before
        .login("ann@acme.example", "the first long password")
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);

    // A generated password, printed as the last line.
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["users", "reset-password", "--email", "Ann@acme.example"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let generated = stdout.lines().last().unwrap().trim().to_owned();
    assert!(generated.len() >= 12, "{stdout}");
    assert_eq!(
        before.get("/dashboard").await.status,
        StatusCode::SEE_OTHER,
        "the reset ended the session"
    );
    let old = dashboard_support::Browser::new(&base)
        .login("ann@acme.example", "the first long password")
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = dashboard_support::Browser::new(&base)
        .login("ann@acme.example", &generated)
        .await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);

    // From standard input; a short one or an unknown email change nothing.
    let args = [
        "reset-password",
        "--email",
        "ann@acme.example",
        "--password-stdin",
    ];
    let piped = users_with_stdin(dir.path(), &args, "the third long password\n");
    assert!(piped.status.success());
    assert!(!String::from_utf8_lossy(&piped.stdout).contains("the third"));
    let short = users_with_stdin(dir.path(), &args, "short\n");
    assert!(!short.status.success());
    let unknown = users_with_stdin(
        dir.path(),
        &[
            "reset-password",
            "--email",
            "nobody@acme.example",
            "--password-stdin",
        ],
        "a fourth long password\n",
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user"));
    let third = dashboard_support::Browser::new(&base)
        .login("ann@acme.example", "the third long password")
        .await;
    assert_eq!(third.status, StatusCode::SEE_OTHER);
}
