//! OTLP ingest from a client no one here wrote: the OpenTelemetry Python SDK
//! and its OTLP/HTTP protobuf exporter (a venv made by `scripts/otel-venv.sh`),
//! configured only by the two environment variables the README gives. Both
//! span processors, both orders of retriever and LLM spans, on SQLite and
//! PostgreSQL; a hallucination job then judges every sample against its
//! retrieved documents, which proves the context arrived.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod otlp_support;
mod support;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use evalguard_domain::Role;
use otlp_support::{DOCUMENT, MockJudge, org, spawn_with_judge, stored};
use serde_json::Value;
use support::Db;

const TRACES: usize = 8;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's Python, or `None` (a notice) when it was not made; under CI the
/// test fails instead, so that it can never pass by skipping there.
fn venv_python() -> Option<PathBuf> {
    let python = workspace_root().join("target/otel-venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    let message = "target/otel-venv is missing: run scripts/otel-venv.sh (scripts/test.sh does)";
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
    eprintln!("{message}; skipping the Python SDK tests");
    None
}

#[derive(Debug, Clone, Copy)]
enum Processor {
    Batch,
    Simple,
}

#[derive(Debug, Clone, Copy)]
enum Order {
    RetrieverFirst,
    LlmFirst,
}

async fn python_sdk_exports_are_judged_with_their_context(
    db: Db,
    processor: Processor,
    order: Order,
) {
    let Some(python) = venv_python() else { return };
    let judge = MockJudge::start().await;
    let Some(app) = spawn_with_judge(db, &judge).await else {
        return;
    };
    let owner = app.project("acme", "bot").await;
    // The batch runs name the project in the resource with an organization
    // key; the simple runs use a key scoped to the project instead.
    let (key, project_arg) = match processor {
        Processor::Batch => (app.key("acme", Role::Member, None).await, Some("bot")),
        Processor::Simple => (app.key("acme", Role::Member, Some("bot")).await, None),
    };
    let mut command = tokio::process::Command::new(python);
    command
        .arg(workspace_root().join("crates/evalguard/tests/otel/emit_spans.py"))
        .args(["--traces", &TRACES.to_string()])
        .args([
            "--processor",
            match processor {
                Processor::Batch => "batch",
                Processor::Simple => "simple",
            },
        ])
        .args([
            "--order",
            match order {
                Order::RetrieverFirst => "retriever-first",
                Order::LlmFirst => "llm-first",
            },
        ])
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("{}/api/v1/otel", app.base),
        )
        .env(
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("Authorization=Bearer%20{key}"),
        )
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL");
    if let Some(project) = project_arg {
        command.args(["--project", project]);
    }
    let output = command.output().await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{processor:?}/{order:?}: the exporter failed\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    let exports = report["exports"].as_array().unwrap();
    match processor {
        // One span a request: handler, retriever and LLM spans apart.
        Processor::Simple => assert_eq!(exports.len(), 3 * TRACES, "{report}"),
        Processor::Batch => assert!(exports.len() < TRACES, "{report}"),
    }

    let expected: HashSet<String> = report["llm_spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}-{}",
                s["trace_id"].as_str().unwrap(),
                s["span_id"].as_str().unwrap()
            )
        })
        .collect();
    let org = org(&app, "acme").await;
    let samples = stored(&app, org, "bot", "gpt-4o-mini", "rag-v1").await;
    let ids: HashSet<String> = samples.iter().map(|s| s.sample.id.clone()).collect();
    assert_eq!(
        ids, expected,
        "one sample per LLM span, none for the others"
    );
    for s in &samples {
        let s = &s.sample;
        assert_eq!(s.input, "When is the office open?", "{s:?}");
        assert_eq!(s.output, "From 9 to 5 on weekdays.", "{s:?}");
        assert_eq!(
            s.context.first().map(String::as_str),
            Some(DOCUMENT),
            "{s:?}"
        );
        assert_eq!(s.context.len(), 2, "{s:?}");
        assert!(s.latency_ms.is_some());
    }
    let with_tokens = samples
        .iter()
        .filter(|s| s.sample.prompt_tokens == Some(42))
        .count();
    assert_eq!(
        with_tokens,
        TRACES - TRACES / 4,
        "all but the events' vocabulary carry usage"
    );

    let job =
        otlp_support::judge_hallucinations(&app, &owner, "bot", "gpt-4o-mini", "rag-v1", TRACES)
            .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let hallucination = &job["summary"]["hallucination"];
    assert_eq!(hallucination["n"], TRACES, "every sample judged: {job}");
    assert_eq!(
        judge.calls_with_document.load(Ordering::SeqCst),
        judge.calls.load(Ordering::SeqCst)
    );
    // Identical judgments (the traces repeat one question and answer) are
    // made once, so the judge may be called fewer times than there are samples.
    assert!(judge.calls.load(Ordering::SeqCst) >= 1);
    app.stop().await;
}

macro_rules! python_sdk_cases {
    ($($name:ident: $processor:ident, $order:ident;)*) => {
        mod on_sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    python_sdk_exports_are_judged_with_their_context(Db::Sqlite, Processor::$processor, Order::$order).await;
                }
            )*
        }
        mod on_postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    python_sdk_exports_are_judged_with_their_context(Db::Postgres, Processor::$processor, Order::$order).await;
                }
            )*
        }
    };
}

python_sdk_cases! {
    batch_processor_retriever_first: Batch, RetrieverFirst;
    batch_processor_llm_first: Batch, LlmFirst;
    simple_processor_retriever_first_in_separate_requests: Simple, RetrieverFirst;
    simple_processor_llm_first_in_separate_requests: Simple, LlmFirst;
}
