"""Hypothesis: the Segment parser and the Segment routes take any JSON — arbitrary values, and
message-shaped objects whose fields hold arbitrary values — and answer with a result or the
one error shape, never a 5xx or an exception that is not a diagnostic."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.api import create_app
from leadscore.catalog import Catalog
from leadscore.diagnostics import LeadscoreError
from leadscore.ingestion.segment import KINDS, Reader
from leadscore.project import Project, init_project

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
           | st.text(max_size=20)
           | st.sampled_from(["2026-11-30T10:00:00Z", "2026-11-30", "1764496800", "",
                              "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "Demo Requested",
                              "!!", "u1", "a1"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
FIELDS = ["type", "userId", "anonymousId", "messageId", "timestamp", "originalTimestamp",
          "sentAt", "receivedAt", "context", "traits", "properties", "event", "name",
          "category", "groupId", "previousId"]
IDS = st.sampled_from(["u1", "u2", "u3", "a1", "a2"])
TIMES = st.sampled_from(["2026-11-30T10:00:00Z", "2026-11-29T08:00:00.123+02:00", 1764496800])
LIKELY = st.fixed_dictionaries(  # messages that mostly pass, to reach resolution and merges
    {"type": st.sampled_from(KINDS)},
    optional={"userId": IDS, "anonymousId": IDS, "previousId": IDS, "groupId": IDS,
              "messageId": st.text("abc", min_size=1, max_size=3), "timestamp": TIMES,
              "sentAt": TIMES, "event": st.sampled_from(["Demo Requested", "signed_up"]),
              "traits": st.dictionaries(st.sampled_from(["title", "plan", "employees",
                                                         "email", "company", "address"]),
                                        SCALARS | st.dictionaries(st.text("xyz", max_size=3),
                                                                  SCALARS, max_size=2),
                                        max_size=3),
              "properties": st.dictionaries(st.text(max_size=8), JSON, max_size=3)})
MESSAGE = LIKELY | st.dictionaries(st.sampled_from(FIELDS), JSON | st.sampled_from(KINDS),
                                   max_size=9)
BODY = JSON | MESSAGE | st.fixed_dictionaries({"batch": st.lists(MESSAGE | JSON, max_size=5)},
                                              optional={"sentAt": JSON, "context": JSON})
SHAPE = {"code", "severity", "message", "place", "text", "hint"}


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(body=BODY, kind=st.sampled_from([None, *KINDS]))
def test_the_parser_gives_messages_or_diagnostics(body, kind):
    reader = Reader(Catalog(), NOW)
    try:
        messages = reader.batch(body) if kind is None else reader.single(body, kind)
        reader.finish()
    except LeadscoreError as error:
        assert error.diagnostics and all(d.code.startswith("LS") for d in error.diagnostics)
        return
    for message in messages:
        assert message.kind in KINDS and message.message_id
        assert message.user_id or message.anonymous_id
        assert message.at.tzinfo is not None


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("segfuzz")
    init_project(root)
    project = Project.open(root)
    key = project.create_api_key(["ingest"]).secret
    auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    client = TestClient(create_app(project), raise_server_exceptions=False)
    yield client, auth
    client.close()
    project.close()


def test_the_routes_answer_any_json_in_the_error_shape(served):
    client, auth = served
    statuses: list[int] = []

    @settings(max_examples=250, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(body=BODY, route=st.sampled_from([*KINDS, "batch"]))
    def check(body, route):
        response = client.post(f"/v1/{route}", content=json.dumps(body),  # NaN as sent
                               headers={**auth, "Content-Type": "application/json"})
        statuses.append(response.status_code)
        assert response.status_code in (200, 413, 422), response.text
        answer = response.json()
        if response.status_code == 200:
            assert answer["success"] is True
            assert answer["accepted"] + answer["repeated"] == answer["received"]
        else:
            assert list(answer) == ["errors"] and answer["errors"]
            assert all(set(problem) == SHAPE for problem in answer["errors"])

    check()
    assert 200 in statuses and 422 in statuses
