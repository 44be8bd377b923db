"""The errors the client raises: one base class, a subclass per HTTP status.

Messages are built from the server's error object and the request's method and
path only, never from headers, so the API key cannot appear in them.
"""

from __future__ import annotations

from typing import Any

import httpx

from ._retry import parse_retry_after

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "EvalGuardError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
]


class EvalGuardError(Exception):
    """Every error this library raises.

    ``status`` is the HTTP status (``None`` when no answer arrived); ``code``,
    ``message`` and ``param`` are the fields of the server's error object.
    """

    status: int | None
    code: str | None
    message: str
    param: str | None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.param = param


class APIStatusError(EvalGuardError):
    """The server answered with a status that is not 2xx."""

    response: httpx.Response
    body: Any

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: Any,
        code: str | None,
        param: str | None,
    ) -> None:
        super().__init__(message, status=response.status_code, code=code, param=param)
        self.response = response
        self.body = body

    @property
    def request_id(self) -> str | None:
        value: str | None = self.response.headers.get("x-request-id")
        return value

    def __str__(self) -> str:
        where = f" (param: {self.param})" if self.param else ""
        return f"{self.status} {self.code or 'error'}: {self.message}{where}"


class BadRequestError(APIStatusError):
    """400: malformed body, missing or out-of-range field (``param`` names it)."""


class AuthenticationError(APIStatusError):
    """401: no key, a malformed, unknown or revoked key."""


class PermissionDeniedError(APIStatusError):
    """403: the key's role is too low, or the resource is outside its project."""


class NotFoundError(APIStatusError):
    """404: the id does not exist in the key's organization."""


class ConflictError(APIStatusError):
    """409: the resource exists already (e.g. a project id)."""


class UnprocessableEntityError(APIStatusError):
    """422: e.g. an Idempotency-Key reused with a different body."""


class RateLimitError(APIStatusError):
    """429: the key's rate limit is used up; ``retry_after`` is in seconds."""

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.response.headers.get("retry-after"))


class InternalServerError(APIStatusError):
    """5xx: the server failed; retried automatically when the request is safe."""


class APIConnectionError(EvalGuardError):
    """No answer: the connection failed or broke."""

    def __init__(self, message: str = "connection error") -> None:
        super().__init__(message)


class APITimeoutError(APIConnectionError):
    """No answer within the request's timeout."""

    def __init__(self, message: str = "request timed out") -> None:
        super().__init__(message)


class WaitTimeoutError(EvalGuardError, TimeoutError):
    """``auto_eval.wait`` gave up before the job finished; ``job`` is its last state."""

    def __init__(self, message: str, *, job: Any) -> None:
        super().__init__(message)
        self.job = job


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error(response: httpx.Response, method: str, path: str) -> APIStatusError:
    """The typed error for a non-2xx answer, read from its JSON error object."""
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = response.text
    code: str | None = None
    param: str | None = None
    message = f"{method} {path} answered {response.status_code}"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code") if isinstance(error.get("code"), str) else None
        param = error.get("param") if isinstance(error.get("param"), str) else None
        if isinstance(error.get("message"), str):
            message = error["message"]
    status = response.status_code
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = InternalServerError if status >= 500 else APIStatusError
    return cls(message, response=response, body=body, code=code, param=param)
