"""The committed OpenAPI document (schema/openapi.json) is the one the app serves; `make
schema` rewrites it."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from leadscore.api.app import create_app, openapi_document

REPO = Path(__file__).resolve().parents[2]


def test_the_committed_openapi_document_is_current():
    committed = json.loads((REPO / "schema/openapi.json").read_text(encoding="utf-8"))
    assert committed == openapi_document(), "schema/openapi.json is stale: run `make schema`"


def test_the_document_is_served_without_a_key():
    served = TestClient(create_app(None)).get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == openapi_document()


def test_every_operation_declares_its_scope_and_error_shape():
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            assert operation["x-scope"] in {"ingest", "read", "sales", "admin"}, (method, path)
            for status in ("401", "403", "422"):
                assert status in operation["responses"], (method, path, status)
