//! Each vocabulary in the shape its instrumentations emit, the precise
//! classification of spans, and properties over arbitrary spans.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::ProjectId;

const TRACE: &str = "5b8efff798038103d269b633813fc60c";
const SPAN: &str = "eee19b7ec3c1b174";

fn s(v: &str) -> AttrValue {
    AttrValue::String(v.to_owned())
}

fn attrs(pairs: &[(&str, AttrValue)]) -> Attributes {
    Attributes(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

fn span(pairs: &[(&str, AttrValue)]) -> Span {
    Span {
        trace_id: TRACE.to_owned(),
        span_id: SPAN.to_owned(),
        name: "chat gpt-4o-mini".to_owned(),
        start_time_unix_nano: 1_764_590_400_000_000_000,
        end_time_unix_nano: 1_764_590_400_640_000_000,
        attributes: attrs(pairs),
        events: Vec::new(),
        error: None,
    }
}

fn context() -> ExportContext {
    ExportContext {
        key_project: None,
        received_at: chrono::Utc::now(),
    }
}

fn map_one(span: Span) -> MappedExport {
    let resource = attrs(&[
        ("service.name", s("support-bot")),
        ("evalguard.project_id", s("bot")),
    ]);
    map_export(
        &[ResourceSpans {
            resource,
            spans: vec![span],
        }],
        &context(),
    )
}

fn only_sample(span: Span) -> TrafficSample {
    let mapped = map_one(span);
    assert!(mapped.rejected.is_empty(), "{:?}", mapped.rejected);
    assert_eq!(mapped.samples.len(), 1);
    mapped.samples[0].sample.clone()
}

#[test]
fn latest_genai_conventions_with_typed_parts_and_tool_calls() {
    let input = json!([
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather",
            "arguments": {"city": "Paris"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "rainy, 57°F"}]},
        {"role": "user", "parts": [{"type": "text", "content": "And tomorrow?"}]}
    ]);
    let output = json!([{"role": "assistant", "parts": [{"type": "text", "content": "Sunny tomorrow."}],
        "finish_reason": "stop"}]);
    let sample = only_sample(span(&[
        ("gen_ai.operation.name", s("chat")),
        ("gen_ai.provider.name", s("openai")),
        ("gen_ai.request.model", s("gpt-4o-mini")),
        ("gen_ai.response.model", s("gpt-4o-mini-2024-07-18")),
        ("gen_ai.input.messages", s(&input.to_string())),
        ("gen_ai.output.messages", s(&output.to_string())),
        (
            "gen_ai.system_instructions",
            s(r#"[{"type":"text","content":"You are a weather bot."}]"#),
        ),
        ("gen_ai.usage.input_tokens", AttrValue::Int(97)),
        ("gen_ai.usage.output_tokens", AttrValue::Int(12)),
    ]));
    assert_eq!(sample.id, format!("{TRACE}-{SPAN}"));
    assert_eq!(sample.project_id.as_str(), "bot");
    assert_eq!(sample.prompt_id, "default");
    assert_eq!(sample.model, "gpt-4o-mini", "the request model comes first");
    assert_eq!(sample.input, "And tomorrow?", "the last user message");
    assert_eq!(sample.output, "Sunny tomorrow.");
    assert_eq!(sample.prompt_tokens, Some(97));
    assert_eq!(sample.completion_tokens, Some(12));
    assert_eq!(sample.latency_ms, Some(640.0));
    assert_eq!(sample.timestamp.timestamp(), 1_764_590_400);
    let otel = &sample.metadata.as_ref().unwrap().field("otel").unwrap();
    assert_eq!(otel["vocabulary"], "gen_ai_messages");
    assert_eq!(otel["input_messages"].as_array().unwrap().len(), 4);
    assert_eq!(
        otel["input_messages"][1]["tool_calls"][0]["name"],
        "get_weather"
    );
    assert_eq!(otel["input_messages"][2]["content"], "rainy, 57°F");
    assert_eq!(
        otel["system_instructions"][0]["content"],
        "You are a weather bot."
    );
    assert_eq!(otel["service_name"], "support-bot");
    assert_eq!(otel["provider"], "openai");
}

#[test]
fn structured_message_attributes_are_read_like_json_strings() {
    let part = AttrValue::KvList(vec![
        ("type".to_owned(), s("text")),
        ("content".to_owned(), s("hi")),
    ]);
    let message = |role: &str| {
        AttrValue::Array(vec![AttrValue::KvList(vec![
            ("role".to_owned(), s(role)),
            ("parts".to_owned(), AttrValue::Array(vec![part.clone()])),
        ])])
    };
    let sample = only_sample(span(&[
        ("gen_ai.operation.name", s("generate_content")),
        ("gen_ai.request.model", s("gemini-2.0-flash")),
        ("gen_ai.input.messages", message("user")),
        ("gen_ai.output.messages", message("model")),
    ]));
    assert_eq!(
        (sample.input.as_str(), sample.output.as_str()),
        ("hi", "hi")
    );
}

#[test]
fn an_answer_that_only_calls_tools_is_rendered_as_calls() {
    let output = json!([{"role": "assistant", "parts": [{"type": "tool_call", "id": "c1",
        "name": "search", "arguments": {"q": "evalguard"}}], "finish_reason": "tool_call"}]);
    let sample = only_sample(span(&[
        ("gen_ai.operation.name", s("chat")),
        ("gen_ai.request.model", s("m")),
        (
            "gen_ai.input.messages",
            s(r#"[{"role":"user","parts":[{"type":"text","content":"find it"}]}]"#),
        ),
        ("gen_ai.output.messages", s(&output.to_string())),
    ]));
    assert_eq!(sample.output, r#"search({"q":"evalguard"})"#);
}

#[test]
fn openllmetry_flattened_prompts_and_completions() {
    let sample = only_sample(span(&[
        ("llm.request.type", s("chat")),
        ("gen_ai.system", s("openai")),
        ("gen_ai.request.model", s("gpt-3.5-turbo")),
        ("gen_ai.prompt.0.role", s("system")),
        ("gen_ai.prompt.0.content", s("Be brief.")),
        ("gen_ai.prompt.1.role", s("user")),
        (
            "gen_ai.prompt.1.content",
            s("Tell me a joke about OpenTelemetry"),
        ),
        ("gen_ai.completion.0.role", s("assistant")),
        ("gen_ai.completion.0.finish_reason", s("stop")),
        (
            "gen_ai.completion.0.content",
            s("Why did the span cross the road?"),
        ),
        ("gen_ai.usage.prompt_tokens", AttrValue::Int(15)),
        ("gen_ai.usage.completion_tokens", AttrValue::Int(9)),
    ]));
    assert_eq!(sample.input, "Tell me a joke about OpenTelemetry");
    assert_eq!(sample.output, "Why did the span cross the road?");
    assert_eq!(
        (sample.prompt_tokens, sample.completion_tokens),
        (Some(15), Some(9))
    );
    let otel = &sample.metadata.as_ref().unwrap().field("otel").unwrap();
    assert_eq!(otel["vocabulary"], "gen_ai_flattened");
    assert_eq!(otel["system_instructions"][0]["content"], "Be brief.");
    assert_eq!(otel["system"], "openai");
}

#[test]
fn openllmetry_tool_calls_and_content_parts() {
    let sample = only_sample(span(&[
        ("gen_ai.operation.name", s("chat")),
        ("gen_ai.request.model", s("gpt-4o")),
        ("gen_ai.prompt.0.role", s("user")),
        (
            "gen_ai.prompt.0.content",
            s(
                r#"[{"type":"text","text":"What is in this image?"},{"type":"image_url","image_url":{"url":"x"}}]"#,
            ),
        ),
        ("gen_ai.completion.0.role", s("assistant")),
        ("gen_ai.completion.0.tool_calls.0.id", s("call_9")),
        ("gen_ai.completion.0.tool_calls.0.name", s("describe")),
        (
            "gen_ai.completion.0.tool_calls.0.arguments",
            s(r#"{"detail":"high"}"#),
        ),
    ]));
    assert_eq!(sample.input, "What is in this image?");
    assert_eq!(sample.output, r#"describe({"detail":"high"})"#);
}

#[test]
fn deprecated_genai_events() {
    let mut sp = span(&[
        ("gen_ai.operation.name", s("chat")),
        ("gen_ai.system", s("openai")),
        ("gen_ai.request.model", s("gpt-4o-mini")),
    ]);
    let event = |name: &str, pairs: &[(&str, AttrValue)]| SpanEvent {
        name: name.to_owned(),
        time_unix_nano: 1,
        attributes: attrs(pairs),
    };
    sp.events = vec![
        event(
            "gen_ai.system.message",
            &[
                ("gen_ai.system", s("openai")),
                ("content", s("You are helpful.")),
            ],
        ),
        event(
            "gen_ai.user.message",
            &[
                ("gen_ai.system", s("openai")),
                ("content", s("What is OTLP?")),
            ],
        ),
        event(
            "gen_ai.choice",
            &[
                ("gen_ai.system", s("openai")),
                ("index", AttrValue::Int(0)),
                ("finish_reason", s("stop")),
                (
                    "message",
                    s(r#"{"role":"assistant","content":"The OpenTelemetry protocol."}"#),
                ),
            ],
        ),
    ];
    let sample = only_sample(sp);
    assert_eq!(sample.input, "What is OTLP?");
    assert_eq!(sample.output, "The OpenTelemetry protocol.");
    let otel = &sample.metadata.as_ref().unwrap().field("otel").unwrap();
    assert_eq!(otel["vocabulary"], "gen_ai_events");
    assert_eq!(
        otel["system_instructions"][0]["content"],
        "You are helpful."
    );
}

#[test]
fn the_first_genai_content_events() {
    let mut sp = span(&[
        ("gen_ai.operation.name", s("chat")),
        ("gen_ai.request.model", s("gpt-4")),
    ]);
    sp.events = vec![
        SpanEvent {
            name: "gen_ai.content.prompt".to_owned(),
            time_unix_nano: 1,
            attributes: attrs(&[("gen_ai.prompt", s(r#"[{"role":"user","content":"ping"}]"#))]),
        },
        SpanEvent {
            name: "gen_ai.content.completion".to_owned(),
            time_unix_nano: 2,
            attributes: attrs(&[(
                "gen_ai.completion",
                s(r#"[{"role":"assistant","content":"pong"}]"#),
            )]),
        },
    ];
    let sample = only_sample(sp);
    assert_eq!(
        (sample.input.as_str(), sample.output.as_str()),
        ("ping", "pong")
    );
}

#[test]
fn openinference_messages_and_token_counts() {
    let sample = only_sample(span(&[
        ("openinference.span.kind", s("LLM")),
        ("llm.model_name", s("gpt-4o-2024-08-06")),
        ("llm.provider", s("openai")),
        (
            "input.value",
            s(r#"{"messages":[{"role":"user","content":"Hi"}]}"#),
        ),
        ("input.mime_type", s("application/json")),
        ("llm.input_messages.0.message.role", s("system")),
        (
            "llm.input_messages.0.message.content",
            s("Answer in French."),
        ),
        ("llm.input_messages.1.message.role", s("user")),
        (
            "llm.input_messages.1.message.contents.0.message_content.type",
            s("text"),
        ),
        (
            "llm.input_messages.1.message.contents.0.message_content.text",
            s("Hi"),
        ),
        ("llm.output_messages.0.message.role", s("assistant")),
        ("llm.output_messages.0.message.content", s("Bonjour !")),
        ("llm.token_count.prompt", AttrValue::Int(20)),
        ("llm.token_count.completion", AttrValue::Int(4)),
        ("llm.token_count.total", AttrValue::Int(24)),
    ]));
    assert_eq!(sample.model, "gpt-4o-2024-08-06");
    assert_eq!(sample.input, "Hi");
    assert_eq!(sample.output, "Bonjour !");
    assert_eq!(
        (sample.prompt_tokens, sample.completion_tokens),
        (Some(20), Some(4))
    );
    let otel = &sample.metadata.as_ref().unwrap().field("otel").unwrap();
    assert_eq!(otel["vocabulary"], "open_inference_messages");
    assert_eq!(
        otel["system_instructions"][0]["content"],
        "Answer in French."
    );
}

#[test]
fn openinference_tool_calls() {
    let sample = only_sample(span(&[
        ("openinference.span.kind", s("LLM")),
        ("llm.model_name", s("gpt-4o")),
        ("llm.input_messages.0.message.role", s("user")),
        ("llm.input_messages.0.message.content", s("Weather?")),
        ("llm.output_messages.0.message.role", s("assistant")),
        (
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name",
            s("get_weather"),
        ),
        (
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
            s(r#"{"city": "Oslo"}"#),
        ),
    ]));
    assert_eq!(sample.output, r#"get_weather({"city":"Oslo"})"#);
}

#[test]
fn openinference_values_alone() {
    let sample = only_sample(span(&[
        ("openinference.span.kind", s("LLM")),
        ("llm.model_name", s("claude-3-5-haiku")),
        ("input.value", s("Summarise the refund policy.")),
        ("output.value", s("Refunds within 30 days.")),
    ]));
    assert_eq!(sample.input, "Summarise the refund policy.");
    assert_eq!(sample.output, "Refunds within 30 days.");
}

#[test]
fn retriever_documents_become_the_context_of_the_same_trace() {
    let retriever = Span {
        span_id: "00f067aa0ba902b7".to_owned(),
        name: "retrieve".to_owned(),
        ..span(&[
            ("openinference.span.kind", s("RETRIEVER")),
            ("retrieval.documents.0.document.id", s("d1")),
            ("retrieval.documents.0.document.content", s("Open 9-5.")),
            (
                "retrieval.documents.0.document.score",
                AttrValue::Double(0.9),
            ),
            (
                "retrieval.documents.1.document.content",
                s("Closed on Sundays."),
            ),
        ])
    };
    let llm = span(&[
        ("openinference.span.kind", s("LLM")),
        ("llm.model_name", s("m")),
        ("input.value", s("When open?")),
        ("output.value", s("9 to 5.")),
    ]);
    let other_trace = Span {
        trace_id: "0af7651916cd43dd8448eb211c80319c".to_owned(),
        ..llm.clone()
    };
    let mapped = map_export(
        &[ResourceSpans {
            resource: attrs(&[("evalguard.project_id", s("bot"))]),
            spans: vec![llm, retriever, other_trace],
        }],
        &context(),
    );
    assert_eq!(mapped.retrievers, 1);
    assert_eq!(mapped.documents.len(), 1);
    assert_eq!(
        mapped.samples[0].sample.context,
        ["Open 9-5.", "Closed on Sundays."]
    );
    assert!(mapped.samples[1].sample.context.is_empty());
}

#[test]
fn non_llm_spans_are_ignored_not_rejected() {
    let http = span(&[("http.request.method", s("POST")), ("url.path", s("/chat"))]);
    let embeddings = span(&[
        ("gen_ai.operation.name", s("embeddings")),
        ("gen_ai.request.model", s("text-embedding-3-small")),
    ]);
    let agent = span(&[
        ("openinference.span.kind", s("AGENT")),
        ("input.value", s("q")),
        ("output.value", s("a")),
    ]);
    let tool = span(&[("gen_ai.operation.name", s("execute_tool"))]);
    let mapped = map_export(
        &[ResourceSpans {
            resource: Attributes::default(),
            spans: vec![http, embeddings, agent, tool],
        }],
        &context(),
    );
    assert_eq!(mapped.ignored, 4);
    assert!(mapped.samples.is_empty() && mapped.rejected.is_empty());
    assert_eq!(mapped.rejection_summary(), None);
}

#[test]
fn llm_spans_that_cannot_be_samples_say_why() {
    let good = [
        ("gen_ai.operation.name", s("chat")),
        ("gen_ai.request.model", s("m")),
        ("gen_ai.prompt.0.content", s("q")),
        ("gen_ai.completion.0.content", s("a")),
    ];
    let without = |key: &str| {
        let kept: Vec<_> = good.iter().filter(|(k, _)| *k != key).cloned().collect();
        span(&kept)
    };
    let reason = |sp: Span| map_one(sp).rejected[0].reason.clone();
    assert_eq!(
        reason(without("gen_ai.request.model")),
        RejectReason::MissingModel
    );
    assert_eq!(
        reason(without("gen_ai.prompt.0.content")),
        RejectReason::MissingInput
    );
    let mut failed = without("gen_ai.completion.0.content");
    failed.error = Some("rate limited".to_owned());
    assert_eq!(
        reason(failed),
        RejectReason::MissingOutput(Some("rate limited".to_owned()))
    );
    let mut negative = span(&good);
    negative
        .attributes
        .0
        .push(("gen_ai.usage.input_tokens".to_owned(), AttrValue::Int(-3)));
    assert_eq!(
        reason(negative),
        RejectReason::NegativeTokenCount("gen_ai.usage.input_tokens")
    );
    let bad_trace = Span {
        trace_id: "00000000000000000000000000000000".to_owned(),
        ..span(&good)
    };
    assert_eq!(reason(bad_trace), RejectReason::InvalidTraceId);
    let bad_span = Span {
        span_id: "xyz".to_owned(),
        ..span(&good)
    };
    assert_eq!(reason(bad_span), RejectReason::InvalidSpanId);

    // No project anywhere, or a bad one.
    let unscoped = map_export(
        &[ResourceSpans {
            resource: Attributes::default(),
            spans: vec![span(&good)],
        }],
        &context(),
    );
    assert_eq!(unscoped.rejected[0].reason, RejectReason::MissingProject);
    let mut bad_project = span(&good);
    bad_project
        .attributes
        .0
        .push(("evalguard.project_id".to_owned(), s("no spaces allowed")));
    assert_eq!(
        reason(bad_project),
        RejectReason::InvalidProject("no spaces allowed".to_owned())
    );
    let summary = unscoped.rejection_summary().unwrap();
    assert!(summary.starts_with("1 LLM span(s) rejected"), "{summary}");
    assert!(summary.contains(TRACE), "{summary}");
}

#[test]
fn a_scoped_key_decides_the_project_and_attributes_the_prompt() {
    let mut sp = span(&[
        ("gen_ai.operation.name", s("chat")),
        ("gen_ai.request.model", s("m")),
        ("gen_ai.prompt.0.content", s("q")),
        ("gen_ai.completion.0.content", s("a")),
        ("evalguard.project_id", s("other")),
        ("evalguard.prompt_id", s("answer-v3")),
    ]);
    sp.trace_id = TRACE.to_uppercase();
    let mapped = map_export(
        &[ResourceSpans {
            resource: attrs(&[("evalguard.prompt_id", s("resource-level"))]),
            spans: vec![sp],
        }],
        &ExportContext {
            key_project: Some(ProjectId::parse("scoped").unwrap()),
            received_at: chrono::Utc::now(),
        },
    );
    let sample = &mapped.samples[0].sample;
    assert_eq!(sample.project_id.as_str(), "scoped");
    assert_eq!(sample.prompt_id, "answer-v3", "the span beats the resource");
    assert_eq!(sample.id, format!("{TRACE}-{SPAN}"), "ids are lower-cased");
}

fn arb_value() -> impl Strategy<Value = AttrValue> {
    let leaf = prop_oneof![
        any::<String>().prop_map(AttrValue::String),
        "[\\[\\]{}\":,a-z0-9 ]{0,40}".prop_map(AttrValue::String),
        any::<i64>().prop_map(AttrValue::Int),
        any::<f64>().prop_map(AttrValue::Double),
        any::<bool>().prop_map(AttrValue::Bool),
        Just(AttrValue::Empty),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(AttrValue::Array),
            prop::collection::vec(("[a-z_.]{1,12}", inner), 0..4).prop_map(AttrValue::KvList),
        ]
    })
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("gen_ai.operation.name".to_owned()),
        Just("openinference.span.kind".to_owned()),
        Just("llm.request.type".to_owned()),
        Just("gen_ai.request.model".to_owned()),
        Just("llm.model_name".to_owned()),
        Just("gen_ai.input.messages".to_owned()),
        Just("gen_ai.output.messages".to_owned()),
        Just("input.value".to_owned()),
        Just("output.value".to_owned()),
        Just("evalguard.project_id".to_owned()),
        Just("evalguard.prompt_id".to_owned()),
        Just("gen_ai.usage.input_tokens".to_owned()),
        "(gen_ai\\.prompt|gen_ai\\.completion|llm\\.input_messages|llm\\.output_messages|retrieval\\.documents)\\.[0-9]{1,2}\\.[a-z_.]{0,30}",
        "[a-z_.]{1,20}",
    ]
}

fn arb_span() -> impl Strategy<Value = Span> {
    (
        prop_oneof![Just(TRACE.to_owned()), "[0-9a-fA-Fz]{0,34}"],
        prop_oneof![Just(SPAN.to_owned()), "[0-9a-f]{0,17}"],
        any::<u64>(),
        any::<u64>(),
        prop::collection::vec((arb_key(), arb_value()), 0..12),
        prop::collection::vec(
            (
                prop_oneof![
                    Just("gen_ai.user.message".to_owned()),
                    Just("gen_ai.choice".to_owned()),
                    "[a-z_.]{1,20}"
                ],
                prop::collection::vec((arb_key(), arb_value()), 0..3),
            ),
            0..3,
        ),
        prop::option::of(any::<String>()),
    )
        .prop_map(
            |(trace_id, span_id, start, end, attributes, events, error)| Span {
                trace_id,
                span_id,
                name: "span".to_owned(),
                start_time_unix_nano: start,
                end_time_unix_nano: end,
                attributes: Attributes(attributes),
                events: events
                    .into_iter()
                    .map(|(name, attributes)| SpanEvent {
                        name,
                        time_unix_nano: 0,
                        attributes: Attributes(attributes),
                    })
                    .collect(),
                error,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_span_is_a_sample_a_rejection_a_retriever_or_ignored(
        spans in prop::collection::vec(arb_span(), 0..8),
        resource in prop::collection::vec((arb_key(), arb_value()), 0..4),
    ) {
        let total = spans.len();
        let mapped = map_export(
            &[ResourceSpans { resource: Attributes(resource), spans: spans.clone() }],
            &context(),
        );
        prop_assert_eq!(
            mapped.samples.len() + mapped.rejected.len() + mapped.retrievers + mapped.ignored,
            total
        );
        // Each sample passes the traffic endpoint's own validation.
        for traced in &mapped.samples {
            let s = &traced.sample;
            let as_json = serde_json::to_value(s).unwrap();
            let reparsed = TrafficSample::from_json(as_json, chrono::Utc::now());
            prop_assert!(reparsed.is_ok(), "{:?}", reparsed);
            prop_assert!(!s.model.is_empty() && !s.prompt_id.is_empty() && !s.output.is_empty());
            prop_assert_eq!(&s.id, &format!("{}-{}", traced.trace_id, &s.id[33..]));
        }
        // Each rejection has a reason a client can read.
        for r in &mapped.rejected {
            prop_assert!(!r.reason.to_string().is_empty());
        }
        prop_assert_eq!(mapped.rejection_summary().is_some(), !mapped.rejected.is_empty());
    }

    #[test]
    fn spans_of_an_llm_call_are_never_ignored(span in arb_span(), op in prop::sample::select(vec!["chat", "text_completion", "generate_content"])) {
        let mut span = span;
        span.attributes.0.insert(0, ("gen_ai.operation.name".to_owned(), s(op)));
        let mapped = map_one(span);
        prop_assert_eq!(mapped.samples.len() + mapped.rejected.len(), 1);
    }
}

fn vocabulary_span(which: usize) -> Span {
    let common = [("gen_ai.request.model", s("m"))];
    let specific: Vec<(&str, AttrValue)> = match which % 4 {
        0 => vec![
            ("gen_ai.operation.name", s("chat")),
            (
                "gen_ai.input.messages",
                s(r#"[{"role":"user","parts":[{"type":"text","content":"q"}]}]"#),
            ),
            (
                "gen_ai.output.messages",
                s(r#"[{"role":"assistant","parts":[{"type":"text","content":"a"}]}]"#),
            ),
        ],
        1 => vec![
            ("llm.request.type", s("chat")),
            ("gen_ai.prompt.0.content", s("q")),
            ("gen_ai.completion.0.content", s("a")),
        ],
        2 => vec![
            ("openinference.span.kind", s("LLM")),
            ("llm.input_messages.0.message.content", s("q")),
            ("llm.output_messages.0.message.content", s("a")),
        ],
        _ => vec![
            ("openinference.span.kind", s("LLM")),
            ("input.value", s("q")),
            ("output.value", s("a")),
        ],
    };
    span(&[common.as_slice(), specific.as_slice()].concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Attributes of other instrumentations never turn a good LLM span into
    /// a rejection, nor change what it says.
    #[test]
    fn unrelated_attributes_leave_a_sample_alone(
        which in 0usize..4,
        extra in prop::collection::vec(("(http|db|net|url|app)\\.[a-z_.]{1,20}", arb_value()), 0..10),
        events in prop::collection::vec(("(exception|log|app\\.[a-z]{1,8})", prop::collection::vec(("[a-z_.]{1,12}", arb_value()), 0..3)), 0..3),
    ) {
        let mut sp = vocabulary_span(which);
        sp.attributes.0.extend(extra);
        sp.events = events
            .into_iter()
            .map(|(name, attributes)| SpanEvent { name, time_unix_nano: 0, attributes: Attributes(attributes) })
            .collect();
        let mapped = map_one(sp);
        prop_assert!(mapped.rejected.is_empty(), "{:?}", mapped.rejected);
        let sample = &mapped.samples[0].sample;
        prop_assert_eq!((sample.input.as_str(), sample.output.as_str()), ("q", "a"));
    }
}
