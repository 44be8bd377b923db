"""``client.keys``: the organization's API keys (admin role)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .._base_client import RequestSpec
from ..types import ApiKey, CreatedApiKey, Role

if TYPE_CHECKING:
    from .._client import AsyncEvalGuard, EvalGuard


def _create_spec(role: Role | str, project_id: str | None, name: str | None) -> RequestSpec:
    body: dict[str, Any] = {"role": role.value if isinstance(role, Role) else role}
    if project_id is not None:
        body["project_id"] = project_id
    if name is not None:
        body["name"] = name
    return RequestSpec(method="POST", path="/api/v1/keys", body=body)


def _list_spec() -> RequestSpec:
    return RequestSpec(method="GET", path="/api/v1/keys")


def _revoke_spec(key_id: str) -> RequestSpec:
    return RequestSpec(method="DELETE", path=f"/api/v1/keys/{quote(key_id, safe='')}")


def _key_list(answer: Any) -> list[ApiKey]:
    return [ApiKey.from_dict(k) for k in answer.get("data") or []]


class ApiKeys:
    def __init__(self, client: EvalGuard) -> None:
        self._client = client

    def create(
        self,
        *,
        role: Role | str,
        project_id: str | None = None,
        name: str | None = None,
    ) -> CreatedApiKey:
        """A new key; its secret (``.key``) is shown this once."""
        return CreatedApiKey.from_dict(self._client._call(_create_spec(role, project_id, name)))

    def list(self) -> list[ApiKey]:
        """The organization's keys: public ids and metadata, no secrets."""
        return _key_list(self._client._call(_list_spec()))

    def revoke(self, key_id: str) -> ApiKey:
        return ApiKey.from_dict(self._client._call(_revoke_spec(key_id)))


class AsyncApiKeys:
    def __init__(self, client: AsyncEvalGuard) -> None:
        self._client = client

    async def create(
        self,
        *,
        role: Role | str,
        project_id: str | None = None,
        name: str | None = None,
    ) -> CreatedApiKey:
        """A new key; its secret (``.key``) is shown this once."""
        return CreatedApiKey.from_dict(
            await self._client._call(_create_spec(role, project_id, name))
        )

    async def list(self) -> list[ApiKey]:
        """The organization's keys: public ids and metadata, no secrets."""
        return _key_list(await self._client._call(_list_spec()))

    async def revoke(self, key_id: str) -> ApiKey:
        return ApiKey.from_dict(await self._client._call(_revoke_spec(key_id)))
