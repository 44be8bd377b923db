"""Sends an instrumented RAG application's traces to EvalGuard with the real
OpenTelemetry Python SDK and its OTLP/HTTP protobuf exporter, configured only
by the standard environment variables (OTEL_EXPORTER_OTLP_ENDPOINT and
OTEL_EXPORTER_OTLP_HEADERS), as the README tells users to do.

Each trace is a request handler span (not an LLM call: ignored), a retriever
span with two documents (OpenInference), and an LLM span in one of four
vocabularies, in turn: GenAI messages, OpenLLMetry's flattened attributes,
the deprecated GenAI events, OpenInference. With --order llm-first the LLM
span ends (and, with the simple processor, is exported) before the retriever.

Prints one JSON line: the LLM spans' ids and the exporter's results.
"""

import argparse
import json
import sys

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExportResult,
)

MODEL = "gpt-4o-mini"
QUESTION = "When is the office open?"
ANSWER = "From 9 to 5 on weekdays."
SYSTEM = "Answer from the documents only."
DOCUMENTS = [
    "The office is open 9:00-17:00, Monday to Friday.",
    "The office is closed on public holidays.",
]


class RecordingExporter(OTLPSpanExporter):
    """The real exporter, remembering whether each export succeeded."""

    def __init__(self):
        super().__init__()  # endpoint and headers from the environment
        self.results = []

    def export(self, spans):
        result = super().export(spans)
        self.results.append((len(spans), result == SpanExportResult.SUCCESS))
        return result


def genai_messages(span):
    span.set_attribute("gen_ai.operation.name", "chat")
    span.set_attribute("gen_ai.provider.name", "openai")
    span.set_attribute("gen_ai.request.model", MODEL)
    span.set_attribute(
        "gen_ai.system_instructions",
        json.dumps([{"type": "text", "content": SYSTEM}]),
    )
    span.set_attribute(
        "gen_ai.input.messages",
        json.dumps([{"role": "user", "parts": [{"type": "text", "content": QUESTION}]}]),
    )
    span.set_attribute(
        "gen_ai.output.messages",
        json.dumps(
            [
                {
                    "role": "assistant",
                    "parts": [{"type": "text", "content": ANSWER}],
                    "finish_reason": "stop",
                }
            ]
        ),
    )
    span.set_attribute("gen_ai.usage.input_tokens", 42)
    span.set_attribute("gen_ai.usage.output_tokens", 9)


def openllmetry(span):
    span.set_attribute("llm.request.type", "chat")
    span.set_attribute("gen_ai.system", "openai")
    span.set_attribute("gen_ai.request.model", MODEL)
    span.set_attribute("gen_ai.prompt.0.role", "system")
    span.set_attribute("gen_ai.prompt.0.content", SYSTEM)
    span.set_attribute("gen_ai.prompt.1.role", "user")
    span.set_attribute("gen_ai.prompt.1.content", QUESTION)
    span.set_attribute("gen_ai.completion.0.role", "assistant")
    span.set_attribute("gen_ai.completion.0.content", ANSWER)
    span.set_attribute("gen_ai.completion.0.finish_reason", "stop")
    span.set_attribute("gen_ai.usage.prompt_tokens", 42)
    span.set_attribute("gen_ai.usage.completion_tokens", 9)


def genai_events(span):
    span.set_attribute("gen_ai.operation.name", "chat")
    span.set_attribute("gen_ai.system", "openai")
    span.set_attribute("gen_ai.request.model", MODEL)
    span.add_event("gen_ai.system.message", {"gen_ai.system": "openai", "content": SYSTEM})
    span.add_event("gen_ai.user.message", {"gen_ai.system": "openai", "content": QUESTION})
    span.add_event(
        "gen_ai.choice",
        {
            "gen_ai.system": "openai",
            "index": 0,
            "finish_reason": "stop",
            "message": json.dumps({"role": "assistant", "content": ANSWER}),
        },
    )


def openinference(span):
    span.set_attribute("openinference.span.kind", "LLM")
    span.set_attribute("llm.model_name", MODEL)
    span.set_attribute("llm.provider", "openai")
    span.set_attribute("input.value", json.dumps({"messages": [{"role": "user", "content": QUESTION}]}))
    span.set_attribute("input.mime_type", "application/json")
    span.set_attribute("llm.input_messages.0.message.role", "system")
    span.set_attribute("llm.input_messages.0.message.content", SYSTEM)
    span.set_attribute("llm.input_messages.1.message.role", "user")
    span.set_attribute("llm.input_messages.1.message.content", QUESTION)
    span.set_attribute("llm.output_messages.0.message.role", "assistant")
    span.set_attribute("llm.output_messages.0.message.content", ANSWER)
    span.set_attribute("output.value", ANSWER)
    span.set_attribute("llm.token_count.prompt", 42)
    span.set_attribute("llm.token_count.completion", 9)


VOCABULARIES = [genai_messages, openllmetry, genai_events, openinference]


def retriever(tracer):
    span = tracer.start_span("retrieve documents")
    span.set_attribute("openinference.span.kind", "RETRIEVER")
    span.set_attribute("input.value", QUESTION)
    for i, doc in enumerate(DOCUMENTS):
        span.set_attribute(f"retrieval.documents.{i}.document.id", f"doc-{i}")
        span.set_attribute(f"retrieval.documents.{i}.document.content", doc)
        span.set_attribute(f"retrieval.documents.{i}.document.score", 0.9 - i / 10)
    return span


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--processor", choices=["batch", "simple"], required=True)
    parser.add_argument("--order", choices=["retriever-first", "llm-first"], required=True)
    parser.add_argument("--traces", type=int, default=8)
    parser.add_argument("--prompt-id", default="rag-v1")
    parser.add_argument("--project", help="evalguard.project_id (not needed with a project key)")
    args = parser.parse_args()

    attributes = {"service.name": "support-bot", "evalguard.prompt_id": args.prompt_id}
    if args.project:
        attributes["evalguard.project_id"] = args.project
    resource = Resource.create(attributes)
    provider = TracerProvider(resource=resource)
    exporter = RecordingExporter()
    processor = BatchSpanProcessor(exporter) if args.processor == "batch" else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("evalguard-otlp-test")

    llm_spans = []
    for i in range(args.traces):
        with tracer.start_as_current_span("POST /chat") as root:
            root.set_attribute("http.request.method", "POST")
            if args.order == "retriever-first":
                retriever(tracer).end()
            llm = tracer.start_span(f"chat {MODEL}")
            VOCABULARIES[i % len(VOCABULARIES)](llm)
            llm.end()
            if args.order == "llm-first":
                retriever(tracer).end()
            ctx = llm.get_span_context()
            llm_spans.append(
                {
                    "trace_id": format(ctx.trace_id, "032x"),
                    "span_id": format(ctx.span_id, "016x"),
                    "vocabulary": VOCABULARIES[i % len(VOCABULARIES)].__name__,
                }
            )
    provider.force_flush()
    provider.shutdown()
    print(json.dumps({"llm_spans": llm_spans, "exports": exporter.results}))
    return 0 if exporter.results and all(ok for _, ok in exporter.results) else 1


if __name__ == "__main__":
    sys.exit(main())
