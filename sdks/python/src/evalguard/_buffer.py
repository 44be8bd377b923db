"""A background buffer that batches samples added one at a time.

``add`` only appends to a bounded in-memory queue and returns: the caller's
request path never waits on the network. A daemon thread sends a batch when
``max_batch`` samples are waiting, when ``flush_interval`` has passed since
the last send, on ``flush()``, and at ``close()`` (called by ``with``, and at
interpreter exit, where it waits at most ``exit_timeout`` seconds). A full
queue drops the new sample and says so through ``on_drop``; so does a batch
the server refused after the client's retries.
"""

from __future__ import annotations

import atexit
import collections
import logging
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ._client import EvalGuard
    from .resources._traffic import Traffic

log = logging.getLogger("evalguard")

# Called with the dropped samples and why: "queue_full", "closed" or "send_failed".
DropCallback = Callable[[list[Mapping[str, Any]], str], None]


class TrafficBuffer:
    """Counters: ``sent`` (accepted by the server), ``dropped``."""

    def __init__(
        self,
        traffic: Traffic,
        *,
        max_batch: int = 1_000,
        flush_interval: float = 1.0,
        max_queue: int = 100_000,
        on_drop: DropCallback | None = None,
        on_error: Callable[[Exception], None] | None = None,
        exit_timeout: float = 10.0,
        owned_client: EvalGuard | None = None,
    ) -> None:
        if not 1 <= max_batch <= 10_000:
            raise ValueError("max_batch must be from 1 to 10000")
        if max_queue < 1 or flush_interval <= 0:
            raise ValueError("max_queue must be positive and flush_interval above 0")
        self._traffic = traffic
        self._max_batch = max_batch
        self._interval = flush_interval
        self._max_queue = max_queue
        self._on_drop = on_drop
        self._on_error = on_error
        self._exit_timeout = exit_timeout
        self._owned_client = owned_client
        self._cond = threading.Condition()
        self._queue: collections.deque[Mapping[str, Any]] = collections.deque()
        self._added = 0  # samples ever queued
        self._settled = 0  # of those, sent or dropped after a failed send
        self._flush_wanted = False
        self._closing = False
        self.sent = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="evalguard-traffic", daemon=True)
        self._thread.start()
        atexit.register(self._close_at_exit)

    def add(self, sample: Mapping[str, Any]) -> bool:
        """Queues one sample (kept by reference: do not change it afterwards);
        ``False`` when it was dropped (queue full or closed)."""
        reason: str | None = None
        with self._cond:
            if self._closing:
                reason = "closed"
            elif len(self._queue) >= self._max_queue:
                reason = "queue_full"
            else:
                self._queue.append(sample)
                self._added += 1
                if len(self._queue) >= self._max_batch:
                    self._cond.notify_all()
                return True
            self.dropped += 1
        self._report_drop([sample], reason)
        return False

    def flush(self, timeout: float | None = None) -> bool:
        """Sends what was queued before this call; ``False`` if ``timeout`` passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            target = self._added
            self._flush_wanted = True
            self._cond.notify_all()
            while self._settled < target:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self, timeout: float | None = None) -> None:
        """Sends what is queued, stops the thread; later ``add`` calls drop."""
        atexit.unregister(self._close_at_exit)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _close_at_exit(self) -> None:
        # A server that does not answer must not hold the interpreter's exit for long.
        self.close(self._exit_timeout)

    def __enter__(self) -> TrafficBuffer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _next_batch(self) -> list[Mapping[str, Any]] | None:
        """Waits for a reason to send; ``None`` when closed and empty."""
        deadline = time.monotonic() + self._interval
        with self._cond:
            while not (self._closing or self._flush_wanted or len(self._queue) >= self._max_batch):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            if not self._queue:
                self._flush_wanted = False
                return None if self._closing else []
            count = min(self._max_batch, len(self._queue))
            batch = [self._queue.popleft() for _ in range(count)]
            if not self._queue:
                self._flush_wanted = False
            return batch

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                if self._owned_client is not None:
                    self._owned_client.close()
                return
            if not batch:
                continue
            try:
                accepted = self._traffic.send(batch)
                failed = False
            except Exception as e:  # any failure: count it, tell the owner, go on
                accepted = 0
                failed = True
                log.warning("evalguard: dropping %d samples after a failed send: %s", len(batch), e)
                if self._on_error is not None:
                    self._on_error(e)
            with self._cond:
                self.sent += accepted
                if failed:
                    self.dropped += len(batch)
                self._settled += len(batch)
                self._cond.notify_all()
            if failed:
                self._report_drop(batch, "send_failed")

    def _report_drop(self, samples: list[Mapping[str, Any]], reason: str) -> None:
        if self._on_drop is None:
            return
        try:
            self._on_drop(samples, reason)
        except Exception:  # a faulty callback must not stop the buffer
            log.exception("evalguard: the on_drop callback raised")
