"""The web app: `create_web_app(served)`, mounted at / by the API's app (`api.app`), so that
`leadscore serve` serves both. It shares the API's `Served` — the project and its lock — and
calls only `Project` methods (`tests/test_layers.py` holds it to that).

Answers: a page (200), a redirect after a form (303), the login page for nobody (303), 403
for a role that may not, 404 for what is not there, 422 for a form's mistakes (shown beside
its fields). A bug is a page saying so (500), which the crawl test looks for. Paths under
/v1 are never the web app's (`WebMount`): the API answers them, a wrong one too."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount
from starlette.types import Scope

from leadscore.diagnostics import LeadscoreError
from leadscore.web.render import page
from leadscore.web.session import COOKIE, SESSION_HOURS, LoginLimiter
from leadscore.web.visitor import BadToken, LoginNeeded, NotAllowed, login_url

if TYPE_CHECKING:
    from leadscore.api.state import Served

STATIC = Path(__file__).parent / "static"
API_PATHS = ("/v1", "/openapi.json")
# what a page may load: only leadscore's own files (no CDN, no inline script)
POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
          "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
STALE_FORM = "LS647"  # a form without its session's CSRF token (403)
NOT_FOUND = {"LS310", "LS162", "LS324", "LS382", "LS604", "LS612", "LS644"}
log = logging.getLogger("leadscore.web")


class WebMount(Mount):
    """The web app at /, for every path but the API's: those stay the API's to answer (its
    JSON 404, and 405 for a route's wrong method)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("path", "").startswith(API_PATHS):
            return Match.NONE, {}
        return super().matches(scope)


def mount(app: FastAPI, served: Served) -> None:
    """Serve the web app at / of `app` (the API's)."""
    app.router.routes.append(WebMount("/", app=create_web_app(served), name="web"))


def create_web_app(served: Served) -> FastAPI:
    from leadscore.web.pages import (
        admin,
        companies,
        contact,
        funnel,
        leads,
        lists,
        login,
        model,
        reports,
        tasks,
        workflows,
    )

    web = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    web.state.served = served
    web.state.sessions = None
    web.state.logins = LoginLimiter()
    for module in (login, leads, contact, companies, tasks, model, funnel, lists, workflows,
                   reports, admin):
        web.include_router(module.router)
    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    _install(web)
    return web


def _install(web: FastAPI) -> None:
    @web.middleware("http")
    async def _headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        new = getattr(request.state, "new_session", None)
        if new is not None:
            secure = _https(request)
            if new is False:
                response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True,
                                       samesite="lax")
            else:
                from leadscore.web.visitor import sessions

                response.set_cookie(COOKIE, sessions(request).write(new),
                                    max_age=SESSION_HOURS * 3600, path="/", secure=secure,
                                    httponly=True, samesite="lax")
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers["Content-Security-Policy"] = POLICY
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Cache-Control"] = "no-store"
        return response

    @web.exception_handler(LoginNeeded)
    async def _login(request: Request, error: LoginNeeded) -> Response:
        return RedirectResponse(login_url(request), status_code=303)

    @web.exception_handler(NotAllowed)
    async def _forbidden(request: Request, error: NotAllowed) -> Response:
        return page(request, "error.html", status=403, title="Not allowed",
                    message=f"Your role does not allow this ({error.what}).")

    @web.exception_handler(BadToken)
    async def _token(request: Request, error: BadToken) -> Response:
        return page(request, "error.html", status=403, title="Form expired",
                    message="This form was sent without its security token, or from an old "
                            f"page ({STALE_FORM}). Go back, reload the page and send it again.")

    @web.exception_handler(LeadscoreError)
    async def _mistake(request: Request, error: LeadscoreError) -> Response:
        first = error.diagnostics[0] if error.diagnostics else None
        status = 404 if first is not None and first.code in NOT_FOUND else 422
        return page(request, "error.html", status=status,
                    title="Not found" if status == 404 else "Cannot do that",
                    message=str(first.message) if first else "not valid",
                    code=first.code if first else None, hint=first.hint if first else None)

    @web.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        from leadscore.api.errors import _validation

        found = _validation(error)
        return page(request, "error.html", status=422, title="Cannot do that",
                    message="; ".join(f"{d.location.field or 'the request'}: {d.message}"
                                      for d in found))

    @web.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> Response:
        if error.status_code == 405:
            return page(request, "error.html", status=405, title="Not allowed",
                        message=f"{request.method} is not allowed here.")
        return page(request, "error.html", status=error.status_code,
                    title="Not found" if error.status_code == 404 else "Cannot do that",
                    message=f"There is no page {request.url.path}." if error.status_code == 404
                    else str(error.detail))

    @web.exception_handler(Exception)
    async def _bug(request: Request, error: Exception) -> Response:
        log.exception("a page failed: %s", request.url.path)
        return HTMLResponse("<!doctype html><title>Internal error</title><h1>Internal error "
                            "(LS699)</h1><p>This is a bug in leadscore; the server's log has "
                            "the details.</p>", status_code=500)


def _https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


__all__ = ["create_web_app", "mount"]
