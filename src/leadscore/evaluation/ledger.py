"""The score ledger's meaning: adjustments that are records, not a running total.

A ledger entry names a contact and a score and either *sets* the score to an amount or
*changes* it by an amount, from its effective time until its expiry (if any). It carries a
reason from a closed list (`REASONS`), free text, and an author. Entries are data beside the
contact's properties and events: a score as of t is a pure function of (model, data as of t,
ledger), and every engine applies the ledger the same way:

- an entry *applies* at t when `effective ≤ t < expires` (at its expiry it no longer does);
- the entries of one score that apply are taken in order of (effective time, id); the model's
  value (after the score's own cap) is replaced by the amount of the last *set-to* entry, if
  any, and every *change-by* entry after that set-to (all of them when there is none) adds;
- amounts are kept in hundredths (`cents`) and added as integers; the result is
  `round2(base + cents / 100)` — the ledger is not capped by the score's `max`/`min`;
- a sum score adds its parts as adjusted, then applies its own entries;
- labels, the grade and the stage are read from the adjusted values;
- entries that do not apply yet and entries that will expire wake the contact at those
  moments (`next_moment_us`), so a stored score never misses them.

An entry is never changed: voiding it (with who and why) takes it out of every computation
and keeps it for the audit trail (`leadscore ledger list --all`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from leadscore.evaluation.arithmetic import round2

SET, CHANGE = "set", "change"
OPS = (SET, CHANGE)
# the closed list of reasons; free text goes in `note`
REASONS = ("manual", "correction", "reset", "not_ready", "unqualified", "workflow")


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    contact_id: str
    score: str
    op: str  # SET | CHANGE
    cents: int  # the amount in hundredths
    effective_us: int
    expires_us: int | None = None
    reason: str = "manual"
    note: str | None = None
    author: str | None = None
    created_us: int = 0
    voided_us: int | None = None
    voided_by: str | None = None
    void_note: str | None = None

    @property
    def amount(self) -> float:
        return self.cents / 100

    def applies(self, at_us: int) -> bool:
        return self.effective_us <= at_us and (self.expires_us is None
                                               or at_us < self.expires_us)

    def describe(self) -> str:
        what = (f"set to {self.amount:g}" if self.op == SET
                else f"change by {self.amount:+g}")
        return what

    def to_dict(self) -> dict[str, Any]:
        from leadscore.catalog.forms import from_micros

        def when(us: int | None) -> str | None:
            return None if us is None else from_micros(us).isoformat()

        return {"id": self.id, "contact_id": self.contact_id, "score": self.score,
                "op": self.op, "amount": self.amount, "effective_at": when(self.effective_us),
                "expires_at": when(self.expires_us), "reason": self.reason, "note": self.note,
                "author": self.author, "created_at": when(self.created_us),
                "voided_at": when(self.voided_us), "voided_by": self.voided_by,
                "void_note": self.void_note}


def to_cents(amount: float) -> int:
    """An amount in hundredths, half away from zero on the number as written (1.005 → 101,
    though the binary 1.005 is a little less): what the ledger stores."""
    from decimal import ROUND_HALF_UP, Decimal

    return int(Decimal(repr(float(amount))).quantize(Decimal("0.01"), ROUND_HALF_UP) * 100)


def applying(entries: Iterable[LedgerEntry], score: str, at_us: int) -> list[LedgerEntry]:
    """The entries of `score` that apply at `at_us`, in the order they are applied."""
    found = [e for e in entries if e.score == score and e.voided_us is None
             and e.applies(at_us)]
    found.sort(key=lambda e: (e.effective_us, e.id))
    return found


def adjust(value: float, entries: Sequence[LedgerEntry]) -> float:
    """The score after `entries` (those that apply, in order — `applying`): the last set-to
    replaces the model's value and every later change-by adds, in hundredths."""
    if not entries:
        return value
    base = value
    start = 0
    for i, entry in enumerate(entries):
        if entry.op == SET:
            base, start = entry.cents / 100, i + 1
    cents = 0
    for entry in entries[start:]:
        cents += entry.cents
    return round2(base + cents / 100)


def in_effect(entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
    """Of the entries that apply (in order), those that count: the last set-to and what
    follows it (a set-to hides everything before it)."""
    start = 0
    for i, entry in enumerate(entries):
        if entry.op == SET:
            start = i
    return list(entries[start:])


def next_moment_us(entries: Iterable[LedgerEntry], now_us: int) -> int | None:
    """The earliest moment after `now_us` at which an entry starts or stops applying."""
    best: int | None = None
    for entry in entries:
        if entry.voided_us is not None:
            continue
        if entry.effective_us > now_us:
            moment: int | None = entry.effective_us
        elif entry.expires_us is not None and entry.expires_us > now_us:
            moment = entry.expires_us
        else:
            moment = None
        if moment is not None and (best is None or moment < best):
            best = moment
    return best
