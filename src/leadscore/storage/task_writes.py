"""Follow-up tasks marked done by a person (the automation creates them: `automation`)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from leadscore.storage.automation_schema import tasks


def complete_task(connection: Connection, task_id: int) -> str | None:
    """Mark a task done; returns its status before (None: no such task). Done stays done."""
    t = tasks.c
    before = connection.execute(select(t.status).where(t.id == task_id)).scalar()
    if before is not None and before != "done":
        connection.execute(tasks.update().where(t.id == task_id).values(status="done"))
    return before


__all__ = ["complete_task"]
