"""Admin pages: the users of the web app (create one, change a role, disable or enable) and
the HTTP API's keys (create one — its secret shown once, on the page that made it —, revoke).
An admin cannot take away their own admin role or disable themselves (LS648), so there is
always someone to manage the users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from leadscore.api.state import call
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.project.service_api import SCOPES
from leadscore.project.web_users import ROLES
from leadscore.web.render import page
from leadscore.web.visitor import check_form, need

router = APIRouter(prefix="/admin")
FIELDS = {"email": "email", "role": "role", "password": "password", "--scopes": "scopes",
          "name": "name"}


def _errors(error: LeadscoreError, default: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for problem in error.diagnostics:
        field = FIELDS.get(problem.location.field or "", default)
        found.setdefault(field, f"{problem.message} ({problem.code})"
                         + (f" — {problem.hint}" if problem.hint else ""))
    return found


def _users_page(request: Request, *, status: int = 200, errors: dict[str, str] | None = None,
                typed: dict[str, str] | None = None, message: str | None = None) -> Response:
    users = call(request, lambda p: p.users())
    return page(request, "users.html", status=status, title="Users", users=users, roles=ROLES,
                errors=errors or {}, typed=typed or {"email": "", "role": "sales"},
                message=message)


@router.get("/users")
def users(request: Request, made: str | None = None, changed: str | None = None) -> Response:
    need(request, "users")
    message = (f"Created the user {made}." if made else
               f"Saved the changes to {changed}." if changed else None)
    return _users_page(request, message=message)


@router.post("/users")
def create_user(request: Request, email: Annotated[str, Form(max_length=400)] = "",
                role: Annotated[str, Form(max_length=40)] = "",
                password: Annotated[str, Form(max_length=2000)] = "",
                csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    need(request, "users")
    check_form(request, csrf)
    try:
        made = call(request, lambda p: p.create_user(email, role, password))
    except LeadscoreError as error:
        return _users_page(request, status=422, errors=_errors(error, "email"),
                           typed={"email": email, "role": role})
    return RedirectResponse(f"/admin/users?made={made.email}", status_code=303)


@router.post("/users/{user_id}")
def change_user(request: Request, user_id: Annotated[int, Path(ge=1, lt=2**63)],
                role: Annotated[str | None, Form(max_length=40)] = None,
                active: Annotated[str | None, Form(max_length=10)] = None,
                csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    who = need(request, "users")
    check_form(request, csrf)
    assert who.user is not None
    disabled = None if active is None else active != "yes"
    if user_id == who.user.id and (disabled or (role is not None and role != "admin")):
        raise LeadscoreError.single(
            "LS648", "you cannot take away your own admin role or disable yourself",
            Location(field="user"), hint="another admin can do that")
    try:
        changed = call(request, lambda p: p.update_user(user_id, role=role or None,
                                                        disabled=disabled))
    except LeadscoreError as error:
        if error.diagnostics[0].code == "LS644":
            raise
        return _users_page(request, status=422, errors={"change": _errors(error, "role")
                                                        .popitem()[1]})
    return RedirectResponse(f"/admin/users?changed={changed.email}", status_code=303)


def _keys_page(request: Request, *, status: int = 200, errors: dict[str, str] | None = None,
               typed: dict[str, object] | None = None, secret: str | None = None,
               message: str | None = None) -> Response:
    keys = call(request, lambda p: p.api_keys())
    return page(request, "keys.html", status=status, title="API keys", keys=keys,
                scopes=SCOPES, errors=errors or {}, typed=typed or {"name": "", "scopes": []},
                secret=secret, message=message)


@router.get("/keys")
def keys(request: Request, revoked: int | None = None) -> Response:
    need(request, "keys")
    return _keys_page(request, message=f"Revoked the API key {revoked}." if revoked else None)


@router.post("/keys")
def create_key(request: Request,
               scopes: Annotated[list[str] | None, Form(max_length=20)] = None,
               name: Annotated[str, Form(max_length=200)] = "",
               csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    return _create_key(request, list(scopes or [])[:10], name, csrf)


def _create_key(request: Request, scopes: list[str], name: str, csrf: str) -> Response:
    need(request, "keys")
    check_form(request, csrf)
    try:
        made = call(request, lambda p: p.create_api_key(scopes, name=name.strip() or None))
    except LeadscoreError as error:
        return _keys_page(request, status=422, errors=_errors(error, "scopes"),
                          typed={"name": name, "scopes": scopes})
    return _keys_page(request, secret=made.secret,
                      message=f"Created the API key {made.key.id}. Copy it now: it is shown "
                              "once, and only its hash is kept.")


@router.post("/keys/{key_id}/revoke")
def revoke_key(request: Request, key_id: Annotated[int, Path(ge=1, lt=2**63)],
               csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    need(request, "keys")
    check_form(request, csrf)
    call(request, lambda p: p.revoke_api_key(key_id))
    return RedirectResponse(f"/admin/keys?revoked={key_id}", status_code=303)


__all__ = ["router"]
