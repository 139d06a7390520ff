"""API keys on every route: `Authorization: Bearer KEY`. Each route declares the scope it
needs with `needs(scope)` — a dependency that answers 401 (no key, an unknown or a revoked
key), 429 (past the key's rate limit: `ratelimit`) or 403 (a key whose scopes do not grant
it) before the route runs, and records the scope in the OpenAPI document (`x-scope`). Keys
are compared by their SHA-256 hash and never logged or echoed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from leadscore.api.state import call_unlocked
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.project.service_api import granted

bearer = HTTPBearer(auto_error=False, description="An API key: `leadscore keys create`.")


def needs(scope: str) -> Any:
    """The dependency of a route that needs `scope`."""

    async def check(request: Request,
                    credentials: Annotated[HTTPAuthorizationCredentials | None,
                                           Depends(bearer)]) -> None:
        # on the event loop, not the thread pool: one indexed read (a hand-off to a pool
        # thread and back cost more than the read)
        if credentials is None or credentials.scheme.lower() != "bearer" \
                or not credentials.credentials:
            raise LeadscoreError.single(
                "LS602", "this request has no API key", Location(field="Authorization"),
                hint="send the header 'Authorization: Bearer KEY' (leadscore keys create)")
        secret = credentials.credentials
        key = call_unlocked(request, lambda p: p.authenticate(secret))  # a pooled connection
        if key is None:
            raise LeadscoreError.single(
                "LS602", "this API key is unknown or revoked", Location(field="Authorization"),
                hint="`leadscore keys list` shows the keys; create one with `leadscore keys "
                     "create`")
        limiter = request.app.state.served.limiter
        if limiter is not None:
            limiter.take(key.id)  # 429 (LS606) beyond the key's rate limit
        if not granted(key.scopes, scope):
            raise LeadscoreError.single(
                "LS603", f"this API key's scopes ({', '.join(key.scopes)}) do not allow this; "
                         f"it needs '{scope}'", Location(field="Authorization"),
                hint=f"use a key with the scope {scope} (admin allows everything)")

    return Depends(check)


def scoped(scope: str) -> dict[str, Any]:
    """Route options: the scope's dependency and its mark in the OpenAPI document."""
    return {"dependencies": [needs(scope)], "openapi_extra": {"x-scope": scope}}


__all__ = ["bearer", "needs", "scoped"]
