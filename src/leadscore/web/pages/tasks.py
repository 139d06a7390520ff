"""The Tasks page: the sales inbox of follow-up tasks that workflows made, each with the lead's
scores and the rules that gave it the most points, a page at a time; mark one done. A
salesperson held to their own leads (`[web] sales_leads = "own"`) sees and completes only
their own tasks."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from leadscore.api.state import call
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.web.pages.leads import own_only
from leadscore.web.render import page
from leadscore.web.visitor import check_form, need

router = APIRouter()
PAGE = 25


@router.get("/tasks")
def tasks(request: Request, owner: Annotated[str | None, Query(max_length=400)] = None,
          after: Annotated[str | None, Query(max_length=200)] = None,
          number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
          done: Annotated[int | None, Query(ge=1, lt=2**63)] = None) -> Response:
    who = need(request, "tasks")
    held = own_only(request, who)
    chosen = held or owner or None
    errors: dict[str, str] = {}
    found = None
    try:
        found = call(request, lambda p: p.tasks(owner=chosen, limit=PAGE, cursor=after or None))
    except LeadscoreError as error:
        errors["after"] = f"{error.diagnostics[0].message} ({error.diagnostics[0].code})"
    base = {"owner": owner} if owner and not held else {}
    next_link = None
    if found is not None and found.cursor:
        next_link = "/tasks?" + urlencode({**base, "after": found.cursor, "page": number + 1})
    return page(request, "tasks.html", status=422 if errors else 200, title="Tasks",
                tasks=found.items if found else [], total=found.total if found else 0,
                owner=owner or "", held=held, errors=errors, number=number,
                next_link=next_link, first_link=("/tasks?" + urlencode(base))
                if number > 1 else None, done=done)


@router.post("/tasks/{task_id}/done")
def task_done(request: Request, task_id: Annotated[int, Path(ge=1, lt=2**63)],
              csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    who = need(request, "tasks")
    check_form(request, csrf)
    held = own_only(request, who)
    if held is not None:
        task = call(request, lambda p: p.task(task_id))
        if task is None or (task.owner or "").strip().lower() != held:
            raise LeadscoreError.single("LS324", f"no task {task_id} of yours",
                                        Location(field="task"))
    call(request, lambda p: p.complete_task(task_id))
    return RedirectResponse(f"/tasks?done={task_id}", status_code=303)


__all__ = ["router"]
