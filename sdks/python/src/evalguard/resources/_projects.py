"""``client.projects``: create, list, read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING
from urllib.parse import quote

from .._base_client import RequestSpec
from ..types import Project
from ._pages import aiterate_pages, iterate_pages

if TYPE_CHECKING:
    from .._client import AsyncEvalGuard, EvalGuard


def _create_spec(id: str, name: str | None) -> RequestSpec:
    body = {"id": id} if name is None else {"id": id, "name": name}
    return RequestSpec(method="POST", path="/api/v1/projects", body=body)


def _get_spec(id: str) -> RequestSpec:
    return RequestSpec(method="GET", path=f"/api/v1/projects/{quote(id, safe='')}")


def _list_spec(page_size: int | None) -> RequestSpec:
    return RequestSpec(method="GET", path="/api/v1/projects", params={"limit": page_size})


class Projects:
    def __init__(self, client: EvalGuard) -> None:
        self._client = client

    def create(self, *, id: str, name: str | None = None) -> Project:
        """A new project (``ConflictError`` when the id exists)."""
        return Project.from_dict(self._client._call(_create_spec(id, name)))

    def get(self, id: str) -> Project:
        return Project.from_dict(self._client._call(_get_spec(id)))

    def list(self, *, page_size: int | None = None) -> Iterator[Project]:
        """Every project the key can see, page after page."""
        return iterate_pages(self._client._call, _list_spec(page_size), Project.from_dict)


class AsyncProjects:
    def __init__(self, client: AsyncEvalGuard) -> None:
        self._client = client

    async def create(self, *, id: str, name: str | None = None) -> Project:
        """A new project (``ConflictError`` when the id exists)."""
        return Project.from_dict(await self._client._call(_create_spec(id, name)))

    async def get(self, id: str) -> Project:
        return Project.from_dict(await self._client._call(_get_spec(id)))

    def list(self, *, page_size: int | None = None) -> AsyncIterator[Project]:
        """Every project the key can see (``async for``)."""
        return aiterate_pages(self._client._call, _list_spec(page_size), Project.from_dict)
