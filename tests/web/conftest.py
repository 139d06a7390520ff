"""The web app over a real project (120 synthetic contacts imported, scored and processed,
as the API's tests have it), with a user of every role, and browsers-in-a-test-client that log
in as them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from leadscore.api import create_app
from leadscore.project import Project
from tests.api.conftest import make_project

PASSWORD = "correct horse battery"
EMAILS = {"admin": "ada@example.com", "marketing": "mo@example.com",
          "sales": "sam@example.com"}
ROLES = tuple(EMAILS)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


class Browser:
    """A TestClient with its own cookies, which logs in through the login form."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)

    def token(self) -> str:
        return csrf_of(self.client.get("/login").text if not self.logged_in()
                       else self.client.get("/tasks").text)

    def logged_in(self) -> bool:
        return self.client.get("/").headers.get("location") != "/login"

    def log_in(self, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        token = csrf_of(self.client.get("/login").text)
        return self.client.post("/login", data={"email": email, "password": password,
                                                "csrf": token, "next": "/leads"})

    def get(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, *, token: str | None = None):  # type: ignore[no-untyped-def]  # noqa: E501
        body = dict(data or {})
        body.setdefault("csrf", token if token is not None else self.token())
        return self.client.post(path, data=body)

    def close(self) -> None:
        self.client.close()


@dataclass
class Web:
    project: Project
    root: Path
    app: object

    def browser(self, role: str | None = None) -> Browser:
        browser = Browser(self.app)
        if role is not None:
            answer = browser.log_in(EMAILS[role])
            assert answer.status_code == 303, answer.text
        return browser


def make_web(root: Path, *, own: bool = False) -> Web:
    project = make_project(root)
    if own:
        with (root / "leadscore.toml").open("a") as config:
            config.write('\n[web]\nsales_leads = "own"\n')
        project.close()
        project = Project.open(root)
    for role, email in EMAILS.items():
        project.create_user(email, role, PASSWORD)
    return Web(project, root, create_app(project))


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> Iterator[Web]:
    made = make_web(tmp_path_factory.mktemp("web"))
    try:
        yield made
    finally:
        made.app.state.served.close()  # type: ignore[attr-defined]
        made.project.close()
