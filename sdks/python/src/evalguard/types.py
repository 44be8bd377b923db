"""Typed answers of the API. Every model keeps the decoded JSON it was read
from in ``raw``, so fields a newer server adds are never lost; values of
closed sets are enums, and a value this version does not know stays a string.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import re
from typing import Any, TypeVar

__all__ = [
    "ApiKey",
    "CreatedApiKey",
    "Flag",
    "FlagKind",
    "Job",
    "JobCreated",
    "JobError",
    "JobStatus",
    "Progress",
    "Project",
    "Role",
    "SampleResult",
    "Score",
    "ScoreOutcome",
    "Severity",
    "Target",
    "Usage",
]


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class FlagKind(str, enum.Enum):
    HALLUCINATION = "hallucination"
    DRIFT = "drift"
    REGRESSION = "regression"


class Severity(str, enum.Enum):
    WARNING = "warning"
    CRITICAL = "critical"


class ScoreOutcome(str, enum.Enum):
    SCORED = "scored"
    NOT_APPLICABLE = "not_applicable"
    UNPARSABLE = "unparsable"
    ERROR = "error"


class Role(str, enum.Enum):
    VIEWER = "viewer"
    MEMBER = "member"
    ADMIN = "admin"
    OWNER = "owner"


E = TypeVar("E", bound=enum.Enum)

# Up to 9 fractional digits (the server's precision); Python keeps 6.
_FRACTION = re.compile(r"(\.\d{6})\d+")


def _enum(cls: type[E], value: Any) -> E | str:
    try:
        return cls(value)
    except ValueError:
        return str(value)


def _time(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    text = _FRACTION.sub(r"\1", value.strip())
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.datetime.fromisoformat(text)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclasses.dataclass(frozen=True)
class Target:
    model: str
    prompt_id: str
    project_id: str

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Target:
        return cls(model=d["model"], prompt_id=d["prompt_id"], project_id=d["project_id"])


@dataclasses.dataclass(frozen=True)
class Progress:
    total: int
    done: int
    errors: int

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Progress:
        return cls(total=d.get("total", 0), done=d.get("done", 0), errors=d.get("errors", 0))


@dataclasses.dataclass(frozen=True)
class Usage:
    judge_requests: int
    prompt_tokens: int
    completion_tokens: int
    cache_hits: int
    cost_usd: float | None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Usage:
        return cls(
            judge_requests=d.get("judge_requests", 0),
            prompt_tokens=d.get("prompt_tokens", 0),
            completion_tokens=d.get("completion_tokens", 0),
            cache_hits=d.get("cache_hits", 0),
            cost_usd=d.get("cost_usd"),
        )


@dataclasses.dataclass(frozen=True)
class Flag:
    kind: FlagKind | str
    severity: Severity | str
    metric: str
    message: str
    # test, statistic, p_value, p_adjusted, effect, ci_low, ci_high, n_current, n_baseline…
    evidence: dict[str, Any]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Flag:
        return cls(
            kind=_enum(FlagKind, d.get("kind")),
            severity=_enum(Severity, d.get("severity")),
            metric=d.get("metric", ""),
            message=d.get("message", ""),
            evidence=_dict(d.get("evidence")),
        )


@dataclasses.dataclass(frozen=True)
class JobError:
    code: str
    message: str


@dataclasses.dataclass(frozen=True)
class Job:
    job_id: str
    status: JobStatus | str
    target: Target
    sample_count: int
    created_at: datetime.datetime | None
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    progress: Progress
    partial: bool
    summary: dict[str, dict[str, Any]]
    flags: list[Flag]
    usage: Usage
    baseline: dict[str, Any] | None
    error: JobError | None
    stop_reason: str | None
    warnings: list[dict[str, Any]]
    raw: dict[str, Any] = dataclasses.field(repr=False, compare=False)

    @property
    def is_finished(self) -> bool:
        return isinstance(self.status, JobStatus) and self.status.is_terminal

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Job:
        error = d.get("error")
        return cls(
            job_id=d["job_id"],
            status=_enum(JobStatus, d.get("status")),
            target=Target.from_dict(d["target"]),
            sample_count=d.get("sample_count", 0),
            created_at=_time(d.get("created_at")),
            started_at=_time(d.get("started_at")),
            finished_at=_time(d.get("finished_at")),
            progress=Progress.from_dict(_dict(d.get("progress"))),
            partial=bool(d.get("partial", False)),
            summary=_dict(d.get("summary")),
            flags=[Flag.from_dict(f) for f in d.get("flags") or []],
            usage=Usage.from_dict(_dict(d.get("usage"))),
            baseline=d.get("baseline"),
            error=(
                JobError(code=error.get("code", ""), message=error.get("message", ""))
                if isinstance(error, dict)
                else None
            ),
            stop_reason=d.get("stop_reason"),
            warnings=list(d.get("warnings") or []),
            raw=d,
        )


@dataclasses.dataclass(frozen=True)
class JobCreated:
    job_id: str

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JobCreated:
        return cls(job_id=d["job_id"])


@dataclasses.dataclass(frozen=True)
class Score:
    outcome: ScoreOutcome | str
    value: float | None
    label: str | None
    passed: bool | None
    reasoning: str | None
    # Why a scorer did not apply, or why its reply could not be read.
    reason: str | None
    # The provider's failure when ``outcome`` is ``error``.
    cause: str | None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Score:
        return cls(
            outcome=_enum(ScoreOutcome, d.get("outcome")),
            value=d.get("value"),
            label=d.get("label"),
            passed=d.get("passed"),
            reasoning=d.get("reasoning"),
            reason=d.get("reason"),
            cause=d.get("cause"),
        )


@dataclasses.dataclass(frozen=True)
class SampleResult:
    """One item of ``/results``: every scorer's outcome for one sample."""

    sample_id: str
    flagged: bool
    scores: dict[str, Score]
    sample: dict[str, Any] | None
    raw: dict[str, Any] = dataclasses.field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SampleResult:
        return cls(
            sample_id=d["sample_id"],
            flagged=bool(d.get("flagged", False)),
            scores={k: Score.from_dict(v) for k, v in _dict(d.get("scores")).items()},
            sample=d.get("sample"),
            raw=d,
        )


@dataclasses.dataclass(frozen=True)
class Project:
    id: str
    name: str
    created_at: datetime.datetime | None
    settings: dict[str, Any]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Project:
        return cls(
            id=d["id"],
            name=d.get("name", d["id"]),
            created_at=_time(d.get("created_at")),
            settings=_dict(d.get("settings")),
        )


@dataclasses.dataclass(frozen=True)
class ApiKey:
    """A key as listed: its public id and metadata, never its secret."""

    key_id: str
    role: Role | str
    project_id: str | None
    name: str | None
    created_at: datetime.datetime | None
    last_used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None

    @staticmethod
    def _fields(d: dict[str, Any]) -> dict[str, Any]:
        return {
            "key_id": d["key_id"],
            "role": _enum(Role, d.get("role")),
            "project_id": d.get("project_id"),
            "name": d.get("name"),
            "created_at": _time(d.get("created_at")),
            "last_used_at": _time(d.get("last_used_at")),
            "revoked_at": _time(d.get("revoked_at")),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ApiKey:
        return cls(**cls._fields(d))


@dataclasses.dataclass(frozen=True)
class CreatedApiKey(ApiKey):
    """A new key with its secret, shown this once (and never in the repr)."""

    key: str = dataclasses.field(default="", repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CreatedApiKey:
        return cls(**cls._fields(d), key=d["key"])
