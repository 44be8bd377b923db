"""Sends 100,000 samples with ``client.traffic.send`` and prints samples/s.

By default it starts ``evalguard serve`` on a fresh SQLite file (the release
binary ``target/release/evalguard`` when present, else ``$EVALGUARD_BIN``,
else ``target/debug/evalguard``); ``--base-url`` and ``--api-key`` measure a
server already running instead. ``--null-server`` sends to a stand-in that
only reads the bodies and counts their samples, measuring the client alone.

    python sdks/python/benchmarks/send_traffic.py [--samples 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the tests' runner of the real server

from evalguard_server import REPO, EvalGuardServer  # noqa: E402

from evalguard import EvalGuard  # noqa: E402


def make_samples(project_id: str, n: int, run: int) -> list[dict[str, Any]]:
    """Samples shaped like a support bot's traffic (about 600 bytes of JSON each)."""
    return [
        {
            "project_id": project_id,
            "model": "gpt-4o-mini-2024-07-18",
            "prompt_id": "answer-v3",
            "input": f"Run {run}, question {i}: when is the office open on public holidays?",
            "output": "The office is closed on public holidays; on weekdays it is open "
            f"from 9:00 to 17:00. (answer {i})",
            "context": ["The office is open 9:00-17:00, Monday to Friday, except holidays."],
            "metadata": {"user": f"u{i % 977}", "locale": "en-GB"},
            "latency_ms": 400 + i % 900,
            "prompt_tokens": 512,
            "completion_tokens": 96,
        }
        for i in range(n)
    ]


class NullIngest(http.server.BaseHTTPRequestHandler):
    """Reads a traffic body and accepts it, counting samples by their
    ``project_id`` key (each benchmark sample has exactly one)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        count = body.count(b'"project_id":')
        if self.path == "/api/v1/projects":
            answer = body
            status = 201
        else:
            answer = json.dumps({"accepted": count, "stored": count}).encode()
            status = 202
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def serve_null(port_file: str) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NullIngest)
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


def start_null_server(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The stand-in in its own process, so that it does not share our GIL."""
    port_file = workdir / "port"
    process = subprocess.Popen([sys.executable, __file__, "--serve-null", str(port_file)])
    deadline = time.monotonic() + 30
    while not port_file.exists() or not port_file.read_text():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("the null server did not start")
        time.sleep(0.05)
    return process, f"http://127.0.0.1:{port_file.read_text()}"


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU of a process, from /proc (Linux); ``None`` elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--base-url")
    parser.add_argument("--api-key")
    parser.add_argument("--null-server", action="store_true")
    parser.add_argument("--serve-null", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_null:
        serve_null(args.serve_null)
        return

    # The database of a run holds every sample sent (about 1 KB each): removed at the end.
    workdir = tempfile.TemporaryDirectory(prefix="evalguard-bench-")
    server = None
    null_server = None
    if args.null_server:
        null_server, base_url = start_null_server(Path(workdir.name))
        key, binary = "unused", "(null server: reads and counts, stores nothing)"
    elif args.base_url:
        base_url, key = args.base_url, args.api_key or os.environ["EVALGUARD_API_KEY"]
        binary = "(external server)"
    else:
        release = REPO / "target" / "release" / "evalguard"
        if release.is_file():
            os.environ["EVALGUARD_BIN"] = str(release)
        server = EvalGuardServer(Path(workdir.name)).start()
        base_url, key = server.base_url, server.create_key("owner")
        binary = os.environ.get("EVALGUARD_BIN", str(REPO / "target" / "debug" / "evalguard"))
    try:
        with EvalGuard(api_key=key, base_url=base_url, timeout=120) as client:
            project = client.projects.create(id=f"bench-{uuid.uuid4().hex[:8]}").id
            print(f"server: {binary}")
            print(
                f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus"
            )
            rates = []
            for run in range(args.runs):
                samples = make_samples(project, args.samples, run)
                server_pid = server.pid if server else null_server.pid if null_server else None
                server_cpu_started = cpu_seconds(server_pid)
                started, cpu_started = time.perf_counter(), time.process_time()
                accepted = client.traffic.send(samples)
                elapsed = time.perf_counter() - started
                cpu = time.process_time() - cpu_started
                assert accepted == args.samples, accepted
                rates.append(accepted / elapsed)
                # The client's own CPU (all its threads) hardly depends on how
                # busy the machine is: it bounds the rate one core can send at.
                print(
                    f"run {run + 1}: {accepted} samples in {elapsed:.2f} s = "
                    f"{accepted / elapsed:,.0f} samples/s; client CPU {cpu:.2f} s = "
                    f"{cpu / accepted * 1e6:.1f} us/sample (one core: {accepted / cpu:,.0f}/s); "
                    f"load {os.getloadavg()[0]:.1f}"
                )
                server_cpu_done = cpu_seconds(server_pid)
                if server_cpu_started is not None and server_cpu_done is not None:
                    spent = server_cpu_done - server_cpu_started
                    print(
                        f"       server CPU {spent:.2f} s = {spent / accepted * 1e6:.1f} us/sample"
                    )
            print(
                f"best: {max(rates):,.0f} samples/s, median: {sorted(rates)[len(rates) // 2]:,.0f}"
            )
    finally:
        if server is not None:
            server.stop()
        if null_server is not None:
            null_server.kill()
            null_server.wait()
        workdir.cleanup()


if __name__ == "__main__":
    main()
