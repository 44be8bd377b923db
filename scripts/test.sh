#!/usr/bin/env bash
# Runs every test: the workspace's on SQLite and on PostgreSQL (the dashboard's
# in headless chromium, OTLP ingest's with the OpenTelemetry Python SDK), then
# the Python, TypeScript and Go SDKs' own runners against the real binary.
# Installs what is missing: PostgreSQL (started when none answers on
# 127.0.0.1:5432), chromium + chromium-driver, golang-go, the Python venvs and
# the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

postgres_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

if [ -z "${EVALGUARD_TEST_POSTGRES_URL:-}" ]; then
  if ! postgres_up; then
    echo "test.sh: no PostgreSQL on 127.0.0.1:5432; starting one" >&2
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
    fi
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    hba=/etc/postgresql/$version/main/pg_hba.conf
    # Tests connect over TCP as postgres without a password.
    if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
      sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    fi
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do postgres_up && break; sleep 1; done
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
  fi
  export EVALGUARD_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/postgres"
fi
echo "test.sh: PostgreSQL tests use $EVALGUARD_TEST_POSTGRES_URL" >&2

# The dashboard's browser tests drive Debian's chromium through chromedriver.
if [ ! -x /usr/bin/chromedriver ]; then
  echo "test.sh: no chromedriver; installing chromium and chromium-driver" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# Each test creates its own database; drop the ones earlier runs left behind.
if command -v psql >/dev/null 2>&1; then
  psql "$EVALGUARD_TEST_POSTGRES_URL" -Atqc \
    "SELECT datname FROM pg_database WHERE datname LIKE 'evalguard\_test\_%'" 2>/dev/null |
    while read -r db; do
      psql "$EVALGUARD_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true
    done
fi

scripts/otel-venv.sh  # the OpenTelemetry Python SDK for the OTLP ingest tests

# Every suite runs even when an earlier one failed; the script fails if any did.
failed=()
cargo test --workspace --no-fail-fast --features evalguard-storage/testing "$@" || failed+=("cargo test")

# The SDKs' own runners (pytest, node --test, go test) against the real server binary.
cargo build --bin evalguard
export EVALGUARD_BIN="$PWD/target/debug/evalguard"
for sdk in python typescript go; do
  bash "scripts/test-$sdk-sdk.sh" || failed+=("$sdk SDK")
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "test.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "test.sh: every suite passed" >&2
