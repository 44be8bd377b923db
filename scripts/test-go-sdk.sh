#!/usr/bin/env bash
# Vets, format-checks and tests the Go SDK against the real server binary.
# Installs Debian's Go (golang-go) when `go` is missing.
# EVALGUARD_BIN: the evalguard binary (default: target/debug/evalguard).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo/sdks/go"

export EVALGUARD_BIN="${EVALGUARD_BIN:-$repo/target/debug/evalguard}"
if [ ! -x "$EVALGUARD_BIN" ]; then
  echo "test-go-sdk.sh: no evalguard binary at $EVALGUARD_BIN (cargo build, or set EVALGUARD_BIN)" >&2
  exit 1
fi
if ! command -v go >/dev/null 2>&1; then
  echo "test-go-sdk.sh: installing golang-go" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq golang-go >/dev/null
fi
go version

go vet ./...
# The package's own files; testdata/published/main.go is the published sample,
# kept byte for byte as published (it is not gofmt-formatted).
unformatted="$(find . -name '*.go' -not -path './testdata/*' -exec gofmt -l {} +)"
if [ -n "$unformatted" ]; then
  echo "test-go-sdk.sh: not gofmt-formatted:" >&2
  echo "$unformatted" >&2
  exit 1
fi
# The race detector needs cgo and a C compiler; without them the tests run plainly.
race=()
if [ "$(go env CGO_ENABLED)" = "1" ] && command -v gcc >/dev/null 2>&1; then
  race=(-race)
fi
go test "${race[@]}" -count=1 ./...
