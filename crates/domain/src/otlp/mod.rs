//! OpenTelemetry traces as traffic: the spans of an OTLP export in, the
//! traffic samples of its LLM calls, the documents of its retriever spans and
//! the LLM spans that could not be taken (with why) out. Pure: decoding the
//! wire format and storing the result are the callers' business.
//!
//! A span is exactly one of:
//! - an **LLM call** (`gen_ai.operation.name` of `chat`, `text_completion` or
//!   `generate_content`; `openinference.span.kind = LLM`; or OpenLLMetry's
//!   `llm.request.type` of `chat` or `completion`): it becomes a sample, or
//!   a [`RejectedSpan`] with its reason;
//! - a **retriever** (`openinference.span.kind = RETRIEVER`, or any span with
//!   `retrieval.documents.N.document.content`): its documents become the
//!   context of the LLM calls of the same trace;
//! - anything else (HTTP handlers, database calls, agents, tools, embeddings):
//!   **ignored**, only counted.

mod attributes;
mod mapping;
mod messages;
#[cfg(test)]
mod tests;

pub use attributes::{AttrValue, Attributes, Indexed};
pub use mapping::{MAX_DOCUMENTS_PER_SPAN, map_export};
pub use messages::{ChatMessage, Conversation, ToolCall, Vocabulary, conversation};

use crate::traffic::TrafficSample;

/// The spans of one resource (one service), with the resource's attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceSpans {
    pub resource: Attributes,
    pub spans: Vec<Span>,
}

/// A span as OTLP carries it; ids are hex strings as received (they are
/// checked by the mapping, not by the decoders).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    pub name: String,
    pub start_time_unix_nano: u64,
    pub end_time_unix_nano: u64,
    pub attributes: Attributes,
    pub events: Vec<SpanEvent>,
    /// `Some(message)` when the span's status is ERROR.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanEvent {
    pub name: String,
    pub time_unix_nano: u64,
    pub attributes: Attributes,
}

/// Who sends the spans: decides the project when the spans do not say.
#[derive(Debug, Clone, Default)]
pub struct ExportContext {
    /// The project the API key is scoped to: it wins over any attribute.
    pub key_project: Option<crate::ProjectId>,
    /// Receipt time, for spans without a start time.
    pub received_at: chrono::DateTime<chrono::Utc>,
}

/// An LLM call's sample, with the trace it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct TracedSample {
    pub trace_id: String,
    pub sample: TrafficSample,
}

/// The documents one retriever span returned, in their order.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrievedDocuments {
    pub trace_id: String,
    pub span_id: String,
    pub start_time_unix_nano: u64,
    pub documents: Vec<String>,
}

/// Why an LLM span was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    #[error("trace_id must be 32 hex digits, not all zero")]
    InvalidTraceId,
    #[error("span_id must be 16 hex digits, not all zero")]
    InvalidSpanId,
    #[error(
        "no project: use a key scoped to a project or set the attribute evalguard.project_id (span or resource)"
    )]
    MissingProject,
    #[error("evalguard.project_id {0:?} is not a valid project id")]
    InvalidProject(String),
    #[error("the organization has no project '{0}'")]
    UnknownProject(String),
    #[error("no model: set gen_ai.request.model, gen_ai.response.model or llm.model_name")]
    MissingModel,
    #[error("evalguard.prompt_id must not be empty")]
    EmptyPromptId,
    #[error(
        "no input: none of gen_ai.input.messages, gen_ai.prompt.N.content, the gen_ai.*.message events, llm.input_messages or input.value"
    )]
    MissingInput,
    #[error("no output{}", .0.as_deref().map(|m| format!(" (the span failed: {m})")).unwrap_or_default())]
    MissingOutput(Option<String>),
    #[error("{0} must be a non-negative integer")]
    NegativeTokenCount(&'static str),
}

/// An LLM span that is not a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedSpan {
    pub trace_id: String,
    pub span_id: String,
    pub reason: RejectReason,
}

/// What an export maps to. `samples.len() + rejected.len()` is the number of
/// LLM spans; retriever and ignored spans are neither.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MappedExport {
    pub samples: Vec<TracedSample>,
    pub documents: Vec<RetrievedDocuments>,
    pub rejected: Vec<RejectedSpan>,
    pub retrievers: usize,
    pub ignored: usize,
}

impl MappedExport {
    /// `partial_success.error_message`: the rejections counted by reason,
    /// with the first span of each, so that a client can find them.
    pub fn rejection_summary(&self) -> Option<String> {
        if self.rejected.is_empty() {
            return None;
        }
        let mut by_reason: Vec<(String, usize, &RejectedSpan)> = Vec::new();
        for r in &self.rejected {
            let text = r.reason.to_string();
            match by_reason.iter_mut().find(|(t, _, _)| *t == text) {
                Some((_, n, _)) => *n += 1,
                None => by_reason.push((text, 1, r)),
            }
        }
        let parts: Vec<String> = by_reason
            .iter()
            .map(|(text, n, first)| {
                format!(
                    "{n} span(s): {text} (first: trace {} span {})",
                    first.trace_id, first.span_id
                )
            })
            .collect();
        Some(format!(
            "{} LLM span(s) rejected; {}",
            self.rejected.len(),
            parts.join("; ")
        ))
    }
}
