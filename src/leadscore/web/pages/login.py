"""Logging in and out. A login is refused without checking the password once an e-mail or a
client address has failed too often (`session.LoginLimiter`); a good one starts a new session
(a new CSRF token too), and goes to the page that asked for it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from leadscore.api.state import call_unlocked
from leadscore.web.render import page
from leadscore.web.session import new_session
from leadscore.web.visitor import check_form, set_session, visitor

router = APIRouter()
WRONG = "LS645"  # wrong e-mail or password (401)
TOO_MANY = "LS646"  # too many failed logins (429)


def _next(target: str | None) -> str:
    """Only a path of this site (never another host) to go to after logging in."""
    if target and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target:
        return target
    return "/leads"


@router.get("/")
def home(request: Request) -> Response:
    who = visitor(request)
    if who.user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/leads" if who.may("leads") else "/tasks", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    if visitor(request).user is not None:
        return RedirectResponse(_next(next), status_code=303)
    return page(request, "login.html", title="Log in", email="", next=_next(next), error=None)


@router.post("/login")
def log_in(request: Request, email: Annotated[str, Form(max_length=400)] = "",
           password: Annotated[str, Form(max_length=2000)] = "",
           csrf: Annotated[str, Form(max_length=200)] = "",
           next: Annotated[str, Form(max_length=2000)] = "") -> Response:
    check_form(request, csrf)
    limiter = request.app.state.logins
    address = email.strip().lower()
    client = request.client.host if request.client else "-"
    wait = limiter.wait(address, client)
    if wait:
        minutes = (wait + 59) // 60
        return page(request, "login.html", status=429, title="Log in", email=email,
                    next=_next(next), error=f"Too many failed logins ({TOO_MANY}): try again in "
                                            f"{minutes} minute{'s' if minutes != 1 else ''}.")
    # argon2 takes ~0.6 s: not under the lock every other request waits for (a read only)
    user = call_unlocked(request, lambda p: p.check_login(address, password))
    if user is None:
        limiter.failed(address, client)
        return page(request, "login.html", status=401, title="Log in", email=email,
                    next=_next(next), error=f"Wrong e-mail or password ({WRONG}).")
    limiter.succeeded(address)
    set_session(request, new_session(user.id))
    return RedirectResponse(_next(next), status_code=303)


@router.post("/logout")
def log_out(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_form(request, csrf)
    set_session(request, None)
    return RedirectResponse("/login", status_code=303)


__all__ = ["router"]
