"""Retries through a proxy that loses answers: a POST with an
Idempotency-Key is repeated with the same key and acts once; a POST without
one is not repeated."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from evalguard_server import EvalGuardServer
from faulty_proxy import Fault, FaultyProxy

import evalguard
from evalguard import EvalGuard

Samples = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def proxy(server: EvalGuardServer) -> Iterator[FaultyProxy]:
    running = FaultyProxy(server.base_url)
    yield running
    running.close()


@pytest.fixture
def proxied(proxy: FaultyProxy, owner_key: str) -> Iterator[EvalGuard]:
    with EvalGuard(api_key=owner_key, base_url=proxy.base_url) as c:
        yield c


def posts(proxy: FaultyProxy, path: str) -> list[Any]:
    return [s for s in proxy.seen if s.method == "POST" and s.path == path]


def test_a_lost_answer_to_an_auto_eval_post_still_makes_one_job(
    proxy: FaultyProxy, proxied: EvalGuard, client: EvalGuard, project_id: str
) -> None:
    proxy.add_fault(Fault("POST", "/api/v1/auto-eval", "drop_response"))
    target = {"model": "m1", "prompt_id": "answer-v1", "project_id": project_id}
    created = proxied.auto_eval.create(target=target, sample_count=5)
    sent = posts(proxy, "/api/v1/auto-eval")
    assert len(sent) == 2
    # Both attempts reached the server, with one key; the first created the job.
    assert sent[0].upstream_status == 202 and sent[1].upstream_status == 202
    assert sent[0].headers["idempotency-key"] == sent[1].headers["idempotency-key"]
    assert sent[0].upstream_body["job_id"] == created.job_id
    jobs = list(client.auto_eval.list(project_id=project_id))
    assert [j.job_id for j in jobs] == [created.job_id]


def test_the_published_request_call_is_retried_with_one_key_too(
    proxy: FaultyProxy, proxied: EvalGuard, client: EvalGuard, project_id: str
) -> None:
    proxy.add_fault(Fault("POST", "/api/v1/auto-eval", "drop_response"))
    body = {"target": {"model": "m1", "prompt_id": "answer-v1", "project_id": project_id}}
    answer = proxied.request(method="POST", path="/api/v1/auto-eval", body=body)
    assert [j.job_id for j in client.auto_eval.list(project_id=project_id)] == [answer["job_id"]]


def test_a_lost_answer_to_a_traffic_post_does_not_store_twice(
    proxy: FaultyProxy,
    proxied: EvalGuard,
    project_id: str,
    samples: Samples,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    proxy.add_fault(Fault("POST", "/api/v1/traffic", "drop_response"))
    assert proxied.traffic.send(samples(project_id, 7)) == 7
    sent = posts(proxy, "/api/v1/traffic")
    assert len(sent) == 2
    assert sent[0].headers["idempotency-key"] == sent[1].headers["idempotency-key"]
    assert sent[0].upstream_body == {"accepted": 7, "stored": 7}
    # The server knows the key: the repetition gets the first answer again and
    # stores nothing (the samples' ids, derived from the key, would stop it too).
    assert sent[1].upstream_body == {"accepted": 7, "stored": 7}
    assert "retry 1 of 2" in caplog.text
    assert proxied.api_key not in caplog.text


def test_a_post_without_idempotency_key_is_not_repeated(
    proxy: FaultyProxy, proxied: EvalGuard, client: EvalGuard
) -> None:
    proxy.add_fault(Fault("POST", "/api/v1/projects", "drop_response"))
    with pytest.raises(evalguard.APIConnectionError):
        proxied.projects.create(id="made-once")
    assert len(posts(proxy, "/api/v1/projects")) == 1
    assert client.projects.get("made-once").id == "made-once"


def test_a_5xx_on_a_get_is_retried_after_its_retry_after(
    proxy: FaultyProxy, proxied: EvalGuard, project_id: str
) -> None:
    proxy.add_fault(
        Fault("GET", "/api/v1/projects/", "answer", status=503, headers={"Retry-After": "0"})
    )
    assert proxied.projects.get(project_id).id == project_id
    assert [s.upstream_status for s in proxy.seen if s.method == "GET"] == [503, 200]


def test_retries_stop_after_max_retries(proxy: FaultyProxy, owner_key: str) -> None:
    proxy.add_fault(
        Fault(
            "GET", "/api/v1/projects", "answer", status=500, headers={"Retry-After": "0"}, times=10
        )
    )
    c = EvalGuard(api_key=owner_key, base_url=proxy.base_url, max_retries=2)
    with pytest.raises(evalguard.InternalServerError) as caught:
        next(iter(c.projects.list()))
    assert caught.value.status == 500
    assert len(proxy.seen) == 3


def test_a_5xx_on_a_post_without_key_is_not_retried(proxy: FaultyProxy, proxied: EvalGuard) -> None:
    proxy.add_fault(
        Fault("POST", "/api/v1/keys", "answer", status=502, headers={"Retry-After": "0"})
    )
    with pytest.raises(evalguard.InternalServerError) as caught:
        proxied.keys.create(role="viewer")
    assert caught.value.status == 502
    assert len(proxy.seen) == 1
