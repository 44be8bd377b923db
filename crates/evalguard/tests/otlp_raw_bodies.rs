//! OTLP ingest with raw bodies: OTLP/JSON gzipped and not, protobuf built
//! with the generated messages, retriever and LLM spans in either order and
//! in separate requests, idempotency, partial success, tenant isolation and
//! every error answer; on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod otlp_support;
mod support;

use std::sync::atomic::Ordering;

use evalguard_domain::Role;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_support::*;
use prost::Message;
use serde_json::{Value, json};
use support::{Db, TestApp};

const T1: &str = "5b8efff798038103d269b633813fc60c";
const T2: &str = "0af7651916cd43dd8448eb211c80319c";
const T3: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

async fn post_json(app: &TestApp, key: &str, body: &Value, gzipped: bool) -> Value {
    let bytes = body.to_string().into_bytes();
    let (bytes, encoding) = if gzipped {
        (gzip(&bytes), Some("gzip"))
    } else {
        (bytes, None)
    };
    let r = post_traces(app, Some(key), "application/json", encoding, bytes).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    r.json().await.unwrap()
}

async fn json_exports_in_any_order_are_judged_with_their_context(db: Db) {
    let judge = MockJudge::start().await;
    let Some(app) = spawn_with_judge(db, &judge).await else {
        return;
    };
    let owner = app.project("acme", "bot").await;
    let key = app.key("acme", Role::Member, None).await;
    // T1: retriever and LLM span in one export, gzipped.
    let one = export(
        "bot",
        vec![
            retriever_span(T1, "00f067aa0ba902b1", 0),
            llm_span(T1, "00f067aa0ba902c1", 1),
            json_span(
                T1,
                "00f067aa0ba902a1",
                "POST /chat",
                0,
                vec![string("http.request.method", "POST")],
            ),
        ],
    );
    assert_eq!(post_json(&app, &key, &one, true).await, json!({}));
    // T2: the retriever's export first, the LLM span's later.
    post_json(
        &app,
        &key,
        &export("bot", vec![retriever_span(T2, "00f067aa0ba902b2", 10)]),
        false,
    )
    .await;
    post_json(
        &app,
        &key,
        &export("bot", vec![llm_span(T2, "00f067aa0ba902c2", 11)]),
        true,
    )
    .await;
    // T3: the LLM span first; its documents arrive in a later export.
    post_json(
        &app,
        &key,
        &export("bot", vec![llm_span(T3, "00f067aa0ba902c3", 20)]),
        false,
    )
    .await;
    let org = org(&app, "acme").await;
    let before = stored(&app, org, "bot", "gpt-4o-mini", "default").await;
    assert!(
        before
            .iter()
            .find(|s| s.sample.id.starts_with(T3))
            .unwrap()
            .sample
            .context
            .is_empty()
    );
    post_json(
        &app,
        &key,
        &export("bot", vec![retriever_span(T3, "00f067aa0ba902b3", 19)]),
        true,
    )
    .await;

    // The same LLM span again is stored once.
    post_json(
        &app,
        &key,
        &export("bot", vec![llm_span(T1, "00f067aa0ba902c1", 1)]),
        false,
    )
    .await;

    let samples = stored(&app, org, "bot", "gpt-4o-mini", "default").await;
    assert_eq!(samples.len(), 3, "{samples:?}");
    for s in &samples {
        let s = &s.sample;
        assert_eq!(s.context, [DOCUMENT, "Closed on public holidays."], "{s:?}");
        assert_eq!(s.input, "When is the office open?");
        assert_eq!(s.output, "From 9 to 5 on weekdays.");
        assert_eq!((s.prompt_tokens, s.completion_tokens), (Some(31), Some(8)));
        assert_eq!(s.latency_ms, Some(640.0));
        assert_eq!(
            s.metadata.as_ref().unwrap().field("otel").unwrap()["vocabulary"],
            "gen_ai_flattened"
        );
    }
    assert_eq!(
        samples[0].sample.id,
        format!("{T3}-00f067aa0ba902c3"),
        "newest first by span start"
    );
    assert_eq!(
        samples[0].sample.timestamp.to_rfc3339(),
        "2026-12-01T00:00:20+00:00"
    );

    let job = judge_hallucinations(&app, &owner, "bot", "gpt-4o-mini", "default", 3).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["summary"]["hallucination"]["n"], 3, "{job}");
    assert_eq!(
        judge.calls_with_document.load(Ordering::SeqCst),
        judge.calls.load(Ordering::SeqCst)
    );
    app.stop().await;
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..Default::default()
    }
}

fn proto_span(trace: &str, span: &str, attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id: hex_bytes(trace),
        span_id: hex_bytes(span),
        name: "chat".to_owned(),
        start_time_unix_nano: 1_764_547_200_000_000_000,
        end_time_unix_nano: 1_764_547_200_250_000_000,
        attributes,
        ..Default::default()
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn proto_export(project: &str, spans: Vec<Span>) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("evalguard.project_id", project),
                    kv("evalguard.prompt_id", "answer-v2"),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn genai_attributes() -> Vec<KeyValue> {
    vec![
        kv("gen_ai.operation.name", "chat"),
        kv("gen_ai.request.model", "gpt-4o"),
        kv(
            "gen_ai.input.messages",
            r#"[{"role":"user","parts":[{"type":"text","content":"Hello?"}]}]"#,
        ),
        kv(
            "gen_ai.output.messages",
            r#"[{"role":"assistant","parts":[{"type":"text","content":"Hi!"}],"finish_reason":"stop"}]"#,
        ),
    ]
}

async fn protobuf_exports_answer_protobuf_with_partial_success(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    app.project("acme", "bot").await;
    let key = app.key("acme", Role::Member, None).await;
    let mut no_model = genai_attributes();
    no_model.remove(1);
    let body = proto_export(
        "bot",
        vec![
            proto_span(T1, "00f067aa0ba902c1", genai_attributes()),
            proto_span(T2, "00f067aa0ba902c2", no_model),
            proto_span(T3, "00f067aa0ba902a3", vec![kv("db.system", "postgresql")]),
        ],
    );
    for encoding in [None, Some("gzip")] {
        let bytes = if encoding.is_some() {
            gzip(&body)
        } else {
            body.clone()
        };
        let r = post_traces(&app, Some(&key), "application/x-protobuf", encoding, bytes).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/x-protobuf");
        let answer = ExportTraceServiceResponse::decode(r.bytes().await.unwrap()).unwrap();
        let partial = answer.partial_success.unwrap();
        assert_eq!(
            partial.rejected_spans, 1,
            "only the LLM span without a model; the database span is ignored"
        );
        assert!(
            partial.error_message.contains("no model"),
            "{}",
            partial.error_message
        );
        assert!(
            partial.error_message.contains(T2),
            "{}",
            partial.error_message
        );
    }
    let org = org(&app, "acme").await;
    let samples = stored(&app, org, "bot", "gpt-4o", "answer-v2").await;
    assert_eq!(samples.len(), 1, "stored once from two identical exports");
    assert_eq!(
        (
            samples[0].sample.input.as_str(),
            samples[0].sample.output.as_str()
        ),
        ("Hello?", "Hi!")
    );
    assert_eq!(samples[0].sample.latency_ms, Some(250.0));

    // An export that is fully taken answers an empty response.
    let r = post_traces(
        &app,
        Some(&key),
        "application/x-protobuf",
        None,
        proto_export(
            "bot",
            vec![proto_span(T3, "00f067aa0ba902c3", genai_attributes())],
        ),
    )
    .await;
    let answer = ExportTraceServiceResponse::decode(r.bytes().await.unwrap()).unwrap();
    assert!(answer.partial_success.is_none());
    app.stop().await;
}

async fn unknown_projects_and_other_orgs_are_kept_apart(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    app.project("acme", "bot").await;
    app.project("globex", "bot").await;
    let acme = app.key("acme", Role::Member, None).await;
    let globex_scoped = app.key("globex", Role::Member, Some("bot")).await;
    // Globex's key is scoped: its project wins over the span's attribute.
    post_json(
        &app,
        &globex_scoped,
        &export("elsewhere", vec![llm_span(T1, "00f067aa0ba902c1", 0)]),
        false,
    )
    .await;
    // Acme's documents for the same trace id never reach Globex's sample.
    post_json(
        &app,
        &acme,
        &export("bot", vec![retriever_span(T1, "00f067aa0ba902b1", 0)]),
        false,
    )
    .await;
    let globex = org(&app, "globex").await;
    let theirs = stored(&app, globex, "bot", "gpt-4o-mini", "default").await;
    assert_eq!(theirs.len(), 1);
    assert!(theirs[0].sample.context.is_empty());
    // A project the organization does not have is a rejected span, not a failure.
    let answer = post_json(
        &app,
        &acme,
        &export("nope", vec![llm_span(T2, "00f067aa0ba902c2", 0)]),
        false,
    )
    .await;
    assert_eq!(answer["partialSuccess"]["rejectedSpans"], "1", "{answer}");
    let message = answer["partialSuccess"]["errorMessage"].as_str().unwrap();
    assert!(message.contains("no project 'nope'"), "{message}");
    app.stop().await;
}

async fn error_answers(db: Db) {
    let Some(app) = spawn_with_body_limit(db, 64 * 1024).await else {
        return;
    };
    app.project("acme", "bot").await;
    let key = app.key("acme", Role::Member, None).await;
    let viewer = app.key("acme", Role::Viewer, None).await;
    let valid = export("bot", vec![llm_span(T1, "00f067aa0ba902c1", 0)])
        .to_string()
        .into_bytes();

    let expect = |status: u16, code: &'static str| {
        move |r: (u16, Value)| {
            assert_eq!(r.0, status, "{}", r.1);
            assert_eq!(r.1["error"]["code"], code, "{}", r.1);
            assert!(!r.1["error"]["message"].as_str().unwrap().is_empty());
        }
    };
    let send = |key: Option<String>, ct: &'static str, ce: Option<&'static str>, body: Vec<u8>| {
        let app = &app;
        async move {
            let r = post_traces(app, key.as_deref(), ct, ce, body).await;
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    expect(401, "missing_api_key")(send(None, "application/json", None, valid.clone()).await);
    expect(403, "insufficient_role")(
        send(Some(viewer), "application/json", None, valid.clone()).await,
    );
    expect(415, "unsupported_media_type")(
        send(Some(key.clone()), "text/plain", None, valid.clone()).await,
    );
    expect(415, "unsupported_media_type")(
        send(
            Some(key.clone()),
            "application/json",
            Some("br"),
            valid.clone(),
        )
        .await,
    );
    expect(400, "invalid_otlp")(
        send(
            Some(key.clone()),
            "application/json",
            None,
            b"{\"resourceSpans\": 7}".to_vec(),
        )
        .await,
    );
    expect(400, "invalid_otlp")(
        send(
            Some(key.clone()),
            "application/json",
            None,
            b"not json".to_vec(),
        )
        .await,
    );
    expect(400, "invalid_otlp")(
        send(
            Some(key.clone()),
            "application/x-protobuf",
            None,
            b"\xff\xff\xff\xff".to_vec(),
        )
        .await,
    );
    expect(400, "invalid_gzip")(
        send(
            Some(key.clone()),
            "application/json",
            Some("gzip"),
            valid.clone(),
        )
        .await,
    );
    // Over the limit, sent as is or as a small gzip bomb.
    let big = vec![b' '; 65 * 1024];
    expect(413, "payload_too_large")(
        send(Some(key.clone()), "application/json", None, big.clone()).await,
    );
    expect(413, "payload_too_large")(
        send(
            Some(key.clone()),
            "application/json",
            Some("gzip"),
            gzip(&big),
        )
        .await,
    );
    let r = send(Some(key), "application/json", None, valid).await;
    assert_eq!(r.0, 200, "{}", r.1);
    app.stop().await;
}

macro_rules! on_both {
    ($($case:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() { super::$case(super::Db::Sqlite).await }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() { super::$case(super::Db::Postgres).await }
            )*
        }
    };
}

on_both! {
    json_exports_in_any_order_are_judged_with_their_context,
    protobuf_exports_answer_protobuf_with_partial_success,
    unknown_projects_and_other_orgs_are_kept_apart,
    error_answers,
}
