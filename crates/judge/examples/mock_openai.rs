//! A local OpenAI-compatible judge provider for benchmarks and for trying
//! EvalGuard without an API key: answers `POST /v1/chat/completions` with a
//! valid verdict after a fixed latency, allows `--rps` requests per second
//! with bursts of `--burst` (token bucket) and answers 429 with `Retry-After`
//! beyond. As a hallucination judge it finds every claim supported, unless
//! the answer carries `--hallucinate-marker`'s word or falls in the share
//! `--hallucination-rate` (chosen by a hash of the request, so the same
//! sample always gets the same verdict). `GET /stats` gives the counts as
//! JSON; Ctrl-C prints them. `--help` lists the flags.
//!
//! cargo run --release -p evalguard-judge --example mock_openai -- --port 9100 --latency-ms 200 --rps 100 --burst 100

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

struct Options {
    port: u16,
    latency: Duration,
    rps: f64,
    burst: f64,
    /// Answers whose judge prompt contains this word are hallucinated.
    marker: Option<String>,
    /// Share of (hashed) requests judged hallucinated.
    hallucination_rate: f64,
}

const HELP: &str = "mock_openai: a local OpenAI-compatible judge for EvalGuard

USAGE: mock_openai [FLAGS]

  --port N                  port on 127.0.0.1 (default 9100; 0 = any free port)
  --latency-ms N            delay of every answer (default 200)
  --rps X                   requests per second before 429s (default 100)
  --burst N                 token-bucket burst (default 100)
  --hallucinate-marker WORD judge an answer hallucinated when it contains WORD
  --hallucination-rate X    judge this share (0-1) of requests hallucinated, by a hash of the request
  --help                    print this help

Point EvalGuard at it with EVALGUARD_JUDGE_BASE_URL=http://127.0.0.1:PORT/v1
(EVALGUARD_JUDGE_API_KEY and EVALGUARD_JUDGE_MODEL may be any value).
GET /stats answers the counts of answered and rate-limited calls.";

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        port: 9100,
        latency: Duration::from_millis(200),
        rps: 100.0,
        burst: 100.0,
        marker: None,
        hallucination_rate: 0.0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            println!("{HELP}");
            std::process::exit(0);
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = || format!("{flag}: cannot read {value:?}");
        match flag.as_str() {
            "--port" => options.port = value.parse().map_err(|_| bad())?,
            "--latency-ms" => {
                options.latency = Duration::from_millis(value.parse().map_err(|_| bad())?)
            }
            "--rps" => options.rps = value.parse().map_err(|_| bad())?,
            "--burst" => options.burst = value.parse().map_err(|_| bad())?,
            "--hallucinate-marker" => options.marker = Some(value).filter(|m| !m.is_empty()),
            "--hallucination-rate" => {
                options.hallucination_rate = value.parse().map_err(|_| bad())?
            }
            _ => return Err(format!("unknown flag {flag}; see --help")),
        }
    }
    if options.rps <= 0.0 || options.burst < 1.0 {
        return Err("--rps must be positive and --burst at least 1".into());
    }
    if !(0.0..=1.0).contains(&options.hallucination_rate) {
        return Err("--hallucination-rate is a share between 0 and 1".into());
    }
    Ok(options)
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

struct Mock {
    options: Options,
    bucket: Mutex<Bucket>,
    ok: AtomicU64,
    rejected: AtomicU64,
    started: Instant,
}

impl Mock {
    /// Takes a token, or says how long until one is available.
    fn take(&self) -> Result<(), Duration> {
        let mut bucket = match self.bucket.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = Instant::now();
        bucket.tokens = (bucket.tokens
            + now.duration_since(bucket.at).as_secs_f64() * self.options.rps)
            .min(self.options.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.options.rps,
            ))
        }
    }

    fn stats(&self) -> Value {
        let ok = self.ok.load(Ordering::Relaxed);
        let rejected = self.rejected.load(Ordering::Relaxed);
        let total = ok + rejected;
        json!({
            "ok_200": ok,
            "rejected_429": rejected,
            "total": total,
            "rejected_share": if total == 0 { 0.0 } else { rejected as f64 / total as f64 },
            "uptime_secs": self.started.elapsed().as_secs_f64(),
        })
    }
}

const VERDICT: &str = r#"{"claims":[{"claim":"The answer restates the context","verdict":"supported"}],"reasoning":"Every claim is supported by the context."}"#;
const HALLUCINATED_VERDICT: &str = r#"{"claims":[{"claim":"The answer adds a fact of its own","verdict":"contradicted"}],"reasoning":"The answer states something the context contradicts."}"#;

/// FNV-1a: a stable hash, so a request always gets the same verdict.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Options {
    /// Whether this request's answer is to be judged hallucinated.
    fn hallucinates(&self, request: &Value) -> bool {
        let prompt: String = request["messages"]
            .as_array()
            .map(|messages| {
                messages
                    .iter()
                    .filter_map(|m| m["content"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        if self
            .marker
            .as_ref()
            .is_some_and(|m| answer_part(&prompt).contains(m.as_str()))
        {
            return true;
        }
        self.hallucination_rate > 0.0
            && (fnv1a(&prompt) % 1_000_000) as f64 / 1_000_000.0 < self.hallucination_rate
    }
}

/// The judged answer inside EvalGuard's judge prompt (`<answer-…>…</answer-…>`),
/// so that a marker in the context or the question does not count; the whole
/// prompt when it has no such block.
fn answer_part(prompt: &str) -> &str {
    // The last one: the system message names the tags too.
    let Some(start) = prompt.rfind("<answer-") else {
        return prompt;
    };
    let rest = &prompt[start..];
    let body = rest.find('>').map_or(rest, |i| &rest[i + 1..]);
    body.find("</answer-").map_or(body, |end| &body[..end])
}

/// Whether a request asks for a hallucination verdict (claims judged one by one).
fn asks_for_claims(request: &Value) -> bool {
    let schema = &request["response_format"]["json_schema"]["schema"];
    schema["properties"]["claims"].is_object()
        || request["messages"].as_array().is_some_and(|messages| {
            messages
                .iter()
                .filter_map(|m| m["content"].as_str())
                .any(|c| c.contains("factual claims"))
        })
}

/// A value that satisfies a JSON schema: the first allowed value of every
/// enum (so a hallucination verdict finds every claim `supported`), a sentence
/// for strings, one item for arrays. Lets the service's judges and evaluation
/// libraries that ask for other structured output run against the same mock.
fn fill_schema(schema: &Value) -> Value {
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    match schema["type"].as_str() {
        Some("object") => {
            let mut object = serde_json::Map::new();
            if let Some(properties) = schema["properties"].as_object() {
                for (name, property) in properties {
                    object.insert(name.clone(), fill_schema(property));
                }
            }
            Value::Object(object)
        }
        Some("array") => json!([fill_schema(&schema["items"])]),
        Some("number") | Some("integer") => json!(1),
        Some("boolean") => json!(true),
        _ => json!("Every claim is supported by the context."),
    }
}

/// The assistant message answering a request: its JSON schema filled in when it
/// asks for structured output, a tool call when it forces one, else the verdict text.
fn reply_message(options: &Options, request: Option<&Value>) -> (Value, &'static str) {
    let Some(request) = request else {
        return (json!({"role": "assistant", "content": VERDICT}), "stop");
    };
    if asks_for_claims(request) && options.hallucinates(request) {
        return (
            json!({"role": "assistant", "content": HALLUCINATED_VERDICT}),
            "stop",
        );
    }
    let schema = &request["response_format"]["json_schema"]["schema"];
    if schema.is_object() {
        let content = fill_schema(schema).to_string();
        return (json!({"role": "assistant", "content": content}), "stop");
    }
    if let Some(tool) = request["tools"].get(0) {
        let function = &tool["function"];
        let arguments = fill_schema(&function["parameters"]).to_string();
        let message = json!({
            "role": "assistant", "content": null,
            "tool_calls": [{"id": "call_mock", "type": "function",
                            "function": {"name": function["name"], "arguments": arguments}}]
        });
        return (message, "tool_calls");
    }
    (json!({"role": "assistant", "content": VERDICT}), "stop")
}

async fn completions(State(mock): State<Arc<Mock>>, body: Option<Json<Value>>) -> Response {
    if let Err(wait) = mock.take() {
        mock.rejected.fetch_add(1, Ordering::Relaxed);
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        let body = json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}});
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [
                ("retry-after", seconds.to_string()),
                ("retry-after-ms", wait.as_millis().max(1).to_string()),
            ],
            Json(body),
        )
            .into_response();
    }
    tokio::time::sleep(mock.options.latency).await;
    mock.ok.fetch_add(1, Ordering::Relaxed);
    let (message, finish_reason) = reply_message(&mock.options, body.as_ref().map(|Json(b)| b));
    Json(json!({
        "id": "chatcmpl-mock", "object": "chat.completion", "created": 0, "model": "mock-judge",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 350, "completion_tokens": 40, "total_tokens": 390}
    }))
    .into_response()
}

async fn stats(State(mock): State<Arc<Mock>>) -> Json<Value> {
    Json(mock.stats())
}

#[tokio::main]
async fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("mock_openai: {message}");
            std::process::exit(2);
        }
    };
    let port = options.port;
    let mock = Arc::new(Mock {
        bucket: Mutex::new(Bucket {
            tokens: options.burst,
            at: Instant::now(),
        }),
        options,
        ok: AtomicU64::new(0),
        rejected: AtomicU64::new(0),
        started: Instant::now(),
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .route("/chat/completions", post(completions))
        .route("/stats", get(stats))
        .with_state(Arc::clone(&mock));
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("mock_openai: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    let port = listener.local_addr().map_or(port, |a| a.port());
    println!(
        "mock_openai listening on http://127.0.0.1:{port}/v1 (latency {} ms, {} req/s, burst {}, hallucinates: {})",
        mock.options.latency.as_millis(),
        mock.options.rps,
        mock.options.burst,
        match (&mock.options.marker, mock.options.hallucination_rate) {
            (Some(m), r) if r > 0.0 =>
                format!("answers with {m:?} and {:.0}% of the rest", r * 100.0),
            (Some(m), _) => format!("answers with {m:?}"),
            (None, r) if r > 0.0 => format!("{:.0}% of answers", r * 100.0),
            (None, _) => "never".to_owned(),
        }
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("mock_openai: {e}");
    }
    println!("{}", mock.stats());
}
