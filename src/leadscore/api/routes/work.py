"""Follow-up tasks (and marking one done) and the outbox of notifications (and retrying dead
letters)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Request

from leadscore.api.models import (
    ERRORS,
    ROW_ID_MAX,
    OutboxItemOut,
    OutboxPage,
    RetryIn,
    RetryOut,
    TaskDoneOut,
    TaskOut,
    TasksPage,
)
from leadscore.api.security import scoped
from leadscore.api.state import call

router = APIRouter(prefix="/v1", tags=["tasks and outbox"], responses=ERRORS)


@router.get("/tasks", response_model=TasksPage, **scoped("read"))
def get_tasks(request: Request, owner: str | None = Query(None),
              limit: int = Query(50, ge=1, le=1000),
              cursor: str | None = Query(None)) -> TasksPage:
    """Follow-up tasks created by workflows, oldest first."""
    page = call(request, lambda p: p.tasks(owner=owner, limit=limit, cursor=cursor))
    return TasksPage(total=page.total, cursor=page.cursor,
                     tasks=[TaskOut(**t.__dict__) for t in page.items])


@router.post("/tasks/{task_id}/done", response_model=TaskDoneOut, **scoped("sales"))
def post_task_done(request: Request,
                   task_id: int = Path(ge=1, le=ROW_ID_MAX)) -> TaskDoneOut:
    """Mark a task done (again: no change)."""
    changed = call(request, lambda p: p.complete_task(task_id))
    return TaskDoneOut(id=task_id, status="done", changed=changed)


@router.get("/outbox", response_model=OutboxPage, **scoped("read"))
def get_outbox(request: Request,
               status: str | None = Query(None, description="pending, delivered or dead."),
               limit: int = Query(50, ge=1, le=1000),
               cursor: str | None = Query(None)) -> OutboxPage:
    """Outgoing notifications and their delivery state, oldest first."""
    page = call(request, lambda p: p.outbox_page(status=status, limit=limit, cursor=cursor))
    return OutboxPage(cursor=page.cursor,
                      items=[OutboxItemOut(**i.__dict__) for i in page.items])


@router.post("/outbox/retry", response_model=RetryOut, **scoped("admin"))
def post_retry(request: Request, body: RetryIn | None = None) -> RetryOut:
    """Move dead letters (all, or `ids`) back to pending; the worker sends them again."""
    ids = body.ids if body is not None else None
    return RetryOut(retried=call(request, lambda p: p.retry_dead_letters(ids)))
