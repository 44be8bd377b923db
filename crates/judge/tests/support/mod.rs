//! A scripted judge provider on 127.0.0.1:0 speaking the OpenAI chat
//! completions and Anthropic messages protocols. Each request takes the next
//! scripted step (or the default one); every request body is recorded.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub enum Step {
    Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
        delay: Duration,
    },
    /// Never answers.
    Hang,
}

impl Step {
    pub fn ok(body: String) -> Self {
        Step::Reply {
            status: 200,
            headers: vec![],
            body,
            delay: Duration::ZERO,
        }
    }
    pub fn status(status: u16, body: &str) -> Self {
        Step::Reply {
            status,
            headers: vec![],
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }
    pub fn too_many(retry_after: &str) -> Self {
        Step::Reply {
            status: 429,
            headers: vec![("retry-after", retry_after.to_owned())],
            body: r#"{"error":{"message":"rate limited"}}"#.to_owned(),
            delay: Duration::ZERO,
        }
    }
    /// The same reply with one more header.
    pub fn with_header(self, name: &'static str, value: &str) -> Self {
        match self {
            Step::Reply {
                status,
                mut headers,
                body,
                delay,
            } => {
                headers.push((name, value.to_owned()));
                Step::Reply {
                    status,
                    headers,
                    body,
                    delay,
                }
            }
            Step::Hang => Step::Hang,
        }
    }

    pub fn delayed(self, by: Duration) -> Self {
        match self {
            Step::Reply {
                status,
                headers,
                body,
                ..
            } => Step::Reply {
                status,
                headers,
                body,
                delay: by,
            },
            Step::Hang => Step::Hang,
        }
    }
}

/// A token bucket: `rate` per second, `burst` capacity.
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

pub struct ServerState {
    script: Mutex<VecDeque<Step>>,
    default: Mutex<Step>,
    bucket: Mutex<Option<Bucket>>,
    pub requests: AtomicU64,
    pub rejected_429: AtomicU64,
    pub bodies: Mutex<Vec<Value>>,
    pub headers: Mutex<Vec<HeaderMap>>,
    in_flight: AtomicU64,
    pub max_in_flight: AtomicU64,
}

pub struct ScriptedServer {
    /// `http://127.0.0.1:port` (OpenAI base URL: add `/v1`).
    pub url: String,
    pub state: Arc<ServerState>,
}

impl ScriptedServer {
    pub async fn start(default: Step) -> Self {
        let state = Arc::new(ServerState {
            script: Mutex::new(VecDeque::new()),
            default: Mutex::new(default),
            bucket: Mutex::new(None),
            requests: AtomicU64::new(0),
            rejected_429: AtomicU64::new(0),
            bodies: Mutex::new(Vec::new()),
            headers: Mutex::new(Vec::new()),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(handle))
            .route("/v1/messages", post(handle))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url: format!("http://{addr}"),
            state,
        }
    }

    pub fn openai_base(&self) -> String {
        format!("{}/v1", self.url)
    }

    pub fn push(&self, steps: impl IntoIterator<Item = Step>) {
        self.state.script.lock().unwrap().extend(steps);
    }

    /// Answers 429 (with `Retry-After`) beyond `rate` requests/s, `burst` at once.
    pub fn limit_rate(&self, rate: f64, burst: f64) {
        *self.state.bucket.lock().unwrap() = Some(Bucket {
            rate,
            burst,
            tokens: burst,
            at: Instant::now(),
        });
    }

    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::SeqCst)
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.state.bodies.lock().unwrap().clone()
    }

    pub fn last_headers(&self) -> HeaderMap {
        self.state
            .headers
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default()
    }
}

async fn handle(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.requests.fetch_add(1, Ordering::SeqCst);
    state
        .bodies
        .lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
    state.headers.lock().unwrap().push(headers);
    // With a rate limit, every answer carries OpenAI's budget headers: the
    // bucket's capacity, whole tokens left, and the time until it is full.
    let (limited, budget) = {
        let mut bucket = state.bucket.lock().unwrap();
        match bucket.as_mut() {
            None => (false, None),
            Some(b) => {
                let now = Instant::now();
                b.tokens =
                    (b.tokens + now.duration_since(b.at).as_secs_f64() * b.rate).min(b.burst);
                b.at = now;
                let limited = if b.tokens >= 1.0 {
                    b.tokens -= 1.0;
                    false
                } else {
                    true
                };
                let until_full_ms = ((b.burst - b.tokens) / b.rate * 1000.0).ceil();
                let budget = [
                    ("x-ratelimit-limit-requests", format!("{}", b.burst.floor())),
                    (
                        "x-ratelimit-remaining-requests",
                        format!("{}", b.tokens.floor()),
                    ),
                    ("x-ratelimit-reset-requests", format!("{until_full_ms}ms")),
                ];
                (limited, Some(budget))
            }
        }
    };
    if limited {
        state.rejected_429.fetch_add(1, Ordering::SeqCst);
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1"), ("retry-after-ms", "20")],
            "{}",
        )
            .into_response();
        for (name, value) in budget.into_iter().flatten() {
            response.headers_mut().insert(name, value.parse().unwrap());
        }
        return response;
    }
    let step = state.script.lock().unwrap().pop_front();
    let step = step.unwrap_or_else(|| state.default.lock().unwrap().clone());
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let response = match step {
        Step::Hang => {
            std::future::pending::<()>().await;
            StatusCode::OK.into_response()
        }
        Step::Reply {
            status,
            headers,
            body,
            delay,
        } => {
            tokio::time::sleep(delay).await;
            let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
            response
                .headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            for (name, value) in headers.into_iter().chain(budget.into_iter().flatten()) {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
    };
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

/// An OpenAI chat completion whose message content is `content`.
pub fn openai_completion(content: &str) -> String {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "judge-model",
        "system_fingerprint": "fp_x",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "annotations": []},
                     "finish_reason": "stop", "logprobs": null}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
                  "prompt_tokens_details": {"cached_tokens": 0}}
    })
    .to_string()
}

/// An Anthropic message with a `verdict` tool call.
pub fn anthropic_tool_use(input: Value) -> String {
    json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-judge",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "verdict", "input": input}],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 200, "output_tokens": 40, "cache_creation_input_tokens": 0}
    })
    .to_string()
}

pub fn anthropic_text(text: &str) -> String {
    json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-judge",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 200, "output_tokens": 40}
    })
    .to_string()
}

pub fn factual_json() -> String {
    json!({"claims": [{"claim": "Paris is the capital of France", "verdict": "supported"}], "reasoning": "supported by the context"}).to_string()
}

pub fn hallucinated_json() -> String {
    json!({"claims": [
        {"claim": "Paris is the capital of France", "verdict": "supported"},
        {"claim": "Paris has 50 million people", "verdict": "contradicted"}
    ], "reasoning": "the population is wrong"})
    .to_string()
}
