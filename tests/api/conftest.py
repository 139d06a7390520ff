"""An API over a real project (SQLite, and PostgreSQL under the postgres marker): 120 synthetic
contacts imported, scored and processed once per module, and a key of every scope."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from leadscore import synthetic
from leadscore.api import create_app
from leadscore.project import Project, init_project
from tests.databases import create_database

SCOPE_SETS = {"ingest": ["ingest"], "read": ["read"], "sales": ["sales"], "admin": ["admin"]}


@dataclass
class Api:
    project: Project
    client: TestClient
    keys: dict[str, str]  # scope → key
    revoked: str
    root: Path

    def headers(self, scope: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[scope]}"}

    def get(self, path: str, scope: str = "admin", **kwargs):
        return self.client.get(path, headers=self.headers(scope), **kwargs)

    def post(self, path: str, body=None, scope: str = "admin", **kwargs):
        return self.client.post(path, json=body, headers=self.headers(scope), **kwargs)

    def put(self, path: str, body=None, scope: str = "admin", **kwargs):
        return self.client.put(path, json=body, headers=self.headers(scope), **kwargs)


def make_project(root: Path, store_url: str | None = None, *, contacts: int = 120,
                 events: int = 2400) -> Project:
    init_project(root)
    with (root / "leadscore.toml").open("a") as config:  # the walk and fuzz tests send
        config.write('\n[api]\nrate_limit = "100000/min"\n')  # hundreds of requests a key
    if store_url is not None:
        config = root / "leadscore.toml"
        text = re.sub(r'^url = "sqlite:[^"]*"', f'url = "{store_url}"',
                      config.read_text(), flags=re.MULTILINE)
        config.write_text(text)
    data = synthetic.generate(contacts, events, seed=5, now=datetime.now(UTC), days=120)
    synthetic.write_contacts_csv(data, root / "contacts.csv")
    synthetic.write_events_jsonl(data, root / "events.jsonl")
    project = Project.open(root)
    project.import_contacts(root / "contacts.csv")
    project.import_events(root / "events.jsonl")
    project.score()
    project.process(deliver=False)
    return project


@pytest.fixture(scope="module", params=["sqlite",
                                        pytest.param("postgresql", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("api")
    url = None
    admin = None
    if request.param == "postgresql":
        admin = request.getfixturevalue("postgres_admin")
        name = f"leadscore_api_{secrets.token_hex(6)}"
        url = create_database(admin, name)
    project = make_project(root, url)
    keys = {scope: project.create_api_key(scopes).secret for scope, scopes in SCOPE_SETS.items()}
    revoked = project.create_api_key(["admin"], name="old")
    project.revoke_api_key(revoked.key.id)
    client = TestClient(create_app(project), raise_server_exceptions=False)
    try:
        yield Api(project, client, keys, revoked.secret, root)
    finally:
        client.close()
        project.close()
        if admin is not None and url is not None:
            with admin.connect() as connection:
                connection.execute(sa.text(
                    f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
