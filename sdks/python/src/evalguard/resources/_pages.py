"""Walking every page of a list (``{"data": [...], "next_cursor": ...}``)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Any, Callable, TypeVar

from .._base_client import RequestSpec

T = TypeVar("T")


def page_spec(spec: RequestSpec, cursor: str | None) -> RequestSpec:
    """The request of the page that starts at ``cursor``."""
    params = dict(spec.params or {})
    params["cursor"] = cursor
    return dataclasses.replace(spec, params=params, headers=dict(spec.headers))


def page_items(answer: Any, parse: Callable[[dict[str, Any]], T]) -> tuple[list[T], str | None]:
    items = [parse(item) for item in answer.get("data") or []]
    return items, answer.get("next_cursor")


def iterate_pages(
    call: Callable[[RequestSpec], Any],
    spec: RequestSpec,
    parse: Callable[[dict[str, Any]], T],
) -> Iterator[T]:
    cursor: str | None = None
    while True:
        items, cursor = page_items(call(page_spec(spec, cursor)), parse)
        yield from items
        if not cursor:
            return


async def aiterate_pages(
    call: Callable[[RequestSpec], Awaitable[Any]],
    spec: RequestSpec,
    parse: Callable[[dict[str, Any]], T],
) -> AsyncIterator[T]:
    cursor: str | None = None
    while True:
        items, cursor = page_items(await call(page_spec(spec, cursor)), parse)
        for item in items:
            yield item
        if not cursor:
            return
