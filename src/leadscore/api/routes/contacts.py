"""One contact: properties and scores (now or as of a moment), the explanation, its log and
stage history; sales's feedback and a person's stage set."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from leadscore.api.models import (
    ERRORS,
    ContactOut,
    FeedbackIn,
    FeedbackOut,
    LogEntry,
    LogOut,
    ScoreChangeOut,
    ScoreHistoryPage,
    ScoresOut,
    StageChangeOut,
    StageIn,
    StageOut,
    StagesOut,
    StoredScoresAt,
)
from leadscore.api.routes import moment
from leadscore.api.security import scoped
from leadscore.api.state import call

router = APIRouter(prefix="/v1/contacts", tags=["contacts"], responses=ERRORS)
AS_OF = Query(None, description="A past moment (2026-03-01, 2026-03-01T09:30Z, now-30d); "
                                "default now.")


@router.get("/{contact_id}", response_model=ContactOut, **scoped("read"))
def get_contact(contact_id: str, request: Request, as_of: str | None = AS_OF) -> ContactOut:
    """The contact's properties now, or as they were at `as_of`."""
    at = moment(as_of)
    view = call(request, lambda p: p.contact(contact_id, at=at))
    return ContactOut(**view.__dict__)


@router.get("/{contact_id}/scores", response_model=ScoresOut, **scoped("read"))
def get_scores(contact_id: str, request: Request, as_of: str | None = AS_OF) -> ScoresOut:
    """Every score with its label, the grade and the stage they qualify for, computed from
    the contact's data now or as of `as_of`."""
    at = moment(as_of)
    return ScoresOut(**call(request, lambda p: p.contact_scores(contact_id, at=at)))


@router.get("/{contact_id}/scores/history", response_model=ScoreHistoryPage,
            **scoped("read"))
def get_score_history(
    contact_id: str, request: Request,
    model: str | None = Query(None, description="Only this model's scores (default: all)."),
    limit: int = Query(50, ge=1, le=1000),
    cursor: str | None = Query(None, description="The `cursor` of the previous page."),
) -> ScoreHistoryPage:
    """Every recorded change of the contact's scores and grade, newest first."""
    page = call(request, lambda p: p.score_history_page(contact_id, model=model, limit=limit,
                                                        cursor=cursor))
    return ScoreHistoryPage(contact_id=contact_id, total=page.total, cursor=page.cursor,
                            changes=[_change(r) for r in page.items])


def _change(r: Any) -> ScoreChangeOut:
    return ScoreChangeOut(model=r.model, score=r.score, value=r.value, label=r.label,
                          computed_at=r.computed_at, as_of=r.as_of, version=r.version)


@router.get("/{contact_id}/scores/stored", response_model=StoredScoresAt, **scoped("read"))
def get_stored_scores(
    contact_id: str, request: Request,
    at: str = Query(description="The moment (2026-03-01, 2026-03-01T09:30Z, now-30d)."),
) -> StoredScoresAt:
    """The contact's scores as the store held them at `at`, under the model version live
    then (`leadscore score history CONTACT --at T`)."""
    when = moment(at, "at")
    found = call(request, lambda p: p.stored_scores_at(contact_id, when or _now()))
    return StoredScoresAt(contact_id=found.contact_id, at=found.at, model=found.model,
                          version=found.version, scores=[_change(r) for r in found.scores])


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


@router.get("/{contact_id}/explain", **scoped("read"))
def get_explanation(contact_id: str, request: Request,
                    as_of: str | None = AS_OF) -> dict[str, Any]:
    """Every rule's verdict: matched or not, why, points, decay and caps (`leadscore
    explain --format json`)."""
    at = moment(as_of)
    return call(request, lambda p: p.explain(contact_id, at=at).to_dict())


@router.get("/{contact_id}/log", response_model=LogOut, **scoped("read"))
def get_log(contact_id: str, request: Request) -> LogOut:
    """List joins and leaves, stage changes and workflow steps, oldest first."""
    entries = call(request, lambda p: p.contact_log(contact_id))
    return LogOut(contact_id=contact_id,
                  entries=[LogEntry(at=e.at, what=e.what, change=e.change, detail=e.detail)
                           for e in entries])


@router.get("/{contact_id}/stages", response_model=StagesOut, **scoped("read"))
def get_stages(contact_id: str, request: Request) -> StagesOut:
    """Every stage change with its time and cause."""
    changes = call(request, lambda p: p.stage_history(contact_id))
    return StagesOut(contact_id=contact_id, changes=[
        StageChangeOut(stage=c.stage, previous=c.previous, changed_at=c.changed_at,
                       cause=c.cause) for c in changes])


@router.post("/{contact_id}/feedback", response_model=FeedbackOut, **scoped("sales"))
def post_feedback(contact_id: str, body: FeedbackIn, request: Request) -> FeedbackOut:
    """Sales's verdict (true_sql, not_ready, unqualified), acted on at once."""
    report = call(request, lambda p: p.record_feedback(contact_id, body.verdict, by=body.by))
    return FeedbackOut(contact_id=contact_id, verdict=body.verdict, steps=report.steps)


@router.put("/{contact_id}/stage", response_model=StageOut, **scoped("sales"))
def put_stage(contact_id: str, body: StageIn, request: Request) -> StageOut:
    """A person's explicit act: clear the contact's stage and set it (any direction)."""
    call(request, lambda p: p.set_stage(contact_id, body.stage, by=body.by))
    return StageOut(contact_id=contact_id, stage=body.stage)
