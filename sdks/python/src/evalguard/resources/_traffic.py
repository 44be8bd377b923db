"""``client.traffic``: send any number of samples."""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable

import anyio
import anyio.to_thread

from .._base_client import RequestSpec
from .._batching import MAX_BODY_BYTES, MAX_SAMPLES_PER_REQUEST, Batch, plan_batches
from .._buffer import DropCallback, TrafficBuffer

if TYPE_CHECKING:
    from .._client import AsyncEvalGuard, EvalGuard

Sample = Mapping[str, Any]


def _accepted(answer: Any) -> int:
    return int(answer["accepted"])


def _batch_spec(batch: Batch) -> RequestSpec:
    return RequestSpec(
        method="POST",
        path="/api/v1/traffic",
        content=batch.body,
        headers={"Idempotency-Key": batch.idempotency_key},
    )


class Traffic:
    def __init__(self, client: EvalGuard) -> None:
        self._client = client

    def send(
        self,
        samples: Iterable[Sample],
        *,
        batch_size: int = MAX_SAMPLES_PER_REQUEST,
        max_body_bytes: int = MAX_BODY_BYTES,
        concurrency: int = 2,
    ) -> int:
        """Sends every sample, in as many requests as the server's limits
        need; returns the number accepted.

        The next batch is encoded while up to ``concurrency`` requests are in
        flight. A refused batch raises its error once the requests in flight
        have ended: the batches before it are stored, and so may be the ones
        sent alongside it."""
        if concurrency < 1:
            raise ValueError("concurrency must be 1 or more")
        batches = plan_batches(samples, max_samples=batch_size, max_bytes=max_body_bytes)
        first = next(batches, None)
        if first is None:
            return 0
        second = next(batches, None)
        if second is None:
            # One request (the buffer's case): no threads.
            return _accepted(self._client._call(_batch_spec(first)))
        accepted = 0
        in_flight: collections.deque[Future[Any]] = collections.deque()
        with ThreadPoolExecutor(concurrency, thread_name_prefix="evalguard-send") as pool:
            try:
                for batch in itertools.chain((first, second), batches):
                    if len(in_flight) == concurrency:
                        accepted += _accepted(in_flight.popleft().result())
                    in_flight.append(pool.submit(self._client._call, _batch_spec(batch)))
                while in_flight:
                    accepted += _accepted(in_flight.popleft().result())
            finally:
                for future in in_flight:
                    future.cancel()
        return accepted

    def buffer(
        self,
        *,
        max_batch: int = 1_000,
        flush_interval: float = 1.0,
        max_queue: int = 100_000,
        on_drop: DropCallback | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> TrafficBuffer:
        """A background buffer for samples added one at a time (see ``TrafficBuffer``)."""
        return TrafficBuffer(
            self,
            max_batch=max_batch,
            flush_interval=flush_interval,
            max_queue=max_queue,
            on_drop=on_drop,
            on_error=on_error,
        )


class AsyncTraffic:
    def __init__(self, client: AsyncEvalGuard) -> None:
        self._client = client

    async def send(
        self,
        samples: Iterable[Sample],
        *,
        batch_size: int = MAX_SAMPLES_PER_REQUEST,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> int:
        """Sends every sample, in as many requests as the server's limits
        need; returns the number accepted."""
        batches = plan_batches(samples, max_samples=batch_size, max_bytes=max_body_bytes)
        accepted = 0
        while True:
            # Encoding 10,000 samples takes tens of milliseconds: off the event loop.
            batch = await anyio.to_thread.run_sync(next, batches, None)
            if batch is None:
                return accepted
            accepted += _accepted(await self._client._call(_batch_spec(batch)))

    def buffer(self, **options: Any) -> TrafficBuffer:
        """A background buffer for samples added one at a time, with the
        options of ``Traffic.buffer``. ``add`` is a plain call that never
        blocks the event loop; a thread sends the batches with a blocking
        client of the same settings, closed with the buffer."""
        from .._client import EvalGuard

        c = self._client
        sender = EvalGuard(
            api_key=c.api_key,
            base_url=c.base_url,
            timeout=c.timeout,
            max_retries=c.max_retries,
            default_headers=c._default_headers,
        )
        return TrafficBuffer(sender.traffic, owned_client=sender, **options)
