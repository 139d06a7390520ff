"""A draft model tried on the stored contacts, nothing written: its label counts and which
contacts would change label or stage."""

from __future__ import annotations

from fastapi import APIRouter, Request

from leadscore.api.models import ERRORS, ChangeOut, DryRunIn, DryRunOut
from leadscore.api.routes import moment
from leadscore.api.security import scoped
from leadscore.api.state import call

router = APIRouter(prefix="/v1/models", tags=["models"], responses=ERRORS)


@router.post("/dry-run", response_model=DryRunOut, **scoped("admin"))
def post_dry_run(body: DryRunIn, request: Request) -> DryRunOut:
    """Score every stored contact under a draft model (YAML) without writing anything, and
    compare with the live model's stored labels and the stored stages. A model with mistakes
    is a 422 naming every one with its line and column."""
    at = moment(body.as_of)
    report = call(request, lambda p: p.dry_run_draft(body.model, as_of=at, limit=body.limit))
    return DryRunOut(
        model=report.model, live_model=report.live_model, as_of=report.as_of,
        contacts=report.contacts, seconds=round(report.seconds, 3), labels=report.labels,
        stages=report.stages, label_changes=report.label_changes,
        stage_changes=report.stage_changes,
        changes=[ChangeOut(**change.__dict__) for change in report.changes])
