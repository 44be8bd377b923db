"""Jobs from trigger to results, waiting, and lists over several pages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Callable

import httpx
import pytest
from evalguard_server import EvalGuardServer

import evalguard
from evalguard import EvalGuard, FlagKind, JobStatus, ScoreOutcome

Samples = Callable[..., list[dict[str, Any]]]


def target_of(project_id: str) -> dict[str, str]:
    return {"model": "m1", "prompt_id": "answer-v1", "project_id": project_id}


@pytest.fixture
def counting(server: EvalGuardServer, owner_key: str) -> Iterator[tuple[EvalGuard, list[str]]]:
    """A client and the paths of the requests it sent."""
    paths: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda r: paths.append(r.url.path)]})
    with EvalGuard(api_key=owner_key, base_url=server.base_url, http_client=http) as c:
        yield c, paths
    http.close()


def test_a_job_runs_and_its_results_come_page_after_page(
    counting: tuple[EvalGuard, list[str]], project_id: str, samples: Samples
) -> None:
    client, paths = counting
    assert client.traffic.send(samples(project_id, 5) + samples(project_id, 2, output="")) == 7
    created = client.auto_eval.create(target=target_of(project_id), sample_count=50)
    job = client.auto_eval.wait(created.job_id, timeout=60)
    assert job.job_id == created.job_id
    assert job.status is JobStatus.SUCCEEDED and job.is_finished
    assert job.progress.total == 7 and job.progress.done == 7
    assert job.target.project_id == project_id
    assert job.finished_at is not None and job.created_at is not None
    assert job.summary["empty_output"]["n"] == 7
    assert all(isinstance(f.kind, FlagKind) for f in job.flags)

    paths.clear()
    results = list(client.auto_eval.results(created.job_id, page_size=2))
    assert len(paths) == 4  # 2 + 2 + 2 + 1
    assert len({r.sample_id for r in results}) == 7
    assert all(r.scores["empty_output"].outcome is ScoreOutcome.SCORED for r in results)

    flagged = list(client.auto_eval.results(created.job_id, flagged=True, page_size=1))
    assert len(flagged) == 2
    assert all(r.flagged and r.scores["empty_output"].value == 0.0 for r in flagged)


def test_jobs_are_listed_newest_first_over_pages(client: EvalGuard, project_id: str) -> None:
    made = [
        client.auto_eval.create(target=target_of(project_id), sample_count=n).job_id
        for n in (1, 2, 3)
    ]
    listed = list(client.auto_eval.list(project_id=project_id, page_size=2))
    assert [j.job_id for j in listed] == made[::-1]
    assert [j.sample_count for j in listed] == [3, 2, 1]


@pytest.fixture(scope="module")
def idle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EvalGuardServer]:
    # No workers: jobs stay queued, so that waiting has to time out.
    running = EvalGuardServer(tmp_path_factory.mktemp("idle"), workers=0).start()
    yield running
    running.stop()


def test_wait_gives_up_after_its_timeout_and_sees_the_cancel(idle_server: EvalGuardServer) -> None:
    with EvalGuard(api_key=idle_server.create_key(), base_url=idle_server.base_url) as c:
        project = c.projects.create(id="waiting").id
        created = c.auto_eval.create(target=target_of(project), sample_count=10)
        started = time.monotonic()
        with pytest.raises(evalguard.WaitTimeoutError) as caught:
            c.auto_eval.wait(created.job_id, timeout=1.0)
        elapsed = time.monotonic() - started
        assert 1.0 <= elapsed < 10.0
        assert isinstance(caught.value, TimeoutError)
        assert caught.value.job.status is JobStatus.QUEUED
        assert c.auto_eval.cancel(created.job_id).status is JobStatus.CANCELLED
        finished = c.auto_eval.wait(created.job_id, timeout=1.0)
        assert finished.status is JobStatus.CANCELLED and finished.is_finished


def test_projects_are_created_read_and_listed_over_pages(idle_server: EvalGuardServer) -> None:
    with EvalGuard(
        api_key=idle_server.create_key(org="projects-org"), base_url=idle_server.base_url
    ) as c:
        for i in range(3):
            c.projects.create(id=f"proj-{i}", name=f"Project {i}")
        assert c.projects.get("proj-1").name == "Project 1"
        assert [p.id for p in c.projects.list(page_size=2)] == ["proj-0", "proj-1", "proj-2"]


def test_keys_are_created_listed_and_revoked(idle_server: EvalGuardServer) -> None:
    with EvalGuard(
        api_key=idle_server.create_key(org="keys-org"), base_url=idle_server.base_url
    ) as c:
        made = c.keys.create(role=evalguard.Role.MEMBER, name="ingest")
        assert made.role is evalguard.Role.MEMBER and made.name == "ingest"
        assert made.key and made.key not in repr(made)
        assert made.key_id in {k.key_id for k in c.keys.list()}
        with EvalGuard(api_key=made.key, base_url=idle_server.base_url) as member:
            assert list(member.projects.list()) == []
            assert c.keys.revoke(made.key_id).revoked_at is not None
            with pytest.raises(evalguard.AuthenticationError):
                list(member.projects.list())
