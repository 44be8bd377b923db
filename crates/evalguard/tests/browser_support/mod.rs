//! A real browser for the dashboard's tests: Debian's `chromium` driven
//! through `chromedriver` (WebDriver) by fantoccini. Each test starts
//! chromedriver on a free port and a headless browser, and saves screenshots
//! of the pages it visits under `target/screenshots/`. Without chromedriver
//! the tests fail when `CI=true` and are skipped with a notice otherwise.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::dashboard_support::{self, DashboardApp, Db};
use evalguard_domain::Role;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const PASSWORD: &str = "a long enough password";

pub struct Driver {
    process: Child,
    pub client: Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// chromedriver and a headless chromium, or `None` (skip) when they are not
/// installed outside CI.
pub async fn browser() -> Option<Driver> {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{CHROMEDRIVER} is missing: apt-get install -y chromium chromium-driver");
        }
        eprintln!("{CHROMEDRIVER} is missing: skipping the browser test");
        return None;
    }
    evalguard::install_tls_provider();
    let port = dashboard_support::free_port();
    let process = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({"binary": CHROMIUM,
               "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1280,1800"]}),
    );
    // chromedriver answers once it is listening: retry the session until then.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attempt = ClientBuilder::rustls()
            .expect("a TLS configuration")
            .capabilities(caps.clone())
            .connect(&url)
            .await;
        match attempt {
            Ok(client) => return Some(Driver { process, client }),
            Err(e) if Instant::now() > deadline => panic!("chromedriver did not answer: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

pub async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

pub async fn fill(client: &Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

pub async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The text of `css` once it holds `needle`. For a form that posts back to
/// its own page: the path cannot tell the old page from the new one, and an
/// element read from the old page goes stale when the new one loads.
pub async fn text_once_it_holds(client: &Client, css: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = match client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(needle) || Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The path the browser shows once the navigation a click started has
/// ended on `expected` (a click returns before the next page loads).
pub async fn path(client: &Client, expected: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let path = client.current_url().await.unwrap().path().to_owned();
        let ready = client
            .execute("return document.readyState", vec![])
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
        if (path == expected && ready.as_deref() == Some("complete")) || Instant::now() > deadline {
            return path;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn sign_in(client: &Client, base: &str, email: &str) {
    client
        .goto(&format!("{base}/dashboard/login"))
        .await
        .unwrap();
    fill(client, "#email", email).await;
    fill(client, "#password", PASSWORD).await;
    click(client, "#sign-in").await;
    assert_eq!(path(client, "/dashboard").await, "/dashboard");
}

/// A browser signed in as `email` (with `role` in the organization acme) on
/// a fresh SQLite server, or `None` (skip) as [`browser`] says.
pub async fn signed_in(email: &str, role: Role) -> Option<(Driver, DashboardApp)> {
    let driver = browser().await?;
    let app = DashboardApp::start(Db::Sqlite, |_| {}).await.unwrap();
    app.user("acme", email, role, PASSWORD).await;
    sign_in(&driver.client, &app.base, email).await;
    Some((driver, app))
}
