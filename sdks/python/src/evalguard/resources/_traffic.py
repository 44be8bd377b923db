"""``client.traffic``: send any number of samples."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Callable

from .._base_client import RequestSpec
from .._batching import MAX_BODY_BYTES, MAX_SAMPLES_PER_REQUEST, Batch, plan_batches
from .._buffer import DropCallback, TrafficBuffer

if TYPE_CHECKING:
    from .._client import AsyncEvalGuard, EvalGuard

Sample = Mapping[str, Any]


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
    ) -> int:
        """Sends every sample, in as many requests as the server's limits
        need; returns the number accepted. Raises at the first batch refused
        (the batches before it are stored)."""
        accepted = 0
        for batch in plan_batches(samples, max_samples=batch_size, max_bytes=max_body_bytes):
            accepted += int(self._client._call(_batch_spec(batch))["accepted"])
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
        accepted = 0
        for batch in plan_batches(samples, max_samples=batch_size, max_bytes=max_body_bytes):
            accepted += int((await self._client._call(_batch_spec(batch)))["accepted"])
        return accepted
