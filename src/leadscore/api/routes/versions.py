"""Published model versions: list them, publish a draft (rescored in the background while
the live version answers), follow a publish, roll back, and diff two models."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from leadscore.api.models import (
    ERRORS,
    ChangeOut,
    DiffOut,
    PublishIn,
    PublishOut,
    RollbackIn,
    RuleChangeOut,
    SpreadOut,
    VersionOut,
    VersionsOut,
)
from leadscore.api.security import scoped
from leadscore.api.state import call

router = APIRouter(prefix="/v1/models", tags=["models"], responses=ERRORS)


def _publish(found: Any) -> PublishOut:
    return PublishOut(**found.__dict__)


@router.get("/versions", response_model=VersionsOut, **scoped("read"))
def get_versions(request: Request) -> VersionsOut:
    """Every published version and every publish and rollback, newest first."""
    found = call(request, lambda p: p.model_history())
    return VersionsOut(
        live=found.live,
        versions=[VersionOut(version=v.id, model=v.model, digest=v.digest, author=v.author,
                             message=v.message, source=v.source, published_at=v.created_at,
                             live=v.id == found.live) for v in reversed(found.versions)],
        publishes=[_publish(r) for r in reversed(found.publishes)])


@router.post("/versions", response_model=PublishOut, status_code=202, **scoped("admin"))
def post_version(body: PublishIn, request: Request) -> JSONResponse:
    """Publish a draft model (YAML) as a new version: 202 at once, with the publish to
    follow; every contact is rescored in the background while the live version answers,
    and the new version goes live when the rescore is stored. A model with mistakes is a
    422 naming each with its line and column; a publish still running is a 409 (LS363)."""
    def start(project: Any) -> Any:
        found = project.publish_model(text=body.model, message=body.message,
                                      author=body.author, wait=False)
        project.resume_publish_in_background()
        return found

    found = call(request, start)
    return JSONResponse(_publish(found).model_dump(mode="json"), status_code=202)


@router.post("/rollback", response_model=PublishOut, status_code=202, **scoped("admin"))
def post_rollback(body: RollbackIn, request: Request) -> JSONResponse:
    """Make an earlier version live again (default: the one live before), rescored in the
    background as a publish is."""
    def start(project: Any) -> Any:
        found = project.rollback_model(body.version, message=body.message,
                                       author=body.author, wait=False)
        project.resume_publish_in_background()
        return found

    found = call(request, start)
    return JSONResponse(_publish(found).model_dump(mode="json"), status_code=202)


@router.get("/publishes/{publish_id}", response_model=PublishOut, **scoped("read"))
def get_publish(publish_id: int, request: Request) -> PublishOut:
    """A publish's state: `rescoring` (with its phase and runs) or `live` (since when)."""
    return _publish(call(request, lambda p: p.publish_status(publish_id)))


@router.post("/publishes/resume", response_model=PublishOut | None, **scoped("admin"))
def post_resume(request: Request) -> PublishOut | None:
    """Finish a publish that a crash interrupted (`leadscore model resume`); null when none
    is unfinished. Answers when the version is live."""
    found = call(request, lambda p: p.resume_publish())
    return None if found is None else _publish(found)


@router.get("/diff", response_model=DiffOut, **scoped("read"))
def get_diff(
    request: Request,
    a: str = Query(description="A version number, `live`, or `file` (the project's model "
                               "file)."),
    b: str = Query("file", description="The same, for the other side."),
    limit: int = Query(10, ge=0, le=1000, description="Contact ids listed per change."),
) -> DiffOut:
    """What changes from model A to model B: the rules, and their effect on the stored
    contacts (each scored under both, nothing written)."""
    for side in (a, b):
        _check_side(side)
    found = call(request, lambda p: p.diff_models(a, b, limit=limit))
    effect = found.effect
    return DiffOut(
        a=found.a, b=found.b, model_a=found.model_a, model_b=found.model_b,
        rules=[RuleChangeOut(**r.__dict__) for r in found.rules], contacts=effect.contacts,
        labels_a=found.labels_a, labels_b=effect.labels,
        spread_a={n: SpreadOut(**s.__dict__) for n, s in found.spread_a.items()},
        spread_b={n: SpreadOut(**s.__dict__) for n, s in found.spread_b.items()},
        label_changes=effect.label_changes, stage_changes=effect.stage_changes,
        changes=[ChangeOut(**c.__dict__) for c in effect.changes])


def _check_side(side: str) -> None:
    """Over HTTP a side is a version, `live` or `file`: never a path on the server."""
    from leadscore.diagnostics import LeadscoreError, Location

    text = side.strip().lstrip("vV")
    if side.strip() in ("live", "file") or text.isdigit():
        return
    raise LeadscoreError.single(
        "LS361", f"'{side[:40]}' is no model version", Location(field="a/b"),
        text=side[:40], hint="a version number (see GET /v1/models/versions), live or file")
