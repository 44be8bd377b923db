#!/usr/bin/env bash
# Lints, type-checks and tests the Python SDK (sdks/python) against the real
# server binary. Creates or reuses a venv in target/venv-python-sdk.
# EVALGUARD_BIN: the evalguard binary to test against (default target/debug/evalguard).
set -euo pipefail
cd "$(dirname "$0")/.."

export EVALGUARD_BIN="${EVALGUARD_BIN:-$PWD/target/debug/evalguard}"
if [ ! -x "$EVALGUARD_BIN" ]; then
  echo "test-python-sdk.sh: no evalguard binary at $EVALGUARD_BIN (cargo build, or set EVALGUARD_BIN)" >&2
  exit 1
fi

venv=target/venv-python-sdk
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv" 2>/dev/null; then
    echo "test-python-sdk.sh: python3 -m venv failed; installing python3-venv" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    "$python" -m venv "$venv"
  fi
fi
# The SDK in editable mode with its dev tools, again only when pyproject.toml changed
# (an editable install follows the sources by itself).
stamp="$venv/.evalguard-sdk-pyproject"
want=$(sha256sum sdks/python/pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e 'sdks/python[dev]'
  echo "$want" >"$stamp"
fi

cd sdks/python
"../../$venv/bin/ruff" check .
"../../$venv/bin/ruff" format --check .
"../../$venv/bin/mypy"
"../../$venv/bin/pytest" -q "$@"
