"""A contact's page: every score with its breakdown (what `leadscore explain` shows: each
rule, matched or not and why, its points, decay and caps; groups and their caps), as of now
or a chosen moment; each score's history as a chart; the timeline; and the three buttons of
sales feedback, which act at once (`Project.record_feedback`) and come back to the page
saying what changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from leadscore.api.state import call
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.project import parse_moment
from leadscore.project.automation_api import FEEDBACK
from leadscore.web.charts import step_chart
from leadscore.web.pages.leads import own_only
from leadscore.web.render import page
from leadscore.web.visitor import Visitor, check_form, need

router = APIRouter()
ContactId = Annotated[str, Path(max_length=512)]
FEEDBACK_TITLES = {"true_sql": "Sales-ready", "not_ready": "Not ready yet",
                   "unqualified": "Unqualified"}
# the timeline's views: what happened (the contact's own activity) and what changed (data,
# stages, lists, workflows, notifications), or both; and how many lines, growing on request
TIMELINE_VIEWS = {"all": None, "activity": {"event"},
                  "changes": {"property", "stage", "list", "workflow", "notification"}}
TIMELINE_LINES, TIMELINE_MAX = 100, 5_000


def _hold(request: Request, who: Visitor, contact_id: str) -> None:
    """A salesperson held to their own leads sees no one else's (as if not there)."""
    held = own_only(request, who)
    if held is None:
        return
    owner = call(request, lambda p: p.contact_owner(contact_id))
    if owner is None or owner.strip().lower() != held:
        raise LeadscoreError.single("LS310", f"no contact '{contact_id}' among your leads",
                                    Location(field="contact"))


@router.get("/contacts/{contact_id}")
def contact(request: Request, contact_id: ContactId,
            at: Annotated[str | None, Query(max_length=100)] = None,
            said: Annotated[str | None, Query(max_length=40)] = None,
            was: Annotated[str | None, Query(max_length=40)] = None,
            show: Annotated[str, Query(max_length=20)] = "all",
            lines: Annotated[int, Query(ge=-10**9, le=10**9)] = TIMELINE_LINES) -> Response:
    who = need(request, "contacts")
    _hold(request, who, contact_id)
    errors: dict[str, str] = {}
    moment = None
    if at:
        try:
            moment = parse_moment(at.strip())
        except ValueError as error:
            errors["at"] = f"{error} — a date such as 2026-11-01, or 2026-11-01T09:30"
    try:
        explanation = call(request, lambda p: p.explain(contact_id, at=moment))
    except LeadscoreError as error:
        if error.diagnostics[0].code != "LS311":
            raise
        errors["at"] = error.diagnostics[0].message + (f" ({error.diagnostics[0].hint})"
                                                       if error.diagnostics[0].hint else "")
        explanation = call(request, lambda p: p.explain(contact_id))
    explained = explanation.to_dict()
    model = explained["model"]
    history = call(request, lambda p: p.score_history_page(contact_id, model=model,
                                                           limit=2000)).items
    charts = []
    for name in explained["scores"]:
        points = sorted(((h.computed_at if h.computed_at.tzinfo else
                          h.computed_at.replace(tzinfo=UTC), h.value) for h in history
                         if h.score == name and h.value is not None), key=lambda p: p[0])
        charts.append((name, step_chart(points, until=datetime.now(UTC),
                                        title=f"{name} over time"), len(points)))
    view = show if show in TIMELINE_VIEWS else "all"
    lines = min(max(lines, 1), TIMELINE_MAX)  # a link edited by hand still shows the page
    timeline = call(request, lambda p: p.contact_timeline(contact_id, limit=lines + 1,
                                                          kinds=TIMELINE_VIEWS[view]))
    more = len(timeline) > lines and lines < TIMELINE_MAX
    timeline = timeline[:lines]
    stage = call(request, lambda p: p.contact_stage(contact_id))
    reasons = explanation.top_reasons(n=3)
    said_title = FEEDBACK_TITLES.get(said or "")
    return page(request, "contact.html", status=422 if errors else 200,
                title=explained["email"] or contact_id, contact_id=contact_id,
                explained=explained, charts=charts, timeline=timeline, stage=stage,
                show=view, views=list(TIMELINE_VIEWS), lines=lines,
                more_lines=min(lines * 5, TIMELINE_MAX) if more else None,
                reasons=reasons, errors=errors, at=at or "", feedback=FEEDBACK_TITLES,
                may_feedback=who.may("feedback"), said=said_title, was=was or None,
                now_link=f"/contacts/{quote(contact_id, safe='')}")


@router.post("/contacts/{contact_id}/feedback")
def feedback(request: Request, contact_id: ContactId,
             verdict: Annotated[str, Form(max_length=40)] = "",
             csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    who = need(request, "feedback")
    check_form(request, csrf)
    _hold(request, who, contact_id)
    if verdict not in FEEDBACK:
        raise LeadscoreError.single("LS321", f"unknown feedback '{verdict}'",
                                    Location(field="verdict"),
                                    hint="one of: " + ", ".join(FEEDBACK))
    assert who.user is not None
    by = who.user.email
    before = call(request, lambda p: p.contact_stage(contact_id))
    call(request, lambda p: p.record_feedback(contact_id, verdict, by=by))
    query = urlencode({"said": verdict, "was": before or "none"})
    return RedirectResponse(f"/contacts/{quote(contact_id, safe='')}?{query}",
                            status_code=303)


__all__ = ["router"]
