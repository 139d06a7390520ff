"""The Segment spec's HTTP Tracking API, on the paths a Segment-compatible sender calls:
`/v1/identify`, `/v1/track`, `/v1/page`, `/v1/screen`, `/v1/group`, `/v1/alias` and
`/v1/batch` (the API key as HTTP Basic user name, or as a Bearer key). A request is checked
whole and stored in one transaction, or — with any mistake — not at all; the answer comes after
the commit. What each message becomes: `leadscore.ingestion.segment`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from leadscore.api.models import (
    ERRORS,
    AliasIn,
    GroupIn,
    IdentifyIn,
    PageIn,
    ScreenIn,
    SegmentBatchIn,
    SegmentOut,
    TrackIn,
)
from leadscore.api.security import scoped
from leadscore.api.state import call

router = APIRouter(prefix="/v1", tags=["segment"], responses=ERRORS)


def _ingest(request: Request, body: Any, kind: str | None) -> SegmentOut:
    sent = body.model_dump(exclude_unset=True)
    report = call(request, lambda p: p.ingest_segment(sent, kind=kind))
    return SegmentOut(success=True, **report.to_dict())


@router.post("/identify", response_model=SegmentOut, **scoped("ingest"))
def post_identify(body: IdentifyIn, request: Request) -> SegmentOut:
    """Who the user is: `traits` become the contact's properties as of the message's time
    (history kept). With both `userId` and `anonymousId`, what the visitor did before is
    written as the contact's."""
    return _ingest(request, body, "identify")


@router.post("/track", response_model=SegmentOut, **scoped("ingest"))
def post_track(body: TrackIn, request: Request) -> SegmentOut:
    """An event: its type is the `event` name in snake_case, its attributes the
    `properties`."""
    return _ingest(request, body, "track")


@router.post("/page", response_model=SegmentOut, **scoped("ingest"))
def post_page(body: PageIn, request: Request) -> SegmentOut:
    """A `page_view` event (url, path, title, referrer, search from the properties or
    `context.page`; the page's name and category)."""
    return _ingest(request, body, "page")


@router.post("/screen", response_model=SegmentOut, **scoped("ingest"))
def post_screen(body: ScreenIn, request: Request) -> SegmentOut:
    """A `screen_view` event (a mobile app's screen: name, category, properties)."""
    return _ingest(request, body, "screen")


@router.post("/group", response_model=SegmentOut, **scoped("ingest"))
def post_group(body: GroupIn, request: Request) -> SegmentOut:
    """The user's company: its traits become the contact's company properties (`company`,
    `industry`, `employees`, `annual_revenue`, `company_id`, `company_<trait>`)."""
    return _ingest(request, body, "group")


@router.post("/alias", response_model=SegmentOut, **scoped("ingest"))
def post_alias(body: AliasIn, request: Request) -> SegmentOut:
    """`previousId` is now `userId`: the contact (or visitor) previousId is merged into
    userId's, and later messages naming previousId resolve to it."""
    return _ingest(request, body, "alias")


@router.post("/batch", response_model=SegmentOut, **scoped("ingest"))
def post_batch(body: SegmentBatchIn, request: Request) -> SegmentOut:
    """Up to 500 KB of messages of any type, applied in order; a mistake in any refuses the
    whole batch, each mistake named by the message's index and field. A body without `batch`
    is one message of its own `type` (a destination that posts everything to one URL)."""
    return _ingest(request, body, None)
