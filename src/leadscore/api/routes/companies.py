"""Companies (accounts): ranked, one company, and its explanation — reads only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from leadscore.api.models import ERRORS, CompaniesOut, CompanyOut
from leadscore.api.security import scoped
from leadscore.api.state import call

router = APIRouter(prefix="/v1", tags=["companies"], responses=ERRORS)


@router.get("/companies", response_model=CompaniesOut, **scoped("read"))
def get_companies(
    request: Request,
    label: str | None = Query(None, description="Only this label of the ranking score."),
    sort: str | None = Query(None, description="The company score to rank by (default: the "
                                               "last one)."),
    limit: int = Query(25, ge=1, le=1000),
) -> CompaniesOut:
    """Scored companies, best first."""
    rows = call(request, lambda p: p.companies(label=label, sort=sort, limit=limit))
    return CompaniesOut(companies=[CompanyOut(**row.to_dict()) for row in rows])


@router.get("/companies/{company_id}", **scoped("read"))
def get_company(company_id: str, request: Request) -> dict[str, Any]:
    """One company: its properties with their history, its stored scores and their history."""
    return call(request, lambda p: p.company(company_id).to_dict())


@router.get("/companies/{company_id}/explanation", **scoped("read"))
def get_company_explanation(company_id: str, request: Request) -> dict[str, Any]:
    """Every company rule: whether it matched, why and its points; the contacts it read."""
    return call(request, lambda p: p.explain_company(company_id).to_dict())
