"""The Lists page (marketing, admin): every list with its members now — contact lists and
company lists (`of: companies`); a list's definition, its newest members, its joins and
leaves per week, and a contact tested against its filters (which hold and which do not); a
company list's newest member companies with their scores."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from leadscore.api.state import call
from leadscore.diagnostics import LeadscoreError
from leadscore.web.render import page
from leadscore.web.visitor import need

router = APIRouter()


@router.get("/lists")
def lists(request: Request) -> Response:
    need(request, "lists")
    counts = call(request, lambda p: p.list_counts())
    companies = call(request, lambda p: p.company_list_counts())
    return page(request, "lists.html", title="Lists", counts=counts, companies=companies)


@router.get("/company-lists/{name}")
def company_list(request: Request, name: Annotated[str, Path(max_length=200)]) -> Response:
    need(request, "lists")
    found = call(request, lambda p: p.company_list_members(name, limit=200))
    model = call(request, lambda p: p.model)
    names = list(model.companies.scores) if model.companies is not None else []
    return page(request, "company_list.html", title=f"Company list {name}", found=found,
                names=names)


@router.get("/lists/{name}")
def one_list(request: Request, name: Annotated[str, Path(max_length=200)],
             contact: Annotated[str | None, Query(max_length=512)] = None,
             after: Annotated[str | None, Query(max_length=400)] = None) -> Response:
    need(request, "lists")
    found = call(request, lambda p: p.list_page(name, cursor=after or None))
    tested, error = None, None
    if contact:
        try:
            tested = call(request, lambda p: p.test_list(name, contact.strip()))
        except LeadscoreError as problem:
            first = problem.diagnostics[0]
            error = f"{first.message} ({first.code})"
    next_link = (f"/lists/{quote(name, safe='')}?after={quote(found.members.cursor, safe='')}"
                 if found.members.cursor else None)
    return page(request, "list.html", status=422 if error else 200, title=f"List {name}",
                found=found, definition=found.definition,
                contact=contact or "", tested=tested, error=error, next_link=next_link)


__all__ = ["router"]
