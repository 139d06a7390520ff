"""The Leads page: the live model's scored contacts, best first by a chosen score, filtered by
label, stage, grade, owner and list, searched by e-mail or name, a page at a time — one
indexed query in the store per page (`Project.leads_page`). A salesperson sees only the
contacts they own when `[web] sales_leads = "own"`."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from leadscore.api.state import call
from leadscore.diagnostics import LeadscoreError
from leadscore.web.render import page
from leadscore.web.visitor import Visitor, need

router = APIRouter()
PAGE_SIZES = (25, 50, 100)
# a mistake's field, as the store names it, and the form field it belongs beside
FIELDS = {"--label": "label", "--stage": "stage", "--grade": "grade", "score": "sort",
          "after": "after", "list": "list"}


def own_only(request: Request, who: Visitor) -> str | None:
    """The owner a salesperson is held to (`[web] sales_leads = "own"`), else None."""
    project = request.app.state.served.project
    if who.role == "sales" and project is not None and project.config.sales_leads == "own":
        assert who.user is not None
        return who.user.email
    return None


@router.get("/leads")
def leads(request: Request,
          sort: Annotated[str | None, Query(max_length=200)] = None,
          label: Annotated[str | None, Query(max_length=200)] = None,
          stage: Annotated[str | None, Query(max_length=200)] = None,
          grade: Annotated[str | None, Query(max_length=200)] = None,
          owner: Annotated[str | None, Query(max_length=400)] = None,
          list_: Annotated[str | None, Query(alias="list", max_length=200)] = None,
          q: Annotated[str | None, Query(max_length=200)] = None,
          after: Annotated[str | None, Query(max_length=400)] = None,
          number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
          size: Annotated[int, Query(ge=1, le=100)] = 25) -> Response:
    who = need(request, "leads")
    held = own_only(request, who)
    chosen = {"sort": sort or "", "label": label or "", "stage": stage or "",
              "grade": grade or "", "owner": held or owner or "", "list": list_ or "",
              "q": q or "", "size": size}
    choices = call(request, lambda p: p.lead_choices())
    errors: dict[str, str] = {}
    found = None
    try:
        found = call(request, lambda p: p.leads_page(
            sort=sort or None, label=label or None, stage=stage or None, grade=grade or None,
            owner=held or owner or None, in_list=list_ or None, search=q or None, limit=size,
            after=after or None))
    except LeadscoreError as error:
        for problem in error.diagnostics:
            field = FIELDS.get(problem.location.field or "", "q")
            errors[field] = f"{problem.message} ({problem.code})" + (
                f" — {problem.hint}" if problem.hint else "")
    ranked_by = sort if sort and "sort" not in errors else choices.primary
    base = {k: v for k, v in chosen.items() if v and k != "size"}
    if size != 25:
        base["size"] = size

    def link(**change: object) -> str:
        merged = {**base, **{k: v for k, v in change.items() if v is not None}}
        return "/leads?" + urlencode({k: v for k, v in merged.items() if v not in ("", None)})

    next_link = link(after=found.cursor, page=number + 1) if found and found.cursor else None
    return page(request, "leads.html", status=422 if errors else 200, title="Leads",
                leads=found.leads if found else [], choices=choices, chosen=chosen,
                errors=errors, ranked_by=ranked_by, held=held, number=number, size=size,
                sizes=PAGE_SIZES, next_link=next_link, first_link=link() if number > 1 else None,
                sort_link=lambda name: link(sort=name))


__all__ = ["router"]
