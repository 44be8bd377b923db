"""The EvalGuard API client: ``EvalGuard`` (blocking) and ``AsyncEvalGuard``.

from evalguard import EvalGuard
client = EvalGuard(api_key=...)
client.request(method="POST", path="/api/v1/auto-eval", body={...})
"""

from ._buffer import TrafficBuffer
from ._client import AsyncEvalGuard, EvalGuard
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    EvalGuardError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    WaitTimeoutError,
)
from ._version import __version__
from .types import (
    ApiKey,
    CreatedApiKey,
    Flag,
    FlagKind,
    Job,
    JobCreated,
    JobStatus,
    Project,
    Role,
    SampleResult,
    Score,
    ScoreOutcome,
    Severity,
    Target,
)

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "ApiKey",
    "AsyncEvalGuard",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "CreatedApiKey",
    "EvalGuard",
    "EvalGuardError",
    "Flag",
    "FlagKind",
    "InternalServerError",
    "Job",
    "JobCreated",
    "JobStatus",
    "NotFoundError",
    "PermissionDeniedError",
    "Project",
    "RateLimitError",
    "Role",
    "SampleResult",
    "Score",
    "ScoreOutcome",
    "Severity",
    "Target",
    "TrafficBuffer",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "__version__",
]
