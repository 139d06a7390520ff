"""The application: `create_app(project)`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from leadscore.api import errors
from leadscore.api.limits import BodyLimit
from leadscore.api.routes import (
    companies,
    contacts,
    drafts,
    ingest,
    leads,
    ledger,
    segment,
    versions,
    work,
)
from leadscore.api.state import Served

if TYPE_CHECKING:
    from leadscore.project import Project

DESCRIPTION = """Activity in, scores and everything else out. Every route needs an API key
(`Authorization: Bearer KEY`, or HTTP Basic with the key as user name and an empty password, as
Segment-compatible senders send a write key; made by `leadscore keys create`) with the route's
scope
(`x-scope`: ingest, read, sales or admin). Every mistake is answered in one shape,
`{"errors": [{code, severity, message, place, text, hint}]}` (codes: docs/errors.md)."""


def create_app(project: Project | None, *, cors_origins: list[str] | None = None) -> FastAPI:
    """The API over `project` (None: an app only to read the OpenAPI document from). CORS is
    off unless `cors_origins` names the allowed origins."""
    from leadscore import __version__

    app = FastAPI(title="leadscore", version=__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None)
    app.state.served = Served(project)
    for module in (ingest, segment, contacts, leads, companies, ledger, work, drafts,
                   versions):
        app.include_router(module.router)
    errors.install(app)
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=cors_origins,
                           allow_methods=["GET", "POST", "PUT"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(BodyLimit)
    if project is not None:  # the web app at / (docs/web.md); the API's routes come first
        from leadscore.web import mount

        mount(app, app.state.served)
    return app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, as committed in schema/openapi.json (`make schema`)."""
    return create_app(None).openapi()


def main() -> None:
    """`python -m leadscore.api.app`: print the OpenAPI document."""
    import json

    print(json.dumps(openapi_document(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()


__all__ = ["create_app", "openapi_document"]
