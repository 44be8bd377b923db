//! Starting and stopping the server under test, as a separate process.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

pub struct Server {
    pub child: Child,
    pub base: String,
    pub key: String,
    _dir: tempfile::TempDir,
}

/// A child process killed when the benchmark ends or fails.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn server_binary() -> PathBuf {
    if let Some(other) = std::env::var_os("EVALGUARD_BENCH_SERVER") {
        return PathBuf::from(other);
    }
    // target/release/examples/bench -> target/release/evalguard
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("evalguard")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn database_url(db: &str, dir: &tempfile::TempDir) -> String {
    match db {
        "postgres" => evalguard_storage::testing::fresh_postgres()
            .await
            .expect("set EVALGUARD_TEST_POSTGRES_URL for --db postgres"),
        _ => format!("sqlite://{}", dir.path().join("bench.db").display()),
    }
}

pub async fn start_server(db: &str, workers: usize, env: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(db, &dir).await;
    let bin = server_binary();
    let out = Command::new(&bin)
        .args([
            "keys",
            "create",
            "--org",
            "bench",
            "--role",
            "owner",
            "--database-url",
            &url,
        ])
        .output()
        .expect("run evalguard keys create (build with cargo build --release first)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let port = free_port();
    let child = Command::new(&bin)
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            &url,
        ])
        .args([
            "--workers",
            &workers.to_string(),
            "--rate-limit-per-minute",
            "100000000",
        ])
        .env("EVALGUARD_LOG", "warn")
        .env_remove("EVALGUARD_JUDGE_BASE_URL")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let server = Server {
        child,
        base,
        key,
        _dir: dir,
    };
    let r = client
        .post(format!("{}/api/v1/projects", server.base))
        .bearer_auth(&server.key)
        .json(&json!({"id": "bench", "name": "Bench"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    server
}

/// User + system CPU time of a process, from /proc.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0 // USER_HZ is 100 on Linux
}
