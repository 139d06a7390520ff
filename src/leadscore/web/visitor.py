"""The visitor of a page: their session, their user (read from the store on every request)
and what their role allows. A page calls `need(request, permission)` first: nobody logged in
is sent to the login page (303), a user whose role does not allow it gets 403 — before the
page reads anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request

from leadscore.api.state import call
from leadscore.project.web_users import allowed
from leadscore.web.session import COOKIE, Session, Sessions, new_session, same_token


class LoginNeeded(Exception):  # a redirect, not an error
    """Nobody is logged in: answered with a redirect to the login page."""


class NotAllowed(Exception):  # answered 403
    """The user's role does not allow this page or action."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class BadToken(Exception):  # answered 403
    """A form sent without the session's CSRF token."""


@dataclass
class Visitor:
    session: Session
    user: Any  # the user (`Project.web_user`), or None: nobody is logged in

    @property
    def role(self) -> str | None:
        return self.user.role if self.user else None

    def may(self, permission: str) -> bool:
        return self.user is not None and allowed(self.user.role, permission)


def sessions(request: Request) -> Sessions:
    state = request.app.state
    if state.sessions is None:  # the secret is read (or made) on the first request
        secret = call(request, lambda p: p.web_secret())
        state.sessions = Sessions(secret)
    found: Sessions = state.sessions
    return found


def visitor(request: Request) -> Visitor:
    """Who is asking (cached on the request); a new session (and cookie) when they have none."""
    found = getattr(request.state, "visitor", None)
    if found is not None:
        return found
    session = sessions(request).read(request.cookies.get(COOKIE))
    user = None
    if session is not None and session.user_id is not None:
        uid = session.user_id
        user = call(request, lambda p: p.web_user(uid))
        if user is not None and not user.active:
            user = None
    if session is None:
        session = new_session()
        set_session(request, session)
    found = Visitor(session, user)
    request.state.visitor = found
    return found


def set_session(request: Request, session: Session | None) -> None:
    """Send this session's cookie with the answer (None: remove the cookie)."""
    request.state.new_session = session if session is not None else False
    request.state.visitor = None


def need(request: Request, permission: str) -> Visitor:
    """The visitor, if logged in with a role that allows `permission`."""
    found = visitor(request)
    if found.user is None:
        raise LoginNeeded()
    if not found.may(permission):
        raise NotAllowed(permission)
    return found


def check_form(request: Request, token: str | None) -> Visitor:
    """Refuse a form without the session's CSRF token (before anything is done)."""
    found = visitor(request)
    if not same_token(found.session.csrf, token):
        raise BadToken()
    return found


def login_url(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return "/login" if path in ("/", "/login") else f"/login?next={quote(path, safe='')}"


__all__ = ["BadToken", "LoginNeeded", "NotAllowed", "Visitor", "check_form", "login_url",
           "need", "set_session", "visitor"]
