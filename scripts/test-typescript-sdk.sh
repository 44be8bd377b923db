#!/usr/bin/env bash
# Builds the TypeScript SDK (ESM, CommonJS, .d.ts), type-checks the published
# code sample against it, checks that `npm pack` makes the package, and runs
# its tests against the real server binary.
# EVALGUARD_BIN: the evalguard binary (default: target/debug/evalguard).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo/sdks/typescript"

export EVALGUARD_BIN="${EVALGUARD_BIN:-$repo/target/debug/evalguard}"
if [ ! -x "$EVALGUARD_BIN" ]; then
  echo "test-typescript-sdk.sh: no evalguard binary at $EVALGUARD_BIN (cargo build, or set EVALGUARD_BIN)" >&2
  exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "test-typescript-sdk.sh: installing Node.js and npm" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi

npm ci --no-audit --no-fund
npm run build
npm run build:examples
# The tarball, installed into an empty application, loads through import and require.
packed="$(mktemp -d)"
trap 'rm -rf "$packed"' EXIT
tarball="$(npm pack --silent --pack-destination "$packed" | tail -n 1)"
echo "test-typescript-sdk.sh: npm pack made $tarball" >&2
mkdir "$packed/app"
(
  cd "$packed/app"
  echo '{"name": "app", "version": "1.0.0", "private": true}' > package.json
  npm install --no-audit --no-fund --offline "$packed/$tarball" >/dev/null
  node --input-type=module -e 'import { EvalGuard, VERSION } from "@evalguard/sdk"; if (typeof EvalGuard !== "function" || !VERSION) process.exit(1);'
  node -e 'const { EvalGuard, BadRequestError } = require("@evalguard/sdk"); if (typeof EvalGuard !== "function" || typeof BadRequestError !== "function") process.exit(1);'
)
node --test test/*.test.mjs
