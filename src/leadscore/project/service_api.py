"""What the HTTP API (and any other caller) asks of a project beyond the command line's
operations: batches of contacts, events and outcomes sent as data, a contact's properties and
scores as of a moment, task completion, and API keys.

`Project` takes these methods from `ServiceOperations`; they need its `store`, `model` and
`automation`. Batches are checked by the import rules (`ingestion.items`) and stored whole or
not at all; nothing is returned before the transaction has committed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from leadscore.diagnostics import DiagnosticList, LeadscoreError, Location, did_you_mean

if TYPE_CHECKING:
    from leadscore.automation import Automation
    from leadscore.evaluation import ContactSnapshot
    from leadscore.model import Model
    from leadscore.project.drafts import DraftReport
    from leadscore.scoring import ScoreRun
    from leadscore.storage import ContactInput, EventInput, Store
    from leadscore.storage.api_keys import ApiKey
    from leadscore.storage.automation_reads import Page

SCOPES = ("ingest", "read", "sales", "admin")
# what each scope allows: ingest sends activity only; sales reads and acts on leads
GRANTS = {"ingest": {"ingest"}, "read": {"read"}, "sales": {"sales", "read"},
          "admin": {"ingest", "read", "sales", "admin"}}
KEY_PREFIX = "lsk_"


@dataclass(frozen=True)
class IngestReport:
    """What a batch did: items received, new, updated, already stored, repeated in it."""

    received: int
    inserted: int
    updated: int
    unchanged: int
    repeated: int
    contacts_created: int = 0

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CheckedEvents:
    """A batch of events that passed the checks (`check_event_batch`), ready to be stored —
    once `contacts_read`: which of its contacts the store has (and so which it creates) is
    known (`settle_event_batches`)."""

    received: int
    events: list[EventInput]
    new_contacts: list[ContactInput]
    repeated: int
    create_contacts: bool = False
    indexes: tuple[int, ...] = ()  # each event's index in the request (for LS219)
    contacts_read: bool = True

    @property
    def size(self) -> int:
        return len(self.events)

    def report(self, inserted: int) -> IngestReport:
        return IngestReport(self.received, inserted, 0, len(self.events) - inserted,
                            self.repeated, len(self.new_contacts))


def _settled(batch: CheckedEvents, existing: set[str]) -> CheckedEvents | LeadscoreError:
    from leadscore.storage import ContactInput

    missing = {e.contact_id for e in batch.events} - existing
    if missing and not batch.create_contacts:
        diagnostics = DiagnosticList(limit=1000)
        for event, index in zip(batch.events, batch.indexes, strict=True):
            if event.contact_id in missing:
                diagnostics.error(
                    "LS219", f"contact '{event.contact_id}' of this event is not in the "
                             "store", Location(index=index, field="contact_id"),
                    text=event.contact_id,
                    hint="send the contact first (POST /v1/contacts), or send the events "
                         "with \"create_contacts\": true")
        try:
            diagnostics.raise_if_errors()
        except LeadscoreError as error:
            return error
    first: dict[str, datetime] = {}
    for event in batch.events:
        if event.contact_id in missing:
            seen = first.get(event.contact_id)
            first[event.contact_id] = min(seen, event.occurred_at) if seen \
                else event.occurred_at
    new = [ContactInput(cid, at, created_at=at) for cid, at in sorted(first.items())]
    return replace(batch, new_contacts=new, contacts_read=True)


@dataclass(frozen=True)
class NewKey:
    """A key just made: `secret` is shown once and stored only as its hash."""

    key: ApiKey
    secret: str


@dataclass(frozen=True)
class ContactView:
    contact_id: str
    email: str | None
    created_at: datetime | None
    as_of: datetime
    properties: dict[str, Any]


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def encode_page_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def bad_cursor(cursor: str, field: str = "cursor") -> LeadscoreError:
    return LeadscoreError.single(
        "LS315", "this cursor was not given by leadscore", Location(field=field),
        text=cursor[:40], hint="pass the cursor the previous page ended with")


def decode_page_cursor(cursor: str, field: str = "cursor") -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeError):
        raise bad_cursor(cursor, field) from None


class ServiceOperations:
    """Mixed into `Project`, which gives these parts."""

    if TYPE_CHECKING:
        @property
        def store(self) -> Store: ...
        @property
        def model(self) -> Model: ...
        @property
        def automation(self) -> Automation: ...
        def require_contact(self, contact_id: str) -> None: ...
        def context_snapshot(self, contact_id: str,
                             at: datetime | None = None) -> ContactSnapshot: ...
        def dry_run(self, model: Model, *, as_of: datetime | None = None) -> ScoreRun: ...
        def model_at(self, moment: datetime | None) -> Model: ...

    # batches ---------------------------------------------------------------------------------
    def ingest_contacts(self, items: list[dict[str, Any]], *,
                        now: datetime | None = None) -> IngestReport:
        """Upsert contacts (a JSONL contacts file's objects), made due for the worker in the
        same transaction. One bad item refuses the whole batch (every mistake named)."""
        from leadscore.ingestion.items import check_contacts

        checked = check_contacts(items, catalog=self.model.catalog, now=now)
        counts = self.automation.update_contacts(checked.items, source="api", now=now)
        return IngestReport(len(items), counts.inserted, counts.updated, counts.unchanged,
                            checked.repeated)

    def ingest_events(self, items: list[dict[str, Any]], *, create_contacts: bool = False,
                      now: datetime | None = None) -> IngestReport:
        """Append events (a JSONL events file's objects); a stored event id is a no-op, so a
        resent batch changes nothing. Their contacts are made due in the same transaction."""
        checked = self.check_event_batch(items, create_contacts=create_contacts)
        counts = self.automation.ingest_events(checked.events, now=now,
                                               new_contacts=checked.new_contacts)
        return checked.report(counts.inserted)

    def check_event_batch(self, items: list[dict[str, Any]], *, create_contacts: bool = False,
                          read_contacts: bool = True) -> CheckedEvents:
        """The checks of `ingest_events`, nothing written: every mistake of the batch (LS2xx,
        placed by index), and the contacts it would create. Reads the store (which contacts
        exist) on the calling thread's own connection — or, `read_contacts=False`, leaves
        that to `settle_event_batches` (the API's event writer: one read for a group)."""
        from leadscore.ingestion.items import check_events

        checked = check_events(items, catalog=self.model.catalog)
        batch = CheckedEvents(len(items), list(checked.items), [], checked.repeated,
                              create_contacts, tuple(checked.indexes), contacts_read=False)
        if not read_contacts:
            return batch
        settled = self.settle_event_batches([batch])[0]
        if isinstance(settled, LeadscoreError):
            raise settled
        return settled

    def settle_event_batches(self, batches: list[CheckedEvents]
                             ) -> list[CheckedEvents | LeadscoreError]:
        """Which contacts of these checked batches the store has, in ONE read: each batch
        with the contacts it creates, or its mistakes (LS219: a contact the store does not
        have, without `create_contacts`)."""
        wanted = {e.contact_id for batch in batches if not batch.contacts_read
                  for e in batch.events}
        existing = self.store.existing_contact_ids(wanted) if wanted else set()
        return [batch if batch.contacts_read else _settled(batch, existing)
                for batch in batches]

    def store_event_batches(self, batches: list[CheckedEvents], *,
                            now: datetime | None = None) -> list[IngestReport]:
        """Checked batches (`check_event_batch`) stored in ONE transaction — all of them or
        none — and each one's report; what `ingest_events` does for one."""
        assert all(batch.contacts_read for batch in batches), "settle_event_batches first"
        stored = self.automation.ingest_event_batches(
            [(batch.events, batch.new_contacts) for batch in batches], now=now)
        return [batch.report(len(ids)) for batch, ids in zip(batches, stored, strict=True)]

    def ingest_outcomes(self, items: list[dict[str, Any]]) -> IngestReport:
        """Outcomes (opportunity, won, lost times) of contacts the store has; opportunities and
        wins move lifecycle stages once the worker sees them."""
        from leadscore.ingestion.items import check_outcomes
        from leadscore.storage.outcomes import save_outcomes
        from leadscore.storage.schedule import mark_changed_due

        checked = check_outcomes(items)
        known = self.store.existing_contact_ids(r.contact_id for r in checked.items)
        diagnostics = DiagnosticList(limit=1000)
        for record, index in zip(checked.items, checked.indexes, strict=True):
            if record.contact_id not in known:
                diagnostics.error(
                    "LS403", f"contact '{record.contact_id}' of this outcome is not in the "
                             "store", Location(index=index, field="contact_id"),
                    text=record.contact_id, hint="send the contact first (POST /v1/contacts)")
        diagnostics.raise_if_errors()
        with mark_changed_due(self.store, "outcomes"):
            counts = save_outcomes(self.store, checked.items, source="api")
        return IngestReport(len(items), counts.inserted, counts.updated, counts.unchanged,
                            checked.repeated)

    # reads -------------------------------------------------------------------------------------
    def contact(self, contact_id: str, *, at: datetime | None = None) -> ContactView:
        """The contact's properties now, or as they were at `at`."""
        self._contact_at(contact_id, at)
        snapshot = self.context_snapshot(contact_id, at)
        loaded = self.store.contact_emails([contact_id])
        created = snapshot.created_at
        return ContactView(contact_id, loaded.get(contact_id),
                           datetime.fromtimestamp(created, UTC) if created is not None else None,
                           datetime.fromtimestamp(snapshot.as_of, UTC),
                           dict(snapshot.properties))

    def contact_scores(self, contact_id: str, *, at: datetime | None = None) -> dict[str, Any]:
        """Every score, label, the grade and the qualifying stage computed from the contact's
        data as of `at` (default now) under the model live then: the version published at
        that moment (`version`), or the model file before any publish."""
        from leadscore.evaluation import Scorer

        self._contact_at(contact_id, at)
        snapshot = self.context_snapshot(contact_id, at)
        from leadscore.lifecycle import StageRules

        model = self.model_at(at)
        result = Scorer(model).score(snapshot)
        data = result.to_dict()
        target = StageRules(model).target(snapshot, result)
        data["stage"] = target.stage if target else None  # the one rule for stages
        data["as_of"] = datetime.fromtimestamp(snapshot.as_of, UTC).isoformat()
        data["model"] = model.name
        data["version"] = model.published
        return data

    def score_history_page(self, contact_id: str, *, model: str | None = None,
                           limit: int | None = 50, cursor: str | None = None) -> Page:
        """The contact's recorded score changes (of one model, or all), newest first, a page
        at a time (`total`: every change; `cursor`: the page after the one that gave it,
        None on the last). LS310 for an unknown contact."""
        from leadscore.catalog.forms import to_micros
        from leadscore.storage.automation_reads import Page

        self.require_contact(contact_id)

        def key(row: Any) -> tuple[int, str, str]:
            return to_micros(row.computed_at), row.model or "", row.score

        rows = sorted(self.store.score_history(contact_id, model), key=key, reverse=True)
        total = len(rows)
        if cursor is not None:
            found = decode_page_cursor(cursor)
            try:
                after = (int(found[0]), str(found[1]), str(found[2]))
            except (TypeError, ValueError, IndexError, KeyError):
                raise bad_cursor(cursor) from None
            rows = [r for r in rows if key(r) < after]
        items = rows[:limit] if limit else rows
        more = len(rows) > len(items)
        return Page(items, total, encode_page_cursor(list(key(items[-1]))) if more else None)

    def _contact_at(self, contact_id: str, at: datetime | None) -> None:
        """LS310 for an unknown contact; LS311 when it did not exist yet at `at`."""
        self.require_contact(contact_id)
        if at is None:
            return
        loaded = self.store.load_contact(contact_id)
        created = loaded[1] if loaded else None
        if created is not None and created > at:
            raise LeadscoreError.single(
                "LS311", f"contact '{contact_id}' did not exist yet on {at:%Y-%m-%d %H:%M}",
                Location(field="as_of"), hint=f"it was created {created:%Y-%m-%d %H:%M} UTC")

    # drafts ------------------------------------------------------------------------------------
    def dry_run_draft(self, text: str, *, as_of: datetime | None = None,
                      limit: int = 10) -> DraftReport:
        """Score the stored contacts under the draft model in `text` (YAML, checked as a model
        file is) without writing anything, and compare with the stored labels of the live
        model and the stored stages: label counts per score, and which contacts would change
        label or stage (how many, and the first `limit` ids of each change)."""
        from leadscore.project.drafts import compare, live_labels, parse_draft

        draft = parse_draft(text)
        run = self.dry_run(draft, as_of=as_of)
        stored = live_labels(self.store.current_scores(self.model.name), set(draft.scores))
        return compare(run, draft, stored, self.store.current_stages(), self.model.name,
                       limit)

    # tasks -------------------------------------------------------------------------------------
    def complete_task(self, task_id: int) -> bool:
        """Mark a follow-up task done; False when it already was. LS324 for no such task."""
        before = self.store.complete_task(task_id) if 0 < task_id < 2**63 else None
        if before is None:
            raise LeadscoreError.single("LS324", f"no task {task_id}", Location(field="task"),
                                        hint="`leadscore tasks` lists the tasks and their ids")
        return before != "done"

    # API keys ----------------------------------------------------------------------------------
    def create_api_key(self, scopes: list[str], *, name: str | None = None) -> NewKey:
        """A new random key (32 bytes) with these scopes; only its SHA-256 hash is stored."""
        chosen = _check_scopes(scopes)
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = self.store.add_api_key(prefix=secret[:12], digest=hash_key(secret), name=name,
                                     scopes=chosen, now=datetime.now(UTC))
        return NewKey(key, secret)

    def api_keys(self) -> list[ApiKey]:
        return self.store.api_keys()

    def revoke_api_key(self, key_id: int) -> ApiKey:
        found = self.store.revoke_api_key(key_id, datetime.now(UTC)) \
            if 0 < key_id < 2**63 else None
        if found is None:
            raise LeadscoreError.single("LS612", f"no API key with id {key_id}",
                                        Location(field="id"),
                                        hint="`leadscore keys list` shows the keys and ids")
        return found

    def authenticate(self, secret: str) -> ApiKey | None:
        """The active key this secret is, or None (unknown or revoked)."""
        found = self.store.api_key_by_hash(hash_key(secret))
        return found if found is not None and found.active else None


def _check_scopes(scopes: list[str]) -> tuple[str, ...]:
    chosen = [s.strip() for s in scopes if s.strip()]
    if not chosen:
        raise LeadscoreError.single("LS611", "a key needs at least one scope",
                                    Location(field="--scopes"),
                                    hint="e.g. --scopes read,sales (" + ", ".join(SCOPES) + ")")
    for scope in chosen:
        if scope not in SCOPES:
            raise LeadscoreError.single(
                "LS611", f"unknown scope '{scope}'", Location(field="--scopes"), text=scope,
                hint=did_you_mean(scope, SCOPES) or "scopes: " + ", ".join(SCOPES))
    return tuple(dict.fromkeys(chosen))


def granted(scopes: tuple[str, ...] | list[str], needed: str) -> bool:
    """Whether a key with these scopes may call a route that needs `needed`."""
    return any(needed in GRANTS.get(scope, ()) for scope in scopes)


__all__ = ["GRANTS", "SCOPES", "CheckedEvents", "ContactView", "IngestReport", "NewKey",
           "ServiceOperations",
           "bad_cursor", "decode_page_cursor", "encode_page_cursor", "granted", "hash_key"]
