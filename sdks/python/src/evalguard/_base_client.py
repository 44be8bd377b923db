"""What the sync and async clients share: configuration, request building,
the retry decision, and reading answers. Only the waiting and the sending
differ between them (see ``_client.py``).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import logging
import os
import uuid
from collections.abc import Mapping
from typing import Any, Union

import httpx

from . import _retry
from ._errors import APIConnectionError, APITimeoutError, EvalGuardError, status_error
from ._version import __version__

log = logging.getLogger("evalguard")

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
USER_AGENT = f"evalguard-python/{__version__}"

# POSTs under these paths get an automatic Idempotency-Key, so that a retry
# never creates a second job nor ingests a batch twice.
IDEMPOTENT_POST_PREFIXES = ("/api/v1/traffic", "/api/v1/auto-eval")

Params = Mapping[str, Union[str, int, float, bool, None]]


@dataclasses.dataclass
class RequestSpec:
    """One API call, before it is sent (and re-sent on retries)."""

    method: str
    path: str
    body: Any = None
    content: bytes | None = None
    params: Params | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    timeout: float | None = None
    max_retries: int | None = None


def _json_default(value: Any) -> Any:
    """Types that commonly appear in samples and have one obvious JSON form."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_json(body: Any) -> bytes:
    """Compact JSON; a value JSON cannot hold (NaN, an unknown type) is an
    EvalGuardError raised before anything is sent."""
    try:
        # check_circular=False saves a fifth of the time; a cycle still fails (RecursionError).
        text = json.dumps(
            body,
            separators=(",", ":"),
            allow_nan=False,
            check_circular=False,
            default=_json_default,
        )
    except (TypeError, ValueError, RecursionError) as e:
        raise EvalGuardError(f"the request body cannot be encoded as JSON: {e}") from e
    return text.encode("utf-8")


def resolve_base_url(base_url: str | None) -> str:
    url = base_url or os.environ.get("EVALGUARD_BASE_URL") or DEFAULT_BASE_URL
    return url.rstrip("/")


def resolve_api_key(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get("EVALGUARD_API_KEY")
    if not key:
        raise EvalGuardError(
            "no API key: pass api_key= or set the EVALGUARD_API_KEY environment variable"
        )
    return key


def new_idempotency_key() -> str:
    return f"evalguard-python-{uuid.uuid4().hex}"


class BaseClient:
    """Configuration and the parts of a call that do not wait."""

    base_url: str
    timeout: float
    max_retries: int

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self._api_key = resolve_api_key(api_key)
        self.base_url = resolve_base_url(base_url)
        self.timeout = timeout
        self.max_retries = max_retries
        self._default_headers = dict(default_headers or {})

    @property
    def api_key(self) -> str:
        return self._api_key

    def __repr__(self) -> str:
        # The key is a secret: never part of a repr, a log line or an error.
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key='***')"

    def _prepare(self, spec: RequestSpec) -> RequestSpec:
        """Adds the automatic Idempotency-Key once, before the first attempt,
        so that every retry carries the same one, and encodes the body."""
        has_key = any(k.lower() == "idempotency-key" for k in spec.headers)
        if (
            spec.method.upper() == "POST"
            and not has_key
            and spec.path.startswith(IDEMPOTENT_POST_PREFIXES)
        ):
            spec.headers["Idempotency-Key"] = new_idempotency_key()
        if spec.content is None and spec.body is not None:
            # Once, not at every attempt; a body JSON cannot hold fails here.
            spec.content = encode_json(spec.body)
        return spec

    def _build_request(
        self, http: httpx.Client | httpx.AsyncClient, spec: RequestSpec
    ) -> httpx.Request:
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **self._default_headers,
            **spec.headers,
            "Authorization": f"Bearer {self._api_key}",
        }
        content = spec.content
        if content is not None:
            headers["Content-Type"] = "application/json"
        params = {k: _param(v) for k, v in (spec.params or {}).items() if v is not None}
        timeout = self.timeout if spec.timeout is None else spec.timeout
        return http.build_request(
            spec.method.upper(),
            self.base_url + spec.path,
            params=params or None,
            content=content,
            headers=headers,
            timeout=timeout,
        )

    def _retries_for(self, spec: RequestSpec) -> int:
        return self.max_retries if spec.max_retries is None else spec.max_retries

    def _delay_after_status(
        self, spec: RequestSpec, response: httpx.Response, retries_done: int
    ) -> float | None:
        """The pause before retrying this answer, or ``None`` not to retry."""
        status = response.status_code
        if retries_done >= self._retries_for(spec) or status not in _retry.RETRYABLE_STATUSES:
            return None
        # A 429 is a refusal before any work, so it is safe to repeat whatever
        # the method; other statuses only for requests safe to repeat.
        if status != 429 and not _retry.is_safe_to_repeat(spec.method, spec.headers):
            return None
        delay = _retry.retry_delay(retries_done, response.headers.get("retry-after"))
        if delay is not None:
            log.info(
                "%s %s answered %d; retry %d of %d in %.2f s",
                spec.method,
                spec.path,
                status,
                retries_done + 1,
                self._retries_for(spec),
                delay,
            )
        return delay

    def _delay_after_failure(
        self, spec: RequestSpec, error: httpx.TransportError, retries_done: int
    ) -> float | None:
        if retries_done >= self._retries_for(spec) or isinstance(error, httpx.UnsupportedProtocol):
            return None
        # A connection never made means nothing was sent: safe for any method.
        never_sent = isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout))
        if not never_sent and not _retry.is_safe_to_repeat(spec.method, spec.headers):
            return None
        delay = _retry.backoff_delay(retries_done)
        log.info(
            "%s %s failed (%s); retry %d of %d in %.2f s",
            spec.method,
            spec.path,
            type(error).__name__,
            retries_done + 1,
            self._retries_for(spec),
            delay,
        )
        return delay

    @staticmethod
    def _connection_error(spec: RequestSpec, error: httpx.TransportError) -> APIConnectionError:
        if isinstance(error, httpx.TimeoutException):
            return APITimeoutError(f"{spec.method} {spec.path} timed out")
        return APIConnectionError(
            f"{spec.method} {spec.path}: connection failed ({type(error).__name__})"
        )

    @staticmethod
    def _read(spec: RequestSpec, response: httpx.Response) -> Any:
        """The decoded JSON of a 2xx answer; any other answer raises its typed error."""
        if not response.is_success:
            raise status_error(response, spec.method.upper(), spec.path)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text


def _param(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
