"""The score ledger as calls: add an entry (set-to, change-by, or a reset), list a contact's
entries, void one — for `leadscore ledger`, the HTTP API and the web app alike.

An entry is data beside the contact's history (`evaluation.ledger` says what it means); adding
or voiding one makes the contact due, so `process` and the worker act on it at once, and the
next `leadscore score` rescores it (the store's marks include the ledger).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from leadscore.diagnostics import LeadscoreError, Location, did_you_mean

if TYPE_CHECKING:
    from leadscore.evaluation.ledger import LedgerEntry
    from leadscore.model import Model
    from leadscore.storage import Store

MAX_AMOUNT = 1e9  # points, either way: what a score's limits allow (docs/limits.md)


class LedgerOperations:
    """Mixed into `Project`, which gives `store`, `model` and `require_contact`."""

    if TYPE_CHECKING:
        @property
        def store(self) -> Store: ...
        @property
        def model(self) -> Model: ...
        def require_contact(self, contact_id: str) -> None: ...
        def context_snapshot(self, contact_id: str, at: datetime | None = None) -> Any: ...

    def add_ledger_entry(self, contact_id: str, score: str, *, set_to: float | None = None,
                         change_by: float | None = None, reset: bool = False,
                         reason: str | None = None, note: str | None = None,
                         author: str | None = None, effective: datetime | None = None,
                         expires: datetime | None = None,
                         now: datetime | None = None) -> LedgerEntry:
        """Record one entry: set the score to `set_to`, change it by `change_by`, or `reset`
        it (one change-by entry of minus the score as of `effective`, so points earned
        afterwards count again). `effective` defaults to now; `expires` is optional."""
        from leadscore.catalog import to_micros
        from leadscore.evaluation.ledger import CHANGE, REASONS, SET, LedgerEntry, to_cents
        from leadscore.storage.ledger import add_entries
        from leadscore.storage.schedule import make_due

        given = [name for name, value in (("--set", set_to), ("--change", change_by),
                                          ("--reset", reset or None)) if value is not None]
        if len(given) != 1:
            raise LeadscoreError.single(
                "LS370", "a ledger entry needs exactly one of set-to, change-by or reset"
                + (f" (given: {', '.join(given)})" if given else ""), Location(field="amount"),
                hint="`--set 50`, `--change -10` or `--reset`")
        if score not in self.model.scores:
            raise LeadscoreError.single(
                "LS312", f"model {self.model.name} has no score '{score}'",
                Location(field="score"), text=score,
                hint=did_you_mean(score, self.model.scores)
                or "scores: " + ", ".join(self.model.scores))
        amount = set_to if set_to is not None else change_by
        if amount is not None and not (math.isfinite(amount) and abs(amount) <= MAX_AMOUNT):
            raise LeadscoreError.single(
                "LS371", f"a ledger amount must be a finite number of at most {MAX_AMOUNT:g} "
                         "points either way", Location(field="amount"), text=str(amount))
        why = reason or ("reset" if reset else "manual")
        if why not in REASONS:
            raise LeadscoreError.single(
                "LS372", f"unknown ledger reason '{why}'", Location(field="reason"), text=why,
                hint=did_you_mean(why, REASONS) or "one of: " + ", ".join(REASONS)
                + " (free text goes in the note)")
        moment = now or datetime.now(UTC)
        start = effective or moment
        if expires is not None and expires <= start:
            raise LeadscoreError.single(
                "LS373", f"the entry would expire ({expires:%Y-%m-%d %H:%M}) before it takes "
                         f"effect ({start:%Y-%m-%d %H:%M})", Location(field="expires"),
                hint="give an expiry after the effective time")
        self.require_contact(contact_id)
        if reset:
            snapshot = self.context_snapshot(contact_id, start)
            amount = -snapshot.scores[score][0]
        assert amount is not None
        entry = LedgerEntry(0, contact_id, score, SET if set_to is not None else CHANGE,
                            to_cents(amount), to_micros(start),
                            None if expires is None else to_micros(expires), why, note or None,
                            author or None, to_micros(moment))
        with self.store.write() as writer:
            stored = add_entries(writer.connection, [entry])[0]
            make_due(writer.connection, [contact_id], moment, "score ledger entry")
        return stored

    def ledger_entries(self, contact_id: str | None = None, *,
                       voided: bool = False) -> list[LedgerEntry]:
        """The entries of one contact (or of every contact), oldest id first; voided ones
        only with `voided`."""
        from leadscore.storage.ledger_reads import entries_of

        if contact_id is not None:
            self.require_contact(contact_id)
        with self.store.read_raw() as connection:
            found = entries_of(connection, None if contact_id is None else [contact_id],
                               voided=voided)
        return sorted((e for entries in found.values() for e in entries), key=lambda e: e.id)

    def void_ledger_entry(self, entry_id: int, *, by: str | None = None,
                          note: str | None = None, now: datetime | None = None
                          ) -> LedgerEntry:
        """Take an entry out of every score from now on (it stays listed, voided, with who
        and why). LS374 for an unknown id, LS375 for an entry voided already."""
        from leadscore.catalog import to_micros
        from leadscore.storage.ledger import void_entry
        from leadscore.storage.schedule import make_due

        moment = now or datetime.now(UTC)
        with self.store.write() as writer:
            entry, voided = void_entry(writer.connection, entry_id, at_us=to_micros(moment),
                                       by=by or None, note=note or None)
            if entry is not None and voided:
                make_due(writer.connection, [entry.contact_id], moment, "score ledger entry")
        if entry is None:
            raise LeadscoreError.single(
                "LS374", f"no score ledger entry {entry_id}", Location(field="entry"),
                text=str(entry_id), hint="`leadscore ledger list CONTACT` shows the ids")
        if not voided:
            raise LeadscoreError.single(
                "LS375", f"score ledger entry {entry_id} was voided already"
                + (f" by {entry.voided_by}" if entry.voided_by else ""),
                Location(field="entry"), text=str(entry_id))
        return entry
