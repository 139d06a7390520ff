"""Segment messages resolved to contacts and written, in the caller's one transaction.

Resolution, message by message in the order sent:
- a `userId` is the contact's id, unless `alias` merged that id into another contact (then
  that one); the contact is created, dated by its earliest activity, when the store lacks it;
- an `anonymousId` alone is a visitor not yet identified: what it does is *held*
  (`storage.identities`), not written as a contact's;
- a message with both links the anonymous id to the contact (the first identification keeps
  it: a shared device does not merge two people) and writes everything held under it as the
  contact's own events and property changes, at their own times — the store then holds
  exactly what it would have held had every message carried the userId;
- `alias` (previousId → userId): activity held under previousId goes to userId's contact; a
  contact previousId (or the contact previousId identified as) is merged into it
  (`storage.identities.merge_contact`), and later messages naming previousId resolve to it.

A message id already accepted, or repeated in the batch, is skipped whole. Every contact
written to is made due for the worker in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from leadscore.catalog import to_utc
from leadscore.catalog.forms import from_micros, to_micros
from leadscore.ingestion.segment import Message, Reader, Traits
from leadscore.storage import identities as ids
from leadscore.storage.records import ContactInput, EventInput

if TYPE_CHECKING:
    from leadscore.storage.writer import Writer

SOURCE = "segment"


@dataclass(frozen=True)
class SegmentReport:
    """What a call did."""

    received: int  # messages in the request
    accepted: int  # new messages, acted on
    repeated: int  # already accepted, or repeated in the batch: changed nothing
    events: int  # events stored (held activity written as a contact's included)
    contacts_created: int
    held: int  # messages of visitors not yet identified, held until they are
    attributed: int  # held messages written as an identified contact's
    merged: int  # contacts merged into another by alias

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class Resolver:
    def __init__(self, writer: Writer, reader: Reader, now: datetime) -> None:
        self.writer = writer
        self.reader = reader
        self.now = to_utc(now)
        self.now_us = to_micros(self.now)
        self.events: list[EventInput] = []
        self.changes: list[ContactInput] = []
        self.first: dict[str, datetime] = {}  # contact → its earliest activity in this call
        self.touched: set[str] = set()
        self.counts = {"events": 0, "contacts_created": 0, "held": 0, "attributed": 0,
                       "merged": 0}

    def run(self, messages: Sequence[Message]) -> SegmentReport:
        from leadscore.storage.schedule import make_due

        seen = ids.seen_messages(self.writer, (m.message_id for m in messages))
        fresh: list[Message] = []
        for message in messages:
            if message.message_id not in seen:
                seen.add(message.message_id)
                fresh.append(message)
        for message in fresh:
            self.apply(message)
        self.flush()
        ids.record_messages(self.writer, [(m.message_id, m.kind) for m in fresh], self.now_us)
        if self.touched:
            make_due(self.writer.connection, self.touched, self.now, SOURCE)
        return SegmentReport(len(messages), len(fresh), len(messages) - len(fresh),
                             **self.counts)

    # -- one message ----------------------------------------------------------------------------

    def apply(self, message: Message) -> None:
        if message.kind == "alias":
            self.alias(message)
            return
        contact = self.resolve(message)
        if contact is None:
            assert message.anonymous_id is not None
            self.hold(message.anonymous_id, message)
            return
        self.add(contact, message.at, message.event, message.traits)

    def resolve(self, message: Message) -> str | None:
        """The contact of a message, linking its anonymous id to it; None: not identified."""
        if message.user_id is None:
            assert message.anonymous_id is not None
            return ids.contact_of(self.writer, ids.ANONYMOUS, message.anonymous_id)
        contact = ids.contact_of(self.writer, ids.USER, message.user_id) or message.user_id
        anonymous = message.anonymous_id
        if anonymous is not None and anonymous != message.user_id \
                and ids.contact_of(self.writer, ids.ANONYMOUS, anonymous) is None:
            ids.link(self.writer, ids.ANONYMOUS, anonymous, contact, self.now_us)
            self.attribute(anonymous, contact)
        return contact

    def alias(self, message: Message) -> None:
        previous, user = message.previous_id, message.user_id
        assert previous is not None and user is not None
        target = ids.contact_of(self.writer, ids.USER, user) or user
        if previous == target:
            return
        linked = ids.contact_of(self.writer, ids.ANONYMOUS, previous)
        if linked is None:  # previousId as a visitor's anonymous id: from now on, the user's
            ids.link(self.writer, ids.ANONYMOUS, previous, target, self.now_us)
            if ids.is_held(self.writer, previous):
                self.first.setdefault(target, message.at)
                self.attribute(previous, target)
        source = linked or ids.contact_of(self.writer, ids.USER, previous) or previous
        if source != target:
            self.flush()  # the store holds everything so far before the merge reads it
            if self.writer.existing_contact_ids([source]):
                if not self.writer.existing_contact_ids([target]):
                    self.writer.upsert_contacts([ContactInput(target, message.at,
                                                              created_at=message.at)],
                                                source=SOURCE)
                    self.counts["contacts_created"] += 1
                merged = ids.merge_contact(self.writer, source, target, self.now_us)
                self.counts["events"] += merged.events
                self.counts["merged"] += 1
                self.touched.discard(source)
                self.touched.add(target)
            ids.link(self.writer, ids.USER, previous, target, self.now_us)

    # -- writing ----------------------------------------------------------------------------

    def add(self, contact: str, at: datetime, event: EventInput | None,
            traits: Traits | None) -> None:
        earliest = self.first.get(contact)
        self.first[contact] = at if earliest is None or at < earliest else earliest
        self.touched.add(contact)
        if event is not None:
            self.events.append(EventInput(event.event_id, contact, event.type, event.occurred_at,
                                          event.attributes))
        if traits is not None:
            self.changes.append(ContactInput(contact, at, email=traits.email,
                                             properties=self.reader.properties(traits)))

    def hold(self, anonymous: str, message: Message) -> None:
        self.counts["held"] += 1
        at = to_micros(message.at)
        if message.event is not None:
            e = message.event
            ids.hold(self.writer, anonymous, "event", at, self.now_us,
                     {"event_id": e.event_id, "type": e.type, "attributes": e.attributes})
        if message.traits is not None:
            t = message.traits
            ids.hold(self.writer, anonymous, "traits", at, self.now_us,
                     {"email": t.email, "properties": t.properties, "fields": t.fields})

    def attribute(self, anonymous: str, contact: str) -> None:
        """Write what the visitor did before identifying as the contact's own."""
        for held in ids.take_held(self.writer, anonymous):
            at = from_micros(held.occurred_us)
            item = held.item
            self.counts["attributed"] += 1
            if held.kind == "event":
                self.add(contact, at, EventInput(item["event_id"], contact, item["type"], at,
                                                 item["attributes"]), None)
            else:
                traits = Traits(item["properties"], item["fields"], item["email"])
                self.add(contact, at, None, traits)

    def flush(self) -> None:
        """Store what the messages so far gave: new contacts, property changes, events."""
        if not self.first:
            return
        existing = self.writer.existing_contact_ids(self.first)
        new = [ContactInput(cid, at, created_at=at) for cid, at in sorted(self.first.items())
               if cid not in existing]
        if new:
            self.writer.upsert_contacts(new, source=SOURCE)
            self.counts["contacts_created"] += len(new)
        if self.changes:
            self.writer.upsert_contacts(self.changes, source=SOURCE)
        if self.events:
            self.counts["events"] += self.writer.add_events(self.events,
                                                            received_at=self.now).inserted
        self.first, self.changes, self.events = {}, [], []


__all__ = ["Resolver", "SegmentReport"]
