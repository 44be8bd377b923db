"""The Python sample of the published page, run exactly as published."""

from __future__ import annotations

import re
import uuid

import pytest
from evalguard_server import EvalGuardServer

import evalguard
from evalguard import EvalGuard

# Verbatim from the endpoint's published page (POST /api/v1/auto-eval).
PUBLISHED_SAMPLE = """\
from evalguard import EvalGuard
import os

client = EvalGuard(api_key=os.environ["EVALGUARD_API_KEY"])

response = client.request(
    method="POST",
    path="/api/v1/auto-eval",
    body={
    "target": {},
    "sample_count": 100
},
)
print(response)
"""

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def published_env(monkeypatch: pytest.MonkeyPatch, server: EvalGuardServer, owner_key: str) -> None:
    monkeypatch.setenv("EVALGUARD_API_KEY", owner_key)
    monkeypatch.setenv("EVALGUARD_BASE_URL", server.base_url)


def test_the_published_sample_runs_and_gets_the_typed_400(published_env: None) -> None:
    # The page's body has an empty target: the server names the missing field.
    with pytest.raises(evalguard.BadRequestError) as caught:
        exec(compile(PUBLISHED_SAMPLE, "published_sample.py", "exec"), {})
    error = caught.value
    assert error.status == 400
    assert error.code == "invalid_request"
    assert error.param == "target.model"
    assert isinstance(error, evalguard.EvalGuardError)


def test_the_published_call_with_a_complete_target_queues_a_job(
    published_env: None, owner_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project = f"p-{uuid.uuid4().hex[:12]}"
    EvalGuard(api_key=owner_key).projects.create(id=project)
    sample = PUBLISHED_SAMPLE.replace(
        '"target": {}',
        f'"target": {{"model": "m1", "prompt_id": "answer-v1", "project_id": "{project}"}}',
    )
    assert sample != PUBLISHED_SAMPLE
    namespace: dict[str, object] = {}
    exec(compile(sample, "published_sample.py", "exec"), namespace)
    response = namespace["response"]
    assert isinstance(response, dict)
    assert set(response) == {"job_id"}
    assert UUID.match(str(response["job_id"]))
    assert str(response) in capsys.readouterr().out
