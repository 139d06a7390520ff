"""Model versions over HTTP, on both stores: list versions, publish a draft (202, rescored in
the background, followed at /v1/models/publishes/{id}), diff, roll back, a contact's stored
scores as of a moment under the version live then, and the mistakes."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from leadscore.api import create_app
from leadscore.project import Project
from leadscore.project.versions import FOLLOW_EVERY
from tests.api.conftest import make_project
from tests.databases import create_database

pytestmark = pytest.mark.slow
FIT_A = "      - {label: A, min: 35}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request, tmp_path) -> Iterator[tuple[Project, TestClient, dict[str, str]]]:
    url = admin = None
    if request.param == "postgresql":
        admin = request.getfixturevalue("postgres_admin")
        name = f"leadscore_versions_{secrets.token_hex(6)}"
        url = create_database(admin, name)
    project = make_project(tmp_path / "api", url, contacts=100, events=2000)
    keys = {"admin": project.create_api_key(["admin"]).secret,
            "read": project.create_api_key(["read"]).secret}
    client = TestClient(create_app(project), raise_server_exceptions=False)
    try:
        yield project, client, {s: f"Bearer {k}" for s, k in keys.items()}
    finally:
        client.close()
        project.close()
        if admin is not None and url is not None:
            with admin.connect() as connection:
                connection.execute(sa.text(
                    f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))


def _until_live(client: TestClient, auth: dict[str, str], publish: int) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = client.get(f"/v1/models/publishes/{publish}",
                           headers={"Authorization": auth["read"]}).json()
        if found["state"] == "live":
            time.sleep(FOLLOW_EVERY)  # the API's project looks for a new live version this often
            return found
        assert found["state"] == "rescoring" and found["phase"] in ("waiting", "rescoring")
        time.sleep(0.1)
    raise AssertionError(f"publish {publish} never went live")


def test_publish_follow_diff_rollback_and_scores_as_of(served):
    project, client, auth = served
    admin = {"Authorization": auth["admin"]}
    read = {"Authorization": auth["read"]}
    empty = client.get("/v1/models/versions", headers=read).json()
    assert empty == {"live": None, "versions": [], "publishes": []}
    text = project.config.model_path.read_text()
    started = client.post("/v1/models/versions", headers=admin,
                          json={"model": text, "message": "as in the file", "author": "ops"})
    assert started.status_code == 202, started.text
    first = _until_live(client, auth, started.json()["id"])
    assert (first["version"], first["contacts"], first["author"]) == (1, 100, "ops")

    lower = text.replace(FIT_A, "      - {label: A, min: 25}")
    diff = client.get("/v1/models/diff", headers=read, params={"a": "live", "b": "1"}).json()
    assert diff["rules"] == [] and diff["label_changes"] == 0 and diff["contacts"] == 100
    second_start = client.post("/v1/models/versions", headers=admin,
                               json={"model": lower, "message": "A from 25"})
    second = _until_live(client, auth, second_start.json()["id"])
    assert (second["version"], second["previous"]) == (2, 1)
    diff = client.get("/v1/models/diff", headers=read, params={"a": "1", "b": "v2"}).json()
    assert [(r["score"], r["rule"]) for r in diff["rules"]] == [("fit", "thresholds")]
    moved = [c for c in diff["changes"] if c["kind"] == "label" and c["score"] == "fit"]
    assert [(c["before"], c["after"]) for c in moved] == [("B", "A")]
    assert set(diff["spread_a"]) == set(diff["spread_b"]) == {"fit", "engagement", "feedback",
                                                               "total"}
    # the API's own project follows the live version: the stored labels are version 2's
    contact = moved[0]["contact_ids"][0]
    scores = client.get(f"/v1/contacts/{contact}/scores", headers=read).json()
    assert scores["version"] == 2 and scores["scores"]["fit"]["label"] == "A"
    between = datetime.fromisoformat(first["live_at"]) + \
        (datetime.fromisoformat(second["live_at"]) - datetime.fromisoformat(first["live_at"])) / 2
    then = client.get(f"/v1/contacts/{contact}/scores", headers=read,
                      params={"as_of": between.isoformat()}).json()
    assert then["version"] == 1 and then["scores"]["fit"]["label"] == "B"
    stored = client.get(f"/v1/contacts/{contact}/scores/stored", headers=read,
                        params={"at": between.isoformat()}).json()
    assert stored["version"] == 1
    assert {s["score"]: (s["label"], s["version"]) for s in stored["scores"]}["fit"] == ("B", 1)
    history = client.get(f"/v1/contacts/{contact}/scores/history", headers=read).json()
    assert history["changes"][0]["version"] == 2
    assert {c["version"] for c in history["changes"]} >= {1, 2}

    back = client.post("/v1/models/rollback", headers=admin, json={})
    assert back.status_code == 202
    rolled = _until_live(client, auth, back.json()["id"])
    assert (rolled["version"], rolled["action"]) == (1, "rollback")
    listed = client.get("/v1/models/versions", headers=read).json()
    assert listed["live"] == 1 and [v["version"] for v in listed["versions"]] == [2, 1]
    assert [p["action"] for p in listed["publishes"]] == ["rollback", "publish", "publish"]
    now = client.get(f"/v1/contacts/{contact}/scores", headers=read).json()
    assert now["version"] == 1 and now["scores"]["fit"]["label"] == "B"


def test_mistakes(served):
    project, client, auth = served
    admin = {"Authorization": auth["admin"]}
    read = {"Authorization": auth["read"]}
    broken = client.post("/v1/models/versions", headers=admin,
                         json={"model": "version: 1\nname: x\nscores: 7\n", "message": "m"})
    assert broken.status_code == 422 and broken.json()["errors"][0]["place"]["line"]
    silent = client.post("/v1/models/versions", headers=admin,
                         json={"model": project.config.model_path.read_text(), "message": " "})
    assert silent.status_code == 422 and silent.json()["errors"][0]["code"] == "LS360"
    assert client.post("/v1/models/versions", headers=read,
                       json={"model": "x", "message": "m"}).status_code == 403
    missing = client.get("/v1/models/publishes/99", headers=read)
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "LS362"
    path = client.get("/v1/models/diff", headers=read, params={"a": "/etc/passwd"})
    assert path.status_code == 422 and path.json()["errors"][0]["code"] == "LS361"
    nothing = client.post("/v1/models/rollback", headers=admin, json={})
    assert nothing.status_code == 422 and nothing.json()["errors"][0]["code"] == "LS361"
    # a publish that stopped half-way (its process killed) blocks the next, until resumed
    pending = project.publish_model(text=project.config.model_path.read_text(),
                                    message="stopped", wait=False)
    blocked = client.post("/v1/models/versions", headers=admin,
                          json={"model": project.config.model_path.read_text(), "message": "m"})
    assert blocked.status_code == 409 and blocked.json()["errors"][0]["code"] == "LS363"
    resumed = client.post("/v1/models/publishes/resume", headers=admin)
    assert resumed.status_code == 200 and resumed.json()["id"] == pending.id
    assert resumed.json()["state"] == "live"
    assert client.post("/v1/models/publishes/resume", headers=admin).json() is None
