"""Every failure is a typed error carrying status, code, message and param,
and none of them shows the API key."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any, Callable

import httpx
import pytest
from evalguard_server import EvalGuardServer

import evalguard
from evalguard import EvalGuard

Samples = Callable[..., list[dict[str, Any]]]


def assert_key_hidden(error: BaseException, key: str) -> None:
    for text in (str(error), repr(error), repr(error.args)):
        assert key not in text


def test_400_names_the_bad_field_and_stores_nothing(
    client: EvalGuard, project_id: str, samples: Samples
) -> None:
    batch = samples(project_id, 3)
    del batch[1]["input"]
    with pytest.raises(evalguard.BadRequestError) as caught:
        client.traffic.send(batch)
    e = caught.value
    assert (e.status, e.code, e.param) == (400, "invalid_request", "samples[1].input")
    assert "samples[1].input" in e.message
    assert "samples[1].input" in str(e)
    assert_key_hidden(e, client.api_key)


def test_401_for_an_unknown_key(server: EvalGuardServer) -> None:
    bad_key = "eg_000000000000_" + "0" * 64
    c = EvalGuard(api_key=bad_key, base_url=server.base_url)
    with pytest.raises(evalguard.AuthenticationError) as caught:
        c.projects.get("anything")
    c.close()
    e = caught.value
    assert e.status == 401
    assert e.code
    assert e.message
    assert e.response.headers["www-authenticate"] == "Bearer"
    assert_key_hidden(e, bad_key)
    assert bad_key not in repr(c)


def test_403_when_the_role_is_too_low(
    server: EvalGuardServer, project_id: str, samples: Samples
) -> None:
    viewer = EvalGuard(api_key=server.create_key("viewer"), base_url=server.base_url)
    with pytest.raises(evalguard.PermissionDeniedError) as caught:
        viewer.traffic.send(samples(project_id, 1))
    viewer.close()
    assert caught.value.status == 403
    assert caught.value.code


def test_404_for_a_job_of_nobody(client: EvalGuard) -> None:
    with pytest.raises(evalguard.NotFoundError) as caught:
        client.auto_eval.get(str(uuid.uuid4()))
    assert (caught.value.status, caught.value.code) == (404, "not_found")


def test_409_for_a_project_id_taken(client: EvalGuard, project_id: str) -> None:
    with pytest.raises(evalguard.ConflictError) as caught:
        client.projects.create(id=project_id)
    assert (caught.value.status, caught.value.code) == (409, "project_exists")


def test_the_same_idempotency_key_answers_the_same_job(client: EvalGuard, project_id: str) -> None:
    target = {"model": "m1", "prompt_id": "answer-v1", "project_id": project_id}
    key = f"deploy-{uuid.uuid4().hex}"
    first = client.auto_eval.create(target=target, sample_count=10, idempotency_key=key)
    again = client.auto_eval.create(target=target, sample_count=10, idempotency_key=key)
    assert again.job_id == first.job_id
    assert [j.job_id for j in client.auto_eval.list(project_id=project_id)] == [first.job_id]


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EvalGuardServer]:
    # 60 a minute: a bucket of 60 refilled at one a second, so Retry-After is 1 s.
    running = EvalGuardServer(tmp_path_factory.mktemp("limited"), rate_limit=60).start()
    yield running
    running.stop()


def drain(c: EvalGuard) -> evalguard.RateLimitError:
    """Spends the key's bucket; the 429 that ends it."""
    for _ in range(500):
        try:
            c.request(method="GET", path="/api/v1/projects", max_retries=0)
        except evalguard.RateLimitError as e:
            return e
    raise AssertionError("no 429 after 500 requests")


def test_429_is_a_rate_limit_error_with_retry_after(limited_server: EvalGuardServer) -> None:
    key = limited_server.create_key("owner")
    with EvalGuard(api_key=key, base_url=limited_server.base_url, max_retries=0) as c:
        e = drain(c)
    assert (e.status, e.code) == (429, "rate_limited")
    assert e.retry_after is not None and 1 <= e.retry_after <= 60
    assert_key_hidden(e, key)


def test_retry_after_429_honours_retry_after(limited_server: EvalGuardServer) -> None:
    key = limited_server.create_key("owner")
    statuses: list[int] = []
    http = httpx.Client(event_hooks={"response": [lambda r: statuses.append(r.status_code)]})
    with EvalGuard(api_key=key, base_url=limited_server.base_url, http_client=http) as c:
        refused = drain(c)
        statuses.clear()
        started = time.monotonic()
        assert c.request(method="GET", path="/api/v1/projects") == {"data": [], "next_cursor": None}
        elapsed = time.monotonic() - started
    http.close()
    assert statuses[0] == 429 and statuses[-1] == 200
    assert 2 <= len(statuses) <= 3
    assert refused.retry_after is not None
    assert elapsed >= refused.retry_after * 0.9


def test_connection_refused_is_a_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port now.
    c = EvalGuard(api_key="eg_secret", base_url=f"http://127.0.0.1:{port}", max_retries=1)
    with pytest.raises(evalguard.APIConnectionError) as caught:
        next(iter(c.projects.list()))
    assert caught.value.status is None
    assert "eg_secret" not in str(caught.value)


def test_no_answer_within_the_timeout_is_a_timeout_error() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with (
            EvalGuard(
                api_key="eg_secret", base_url=f"http://127.0.0.1:{port}", timeout=0.3, max_retries=0
            ) as c,
            pytest.raises(evalguard.APITimeoutError) as caught,
        ):
            c.auto_eval.get(str(uuid.uuid4()))
    assert isinstance(caught.value, evalguard.APIConnectionError)
