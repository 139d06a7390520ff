"""Leads (the `leads` filters, sorted and paged in the store) and active lists."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from leadscore.api.models import (
    ERRORS,
    CompanyMemberOut,
    CompanyMembersPage,
    CompanyScoreOut,
    LeadOut,
    LeadsPage,
    ListOut,
    ListsOut,
    MemberOut,
    MembersPage,
)
from leadscore.api.security import scoped
from leadscore.api.state import call
from leadscore.diagnostics import LeadscoreError, Location

router = APIRouter(prefix="/v1", tags=["leads and lists"], responses=ERRORS)


def _minimums(items: list[str]) -> dict[str, float]:
    found = {}
    for item in items:
        name, _, number = item.partition("=")
        try:
            found[name.strip()] = float(number)
        except ValueError:
            raise LeadscoreError.single("LS306", f"min={item}: write SCORE=NUMBER",
                                        Location(field="min"), text=item[:40],
                                        hint="e.g. ?min=fit=30") from None
    return found


@router.get("/leads", response_model=LeadsPage, **scoped("read"))
def get_leads(
    request: Request,
    label: str | None = Query(None, description="Only this label of the main score."),
    stage: str | None = Query(None, description="Only this lifecycle stage."),
    grade: str | None = Query(None, description="Only this grade (e.g. A1)."),
    min: list[str] = Query([], description="SCORE=VALUE, e.g. fit=30 (repeatable)."),  # noqa: B008
    sort: str | None = Query(None, description="The score to rank by (default the main)."),
    limit: int = Query(25, ge=1, le=1000),
    cursor: str | None = Query(None, description="The `cursor` of the previous page."),
) -> LeadsPage:
    """Scored contacts, best first, filtered, sorted and paged in the store."""
    minimums = _minimums(min)
    page = call(request, lambda p: p.leads_page(label=label, stage=stage, grade=grade,
                                                min_scores=minimums, limit=limit, sort=sort,
                                                after=cursor))
    return LeadsPage(leads=[LeadOut(**lead.to_dict()) for lead in page.leads],
                     cursor=page.cursor)


@router.get("/lists", response_model=ListsOut, **scoped("read"))
def get_lists(request: Request) -> ListsOut:
    """Every active list with its member count: lists of contacts, then of companies."""
    contacts, companies = call(request, lambda p: (p.list_counts(), p.company_list_counts()))
    return ListsOut(lists=[*(ListOut(name=n, members=m, description=d, of="contacts")
                             for n, m, d in contacts),
                           *(ListOut(name=n, members=m, description=d, of="companies")
                             for n, m, d in companies)])


@router.get("/lists/{name}/members", response_model=MembersPage | CompanyMembersPage,
            **scoped("read"))
def get_members(name: str, request: Request, limit: int = Query(50, ge=1, le=1000),
                cursor: str | None = Query(None)) -> MembersPage | CompanyMembersPage:
    """The members of a list, newest first, with when they joined; of a company list
    (`of: companies`), the companies with their names, domains and stored scores."""
    companies = call(request, lambda p: p.company_list_members(name, limit=limit,
                                                               cursor=cursor)
                     if name in p.lists.company_lists else None)
    if companies is not None:
        members = [
            CompanyMemberOut(company_id=m.company.company_id, name=m.company.name,
                             domain=m.company.domain, contacts=m.company.contacts,
                             scores={s: CompanyScoreOut(value=v, label=m.company.labels.get(s))
                                     for s, v in m.company.scores.items()},
                             joined_at=m.joined_at) for m in companies.members]
        return CompanyMembersPage(name=name, total=companies.total, cursor=companies.cursor,
                                  members=members)
    page = call(request, lambda p: p.list_members(name, limit=limit, cursor=cursor))
    return MembersPage(name=name, total=page.total, cursor=page.cursor,
                       members=[MemberOut(contact_id=m.contact_id, email=m.email,
                                          joined_at=m.joined_at) for m in page.items])


@router.get("/lists/{name}/test/{contact_id}", **scoped("read"))
def get_list_test(name: str, contact_id: str, request: Request) -> dict[str, Any]:
    """Which of the list's filters hold for the contact now, and which do not."""
    return call(request, lambda p: p.test_list(name, contact_id).to_dict())
