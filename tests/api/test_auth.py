"""Every route of the OpenAPI document needs a key with its scope: no key, a wrong key and a
revoked key get 401, every insufficient scope 403 — in the error shape, never data."""

from __future__ import annotations

import re

import pytest

from leadscore.project.service_api import GRANTS
from tests.api.conftest import SCOPE_SETS

PARAMS = {"contact_id": "c0000001", "name": "sql", "task_id": "1", "publish_id": "1",
          "entry_id": "1", "company_id": "example.com"}
BODIES = {"/v1/contacts": {"contacts": []}, "/v1/events": {"events": []},
          "/v1/outcomes": {"outcomes": []}, "/v1/contacts/{contact_id}/feedback":
          {"verdict": "true_sql"}, "/v1/contacts/{contact_id}/stage": {"stage": "lead"},
          "/v1/contacts/{contact_id}/ledger": {"score": "total", "change_by": 0},
          "/v1/ledger/{entry_id}/void": {},
          "/v1/identify": {"anonymousId": "a-walk", "traits": {"plan": "walk"}},
          "/v1/track": {"anonymousId": "a-walk", "event": "Walked"},
          "/v1/page": {"anonymousId": "a-walk", "name": "Walk"},
          "/v1/screen": {"anonymousId": "a-walk", "name": "Walk"},
          "/v1/group": {"anonymousId": "a-walk", "groupId": "g-walk"},
          "/v1/alias": {"previousId": "a-walk-before", "userId": "a-walk-user"},
          "/v1/batch": {"batch": []}}


def routes(api) -> list[tuple[str, str, str, str]]:
    """(method, template, url, scope) of every operation in the OpenAPI document."""
    found = []
    for template, operations in api.client.app.openapi()["paths"].items():
        url = re.sub(r"\{(\w+)\}", lambda m: PARAMS[m.group(1)], template)
        for method, operation in operations.items():
            found.append((method.upper(), template, url, operation["x-scope"]))
    return found


def call(api, method: str, template: str, url: str, headers: dict[str, str]):
    return api.client.request(method, url, json=BODIES.get(template), headers=headers)


def refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["errors"] and body["errors"][0]["code"] == code, body


def test_the_document_lists_every_route_with_its_scope(api):
    found = routes(api)
    assert len(found) >= 25
    assert {scope for *_, scope in found} == {"ingest", "read", "sales", "admin"}
    security = api.client.app.openapi()["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in security.values())


def test_no_key_a_wrong_key_and_a_revoked_key_get_401(api):
    for method, template, url, _ in routes(api):
        for headers in ({}, {"Authorization": "Bearer lsk_not-a-key"},
                        {"Authorization": f"Bearer {api.revoked}"},
                        {"Authorization": f"Basic {api.keys['admin']}"}):
            response = call(api, method, template, url, headers)
            refused(response, 401, "LS602")
            assert response.headers["WWW-Authenticate"] == "Bearer"


def test_every_insufficient_scope_gets_403(api):
    checked = 0
    for method, template, url, needed in routes(api):
        for name, scopes in SCOPE_SETS.items():
            if any(needed in GRANTS[s] for s in scopes):
                continue
            refused(call(api, method, template, url, api.headers(name)), 403, "LS603")
            checked += 1
    assert checked >= 20


@pytest.mark.parametrize("scope,allowed", [("ingest", {"ingest"}), ("read", {"read"}),
                                           ("sales", {"read", "sales"}),
                                           ("admin", {"ingest", "read", "sales", "admin"})])
def test_what_each_scope_allows(api, scope, allowed):
    for method, template, url, needed in routes(api):
        response = call(api, method, template, url, api.headers(scope))
        if needed in allowed:
            assert response.status_code not in (401, 403), (method, url, response.text)
        else:
            assert response.status_code == 403, (method, url)


def test_the_key_is_never_stored_nor_shown(api):
    keys = api.project.api_keys()
    assert keys and all(len(k.prefix) == 12 for k in keys)
    listed = repr(keys)
    assert not any(secret in listed for secret in api.keys.values())
    assert api.project.authenticate(api.keys["read"]).scopes == ("read",)
    assert api.project.authenticate(api.revoked) is None
