"""The per-key rate limit: a token bucket per API key; past it 429 with Retry-After (whole
seconds) in the error shape, and another key is unaffected."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from leadscore.api import create_app
from leadscore.api.ratelimit import RateLimiter
from leadscore.diagnostics import LeadscoreError
from leadscore.project import Project, init_project
from leadscore.project.config import RateLimit

LIMIT = 5


@pytest.fixture
def limited(tmp_path):
    init_project(tmp_path)
    with (tmp_path / "leadscore.toml").open("a") as config:
        config.write(f'\n[api]\nrate_limit = "{LIMIT}/min"\n')
    project = Project.open(tmp_path)
    keys = [project.create_api_key(["read"]).secret for _ in range(2)]
    client = TestClient(create_app(project), raise_server_exceptions=False)
    try:
        yield client, [{"Authorization": f"Bearer {k}"} for k in keys]
    finally:
        client.close()
        project.close()


def test_past_the_limit_a_key_gets_429_with_retry_after_and_another_key_does_not(limited):
    client, (first, second) = limited
    answers = [client.get("/v1/tasks", headers=first) for _ in range(LIMIT + 1)]
    assert [a.status_code for a in answers[:LIMIT]] == [200] * LIMIT
    last = answers[-1]
    assert last.status_code == 429
    wait = int(last.headers["Retry-After"])
    assert 1 <= wait <= 60 // LIMIT + 1  # 5/min: a token every 12 s
    error = last.json()["errors"][0]
    assert list(last.json()) == ["errors"]
    assert error["code"] == "LS606" and error["hint"] and "tasks" not in last.text
    assert client.get("/v1/tasks", headers=second).status_code == 200
    assert client.get("/v1/tasks", headers={"Authorization": "Bearer lsk_nope"}
                      ).status_code == 401  # an unknown key is refused, not counted


def test_the_bucket_refills_at_the_rate():
    now = [0.0]
    limiter = RateLimiter(RateLimit(2, 10.0), clock=lambda: now[0])
    limiter.take(1)
    limiter.take(1)
    with pytest.raises(LeadscoreError) as refused:
        limiter.take(1)
    assert refused.value.retry_after == 5  # type: ignore[attr-defined]
    limiter.take(2)  # another key has its own bucket
    now[0] = 4.9
    with pytest.raises(LeadscoreError):
        limiter.take(1)
    now[0] = 5.0
    limiter.take(1)
    now[0] = 1000.0  # a full bucket holds no more than the limit
    limiter.take(1)
    limiter.take(1)
    with pytest.raises(LeadscoreError):
        limiter.take(1)


def test_the_setting_is_read_and_checked(tmp_path):
    init_project(tmp_path)
    assert Project.open(tmp_path).config.rate_limit == RateLimit(600, 60.0)  # the default
    config = tmp_path / "leadscore.toml"
    text = config.read_text()
    config.write_text(text + '\n[api]\nrate_limit = "off"\n')
    assert Project.open(tmp_path).config.rate_limit is None
    config.write_text(text + '\n[api]\nrate_limit = "lots"\n')
    with pytest.raises(LeadscoreError) as wrong:
        Project.open(tmp_path)
    found = wrong.value.diagnostics[0]
    assert found.code == "LS308" and found.location.line == text.count("\n") + 3
    config.write_text(text + '\n[api]\nrate_limt = "10/s"\n')
    with pytest.raises(LeadscoreError) as misspelt:
        Project.open(tmp_path)
    assert misspelt.value.diagnostics[0].code == "LS307"
