"""Fixtures: a real server per test module, keys, a client and a fresh project."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from evalguard_server import EvalGuardServer

from evalguard import EvalGuard


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EvalGuardServer]:
    running = EvalGuardServer(tmp_path_factory.mktemp("evalguard")).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def owner_key(server: EvalGuardServer) -> str:
    return server.create_key("owner")


@pytest.fixture
def client(server: EvalGuardServer, owner_key: str) -> Iterator[EvalGuard]:
    with EvalGuard(api_key=owner_key, base_url=server.base_url) as c:
        yield c


@pytest.fixture
def project_id(client: EvalGuard) -> str:
    return client.projects.create(id=f"p-{uuid.uuid4().hex[:12]}", name="SDK tests").id


def make_samples(project_id: str, n: int, **fields: Any) -> list[dict[str, Any]]:
    """``n`` valid samples of one target (model ``m1``, prompt ``answer-v1``)."""
    base = {"project_id": project_id, "model": "m1", "prompt_id": "answer-v1"}
    return [
        {
            **base,
            "input": f"question {i}?",
            "output": f"answer {i}.",
            "latency_ms": 100 + i,
            **fields,
        }
        for i in range(n)
    ]


@pytest.fixture
def samples() -> Callable[..., list[dict[str, Any]]]:
    return make_samples
