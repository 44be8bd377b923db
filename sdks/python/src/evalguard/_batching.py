"""Splitting traffic into request bodies the server accepts: at most 10,000
samples and at most the body limit (16 MiB by default) each.

Each batch carries its own Idempotency-Key, and samples without an ``id`` get
one derived from it (``<key>-<index>``): the server stores a sample id once
per project, so a batch sent again after a lost answer is not stored twice.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ._base_client import encode_json, new_idempotency_key

MAX_SAMPLES_PER_REQUEST = 10_000
MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Batch:
    idempotency_key: str
    count: int
    body: bytes


def _with_ids(key: str, samples: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [s if "id" in s else {**s, "id": f"{key}-{i}"} for i, s in enumerate(samples)]


def _encode(samples: list[Mapping[str, Any]], max_bytes: int) -> Iterator[tuple[int, bytes]]:
    """Bodies of at most ``max_bytes``, halving any batch that is larger; a
    single sample over the limit is sent alone (the server answers 413)."""
    body = encode_json({"samples": samples})
    if len(body) <= max_bytes or len(samples) == 1:
        yield len(samples), body
        return
    middle = len(samples) // 2
    yield from _encode(samples[:middle], max_bytes)
    yield from _encode(samples[middle:], max_bytes)


def plan_batches(
    samples: Iterable[Mapping[str, Any]],
    *,
    max_samples: int = MAX_SAMPLES_PER_REQUEST,
    max_bytes: int = MAX_BODY_BYTES,
) -> Iterator[Batch]:
    """The request bodies for ``samples``, lazily: an iterator of any length is
    read ``max_samples`` at a time."""
    if not 1 <= max_samples <= MAX_SAMPLES_PER_REQUEST:
        raise ValueError(f"max_samples must be from 1 to {MAX_SAMPLES_PER_REQUEST}")
    it = iter(samples)
    while True:
        chunk = list(itertools.islice(it, max_samples))
        if not chunk:
            return
        yield from _split_for_keys(chunk, max_bytes)


def _split_for_keys(chunk: list[Mapping[str, Any]], max_bytes: int) -> Iterator[Batch]:
    # Ids are given before halving, so they stay the same whatever the split.
    key = new_idempotency_key()
    with_ids = _with_ids(key, chunk)
    parts = list(_encode(with_ids, max_bytes))
    if len(parts) == 1:
        count, body = parts[0]
        yield Batch(idempotency_key=key, count=count, body=body)
        return
    for index, (count, body) in enumerate(parts):
        yield Batch(idempotency_key=f"{key}-part{index}", count=count, body=body)
