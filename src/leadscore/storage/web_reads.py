"""Aggregates for the web app's Funnel, Lists and Workflows pages, answered in the store:
stage moves per week and the contacts that ever reached each stage (`stage_changes`, on a
`DataView`: segments and tail), a list's joins and leaves per week (`list_changes`), the
enrollments of each workflow by status and the newest workflow steps (`enrollments`,
`step_runs`). Weeks start on Monday, UTC."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from leadscore.catalog.forms import to_micros
from leadscore.storage.automation_schema import enrollments, list_changes, step_runs
from leadscore.storage.views import DataView

WEEK = 7 * 86400
MONDAY = 4 * 86400  # 1970-01-01 was a Thursday: the first Monday is 4 days later


def week_of(moment: datetime) -> datetime:
    """The Monday 00:00 UTC that starts `moment`'s week."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _week_start(index: int) -> datetime:
    return datetime.fromtimestamp(index * WEEK + MONDAY, UTC)


def stage_moves(view: DataView, since: datetime) -> list[tuple[datetime, str | None, str, int]]:
    """(week, from, to, contacts) of the stage changes since `since`, oldest week first."""
    relation = view.relation("stage_changes")
    rows = view.query(
        f"SELECT CAST(floor((changed_us / 1000000.0 - {MONDAY}) / {WEEK}) AS BIGINT) AS w, "
        f"previous, stage, count(*) FROM {relation} AS s WHERE changed_us >= ? "
        "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", [to_micros(since)])
    return [(_week_start(int(w)), previous, stage, int(n)) for w, previous, stage, n in rows]


def stages_reached(view: DataView, order: list[str]) -> dict[str, int]:
    """Stage → the contacts that reached it or a later one (in `order`): the furthest of
    every stage a contact was moved to and the stage it has now."""
    from leadscore.storage.duck import quote_text
    from leadscore.storage.leads import stage_relation

    if not order:
        return {}
    rank = "CASE stage " + " ".join(f"WHEN {quote_text(stage)} THEN {i}"
                                    for i, stage in enumerate(order)) + " END"
    rows = view.query(
        f"SELECT m, count(*) FROM (SELECT contact_id, max(r) AS m FROM ("
        f"SELECT contact_id, {rank} AS r FROM {view.relation('stage_changes')} AS c "
        f"UNION ALL SELECT contact_id, {rank} AS r FROM {stage_relation(view)} AS n"
        f") AS ranked GROUP BY contact_id) AS furthest WHERE m IS NOT NULL GROUP BY m")
    furthest = {int(m): int(n) for m, n in rows}
    reached, total = {}, 0
    for i in range(len(order) - 1, -1, -1):
        total += furthest.get(i, 0)
        reached[order[i]] = total
    return {stage: reached[stage] for stage in order}


def list_activity(connection: Connection, name: str, since: datetime
                  ) -> list[tuple[datetime, int, int]]:
    """(week, joins, leaves) of one list since `since`, oldest week first."""
    c = list_changes.c
    weeks: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    query = select(c.at, c.change, func.count()).where(c.list == name, c.at >= since) \
        .group_by(c.at, c.change)
    for at, change, count in connection.execute(query):
        moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        weeks[week_of(moment)][0 if change == "join" else 1] += int(count)
    return [(week, joins, leaves) for week, (joins, leaves) in sorted(weeks.items())]


def enrollment_counts(connection: Connection) -> dict[str, dict[str, int]]:
    """Workflow → status (active, done, exited) → enrollments."""
    e = enrollments.c
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for workflow, status, count in connection.execute(
            select(e.workflow, e.status, func.count()).group_by(e.workflow, e.status)):
        found[workflow][status] = int(count)
    return dict(found)


def recent_steps(connection: Connection, workflow: str | None, limit: int) -> list[Any]:
    """The newest workflow steps (of one workflow, or all), newest first."""
    s = step_runs.c
    query = select(s.id, s.workflow, s.contact_id, s.position, s.action, s.outcome, s.at) \
        .order_by(s.id.desc()).limit(limit)
    if workflow is not None:
        query = query.where(s.workflow == workflow)
    return [tuple(row) for row in connection.execute(query)]


__all__ = ["enrollment_counts", "list_activity", "recent_steps", "stage_moves",
           "stages_reached", "week_of"]
