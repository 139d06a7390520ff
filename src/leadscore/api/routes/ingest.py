"""Activity in: contacts (batch upsert), events (batch append), outcomes. A batch is checked
whole and stored in one transaction, or — with any mistake — not at all; the answer comes
after the commit."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from leadscore.api.models import ERRORS, ContactsIn, EventsIn, IngestOut, OutcomesIn
from leadscore.api.security import scoped
from leadscore.api.state import call, ingest_events

router = APIRouter(prefix="/v1", tags=["ingestion"], responses=ERRORS)


@router.post("/contacts", response_model=IngestOut, **scoped("ingest"))
def post_contacts(body: ContactsIn, request: Request) -> IngestOut:
    """Upsert contacts and their properties (history kept); the worker rescores them."""
    report = call(request, lambda p: p.ingest_contacts(body.contacts))
    return IngestOut(**report.to_dict())


@router.post("/events", response_model=IngestOut, **scoped("ingest"))
async def post_events(body: EventsIn, request: Request) -> JSONResponse:
    """Append events; an event id already stored is a no-op, so a resent batch changes
    nothing. The contacts are made due for the worker at once."""
    report = await ingest_events(request, body.events, body.create_contacts)  # group commit
    # IngestOut's fields, in its order: answered as they are, not validated again (the
    # busiest route: FastAPI's check of what a route returns was 4 % of its time)
    return JSONResponse(report.to_dict())


@router.post("/outcomes", response_model=IngestOut, **scoped("ingest"))
def post_outcomes(body: OutcomesIn, request: Request) -> IngestOut:
    """Opportunity, won and lost times of known contacts (for backtests and stages)."""
    report = call(request, lambda p: p.ingest_outcomes(body.outcomes))
    return IngestOut(**report.to_dict())
