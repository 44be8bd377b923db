"""The pure parts: retry timing, batching, error mapping, models, headers."""

from __future__ import annotations

import json
import random

import httpx
import pytest

import evalguard
from evalguard import _retry
from evalguard._base_client import RequestSpec
from evalguard._batching import plan_batches
from evalguard._errors import status_error
from evalguard.types import Job, JobStatus


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling() -> None:
    rng = random.Random(7)
    for retries_done, full in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        for _ in range(50):
            delay = _retry.backoff_delay(retries_done, rng)
            assert full * 0.75 <= delay <= full


def test_retry_after_is_read_in_seconds_or_as_a_date() -> None:
    assert _retry.parse_retry_after("3") == 3.0
    assert _retry.parse_retry_after(" 1.5 ") == 1.5
    assert _retry.parse_retry_after("-4") == 0.0
    assert _retry.parse_retry_after(None) is None
    assert _retry.parse_retry_after("soon") is None
    date = "Wed, 21 Oct 2015 07:28:10 GMT"
    now = 1445412480.0  # 07:28:00 that day
    assert _retry.parse_retry_after(date, now=now) == pytest.approx(10.0)
    assert _retry.retry_delay(0, "2") == 2.0
    assert _retry.retry_delay(0, "3600") is None
    assert 0.375 <= (_retry.retry_delay(0, None) or 0) <= 0.5


def test_only_safe_requests_are_repeated() -> None:
    assert _retry.is_safe_to_repeat("GET", {})
    assert not _retry.is_safe_to_repeat("POST", {})
    assert _retry.is_safe_to_repeat("POST", {"Idempotency-Key": "k"})
    assert not _retry.is_safe_to_repeat("DELETE", {})


def test_batches_respect_count_and_bytes_and_keep_ids_stable() -> None:
    samples = [{"input": "q" * 100, "output": "a"} for _ in range(95)]
    batches = list(plan_batches(samples, max_samples=40, max_bytes=2_000))
    assert sum(b.count for b in batches) == 95
    assert all(len(b.body) <= 2_000 for b in batches)
    ids = [s["id"] for b in batches for s in json.loads(b.body)["samples"]]
    assert len(set(ids)) == 95
    # Ids come from the batch's key, so a retry of a batch repeats them.
    for b in batches:
        assert all(
            s["id"].startswith(b.idempotency_key.split("-part")[0])
            for s in json.loads(b.body)["samples"]
        )
    assert not any("id" in s for s in samples)  # the caller's samples are left alone
    given = [{"id": "mine", "input": "q", "output": "a"}]
    assert json.loads(next(plan_batches(given)).body)["samples"][0]["id"] == "mine"
    with pytest.raises(ValueError):
        list(plan_batches(samples, max_samples=10_001))


def test_bodies_json_cannot_hold_fail_before_sending() -> None:
    with pytest.raises(evalguard.EvalGuardError):
        list(plan_batches([{"latency_ms": float("nan")}]))


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, evalguard.BadRequestError),
        (401, evalguard.AuthenticationError),
        (403, evalguard.PermissionDeniedError),
        (404, evalguard.NotFoundError),
        (409, evalguard.ConflictError),
        (422, evalguard.UnprocessableEntityError),
        (429, evalguard.RateLimitError),
        (500, evalguard.InternalServerError),
        (503, evalguard.InternalServerError),
        (413, evalguard.APIStatusError),
    ],
)
def test_each_status_has_its_error_class(status: int, cls: type[Exception]) -> None:
    body = {"error": {"code": "some_code", "message": "what is wrong", "param": "x.y"}}
    e = status_error(httpx.Response(status, json=body), "POST", "/api/v1/x")
    assert type(e) is cls
    assert (e.status, e.code, e.message, e.param) == (status, "some_code", "what is wrong", "x.y")


def test_an_error_that_is_not_json_still_has_a_message() -> None:
    e = status_error(httpx.Response(502, text="<html>bad gateway</html>"), "GET", "/p")
    assert isinstance(e, evalguard.InternalServerError)
    assert e.code is None and e.message == "GET /p answered 502"


def test_the_key_is_sent_but_never_shown() -> None:
    client = evalguard.EvalGuard(api_key="eg_abc_secret", base_url="http://example.invalid/")
    assert "eg_abc_secret" not in repr(client)
    assert client.base_url == "http://example.invalid"
    request = client._build_request(client._http, RequestSpec("GET", "/api/v1/projects"))
    assert request.headers["authorization"] == "Bearer eg_abc_secret"
    assert request.headers["user-agent"] == f"evalguard-python/{evalguard.__version__}"
    assert "eg_abc_secret" not in repr(request.headers)


def test_traffic_and_auto_eval_posts_get_an_idempotency_key() -> None:
    client = evalguard.EvalGuard(api_key="k")
    for path in ("/api/v1/auto-eval", "/api/v1/traffic", "/api/v1/auto-eval/j/cancel"):
        assert "Idempotency-Key" in client._prepare(RequestSpec("POST", path)).headers
    assert "Idempotency-Key" not in client._prepare(RequestSpec("POST", "/api/v1/projects")).headers
    assert "Idempotency-Key" not in client._prepare(RequestSpec("GET", "/api/v1/auto-eval")).headers
    chosen = client._prepare(
        RequestSpec("POST", "/api/v1/auto-eval", headers={"idempotency-key": "mine"})
    )
    assert chosen.headers == {"idempotency-key": "mine"}


def test_base_url_and_key_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVALGUARD_BASE_URL", raising=False)
    monkeypatch.delenv("EVALGUARD_API_KEY", raising=False)
    with pytest.raises(evalguard.EvalGuardError):
        evalguard.EvalGuard()
    assert evalguard.EvalGuard(api_key="k").base_url == "http://127.0.0.1:8080"
    monkeypatch.setenv("EVALGUARD_BASE_URL", "http://eg.example:9000")
    monkeypatch.setenv("EVALGUARD_API_KEY", "from-env")
    client = evalguard.EvalGuard()
    assert client.base_url == "http://eg.example:9000" and client.api_key == "from-env"
    assert evalguard.EvalGuard(api_key="k", base_url="http://opt:1").base_url == "http://opt:1"


def test_jobs_are_read_with_nanosecond_times_and_unknown_values() -> None:
    job = Job.from_dict(
        {
            "job_id": "j",
            "status": "paused",  # a status this version does not know
            "target": {"model": "m", "prompt_id": "p", "project_id": "x"},
            "created_at": "2026-11-24T12:00:00.123456789Z",
            "flags": [
                {
                    "kind": "drift",
                    "severity": "warning",
                    "metric": "latency",
                    "message": "m",
                    "evidence": {"test": "ks_2samp"},
                }
            ],
        }
    )
    assert job.status == "paused" and not job.is_finished
    assert job.created_at is not None and job.created_at.microsecond == 123456
    assert job.flags[0].kind is evalguard.FlagKind.DRIFT
    assert JobStatus("cancelled").is_terminal


def test_which_answers_are_retried() -> None:
    client = evalguard.EvalGuard(api_key="k", max_retries=2)

    def delay(status: int, method: str, retries_done: int = 0, **headers: str) -> float | None:
        spec = RequestSpec(method, "/api/v1/x", headers=dict(headers))
        answer = httpx.Response(status, headers={"retry-after": "0"})
        return client._delay_after_status(spec, answer, retries_done)

    for status in (408, 500, 502, 503, 504):
        assert delay(status, "GET") == 0.0
        assert delay(status, "POST") is None
        assert delay(status, "POST", **{"Idempotency-Key": "k"}) == 0.0
    assert delay(429, "POST") == 0.0  # refused before any work: safe whatever the method
    assert delay(429, "GET", retries_done=2) is None  # max_retries spent
    for status in (400, 401, 403, 404, 409, 413, 422):
        assert delay(status, "GET") is None
    long_wait = httpx.Response(429, headers={"retry-after": "3600"})
    assert client._delay_after_status(RequestSpec("GET", "/x"), long_wait, 0) is None
