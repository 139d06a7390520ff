"""The Workflows page (marketing, admin): each workflow's enrollments by status, the newest
steps the workflows took, and the dead letters — notifications that gave up after their
attempts — with a retry (`Project.retry_dead_letters`: back to pending, sent by the worker)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from leadscore.api.state import call
from leadscore.web.render import page
from leadscore.web.visitor import check_form, need

router = APIRouter()


@router.get("/workflows")
def workflows(request: Request,
              retried: Annotated[int | None, Query(ge=0, lt=2**63)] = None) -> Response:
    need(request, "workflows")
    found = call(request, lambda p: p.workflow_summary(steps=50))
    return page(request, "workflows.html", title="Workflows", found=found, retried=retried)


@router.post("/workflows/retry")
def retry(request: Request, ids: Annotated[list[int] | None, Form()] = None,
          csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    need(request, "workflows")
    check_form(request, csrf)
    chosen = [i for i in (ids or []) if 0 < i < 2**63][:1000] or None
    count = call(request, lambda p: p.retry_dead_letters(chosen))
    return RedirectResponse(f"/workflows?retried={count}", status_code=303)


__all__ = ["router"]
