"""The Companies pages (sales, marketing, admin): companies ranked by their own scores, with
a label filter; a company's properties, scores and every rule's verdict, its contacts, and the
history of its properties and scores."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from leadscore.api.state import call
from leadscore.web.render import page
from leadscore.web.visitor import need

router = APIRouter()


@router.get("/companies")
def companies(request: Request,
              label: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    need(request, "companies")
    model = call(request, lambda p: p.model)
    rows = call(request, lambda p: p.companies(label=label or None, limit=200))
    names = list(model.companies.scores) if model.companies is not None else []
    labels = [t.label for t in model.companies.primary_score.thresholds] \
        if model.companies is not None else []
    return page(request, "companies.html", title="Companies", rows=rows, names=names,
                labels=labels, label=label or "")


@router.get("/companies/{company_id}")
def company(request: Request, company_id: Annotated[str, Path(max_length=512)]) -> Response:
    need(request, "companies")
    detail = call(request, lambda p: p.company(company_id))
    why = call(request, lambda p: p.explain_company(company_id))
    return page(request, "company.html", title=f"Company {company_id}", detail=detail,
                why=why)


__all__ = ["router"]
