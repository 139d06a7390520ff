"""The one error shape of the API: `{"errors": [problem, …]}`, each problem a `Diagnostic`
(code, message, place, offending text, hint) — for a user's mistake a 4xx, never a 500."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from leadscore.diagnostics import Diagnostic, LeadscoreError, Location

STATUS = {"LS310": 404, "LS162": 404, "LS324": 404, "LS374": 404, "LS604": 404, "LS601": 413,
          "LS602": 401, "LS603": 403, "LS605": 405, "LS606": 429, "LS362": 404,
          "LS363": 409, "LS382": 404}
HTTP_CODES = {401: "LS602", 403: "LS603", 404: "LS604", 405: "LS605", 413: "LS601"}


def problem(diagnostic: Diagnostic) -> dict[str, Any]:
    loc = diagnostic.location
    place = {k: v for k, v in (("index", loc.index), ("field", loc.field), ("file", loc.file),
                               ("line", loc.line), ("column", loc.column)) if v is not None}
    return {"code": diagnostic.code, "severity": diagnostic.severity,
            "message": diagnostic.message, "place": place, "text": diagnostic.text,
            "hint": diagnostic.hint}


def error_response(diagnostics: list[Diagnostic], status: int | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    errors = [d for d in diagnostics if d.severity == "error"] or diagnostics
    code = status or (STATUS.get(errors[0].code, 422) if errors else 422)
    return JSONResponse({"errors": [problem(d) for d in diagnostics]}, status_code=code,
                        headers=headers)


def single(code: str, message: str, status: int, *, field: str | None = None,
           hint: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return error_response([Diagnostic(code, message, Location(field=field), hint=hint)], status,
                          headers)


def _validation(error: RequestValidationError) -> list[Diagnostic]:
    found = []
    for item in error.errors():
        loc = [p for p in item.get("loc", ()) if p != "body"]
        where = loc[0] if loc and loc[0] in ("query", "path", "header") else None
        if where:
            loc = loc[1:]
        index = next((p for p in loc if isinstance(p, int)), None)
        names = [str(p) for p in loc if not isinstance(p, int)]
        field = ".".join(names) or None
        if item.get("type") == "json_invalid":
            index = None  # pydantic gives the character position, not an item
            message = "the body is not valid JSON"
            hint = "send a JSON object with Content-Type: application/json"
        else:
            message = str(item.get("msg", "not valid"))
            hint = "see the request's schema in /openapi.json (docs/api.md)"
        found.append(Diagnostic("LS600", message, Location(field=field, index=index),
                                text=None if item.get("input") is None else
                                str(item.get("input"))[:40], hint=hint))
    return found or [Diagnostic("LS600", "the request is not valid")]


def install(app: FastAPI) -> None:
    @app.exception_handler(LeadscoreError)
    async def _mistake(request: Request, error: LeadscoreError) -> JSONResponse:
        unauthorized = any(d.code == "LS602" for d in error.diagnostics)
        headers = {"WWW-Authenticate": "Bearer"} if unauthorized else {}
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return error_response(list(error.diagnostics), headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(_validation(error), 422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> JSONResponse:
        code = HTTP_CODES.get(error.status_code, "LS600")
        message = {404: f"no route {request.url.path}",
                   405: f"{request.method} is not allowed on {request.url.path}"}.get(
            error.status_code, str(error.detail))
        hint = "the routes are in docs/api.md and /openapi.json" \
            if error.status_code in (404, 405) else None
        return single(code, message, error.status_code, hint=hint,
                      headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, error: Exception) -> JSONResponse:
        from leadscore.project import damage_error

        damaged = damage_error(error)
        if damaged is not None:  # the store's file is damaged: the server cannot answer
            return error_response(list(damaged.diagnostics), 503)
        return single("LS699", f"internal error: {type(error).__name__}", 500,
                      hint="this is a bug in leadscore; the server's log has the details")


__all__ = ["error_response", "install", "problem", "single"]
