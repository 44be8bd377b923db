-- OTLP ingest: the documents of retriever spans, kept for a bounded time so
-- that they become the context of their trace's LLM spans whichever arrives
-- first, also across export requests and API replicas.
CREATE TABLE otel_trace_documents (
    org_id      TEXT NOT NULL,
    trace_id    TEXT NOT NULL,
    span_id     TEXT NOT NULL,
    position    INTEGER NOT NULL,
    span_start  INTEGER NOT NULL,   -- the retriever span's start, nanoseconds (ordering only)
    content     TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,   -- microseconds since the epoch
    PRIMARY KEY (org_id, trace_id, span_id, position)
);
CREATE INDEX otel_trace_documents_expiry ON otel_trace_documents (expires_at);

-- A trace's samples are found by their id prefix `<trace_id>-`.
CREATE INDEX traffic_by_sample_id ON traffic (org_id, sample_id);
