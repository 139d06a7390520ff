"""API keys on every route: `Authorization: Bearer KEY`, or HTTP Basic with the key as the user
name and an empty password — how Segment-compatible senders send their write key. Each route
declares the scope it needs with `needs(scope)` — a dependency that answers 401 (no key, an
unknown or a revoked key), 429 (past the key's rate limit: `ratelimit`) or 403 (a key whose
scopes do not grant it) before the route runs, and records the scope in the OpenAPI document
(`x-scope`). Keys are compared by their SHA-256 hash and never logged or echoed."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPBasic, HTTPBearer

from leadscore.api.state import call_unlocked
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.project.service_api import granted

bearer = HTTPBearer(auto_error=False, description="An API key: `leadscore keys create`.")


class _Basic(HTTPBasic):
    """HTTP Basic in the OpenAPI document; the header itself is read by `needs`."""

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        return None


basic = _Basic(auto_error=False, scheme_name="HTTPBasic",
               description="The API key as the user name, the password empty (a Segment "
                           "source's write key).")
NO_KEY = "send the header 'Authorization: Bearer KEY' (leadscore keys create)"


def secret_of(header: str | None) -> str | None:
    """The key in an Authorization header (Bearer KEY, or Basic base64(KEY:)), or None."""
    scheme, _, value = (header or "").strip().partition(" ")
    value = value.strip()
    if not value:
        return None
    if scheme.lower() == "bearer":
        return value
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise LeadscoreError.single(
            "LS602", "the Basic credentials are not base64 of KEY:",
            Location(field="Authorization"),
            hint="send the key as the user name and an empty password (curl -u KEY:), or "
                 "'Authorization: Bearer KEY'") from None
    user, _, password = decoded.partition(":")
    return user.strip() or password.strip() or None


def needs(scope: str) -> Any:
    """The dependency of a route that needs `scope`."""

    async def check(request: Request, _bearer: Annotated[Any, Depends(bearer)],
                    _basic: Annotated[Any, Depends(basic)]) -> None:
        # on the event loop, not the thread pool: one indexed read through the driver (a
        # hand-off to a pool thread and back cost more than the read)
        found = secret_of(request.headers.get("authorization"))
        if found is None:
            raise LeadscoreError.single(
                "LS602", "this request has no API key", Location(field="Authorization"),
                hint=NO_KEY + ", or HTTP Basic with the key as user name (curl -u KEY:)")
        secret = found
        key = call_unlocked(request, lambda p: p.authenticate(secret))
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


__all__ = ["basic", "bearer", "needs", "scoped", "secret_of"]
