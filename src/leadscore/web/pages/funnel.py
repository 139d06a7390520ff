"""The Funnel page (marketing, admin): contacts per stage now, stage moves per week, and the
share of contacts that went on from each stage to the next."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from leadscore.api.state import call
from leadscore.web.charts import bar_chart
from leadscore.web.render import page
from leadscore.web.visitor import need

router = APIRouter()


@router.get("/funnel")
def funnel(request: Request, weeks: Annotated[int, Query(ge=1, le=104)] = 8) -> Response:
    need(request, "funnel")
    found = call(request, lambda p: p.funnel(weeks=weeks))
    order = [*found.stages, *(s for s in found.now if s not in found.stages)]
    now_chart = bar_chart([(s, found.now.get(s, 0)) for s in order if found.now.get(s)],
                          title="contacts per stage now")
    weekly: dict[tuple[str | None, str], dict[str, int]] = defaultdict(dict)
    week_names = []
    for week, before, after, count in found.moves:
        name = f"{week:%Y-%m-%d}"
        if name not in week_names:
            week_names.append(name)
        weekly[(before, after)][name] = count
    return page(request, "funnel.html", title="Funnel", funnel=found, now_chart=now_chart,
                weeks=weeks, week_names=week_names,
                moves=sorted(weekly.items(), key=lambda kv: -sum(kv[1].values())))


__all__ = ["router"]
