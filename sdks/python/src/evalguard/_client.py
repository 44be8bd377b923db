"""The clients: ``EvalGuard`` (blocking) and ``AsyncEvalGuard`` (asyncio/trio).

Both send a request, and on a retryable failure wait and send it again; the
decisions are made by ``BaseClient``, so the two loops only differ in how
they send and how they wait.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import anyio
import httpx

from ._base_client import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    BaseClient,
    Params,
    RequestSpec,
)
from .resources import (
    ApiKeys,
    AsyncApiKeys,
    AsyncAutoEval,
    AsyncProjects,
    AsyncTraffic,
    AutoEval,
    Projects,
    Traffic,
)

__all__ = ["AsyncEvalGuard", "EvalGuard"]


class EvalGuard(BaseClient):
    """A blocking client. Thread-safe; reuse one per process.

    ``api_key`` defaults to ``EVALGUARD_API_KEY``; ``base_url`` to
    ``EVALGUARD_BASE_URL``, else ``http://127.0.0.1:8080``. ``timeout`` is per
    request in seconds; ``max_retries`` counts the attempts after the first.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(follow_redirects=False)
        self.traffic = Traffic(self)
        self.auto_eval = AutoEval(self)
        self.projects = Projects(self)
        self.keys = ApiKeys(self)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> Any:
        """Any API call: the decoded JSON of a 2xx answer, else a typed error."""
        spec = RequestSpec(
            method=method,
            path=path,
            body=body,
            params=params,
            headers=dict(headers or {}),
            timeout=timeout,
            max_retries=max_retries,
        )
        return self._call(spec)

    def _call(self, spec: RequestSpec) -> Any:
        spec = self._prepare(spec)
        retries_done = 0
        while True:
            request = self._build_request(self._http, spec)
            try:
                response = self._http.send(request)
            except httpx.TransportError as e:
                delay = self._delay_after_failure(spec, e, retries_done)
                if delay is None:
                    raise self._connection_error(spec, e) from e
            else:
                delay = self._delay_after_status(spec, response, retries_done)
                if delay is None:
                    return self._read(spec, response)
                response.close()
            time.sleep(delay)
            retries_done += 1

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> EvalGuard:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncEvalGuard(BaseClient):
    """The same client for ``async`` code (asyncio or trio)."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(follow_redirects=False)
        self.traffic = AsyncTraffic(self)
        self.auto_eval = AsyncAutoEval(self)
        self.projects = AsyncProjects(self)
        self.keys = AsyncApiKeys(self)

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> Any:
        """Any API call: the decoded JSON of a 2xx answer, else a typed error."""
        spec = RequestSpec(
            method=method,
            path=path,
            body=body,
            params=params,
            headers=dict(headers or {}),
            timeout=timeout,
            max_retries=max_retries,
        )
        return await self._call(spec)

    async def _call(self, spec: RequestSpec) -> Any:
        spec = self._prepare(spec)
        retries_done = 0
        while True:
            request = self._build_request(self._http, spec)
            try:
                response = await self._http.send(request)
            except httpx.TransportError as e:
                delay = self._delay_after_failure(spec, e, retries_done)
                if delay is None:
                    raise self._connection_error(spec, e) from e
            else:
                delay = self._delay_after_status(spec, response, retries_done)
                if delay is None:
                    return self._read(spec, response)
                await response.aclose()
            await anyio.sleep(delay)
            retries_done += 1

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncEvalGuard:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
