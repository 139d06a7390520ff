"""Messages of the Segment spec (identify, track, page, screen, group, alias, and batches of
them) read into leadscore's terms, every mistake placed by the message's index in the batch and
its field (`traits.employees`), as the import rules place a file's bad rows.

What a message becomes:
- `identify`: its `traits` become contact properties as of the message's time (names in
  snake_case: `firstName` → `first_name`; `title` → `job_title`; `email` is the contact's
  e-mail; an `address` object gives `city`, `country` and `address_<part>`; a `company` object
  is read as `group` traits are).
- `group`: the company's traits on the contact: `name` → `company`, `industry`, `employees`
  and `annual_revenue` (or `annualRevenue`) as themselves, `groupId` → `company_id`, every
  other trait `company_<name>`.
- `track`: an event whose type is the `event` name in snake_case (`Demo Requested` →
  `demo_requested`) and whose attributes are the `properties`.
- `page`: a `page_view` with the `properties` as attributes, `url`, `path`, `title`,
  `referrer` and `search` taken from `context.page` where the properties lack them, and the
  page's `name` and `category`. `screen`: a `screen_view` with `name` and `category`.
- `alias`: `previousId` → `userId`.

The time of a message: its `timestamp` (else `originalTimestamp`) corrected for the sender's
clock — when `sentAt` is given, `timestamp + (receivedAt − sentAt)`, `receivedAt` being the
server's own time unless the message carries one — and the receive time when it has neither.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from leadscore.catalog import Catalog, CoercionError, parse_datetime, to_utc
from leadscore.diagnostics import DiagnosticList, Location
from leadscore.ingestion import contacts, events
from leadscore.ingestion.source import snake_case
from leadscore.storage.records import EventInput

KINDS = ("identify", "track", "page", "screen", "group", "alias")
PAGE_TYPE = "page_view"
SCREEN_TYPE = "screen_view"
EVENT_ID_PREFIX = "segment:"
MAX_MESSAGE_BYTES = 32 * 1024  # a message in a batch, as compact JSON (a single one: api.limits)
MAX_ID = 512  # characters of a userId, anonymousId, messageId, groupId or previousId
LIMIT = 1000  # mistakes reported per batch
PAGE_FIELDS = ("url", "path", "title", "referrer", "search")
TRAIT_NAMES = {"title": "job_title"}
COMPANY_NAMES = {"name": "company", "industry": "industry", "employees": "employees",
                 "annual_revenue": "annual_revenue"}
SKIPPED_TRAITS = {"id", "user_id"}


@dataclass(frozen=True)
class Traits:
    """Traits as properties: name → the value as sent; `fields`: name → where it was sent."""

    properties: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    email: str | None = None


@dataclass(frozen=True)
class Message:
    """One message, read and checked. `index`: its place in the batch (None: a single call)."""

    index: int | None
    kind: str
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    at: datetime
    event: EventInput | None = None  # its contact_id is filled in when it is resolved
    traits: Traits | None = None
    previous_id: str | None = None


class _Places:
    """Mixed into an import builder: a row's place is the message's index, and a field is
    named as the message sent it."""

    unit = "message"
    names: dict[str, str]
    index: int | None

    def at(self, line: int, field: str | None = None) -> Location:
        return Location(index=self.index, field=self.names.get(field or "", field))


class _EventChecks(_Places, events._Builder):
    pass


class _TraitChecks(_Places, contacts._Builder):
    pass


class Reader:
    """Reads messages against the model's catalog; collects every mistake."""

    def __init__(self, catalog: Catalog, received_at: datetime) -> None:
        self.catalog = catalog
        self.received_at = to_utc(received_at)
        self.diagnostics = DiagnosticList(limit=LIMIT)
        self.event_checks = _EventChecks(Path("message"), catalog, self.diagnostics)
        self.trait_checks = _TraitChecks(Path("message"), catalog, self.received_at,
                                         self.diagnostics)

    # -- bodies -------------------------------------------------------------------------------

    def single(self, body: Any, kind: str) -> list[Message]:
        """The body of `POST /v1/<kind>`: one message."""
        if not isinstance(body, dict):
            self.error("LS620", "the body must be a JSON object (one message)", None, None,
                       hint="send {\"userId\": …, …} as in the Segment spec")
            return []
        found = self.message(body, None, kind=kind)
        return [found] if found is not None else []

    def batch(self, body: Any) -> list[Message]:
        """The body of `POST /v1/batch`: `{"batch": [message…]}`, with `sentAt` and `context`
        applying to the messages that lack their own — or one message with its `type` (what
        a destination that posts every message to one URL sends)."""
        if isinstance(body, dict) and "batch" not in body and "type" in body:
            one = self.message(body, None, kind=None)  # one message of its own type, as a
            return [one] if one is not None else []  # webhook-style destination posts
        if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
            self.error("LS620", "the body must be a JSON object with a \"batch\" list", None,
                       "batch", hint="send {\"batch\": [{\"type\": \"track\", …}, …]}")
            return []
        shared_sent = body.get("sentAt")
        shared_context = body.get("context")
        found = []
        for index, item in enumerate(body["batch"]):
            if not isinstance(item, dict):
                self.error("LS620", "a message must be a JSON object", index, None,
                           text=_clip(item), hint="each item of \"batch\" is one message")
                continue
            size = len(json.dumps(item, ensure_ascii=False, separators=(",", ":"),
                                  default=str).encode("utf-8"))
            if size > MAX_MESSAGE_BYTES:
                self.error("LS601", f"this message is {size:,} bytes, more than 32 KB", index,
                           None, hint="a message may be 32 KB (the Segment spec's limit); "
                                      "send less in its properties or traits")
                continue
            if shared_sent is not None and "sentAt" not in item:
                item = {**item, "sentAt": shared_sent}
            if isinstance(shared_context, dict) and isinstance(item.get("context"), dict | None):
                item = {**item, "context": {**shared_context, **(item.get("context") or {})}}
            message = self.message(item, index, kind=None)
            if message is not None:
                found.append(message)
        return found

    def finish(self) -> None:
        """Raise every mistake found (all of them, up to a thousand)."""
        if self.diagnostics.dropped:
            self.diagnostics.limit = None
            self.diagnostics.error("LS240", f"{self.diagnostics.dropped:,} more mistakes in "
                                            "this batch", Location(),
                                   hint="fix the mistakes above and send it again")
        self.diagnostics.raise_if_errors()

    # -- one message ----------------------------------------------------------------------------

    def message(self, raw: dict[str, Any], index: int | None, *,
                kind: str | None) -> Message | None:
        errors = len(self.diagnostics)
        given = raw.get("type")
        if kind is None:
            if not isinstance(given, str) or given not in KINDS:
                self.error("LS621", "this message has no type" if given is None else
                           f"'{_clip(given)}' is not a message type", index, "type",
                           text=None if given is None else _clip(given),
                           hint="type is one of " + ", ".join(KINDS))
                return None
            kind = given
        elif given is not None and given != kind:
            self.error("LS621", f"a message of type '{_clip(given)}' sent to /v1/{kind}",
                       index, "type", text=_clip(given),
                       hint="send it to its own route, or to /v1/batch")
            return None
        user_id = self.ident(raw, "userId", index)
        anonymous_id = self.ident(raw, "anonymousId", index)
        message_id = self.ident(raw, "messageId", index)
        previous_id = self.ident(raw, "previousId", index) if kind == "alias" else None
        if kind == "alias":
            for name, value in (("previousId", previous_id), ("userId", user_id)):
                if value is None:
                    self.error("LS622", f"an alias needs {name}", index, name,
                               hint="alias names the old id (previousId) and the new one "
                                    "(userId)")
        elif user_id is None and anonymous_id is None:
            self.error("LS622", "this message has neither userId nor anonymousId", index,
                       "userId", hint="send the user's id as userId, or the visitor's as "
                                      "anonymousId")
        context = self.mapping(raw, "context", index)
        at = self.moment(raw, index)
        if len(self.diagnostics) > errors or at is None:
            return None
        if message_id is None:  # derived from the content, so a resend is still a no-op
            content = {k: v for k, v in raw.items() if k not in ("sentAt", "receivedAt")}
            text = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
            message_id = "derived-" + hashlib.sha256(text.encode("utf-8")).hexdigest()
        event = traits = None
        if kind in ("track", "page", "screen"):
            event = self.event(raw, kind, context, index, message_id, at)
        elif kind == "identify":
            traits = self.traits(self.mapping(raw, "traits", index), "traits", index,
                                 company=False)
        elif kind == "group":
            group_id = self.ident(raw, "groupId", index)
            if group_id is None:
                self.error("LS622", "a group message needs groupId", index, "groupId",
                           hint="groupId is the company's id")
            company = self.traits(self.mapping(raw, "traits", index), "traits", index,
                                  company=True)
            if group_id is not None:
                company.properties["company_id"] = group_id
                company.fields["company_id"] = "groupId"
            traits = company
        if traits is not None:
            self.typed(traits, index)  # each value as its property: every mistake at once
        if len(self.diagnostics) > errors:
            return None
        return Message(index, kind, message_id, user_id, anonymous_id, at, event, traits,
                       previous_id)

    def ident(self, raw: dict[str, Any], name: str, index: int | None) -> str | None:
        value = raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.error("LS622", f"{name} must be a string", index, name, text=_clip(value),
                       hint=f'write "{name}": "<the id>"')
            return None
        text = str(value).strip()
        if len(text) > MAX_ID:
            self.error("LS622", f"{name} is longer than {MAX_ID} characters", index, name,
                       text=text[:40], hint="ids are short texts, such as a database id or "
                                            "a UUID")
            return None
        return text or None

    def mapping(self, raw: dict[str, Any], name: str, index: int | None,
                parent: str | None = None) -> dict[str, Any]:
        value = raw.get(name)
        where = f"{parent}.{name}" if parent else name
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error("LS623", f"{where} must be a JSON object", index, where,
                       text=_clip(value), hint=f'write "{name}": {{"name": value, …}}')
            return {}
        return value

    def moment(self, raw: dict[str, Any], index: int | None) -> datetime | None:
        """The message's time: see the module's docstring."""
        times: dict[str, datetime | None] = {}
        for name in ("timestamp", "originalTimestamp", "sentAt", "receivedAt"):
            value = raw.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                times[name] = None
                continue
            try:
                if isinstance(value, bool) or not isinstance(value, str | int | float):
                    raise CoercionError("expected an ISO 8601 time")
                times[name] = parse_datetime(value)
            except (CoercionError, ValueError, OverflowError) as error:
                self.error("LS624", f"{name}: {error}", index, name, text=_clip(value),
                           hint="write times as ISO 8601, e.g. 2026-03-01T09:30:00.000Z")
                return None
        received = times["receivedAt"] or self.received_at
        base = times["timestamp"] or times["originalTimestamp"]
        if base is None:
            return received
        sent = times["sentAt"]
        try:
            return base + (received - sent) if sent is not None else base
        except OverflowError:
            self.error("LS624", "timestamp + (receivedAt − sentAt) is beyond the years 1 to "
                                "9999", index, "sentAt", text=_clip(raw.get("sentAt")),
                       hint="send the times the message was made and sent")
            return None

    def event(self, raw: dict[str, Any], kind: str, context: dict[str, Any],
              index: int | None, message_id: str, at: datetime) -> EventInput | None:
        properties = self.mapping(raw, "properties", index)
        attributes = dict(properties)
        names = {"attributes": "properties", "type": "event"}
        if kind == "track":
            name = raw.get("event")
            if not isinstance(name, str) or not name.strip():
                self.error("LS625", "a track message needs the event's name", index, "event",
                           text=None if name is None else _clip(name),
                           hint='write "event": "Demo Requested"')
                return None
            event_type = snake_case(name)
            if not events.EVENT_TYPE.match(event_type):
                self.error("LS625", f"'{_clip(name)}' gives no event type", index, "event",
                           text=_clip(name), hint="name events with letters and digits, "
                                                  "e.g. \"Demo Requested\"")
                return None
        else:
            event_type = PAGE_TYPE if kind == "page" else SCREEN_TYPE
            for key in ("name", "category"):
                value = raw.get(key)
                if value is not None and key not in attributes:
                    attributes[key] = value
                    names[key] = key
            if kind == "page":
                page = self.mapping(context, "page", index, parent="context")
                for key in PAGE_FIELDS:
                    if key not in attributes and page.get(key) is not None:
                        attributes[key] = page[key]
                        names[key] = f"context.page.{key}"
        checks = self.event_checks
        checks.index, checks.names = index, names
        item = {"event_id": EVENT_ID_PREFIX + message_id, "contact_id": "-",
                "type": event_type, "occurred_at": at, "attributes": attributes}
        return checks.check(0, item, {}, from_csv=False)

    def traits(self, given: dict[str, Any], where: str, index: int | None, *,
               company: bool) -> Traits:
        found = Traits()
        for key, value in given.items():
            name = snake_case(str(key))
            place = f"{where}.{key}"
            if not company and name == "email":
                if value is not None and not isinstance(value, str):
                    self.error("LS626", "the email must be a text", index, place,
                               text=_clip(value), hint='write "email": "ann@example.com"')
                    continue
                found = Traits(found.properties, found.fields, (value or "").strip() or None)
                continue
            if not company and name in SKIPPED_TRAITS:
                continue  # the user's id: the message's userId says it
            if isinstance(value, dict):
                if not company and name == "company":
                    inner = self.traits(value, place, index, company=True)
                elif not company and name == "address":
                    inner = self.flat(value, place, index,
                                      lambda n: n if n in ("city", "country") else f"address_{n}")
                else:
                    prefix = f"company_{name}" if company else name
                    inner = self.flat(value, place, index, _prefixed(prefix))
                found.properties.update(inner.properties)
                found.fields.update(inner.fields)
                continue
            if isinstance(value, list):
                self.error("LS626", f"trait '{key}' holds a list; a property holds one value",
                           index, place, text=_clip(value),
                           hint="send one value, or join the values into one text")
                continue
            if company:
                if name in SKIPPED_TRAITS:
                    continue  # the company's id: groupId says it
                name = COMPANY_NAMES.get(name, f"company_{name}")
            else:
                name = TRAIT_NAMES.get(name, name)
            if not name:
                self.error("LS626", f"'{_clip(key)}' gives no property name", index, place,
                           text=_clip(key), hint="name traits with letters and digits")
                continue
            found.properties[name] = value
            found.fields[name] = place
        return found

    def flat(self, given: dict[str, Any], where: str, index: int | None,
             naming: Callable[[str], str]) -> Traits:
        """An object trait's scalar values, each a property named by `naming`."""
        found = Traits()
        for key, value in given.items():
            place = f"{where}.{key}"
            if isinstance(value, dict | list):
                self.error("LS626", f"trait '{where.split('.', 1)[-1]}.{key}' holds a JSON "
                                    f"{'object' if isinstance(value, dict) else 'list'}; a "
                                    "property holds one value", index, place,
                           text=_clip(value), hint="send objects one level deep, with one "
                                                   "value per key")
                continue
            name = naming(snake_case(str(key)))
            found.properties[name] = value
            found.fields[name] = place
        return found

    def typed(self, traits: Traits, index: int | None) -> bool:
        """Check each trait's value as the property it becomes (the contacts import's rule)."""
        errors = len(self.diagnostics)
        checks = self.trait_checks
        checks.index = index
        checks.names = {f"properties.{name}": place for name, place in traits.fields.items()}
        for name, value in traits.properties.items():
            checks.json_property(0, name, value)
        return len(self.diagnostics) == errors

    def properties(self, traits: Traits) -> dict[str, Any]:
        """The typed values of traits already checked (`typed`)."""
        checks = self.trait_checks
        checks.index, checks.names = None, {}
        return {name: checks.json_property(0, name, value)
                for name, value in traits.properties.items()}

    def error(self, code: str, message: str, index: int | None, where: str | None, *,
              text: str | None = None, hint: str | None = None) -> None:
        self.diagnostics.error(code, message, Location(index=index, field=where), text=text,
                               hint=hint)


def _prefixed(prefix: str) -> Callable[[str], str]:
    return lambda name: f"{prefix}_{name}"


def _clip(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)[:80]
    return text[:40]


__all__ = ["EVENT_ID_PREFIX", "KINDS", "PAGE_TYPE", "SCREEN_TYPE", "Message", "Reader",
           "Traits"]
