"""The async client against the real server: the same calls, awaited."""

from __future__ import annotations

import uuid
from typing import Any, Callable

import pytest
from evalguard_server import EvalGuardServer

import evalguard
from evalguard import AsyncEvalGuard, JobStatus

Samples = Callable[..., list[dict[str, Any]]]

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_the_async_client_runs_a_job_end_to_end(
    server: EvalGuardServer, owner_key: str, samples: Samples
) -> None:
    async with AsyncEvalGuard(api_key=owner_key, base_url=server.base_url) as client:
        assert "***" in repr(client) and owner_key not in repr(client)
        project = (await client.projects.create(id=f"p-{uuid.uuid4().hex[:12]}")).id
        assert (await client.projects.get(project)).id == project
        assert await client.traffic.send(samples(project, 6), batch_size=4) == 6
        body = {"target": {"model": "m1", "prompt_id": "answer-v1", "project_id": project}}
        answer = await client.request(method="POST", path="/api/v1/auto-eval", body=body)
        job = await client.auto_eval.wait(answer["job_id"], timeout=60)
        assert job.status is JobStatus.SUCCEEDED and job.progress.total == 6
        results = [r async for r in client.auto_eval.results(job.job_id, page_size=4)]
        assert len({r.sample_id for r in results}) == 6
        listed = [j async for j in client.auto_eval.list(project_id=project, page_size=1)]
        assert [j.job_id for j in listed] == [job.job_id]
        assert project in [p.id async for p in client.projects.list(page_size=1)]


async def test_the_async_client_raises_typed_errors(
    server: EvalGuardServer, owner_key: str
) -> None:
    async with AsyncEvalGuard(api_key=owner_key, base_url=server.base_url) as client:
        with pytest.raises(evalguard.NotFoundError) as caught:
            await client.auto_eval.get(str(uuid.uuid4()))
        assert caught.value.status == 404
        with pytest.raises(evalguard.BadRequestError) as bad:
            await client.auto_eval.create(target={}, sample_count=100)
        assert bad.value.param == "target.model"
        key = await client.keys.create(role="viewer")
        assert key.key_id in {k.key_id for k in await client.keys.list()}
        assert (await client.keys.revoke(key.key_id)).revoked_at is not None
    async with AsyncEvalGuard(api_key="eg_nobody", base_url=server.base_url) as nobody:
        with pytest.raises(evalguard.AuthenticationError):
            await nobody.projects.get("x")


async def test_the_async_client_buffers_traffic_without_blocking_the_loop(
    server: EvalGuardServer, owner_key: str, samples: Samples
) -> None:
    async with AsyncEvalGuard(api_key=owner_key, base_url=server.base_url) as client:
        project = (await client.projects.create(id=f"p-{uuid.uuid4().hex[:12]}")).id
        batch = [{**s, "id": f"buffered-{i}"} for i, s in enumerate(samples(project, 12))]
        with client.traffic.buffer(max_batch=5, flush_interval=3600) as buffer:
            for sample in batch:
                assert buffer.add(sample)
        assert buffer.sent == 12
        again = await client.request(method="POST", path="/api/v1/traffic", body={"samples": batch})
        assert again == {"accepted": 12, "stored": 0}
