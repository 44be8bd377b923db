"""``client.auto_eval``: trigger, read, cancel, wait for jobs; read results."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Union
from urllib.parse import quote

import anyio

from .._base_client import RequestSpec
from .._errors import WaitTimeoutError
from ..types import Job, JobCreated, JobStatus, SampleResult, Target
from ._pages import aiterate_pages, iterate_pages

if TYPE_CHECKING:
    from .._client import AsyncEvalGuard, EvalGuard

TargetLike = Union[Target, Mapping[str, Any]]

FIRST_POLL = 0.25
MAX_POLL = 5.0


def _job_path(job_id: str, tail: str = "") -> str:
    return f"/api/v1/auto-eval/{quote(str(job_id), safe='')}{tail}"


def _create_spec(
    target: TargetLike, sample_count: int, idempotency_key: str | None, options: dict[str, Any]
) -> RequestSpec:
    if isinstance(target, Target):
        target = {
            "model": target.model,
            "prompt_id": target.prompt_id,
            "project_id": target.project_id,
        }
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    body = {"target": dict(target), "sample_count": sample_count, **options}
    return RequestSpec(method="POST", path="/api/v1/auto-eval", body=body, headers=headers)


def _list_spec(
    project_id: str | None, status: JobStatus | str | None, page_size: int | None
) -> RequestSpec:
    status_text = status.value if isinstance(status, JobStatus) else status
    params = {"project_id": project_id, "status": status_text, "limit": page_size}
    return RequestSpec(method="GET", path="/api/v1/auto-eval", params=params)


def _results_spec(job_id: str, flagged: bool | None, page_size: int | None) -> RequestSpec:
    params = {"flagged": flagged, "limit": page_size}
    return RequestSpec(method="GET", path=_job_path(job_id, "/results"), params=params)


def _get_spec(job_id: str) -> RequestSpec:
    return RequestSpec(method="GET", path=_job_path(job_id))


def _cancel_spec(job_id: str) -> RequestSpec:
    return RequestSpec(method="POST", path=_job_path(job_id, "/cancel"))


class _Poll:
    """The schedule of ``wait``: polls more and more slowly up to ``MAX_POLL``,
    and never sleeps past the deadline."""

    def __init__(self, job_id: str, timeout: float | None) -> None:
        self.job_id = job_id
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.interval = FIRST_POLL

    def next_pause(self, job: Job) -> float:
        """The pause before the next poll; raises when the deadline has passed."""
        remaining = None if self.deadline is None else self.deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise WaitTimeoutError(
                f"job {self.job_id} still {getattr(job.status, 'value', job.status)} "
                f"after {self.timeout} s",
                job=job,
            )
        pause = self.interval if remaining is None else min(self.interval, remaining)
        self.interval = min(self.interval * 1.5, MAX_POLL)
        return pause


class AutoEval:
    def __init__(self, client: EvalGuard) -> None:
        self._client = client

    def create(
        self,
        *,
        target: TargetLike,
        sample_count: int = 100,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> JobCreated:
        """Queues a job (``202 {"job_id"}``). ``options`` are the request's
        extras: ``scorers``, ``baseline``, ``repeats``, ``cache``,
        ``max_cost_usd``, ``thresholds``."""
        spec = _create_spec(target, sample_count, idempotency_key, options)
        return JobCreated.from_dict(self._client._call(spec))

    def get(self, job_id: str) -> Job:
        return Job.from_dict(self._client._call(_get_spec(job_id)))

    def cancel(self, job_id: str) -> Job:
        return Job.from_dict(self._client._call(_cancel_spec(job_id)))

    def list(
        self,
        *,
        project_id: str | None = None,
        status: JobStatus | str | None = None,
        page_size: int | None = None,
    ) -> Iterator[Job]:
        """Every job, newest first, page after page."""
        spec = _list_spec(project_id, status, page_size)
        return iterate_pages(self._client._call, spec, Job.from_dict)

    def results(
        self, job_id: str, *, flagged: bool | None = None, page_size: int | None = None
    ) -> Iterator[SampleResult]:
        """Every per-sample result of the job, page after page."""
        spec = _results_spec(job_id, flagged, page_size)
        return iterate_pages(self._client._call, spec, SampleResult.from_dict)

    def wait(self, job_id: str, *, timeout: float | None = None) -> Job:
        """The job once finished (succeeded, failed or cancelled). Raises
        ``WaitTimeoutError`` (with the job's last state) after ``timeout`` s."""
        poll = _Poll(job_id, timeout)
        while True:
            job = self.get(job_id)
            if job.is_finished:
                return job
            time.sleep(poll.next_pause(job))


class AsyncAutoEval:
    def __init__(self, client: AsyncEvalGuard) -> None:
        self._client = client

    async def create(
        self,
        *,
        target: TargetLike,
        sample_count: int = 100,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> JobCreated:
        """Queues a job (``202 {"job_id"}``); see ``AutoEval.create``."""
        spec = _create_spec(target, sample_count, idempotency_key, options)
        return JobCreated.from_dict(await self._client._call(spec))

    async def get(self, job_id: str) -> Job:
        return Job.from_dict(await self._client._call(_get_spec(job_id)))

    async def cancel(self, job_id: str) -> Job:
        return Job.from_dict(await self._client._call(_cancel_spec(job_id)))

    def list(
        self,
        *,
        project_id: str | None = None,
        status: JobStatus | str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Job]:
        """Every job, newest first, page after page (``async for``)."""
        spec = _list_spec(project_id, status, page_size)
        return aiterate_pages(self._client._call, spec, Job.from_dict)

    def results(
        self, job_id: str, *, flagged: bool | None = None, page_size: int | None = None
    ) -> AsyncIterator[SampleResult]:
        """Every per-sample result of the job (``async for``)."""
        spec = _results_spec(job_id, flagged, page_size)
        return aiterate_pages(self._client._call, spec, SampleResult.from_dict)

    async def wait(self, job_id: str, *, timeout: float | None = None) -> Job:
        """The job once finished; ``WaitTimeoutError`` after ``timeout`` s."""
        poll = _Poll(job_id, timeout)
        while True:
            job = await self.get(job_id)
            if job.is_finished:
                return job
            await anyio.sleep(poll.next_pause(job))
