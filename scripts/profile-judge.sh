#!/usr/bin/env bash
# Where the server's CPU per judged sample goes: runs the judge benchmark
# (`bench --scenario judge`: 10,000 judge calls at the mock provider's 100
# requests/s), samples the server process with perf for PROFILE_SECS while the
# job runs, and sums perf's self time by area. Needs the release build:
#   cargo build --release --bin evalguard --example bench
#   cargo build --release -p evalguard-judge --example mock_openai
# Usage: scripts/profile-judge.sh [TARGET_DIR] (default: target)
set -euo pipefail

target=${1:-target}
secs=${PROFILE_SECS:-60}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$target/release/examples/bench" --scenario judge >"$out/bench.log" 2>&1 &
bench=$!
# The bench starts `evalguard keys create`, then `evalguard serve`; give the
# job time to be under way (ingest takes a few seconds), then take the newest
# server process, the one running the job.
sleep 10
server=$(pgrep -n -f 'evalguard serve' || true)
[ -n "$server" ] || { echo "the server did not start" >&2; cat "$out/bench.log" >&2; exit 1; }
perf record -F 2000 -g -p "$server" -o "$out/perf.data" -- sleep "$secs"
wait "$bench"
grep '^judge job' "$out/bench.log"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

perf report -i "$out/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null \
    | awk '
        /^ *[0-9.]+%/ {
            share = $1; sub("%", "", share)
            line = $0
            if (line ~ /\[kernel/) area = "kernel (loopback TCP, epoll, futex, scheduling)"
            else if (line ~ /minijinja/) area = "prompt templates (minijinja)"
            else if (line ~ /sqlite3|sqlx/) area = "SQLite (sqlx and the C library)"
            else if (line ~ /serde_json|serde::|_serde/) area = "JSON (serde_json)"
            else if (line ~ /hyper|reqwest|h2::|http::|rustls|ring::|url::|tower|idna/) area = "HTTP client and server (hyper, reqwest, url)"
            else if (line ~ /tokio|mio::|parking_lot|crossbeam/) area = "tokio runtime"
            else if (line ~ /malloc|free|realloc|calloc|_int_|tcache|arena/) area = "allocation (glibc malloc/free)"
            else if (line ~ /memcpy|memmove|memset|memchr|strlen|memcmp/) area = "memory copies (libc mem*)"
            else if (line ~ /governor|evalguard|judge|worker/) area = "EvalGuard code (judge, worker, limiter)"
            else area = "other"
            total[area] += share
        }
        END { for (a in total) printf "%6.1f%%  %s\n", total[a], a }' \
    | sort -rn
echo "top symbols:"
perf report -i "$out/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null \
    | grep -E '^ *[0-9.]+%' | head -25
