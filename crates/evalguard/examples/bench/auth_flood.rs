//! `--scenario auth-flood`: the latency of a valid key while other clients
//! flood the server with well-formed unknown keys. One client sends a cheap
//! authenticated `GET /api/v1/projects/bench` with a valid key at a fixed
//! rate and records p50/p99; `FLOOD_CLIENTS` others send unknown keys as fast
//! as they can. Three runs, each on a fresh server: no flood; the flood
//! against the default failed-authentication limit (60 a minute per address:
//! the flood soon gets `429` without a database lookup); the flood with that
//! limit raised out of reach (every bad key costs a lookup, as before the
//! limit existed). All clients share 127.0.0.1, so the valid key also comes
//! from the throttled address, the hardest case for "valid keys pass".

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::percentile;
use crate::server::{Server, start_server};

const FLOOD_CLIENTS: usize = 8;
const VALID_RATE: u64 = 200;
const SECONDS: u64 = 10;

/// What the flooding clients got.
#[derive(Default)]
struct FloodCounts {
    sent: AtomicU64,
    throttled: AtomicU64,
    unauthorized: AtomicU64,
}

/// One measured run: its label, whether bad keys flood the server, and the
/// configuration file the server is started with.
struct Run<'a> {
    name: &'a str,
    flood: bool,
    config: Option<&'a str>,
}

pub async fn run(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let limit_off = dir.path().join("limit-off.toml");
    std::fs::write(
        &limit_off,
        "[limits]\nfailed_auth_per_minute = 4000000000\n",
    )
    .unwrap();
    let limit_off = limit_off.display().to_string();
    let runs = [
        Run {
            name: "no flood",
            flood: false,
            config: None,
        },
        Run {
            name: "flood, failed-auth limit 60/min (default)",
            flood: true,
            config: None,
        },
        Run {
            name: "flood, failed-auth limit out of reach",
            flood: true,
            config: Some(limit_off.as_str()),
        },
    ];
    for Run {
        name,
        flood,
        config,
    } in runs
    {
        let env: Vec<(&str, &str)> = config
            .map(|path| ("EVALGUARD_CONFIG", path))
            .into_iter()
            .collect();
        let server = start_server(db, 0, &env).await;
        let (latencies, counts, flood_secs) = measure(&server, flood).await;
        let sent = counts.sent.load(Ordering::Relaxed);
        let flood_line = if flood {
            format!(
                "; flood: {sent} requests ({:.0}/s, {FLOOD_CLIENTS} clients), {} got 429, {} got 401",
                sent as f64 / flood_secs,
                counts.throttled.load(Ordering::Relaxed),
                counts.unauthorized.load(Ordering::Relaxed),
            )
        } else {
            String::new()
        };
        println!(
            "valid key, GET /api/v1/projects/bench at {VALID_RATE} req/s for {SECONDS} s, {name}: \
             p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} requests){flood_line}",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            latencies.last().copied().unwrap_or(0.0),
            latencies.len(),
        );
    }
}

/// The valid key's sorted latencies (ms), the flood's counts and how long it ran (s).
async fn measure(server: &Server, flood: bool) -> (Vec<f64>, Arc<FloodCounts>, f64) {
    let counts = Arc::new(FloodCounts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let url = format!("{}/api/v1/projects/bench", server.base);
    let mut flooders = Vec::new();
    let flood_started = Instant::now();
    if flood {
        for client_index in 0..FLOOD_CLIENTS {
            let (counts, stop, url) = (counts.clone(), stop.clone(), url.clone());
            flooders.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut n: u64 = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    // Well-formed (`eg_<12 hex>_<64 hex>`) and unknown.
                    let key = format!("eg_{:012x}_{:064x}", client_index, n);
                    let status = client
                        .get(&url)
                        .bearer_auth(key)
                        .send()
                        .await
                        .unwrap()
                        .status();
                    counts.sent.fetch_add(1, Ordering::Relaxed);
                    match status.as_u16() {
                        429 => counts.throttled.fetch_add(1, Ordering::Relaxed),
                        401 => counts.unauthorized.fetch_add(1, Ordering::Relaxed),
                        other => panic!("a bad key got {other}"),
                    };
                }
            }));
        }
        // Let the flood reach its steady state (the limit used up) first.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let latencies = valid_key_latencies(server, &url).await;
    stop.store(true, Ordering::Relaxed);
    for flooder in flooders {
        flooder.await.unwrap();
    }
    (latencies, counts, flood_started.elapsed().as_secs_f64())
}

/// Open-loop requests with the valid key at `VALID_RATE`/s for `SECONDS`.
async fn valid_key_latencies(server: &Server, url: &str) -> Vec<f64> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    // Warm-up: the key verified once and cached, connections open.
    for _ in 0..20 {
        let r = client
            .get(url)
            .bearer_auth(&server.key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let interval = Duration::from_secs_f64(1.0 / VALID_RATE as f64);
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..VALID_RATE * SECONDS {
        tokio::time::sleep_until(started + interval * i as u32).await;
        let (client, url, key) = (client.clone(), url.to_owned(), server.key.clone());
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = client.get(&url).bearer_auth(&key).send().await.unwrap();
            assert_eq!(r.status(), 200, "the valid key was refused");
            t.elapsed().as_secs_f64() * 1000.0
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    for t in tasks {
        latencies.push(t.await.unwrap());
    }
    latencies.sort_by(f64::total_cmp);
    latencies
}
