//! What both backends' OTLP ingest share: the rows of pending documents, how
//! a trace's samples are found, and samples completed with stored context.

use std::collections::HashMap;

use evalguard_domain::TrafficSample;
use evalguard_domain::otlp::{RetrievedDocuments, TracedSample};

/// One stored document: trace, span, position in the span, span start, content.
pub(crate) type DocumentRow<'a> = (&'a str, &'a str, i64, i64, &'a str);

pub(crate) fn document_rows(documents: &[RetrievedDocuments]) -> Vec<DocumentRow<'_>> {
    documents
        .iter()
        .flat_map(|d| {
            // Nanoseconds past i64 (year 2262) only order last.
            let start = i64::try_from(d.start_time_unix_nano).unwrap_or(i64::MAX);
            d.documents.iter().enumerate().map(move |(i, content)| {
                (
                    d.trace_id.as_str(),
                    d.span_id.as_str(),
                    i64::try_from(i).unwrap_or(i64::MAX),
                    start,
                    content.as_str(),
                )
            })
        })
        .collect()
}

/// The half-open range of sample ids `<trace_id>-…` (`.` follows `-`).
pub(crate) fn sample_id_range(trace: &str) -> (String, String) {
    (format!("{trace}-"), format!("{trace}."))
}

/// The samples, each with its trace's stored documents as context when the
/// trace has any (they include this export's own documents).
pub(crate) fn with_trace_context(
    samples: &[TracedSample],
    contexts: &HashMap<String, Vec<String>>,
) -> Vec<TrafficSample> {
    samples
        .iter()
        .map(|traced| {
            let mut sample = traced.sample.clone();
            if let Some(context) = contexts.get(&traced.trace_id) {
                sample.context = context.clone();
            }
            sample
        })
        .collect()
}

/// `(trace_id, content)` rows, already in context order, grouped by trace.
pub(crate) fn group_by_trace(
    rows: impl IntoIterator<Item = (String, String)>,
) -> HashMap<String, Vec<String>> {
    let mut by_trace: HashMap<String, Vec<String>> = HashMap::new();
    for (trace, content) in rows {
        by_trace.entry(trace).or_default().push(content);
    }
    by_trace
}
