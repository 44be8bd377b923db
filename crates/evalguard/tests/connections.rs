//! Connection limits: idle and slow clients are cut off, so they cannot hold
//! every file descriptor (the real binary under `ulimit -n 256`), and the server
//! recovers by itself from running out of them; slow bodies and requests that
//! take too long are cut off too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod support;

use support::{KillOnDrop, TestApp, free_port};

const BIN: &str = env!("CARGO_BIN_EXE_evalguard");
/// Shortened from the default 10 s so the test takes seconds.
const HEADER_TIMEOUT_SECS: u64 = 2;

/// The binary under `ulimit -n 256`, with a 2 s header timeout.
fn spawn_limited_server(dir: &std::path::Path, port: u16) -> KillOnDrop {
    let config = dir.join("evalguard.toml");
    std::fs::write(
        &config,
        format!("[server]\nheader_timeout_secs = {HEADER_TIMEOUT_SECS}\n"),
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.join("evalguard.db").display());
    KillOnDrop(
        Command::new("sh")
            .arg("-c")
            .arg(r#"ulimit -n 256 && exec "$0" serve --addr "$1" --database-url "$2" --config "$3" --workers 1"#)
            .arg(BIN)
            .arg(format!("127.0.0.1:{port}"))
            .arg(db)
            .arg(config)
            .env("EVALGUARD_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

async fn healthz(client: &reqwest::Client, base: &str) -> bool {
    matches!(client.get(format!("{base}/healthz")).send().await, Ok(r) if r.status() == 200)
}

/// A started server: its process, port, base URL and a client for it.
struct Started {
    _server: KillOnDrop,
    _dir: tempfile::TempDir,
    port: u16,
    base: String,
    client: reqwest::Client,
}

async fn start() -> Started {
    evalguard::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = spawn_limited_server(dir.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    // No pooled connections: each check is a new connection, like a new client.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !healthz(&client, &base).await {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Started {
        _server: server,
        _dir: dir,
        port,
        base,
        client,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cannot_starve_the_server_of_descriptors() {
    let server = start().await;
    let (port, base, client) = (server.port, server.base.as_str(), &server.client);

    // 300 connections that send nothing: more than the server's 256 descriptors.
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    // The server answers again once the idle connections have been cut off
    // (two rounds of the header timeout at most: the accepted ones, then the
    // ones still waiting in the listen queue).
    let started = Instant::now();
    let answered = healthz(client, base).await;
    let waited = started.elapsed();
    assert!(answered, "/healthz failed after {waited:?}");
    assert!(
        waited < Duration::from_secs(3 * HEADER_TIMEOUT_SECS + 5),
        "/healthz took {waited:?}"
    );
    // And the idle connections were closed by the server.
    let mut closed = 0;
    for stream in &mut idle {
        let mut buf = [0u8; 256];
        // EOF or a reset both mean closed; a timeout means still open.
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await;
        if read.is_ok() {
            closed += 1;
        }
    }
    assert_eq!(closed, 300, "connections left open by the server");
    // Still healthy for the next client, immediately.
    assert!(healthz(client, base).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_that_never_ends_is_cut_off() {
    let server = start().await;
    let port = server.port;

    let mut slow = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let started = Instant::now();
    // A head without its final empty line, then one more header now and then:
    // the client keeps sending, but never finishes.
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let cut_off = loop {
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(Duration::from_millis(500), slow.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {
                if started.elapsed() > Duration::from_secs(HEADER_TIMEOUT_SECS + 10) {
                    break false;
                }
                if slow.write_all(b"X-Slow: 1\r\n").await.is_err() {
                    break true;
                }
            }
        }
    };
    let waited = started.elapsed();
    assert!(cut_off, "the connection stayed open for {waited:?}");
    assert!(
        waited >= Duration::from_secs(HEADER_TIMEOUT_SECS - 1),
        "cut off too early: {waited:?}"
    );
    // Either a bare disconnect or a 408; never a normal answer.
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

/// Sends a request head announcing a 1,000-byte body, then `first` of it;
/// then, every `drip`, one more byte. Returns the answer's first bytes and
/// how long it took.
async fn send_slow_body(base: &str, key: &str, drip: Duration) -> (String, Duration) {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/traffic HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"samples\": ["
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    loop {
        let mut buf = [0u8; 4096];
        match tokio::time::timeout(drip, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}}") {
                    break;
                }
            }
            Err(_) => {
                assert!(started.elapsed() < Duration::from_secs(20), "no answer");
                if stream.write_all(b" ").await.is_err() {
                    break;
                }
            }
        }
    }
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_coming_is_cut_off() {
    let app = TestApp::spawn_sqlite_with(|c| {
        c.body_read_timeout = Duration::from_secs(1);
        c.request_timeout = Duration::from_secs(30);
    })
    .await;
    let owner = app.project("org-a", "alpha").await;
    // Nothing more after the start of the body: cut off after the body timeout.
    let (answer, waited) = send_slow_body(&app.base, &owner, Duration::from_secs(30)).await;
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    assert!(
        answer.is_empty()
            || answer.starts_with("HTTP/1.1 400")
            || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // The server still answers.
    assert_eq!(app.get(&owner, "/api/v1/projects").await.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_longer_than_the_request_timeout_is_answered_408() {
    let app = TestApp::spawn_sqlite_with(|c| {
        c.body_read_timeout = Duration::from_secs(5);
        c.request_timeout = Duration::from_secs(2);
    })
    .await;
    let owner = app.project("org-a", "alpha").await;
    // A byte every 200 ms never trips the body timeout, but the whole
    // request cannot take longer than 2 s.
    let (answer, waited) = send_slow_body(&app.base, &owner, Duration::from_millis(200)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    assert!(
        waited >= Duration::from_millis(1_900) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    app.stop().await;
}
