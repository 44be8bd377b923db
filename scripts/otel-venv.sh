#!/usr/bin/env bash
# Creates target/otel-venv with the OpenTelemetry Python SDK and its OTLP/HTTP
# exporter, for the OTLP ingest tests (crates/evalguard/tests/otlp_python_sdk.rs).
# Idempotent: does nothing when the venv already has the packages.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/otel-venv
packages=(
  "opentelemetry-sdk>=1.27,<2"
  "opentelemetry-exporter-otlp-proto-http>=1.27,<2"
)

if [ -x "$venv/bin/python" ] &&
  "$venv/bin/python" -c 'import opentelemetry.sdk.trace, opentelemetry.exporter.otlp.proto.http.trace_exporter' 2>/dev/null; then
  exit 0
fi
python=$(command -v python3 || command -v python)
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}"
echo "otel-venv.sh: $("$venv/bin/python" -m pip show opentelemetry-sdk | grep -i '^version') in $venv" >&2
