//! Spans to samples. See the module documentation of [`super`] for which span
//! is what, and README's "OpenTelemetry traces" for the lookup order.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::messages::{ChatMessage, Conversation, Vocabulary, conversation};
use super::{
    Attributes, ExportContext, MappedExport, RejectReason, RejectedSpan, ResourceSpans,
    RetrievedDocuments, Span, TracedSample,
};
use crate::traffic::TrafficSample;
use crate::{ProjectId, SampleMetadata};

/// Documents kept per retriever span; the rest are dropped (a judge prompt
/// could not hold more anyway).
pub const MAX_DOCUMENTS_PER_SPAN: usize = 100;

const LLM_OPERATIONS: [&str; 3] = ["chat", "text_completion", "generate_content"];
const OPENLLMETRY_REQUEST_TYPES: [&str; 2] = ["chat", "completion"];

enum SpanKind {
    Llm,
    Retriever(Vec<String>),
    Other,
}

fn retrieved_documents(attrs: &Attributes) -> Vec<String> {
    attrs
        .indexed("retrieval.documents")
        .iter()
        .filter_map(|doc| doc.str("document.content"))
        .filter(|c| !c.is_empty())
        .take(MAX_DOCUMENTS_PER_SPAN)
        .map(str::to_owned)
        .collect()
}

fn kind_of(span: &Span) -> SpanKind {
    let attrs = &span.attributes;
    let openinference = attrs.str("openinference.span.kind");
    let is_llm = attrs
        .str("gen_ai.operation.name")
        .is_some_and(|op| LLM_OPERATIONS.contains(&op))
        || openinference.is_some_and(|k| k.eq_ignore_ascii_case("LLM"))
        || attrs
            .str("llm.request.type")
            .is_some_and(|t| OPENLLMETRY_REQUEST_TYPES.contains(&t));
    if is_llm {
        return SpanKind::Llm;
    }
    let documents = retrieved_documents(attrs);
    if !documents.is_empty() || openinference.is_some_and(|k| k.eq_ignore_ascii_case("RETRIEVER")) {
        SpanKind::Retriever(documents)
    } else {
        SpanKind::Other
    }
}

fn valid_id(id: &str, len: usize) -> bool {
    id.len() == len && id.bytes().all(|b| b.is_ascii_hexdigit()) && id.bytes().any(|b| b != b'0')
}

/// The span's value of `key`, else the resource's.
fn span_or_resource<'a>(span: &'a Span, resource: &'a Attributes, key: &str) -> Option<&'a str> {
    span.attributes.str(key).or_else(|| resource.str(key))
}

fn time_of(nanos: u64, fallback: DateTime<Utc>) -> DateTime<Utc> {
    match i64::try_from(nanos) {
        Ok(n) if n > 0 => DateTime::from_timestamp_nanos(n),
        _ => fallback,
    }
}

fn token_count(attrs: &Attributes, keys: &[&'static str]) -> Result<Option<i64>, RejectReason> {
    for &key in keys {
        if let Some(n) = attrs.int(key) {
            return if n >= 0 {
                Ok(Some(n))
            } else {
                Err(RejectReason::NegativeTokenCount(key))
            };
        }
    }
    Ok(None)
}

/// `input` of a sample: the last user message, because that is what the
/// application answered; a conversation without one (a completion, or only
/// tool results) gives its last message.
fn input_text(conversation: &Conversation) -> Option<String> {
    let last_user = conversation
        .input
        .iter()
        .rev()
        .find(|m| m.role == "user" && !m.text().is_empty());
    last_user
        .or_else(|| {
            conversation
                .input
                .iter()
                .rev()
                .find(|m| !m.text().is_empty())
        })
        .map(ChatMessage::text)
}

/// A sample's `metadata`: `{"otel": …}`, serialised straight from the span's
/// parts (README, "OpenTelemetry traces", lists the fields).
#[derive(Serialize)]
struct OtelMetadata<'a> {
    otel: OtelFields<'a>,
}

#[derive(Serialize)]
struct OtelFields<'a> {
    trace_id: &'a str,
    span_id: &'a str,
    span_name: &'a str,
    vocabulary: Vocabulary,
    input_messages: &'a [ChatMessage],
    output_messages: &'a [ChatMessage],
    #[serde(skip_serializing_if = "<[ChatMessage]>::is_empty")]
    system_instructions: &'a [ChatMessage],
    #[serde(skip_serializing_if = "Option::is_none")]
    service_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
}

fn llm_sample(
    span: &Span,
    (trace_id, span_id): (&str, &str),
    resource: &Attributes,
    context: &ExportContext,
) -> Result<TrafficSample, RejectReason> {
    let attrs = &span.attributes;
    let project_id = match &context.key_project {
        Some(p) => p.clone(),
        None => {
            let raw = span_or_resource(span, resource, "evalguard.project_id")
                .ok_or(RejectReason::MissingProject)?;
            ProjectId::parse(raw).map_err(|_| RejectReason::InvalidProject(raw.to_owned()))?
        }
    };
    let prompt_id = match span
        .attributes
        .get("evalguard.prompt_id")
        .or_else(|| resource.get("evalguard.prompt_id"))
    {
        None => "default".to_owned(),
        Some(v) => match v.as_str() {
            Some(s) if !s.is_empty() => s.to_owned(),
            _ => return Err(RejectReason::EmptyPromptId),
        },
    };
    let model = attrs
        .str("gen_ai.request.model")
        .or_else(|| attrs.str("gen_ai.response.model"))
        .or_else(|| attrs.str("llm.model_name"))
        .ok_or(RejectReason::MissingModel)?
        .to_owned();
    let (vocabulary, conversation) = conversation(span).ok_or(RejectReason::MissingInput)?;
    let input = input_text(&conversation).ok_or(RejectReason::MissingInput)?;
    // The first choice is the answer; other choices (n > 1) stay in metadata.
    let output = conversation
        .output
        .first()
        .map(ChatMessage::text)
        .filter(|o| !o.is_empty())
        .ok_or_else(|| RejectReason::MissingOutput(span.error.clone()))?;
    let prompt_tokens = token_count(
        attrs,
        &[
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.prompt_tokens",
            "llm.token_count.prompt",
        ],
    )?;
    let completion_tokens = token_count(
        attrs,
        &[
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.completion_tokens",
            "llm.token_count.completion",
        ],
    )?;
    let latency_ms = (span.start_time_unix_nano > 0
        && span.end_time_unix_nano >= span.start_time_unix_nano)
        .then(|| (span.end_time_unix_nano - span.start_time_unix_nano) as f64 / 1e6);
    let attribute = |key| span_or_resource(span, resource, key);
    let metadata = SampleMetadata::new(&OtelMetadata {
        otel: OtelFields {
            trace_id,
            span_id,
            span_name: &span.name,
            vocabulary,
            input_messages: &conversation.input,
            output_messages: &conversation.output,
            system_instructions: &conversation.system,
            service_name: attribute("service.name"),
            provider: attribute("gen_ai.provider.name"),
            system: attribute("gen_ai.system"),
        },
    })
    // Strings and JSON values always serialise; should that ever change,
    // the sample is still worth storing without its metadata.
    .ok();
    Ok(TrafficSample {
        id: format!("{trace_id}-{span_id}"),
        project_id,
        model,
        prompt_id,
        input,
        output,
        context: Vec::new(),
        reference: None,
        timestamp: time_of(span.start_time_unix_nano, context.received_at),
        metadata,
        latency_ms,
        prompt_tokens,
        completion_tokens,
    })
}

/// Maps one export. Ids are lower-cased; the documents of the export's
/// retriever spans are already the context of its samples of the same trace
/// (ordered by retriever start time); documents from other exports are the
/// storage's business.
pub fn map_export(resources: &[ResourceSpans], context: &ExportContext) -> MappedExport {
    let mut out = MappedExport::default();
    for resource in resources {
        for original in &resource.spans {
            let mut span_ids = (
                original.trace_id.to_ascii_lowercase(),
                original.span_id.to_ascii_lowercase(),
            );
            let kind = kind_of(original);
            if matches!(kind, SpanKind::Other) {
                out.ignored += 1;
                continue;
            }
            let reject = if !valid_id(&span_ids.0, 32) {
                Some(RejectReason::InvalidTraceId)
            } else if !valid_id(&span_ids.1, 16) {
                Some(RejectReason::InvalidSpanId)
            } else {
                None
            };
            match kind {
                SpanKind::Other => {}
                SpanKind::Retriever(documents) => {
                    out.retrievers += 1;
                    // A retriever with bad ids cannot be joined to its trace.
                    if reject.is_none() && !documents.is_empty() {
                        out.documents.push(RetrievedDocuments {
                            trace_id: std::mem::take(&mut span_ids.0),
                            span_id: std::mem::take(&mut span_ids.1),
                            start_time_unix_nano: original.start_time_unix_nano,
                            documents,
                        });
                    }
                }
                SpanKind::Llm => {
                    let result = match reject {
                        Some(reason) => Err(reason),
                        None => llm_sample(
                            original,
                            (&span_ids.0, &span_ids.1),
                            &resource.resource,
                            context,
                        ),
                    };
                    match result {
                        Ok(sample) => out.samples.push(TracedSample {
                            trace_id: span_ids.0,
                            sample,
                        }),
                        Err(reason) => out.rejected.push(RejectedSpan {
                            trace_id: span_ids.0,
                            span_id: span_ids.1,
                            reason,
                        }),
                    }
                }
            }
        }
    }
    attach_documents(&mut out);
    out
}

/// Gives each sample the documents of its trace's retrievers in this export.
fn attach_documents(out: &mut MappedExport) {
    if out.documents.is_empty() {
        return;
    }
    out.documents.sort_by(|a, b| {
        (a.start_time_unix_nano, &a.span_id).cmp(&(b.start_time_unix_nano, &b.span_id))
    });
    let mut by_trace: HashMap<&str, Vec<String>> = HashMap::new();
    for d in &out.documents {
        by_trace
            .entry(d.trace_id.as_str())
            .or_default()
            .extend(d.documents.iter().cloned());
    }
    for s in &mut out.samples {
        if let Some(docs) = by_trace.get(s.trace_id.as_str()) {
            s.sample.context = docs.clone();
        }
    }
}
