"""Sending traffic: splitting into requests, and the background buffer."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, Callable

import httpx
import pytest
from evalguard_server import EvalGuardServer

import evalguard
from evalguard import EvalGuard

Samples = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def recorded(
    server: EvalGuardServer, owner_key: str
) -> Iterator[tuple[EvalGuard, list[httpx.Request]]]:
    """A client and the requests it sent."""
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    with EvalGuard(api_key=owner_key, base_url=server.base_url, http_client=http) as c:
        yield c, sent
    http.close()


def eventually(condition: Callable[[], bool], within: float = 20.0) -> bool:
    """Polls ``condition`` until it holds or ``within`` seconds passed."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_send_splits_by_count(
    recorded: tuple[EvalGuard, list[httpx.Request]], project_id: str, samples: Samples
) -> None:
    client, sent = recorded
    assert client.traffic.send(iter(samples(project_id, 25)), batch_size=10) == 25
    assert len(sent) == 3
    assert len({r.headers["idempotency-key"] for r in sent}) == 3


def test_send_splits_by_body_size(
    recorded: tuple[EvalGuard, list[httpx.Request]], project_id: str, samples: Samples
) -> None:
    client, sent = recorded
    big = samples(project_id, 40, output="x" * 1_000)
    assert client.traffic.send(big, max_body_bytes=8_000) == 40
    assert len(sent) >= 5
    assert all(len(r.content) <= 8_000 for r in sent)


def test_a_refused_batch_raises_after_the_ones_before_it_are_stored(
    client: EvalGuard, project_id: str, samples: Samples
) -> None:
    batch = [{**s, "id": f"s{i}"} for i, s in enumerate(samples(project_id, 25))]
    del batch[15]["input"]
    with pytest.raises(evalguard.BadRequestError) as caught:
        client.traffic.send(batch, batch_size=10, concurrency=1)
    assert caught.value.param == "samples[5].input"
    again = client.request(method="POST", path="/api/v1/traffic", body={"samples": batch[:10]})
    assert again == {"accepted": 10, "stored": 0}


def test_samples_with_their_own_id_are_stored_once(
    client: EvalGuard, project_id: str, samples: Samples
) -> None:
    batch = [{**s, "id": f"s{i}"} for i, s in enumerate(samples(project_id, 5))]
    assert client.traffic.send(batch) == 5
    answer = client.request(method="POST", path="/api/v1/traffic", body={"samples": batch})
    assert answer == {"accepted": 5, "stored": 0}


def test_the_buffer_sends_on_size_on_interval_and_at_close(
    client: EvalGuard, project_id: str, samples: Samples
) -> None:
    by_size = client.traffic.buffer(max_batch=5, flush_interval=3600)
    for s in samples(project_id, 5):
        assert by_size.add(s)
    assert eventually(lambda: by_size.sent == 5)
    by_size.close()

    by_time = client.traffic.buffer(max_batch=1_000, flush_interval=0.2)
    for s in samples(project_id, 3):
        by_time.add(s)
    assert eventually(lambda: by_time.sent == 3)
    by_time.close()

    at_close = client.traffic.buffer(max_batch=1_000, flush_interval=3600)
    for s in samples(project_id, 4):
        at_close.add(s)
    assert at_close.sent == 0
    at_close.close()
    assert at_close.sent == 4

    with client.traffic.buffer(max_batch=1_000, flush_interval=3600) as flushed:
        flushed.add(samples(project_id, 1)[0])
        assert flushed.flush(timeout=20)
        assert flushed.sent == 1


def test_the_buffer_drops_when_full_closed_or_refused(
    client: EvalGuard, project_id: str, samples: Samples
) -> None:
    drops: list[tuple[int, str]] = []
    errors: list[Exception] = []
    buffer = client.traffic.buffer(
        max_batch=10,
        flush_interval=3600,
        max_queue=2,
        on_drop=lambda dropped, reason: drops.append((len(dropped), reason)),
        on_error=errors.append,
    )
    a, b, c = samples(project_id, 3)
    assert buffer.add(a) and buffer.add(b)
    assert not buffer.add(c)
    assert drops == [(1, "queue_full")]
    assert buffer.flush(timeout=20) and buffer.sent == 2

    bad = dict(a)
    del bad["output"]
    buffer.add(bad)
    assert buffer.flush(timeout=20)
    assert drops[-1] == (1, "send_failed")
    assert isinstance(errors[-1], evalguard.BadRequestError)
    assert errors[-1].param == "samples[0].output"

    buffer.close()
    assert not buffer.add(a)
    assert drops[-1] == (1, "closed")
    assert buffer.dropped == 3 and buffer.sent == 2


def test_the_buffer_sends_what_is_left_when_the_program_exits(
    server: EvalGuardServer, owner_key: str, client: EvalGuard, project_id: str, samples: Samples
) -> None:
    batch = [{**s, "id": f"exit-{i}"} for i, s in enumerate(samples(project_id, 3))]
    program = (
        "import json, sys\n"
        "from evalguard import EvalGuard\n"
        "client = EvalGuard()\n"
        "buffer = client.traffic.buffer(flush_interval=3600)\n"
        "for sample in json.loads(sys.argv[1]):\n"
        "    buffer.add(sample)\n"
        # No close, no flush: the interpreter's exit sends them.
    )
    env = {**os.environ, "EVALGUARD_API_KEY": owner_key, "EVALGUARD_BASE_URL": server.base_url}
    done = subprocess.run(
        [sys.executable, "-c", program, json.dumps(batch)], env=env, timeout=60, check=False
    )
    assert done.returncode == 0
    again = client.request(method="POST", path="/api/v1/traffic", body={"samples": batch})
    assert again == {"accepted": 3, "stored": 0}


def test_adding_never_waits_for_the_network(project_id: str, samples: Samples) -> None:
    # A server that accepts connections and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        port = silent.getsockname()[1]
        c = EvalGuard(api_key="eg_k", base_url=f"http://127.0.0.1:{port}", timeout=2, max_retries=0)
        buffer = c.traffic.buffer(max_batch=10, flush_interval=0.01)
        started = time.monotonic()
        for s in samples(project_id, 2_000):
            buffer.add(s)
        assert time.monotonic() - started < 1.0
        assert threading.active_count() >= 2
        buffer.close(timeout=0)
        c.close()
