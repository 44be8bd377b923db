"""A small HTTP proxy in front of the server that misbehaves once, on purpose:
it forwards a request and then drops the connection instead of answering, or
answers an error without forwarding. It records what it saw."""

from __future__ import annotations

import dataclasses
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclasses.dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    upstream_status: int | None
    upstream_body: Any


@dataclasses.dataclass
class Fault:
    method: str
    path_prefix: str
    # "drop_response": forward, then close without answering.
    # "answer": answer `status` (with `headers`) without forwarding.
    action: str
    status: int = 503
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    times: int = 1


class FaultyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                proxy.handle(self)

            do_GET = do_POST = do_DELETE = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if (
                    fault.times > 0
                    and fault.method == method
                    and path.startswith(fault.path_prefix)
                ):
                    fault.times -= 1
                    return fault
        return None

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("content-length") or 0)
        body = h.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in h.headers.items()}
        fault = self._take_fault(h.command, h.path)
        if fault is not None and fault.action == "answer":
            self._record(h, headers, fault.status, None)
            payload = b'{"error":{"code":"proxy_fault","message":"injected by the test proxy"}}'
            h.send_response(fault.status)
            for name, value in fault.headers.items():
                h.send_header(name, value)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
            return
        forward = {
            k: v for k, v in headers.items() if k not in ("host", "content-length", "connection")
        }
        answer = self._http.request(
            h.command, self.upstream + h.path, content=body, headers=forward
        )
        try:
            decoded = answer.json()
        except ValueError:
            decoded = answer.text
        self._record(h, headers, answer.status_code, decoded)
        if fault is not None and fault.action == "drop_response":
            h.close_connection = True
            h.connection.shutdown(2)
            return
        h.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in (
                "content-length",
                "transfer-encoding",
                "connection",
                "content-encoding",
            ):
                h.send_header(name, value)
        h.send_header("Content-Length", str(len(answer.content)))
        h.end_headers()
        h.wfile.write(answer.content)

    def _record(
        self, h: BaseHTTPRequestHandler, headers: dict[str, str], status: int | None, body: Any
    ) -> None:
        with self._lock:
            self.seen.append(Seen(h.command, h.path, headers, status, body))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()
