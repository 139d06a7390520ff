"""The score ledger: a contact's entries, adding one (set to, change by, reset), voiding one."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from leadscore.api.models import ERRORS
from leadscore.api.routes import moment
from leadscore.api.security import scoped
from leadscore.api.state import call

router = APIRouter(prefix="/v1", tags=["ledger"], responses=ERRORS)


class LedgerEntryOut(BaseModel):
    id: int
    contact_id: str
    score: str
    op: str = Field(description="set (set to the amount) or change (change by the amount)")
    amount: float
    effective_at: str
    expires_at: str | None = None
    reason: str
    note: str | None = None
    author: str | None = None
    created_at: str
    voided_at: str | None = None
    voided_by: str | None = None
    void_note: str | None = None


class LedgerOut(BaseModel):
    contact_id: str
    entries: list[LedgerEntryOut]


class LedgerIn(BaseModel):
    score: str
    set_to: float | None = Field(None, description="Set the score to this many points.")
    change_by: float | None = Field(None, description="Change the score by this many points.")
    reset: bool = Field(False, description="Take the score to 0 as of the effective time; "
                                           "points earned afterwards count again.")
    reason: str | None = Field(None, description="manual, correction, reset, not_ready, "
                                                 "unqualified or workflow (default manual).")
    note: str | None = None
    by: str | None = None
    effective: str | None = Field(None, description="When it starts to apply (default now).")
    expires: str | None = Field(None, description="When it stops applying (default never).")


class VoidIn(BaseModel):
    by: str | None = None
    note: str | None = None


@router.get("/contacts/{contact_id}/ledger", response_model=LedgerOut, **scoped("read"))
def get_ledger(contact_id: str, request: Request,
               all: bool = Query(False, description="Voided entries too.")) -> LedgerOut:
    """The contact's score ledger entries, oldest first (`leadscore ledger list`)."""
    entries = call(request, lambda p: p.ledger_entries(contact_id, voided=all))
    return LedgerOut(contact_id=contact_id,
                     entries=[LedgerEntryOut(**e.to_dict()) for e in entries])


@router.post("/contacts/{contact_id}/ledger", response_model=LedgerEntryOut,
             **scoped("sales"))
def post_ledger(contact_id: str, body: LedgerIn, request: Request) -> LedgerEntryOut:
    """Add a score ledger entry (`leadscore ledger add`); the contact is made due."""
    effective = moment(body.effective, "effective")
    expires = moment(body.expires, "expires")
    entry = call(request, lambda p: p.add_ledger_entry(
        contact_id, body.score, set_to=body.set_to, change_by=body.change_by,
        reset=body.reset, reason=body.reason, note=body.note, author=body.by,
        effective=effective, expires=expires))
    return LedgerEntryOut(**entry.to_dict())


@router.post("/ledger/{entry_id}/void", response_model=LedgerEntryOut, **scoped("sales"))
def post_void(entry_id: int, body: VoidIn, request: Request) -> LedgerEntryOut:
    """Void an entry: it counts in no score from now on, and stays listed."""
    entry = call(request, lambda p: p.void_ledger_entry(entry_id, by=body.by, note=body.note))
    return LedgerEntryOut(**entry.to_dict())
