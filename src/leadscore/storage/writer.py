"""Writes to the store. One `Writer` lives inside one transaction: all of it or none of it.

`Store.write()` opens the transaction and hands out a Writer; the `Store` methods of the same
names are shortcuts that open a transaction for a single write. These are the row-at-a-time
writes — a batch of the automation processor, a person's feedback, events arriving one by
one — and go to the tables (on the embedded store: its SQLite tail). Bulk loads go through
`storage.bulk`, which writes the same rows set-wise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from leadscore.catalog import to_utc
from leadscore.catalog.forms import to_micros, typed_forms
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.storage.codec import Codec
from leadscore.storage.duck import quote_name
from leadscore.storage.event_ids import candidates
from leadscore.storage.json_value import dump_json, same_number
from leadscore.storage.reading import Batch, HistoryRows, duck_of, segment_rows_of, segments_of
from leadscore.storage.records import (
    ContactInput,
    EventInput,
    ScoreRecord,
    StageChange,
    WriteCounts,
)
from leadscore.storage.segment_rows import LARGEST_READ, SegmentRowCache
from leadscore.storage.segments import SegmentKind
from leadscore.storage.upsert import (
    ContactRow,
    PropertyHistory,
    UpsertPlan,
    merge_same_moments,
    plan_upsert,
)

CHUNK = 5_000  # rows per executemany / ids per IN (...) list
LIFECYCLE_PROPERTY = "lifecycle_stage"
CONTACTS_REVISION = "contacts_rev"


def chunked(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def next_revisions(connection: Connection, count: int) -> int:
    """Reserve `count` contact revisions (a store-wide counter); returns the first."""
    sqlite = connection.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    found = connection.exec_driver_sql(
        f"UPDATE store_state SET value = value + {mark} WHERE name = {mark} RETURNING value",
        (count, CONTACTS_REVISION)).scalar()
    if found is None:
        connection.exec_driver_sql(
            f"INSERT INTO store_state (name, value) VALUES ({mark}, {mark})",
            (CONTACTS_REVISION, count))
        found = count
    return int(found) - count + 1


def touch_contacts(connection: Connection, contact_ids: list[str]) -> None:
    """Give these contacts a new revision: their data changed in a way the sequence numbers of
    events and property changes do not show (an event taken away), so incremental scoring and
    the automation take them up again."""
    if not contact_ids:
        return
    first = next_revisions(connection, len(contact_ids))
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(f"UPDATE contacts SET rev = {mark} WHERE contact_id = {mark}",
                           [(first + i, cid) for i, cid in enumerate(contact_ids)])
    finally:
        cursor.close()


class _Stored(dict[tuple[str, str], tuple[float | None, str | None, int | None, Any]]):
    """Stored (value, label, version, scored) by (contact, score); `segments`: read from
    score segments."""

    segments = False


class Writer:
    """Every row-at-a-time write of the store, on one connection inside one transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self.codec = Codec(self.dialect)
        self._known: set[str] = set()  # contacts read in this transaction: they exist

    def note_existing(self, ids: Iterable[str]) -> None:
        """Contacts the caller has just read in this transaction, so writes about them need
        not check again that they exist."""
        self._known.update(ids)

    # -- contacts ------------------------------------------------------------------------

    def existing_contact_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(ids))
        found: set[str] = set()
        mark = self.codec.param()
        for part in chunked(wanted):
            found.update(row[0] for row in self.connection.exec_driver_sql(
                f"SELECT contact_id FROM contacts WHERE contact_id IN "
                f"({', '.join([mark] * len(part))})", tuple(part)))
        return found

    def upsert_contacts(self, items: Sequence[ContactInput], *,
                        source: str = "import") -> WriteCounts:
        """Insert new contacts, record property changes where a value differs (see ContactInput).

        A value is recorded when it differs from the contact's value as of `changed_at` and
        is not merely what `source` itself last reported: re-importing an unchanged export
        after leadscore moved a lifecycle stage does not move the stage back.
        """
        return self._upsert(items, source=source, repeats_are_news=False)

    def _upsert(self, items: Sequence[ContactInput], *, source: str,
                repeats_are_news: bool) -> WriteCounts:
        items = merge_same_moments(items)
        ids = list(dict.fromkeys(item.contact_id for item in items))
        rows = self.contact_rows(ids)
        # the plan compares each written property with its own history alone
        names = sorted({name for item in items for name in item.properties}
                       | ({"email"} if any(i.email is not None for i in items) else set()))
        history = self.property_histories([i for i in ids if i in rows],
                                          names=names) if names else {}
        plan = plan_upsert(items, rows, history, source=source,
                           repeats_are_news=repeats_are_news)
        self.write_plan(plan)
        return WriteCounts(inserted=len(plan.new), updated=len(plan.changed),
                           unchanged=plan.unchanged)

    def write_plan(self, plan: UpsertPlan) -> None:
        """Insert and update the planned contacts, append the planned property changes."""
        touched = [*plan.new, *plan.changed]
        revision = next_revisions(self.connection, len(touched)) if touched else 0
        self.codec.insert_many(
            self.connection, "contacts",
            ("contact_id", "email", "created_us", "updated_us", "rev"),
            [(r.contact_id, r.email, r.created_us, r.updated_us, revision + n)
             for n, r in enumerate(plan.new)],
            kinds=("text", "text", "int8", "int8", "int8"),
        )
        if plan.changed:
            mark = self.codec.param()
            sql = (f"UPDATE contacts SET email = {mark}, created_us = {mark}, "
                   f"updated_us = {mark}, rev = {mark} WHERE contact_id = {mark}")
            start = revision + len(plan.new)
            cursor = self.connection.connection.cursor()
            try:
                cursor.executemany(sql, [(r.email, r.created_us, r.updated_us, start + n,
                                          r.contact_id) for n, r in enumerate(plan.changed)])
            finally:
                cursor.close()
        self.insert_property_changes(plan.changes)

    def insert_property_changes(self, changes: Sequence[tuple[str, str, Any, int, str]]) -> None:
        """Append (contact_id, name, JSON value, changed_us, source) rows with typed forms."""
        forms_of: dict[Any, tuple[Any, ...]] = {}
        rows = []
        for contact_id, name, value, moment, source in changes:
            key = (type(value), value) if not isinstance(value, dict | list) else None
            forms = forms_of.get(key) if key is not None else None
            if forms is None:
                forms = typed_forms(value)
                if key is not None:
                    forms_of[key] = forms
            rows.append((contact_id, name, moment, source,
                         None if value is None else dump_json(value), *forms))
        self.codec.insert_many(
            self.connection, "property_changes",
            ("contact_id", "name", "changed_us", "source", "value", "v_text", "v_num", "v_bool",
             "v_time"), rows,
            kinds=("text", "text", "int8", "text", "jsonb", "text", "float8", "bool", "int8"),
        )

    def contact_rows(self, ids: Sequence[str]) -> dict[str, ContactRow]:
        rows: dict[str, ContactRow] = {}
        mark = self.codec.param()
        for part in chunked(ids):
            for contact_id, email, created, updated in self.connection.exec_driver_sql(
                    f"SELECT contact_id, email, created_us, updated_us FROM contacts "
                    f"WHERE contact_id IN ({', '.join([mark] * len(part))})", tuple(part)):
                rows[contact_id] = ContactRow(contact_id, email, int(created), int(updated))
        return rows

    def property_histories(self, ids: Sequence[str], *, prefetched: str | None = None,
                           names: Sequence[str] | None = None
                           ) -> dict[str, dict[str, PropertyHistory]]:
        """The recorded property changes of these contacts (tail and segments), by name —
        of the properties `names` only, if given. `prefetched`: the segments' rows of (at
        least) these contacts, gathered beforehand (`reading.prefetch_sql`)."""
        found: dict[str, dict[str, PropertyHistory]] = {}
        if not ids:
            return found
        reader = HistoryRows(self.connection, prefetched=None if prefetched is None else
                             {SegmentKind.PROPS: prefetched})
        json_out = self.codec.json_out
        for part in chunked(sorted(ids)):
            batch = Batch.of(part, contiguous=False)
            for contact_id, name, changed_us, _seq, value, *_forms, source in \
                    reader.properties(batch, names):
                per_contact = found.setdefault(contact_id, {})
                past = per_contact.get(name)
                if past is None:
                    past = per_contact[name] = PropertyHistory()
                past.times.append(int(changed_us))
                past.values.append(json_out(value))
                past.sources.append(source)
        return found

    # -- events --------------------------------------------------------------------------

    def add_events(self, items: Sequence[EventInput], *,
                   received_at: datetime | None = None,
                   inserted_ids: set[str] | None = None) -> WriteCounts:
        """Insert events; an event whose event_id is already stored (or repeated) is ignored.
        Given `inserted_ids`, the ids of the events stored now are added to it (for callers
        that write several batches in one transaction and answer each)."""
        received = to_micros(to_utc(received_at) if received_at is not None
                             else datetime.now(UTC))
        unique: dict[str, EventInput] = {}
        for item in items:
            unique.setdefault(item.event_id, item)
        self._require_contacts({item.contact_id for item in unique.values()}, "events")
        for event_id in self._in_segments(unique.values()):
            del unique[event_id]
        if inserted_ids is not None:
            mark = self.codec.param()
            for part in chunked(sorted(unique)):
                for (event_id,) in self.connection.exec_driver_sql(
                        f"SELECT event_id FROM events WHERE event_id IN "
                        f"({', '.join([mark] * len(part))})", tuple(part)):
                    unique.pop(event_id, None)
            inserted_ids.update(unique)
        rows = [(e.event_id, e.contact_id, e.type, to_micros(to_utc(e.occurred_at)),
                 dump_json(e.attributes), received) for e in unique.values()]
        inserted = self.codec.insert_many(
            self.connection, "events",
            ("event_id", "contact_id", "type", "occurred_us", "attributes", "received_us"),
            rows, kinds=("text", "text", "text", "int8", "jsonb", "int8"),
            ignore_conflict_on="event_id",
        )
        return WriteCounts(inserted=inserted, unchanged=len(items) - inserted)

    def _in_segments(self, events: Iterable[EventInput]) -> list[str]:
        """Ids of these events that the store's segments already hold (embedded store)."""
        segments = segments_of(self.connection)
        if segments is None:
            return []
        live = segments.live(self.connection, SegmentKind.EVENTS)
        wanted = list(events)
        if not live or not wanted:
            return []
        files = ", ".join("'" + str(s.path).replace("'", "''") + "'" for s in live)
        duck = duck_of(self.connection)
        # only the ids the segments may hold (a hash found in memory: event_ids.py)
        maybe = set(candidates(duck, [str(s.path) for s in live], [s.rows for s in live],
                               [e.event_id for e in wanted]))
        wanted = [e for e in wanted if e.event_id in maybe]
        if not wanted:
            return []
        contacts = sorted({e.contact_id for e in wanted})
        ids = [e.event_id for e in wanted]
        found = duck.execute(
            f"SELECT DISTINCT event_id FROM read_parquet([{files}], union_by_name = true) "
            "WHERE contact_id IN (SELECT unnest($contacts)) "
            "AND event_id IN (SELECT unnest($ids))",
            {"contacts": contacts, "ids": ids}).fetchall()
        return [row[0] for row in found]

    # -- scores --------------------------------------------------------------------------

    def save_scores(self, model: str, records: Sequence[ScoreRecord], *, computed_at: datetime,
                    as_of: datetime, only_changed: bool = False,
                    version: int | None = None) -> int:
        """Upsert the current scores; append history where value, label or the model version
        that computed it (`version`, None for a model file) changed. With
        `only_changed`, a score whose value and label are as stored keeps its row (and its
        computed time: when that value was first computed) — what continuous processing
        wants, where most recomputations change one score of several."""
        computed, cutoff = to_micros(to_utc(computed_at)), to_micros(to_utc(as_of))
        latest: dict[tuple[str, str], ScoreRecord] = {}
        for record in records:
            latest[(record.contact_id, record.score)] = record
        self._require_contacts({contact_id for contact_id, _ in latest}, "scores")
        ids = sorted({contact_id for contact_id, _ in latest})
        previous = self._stored_scores(model, ids, sorted({s for _, s in latest} - {"grade"}))
        rows: list[tuple[Any, ...]] = []
        history: list[tuple[Any, ...]] = []
        kept: list[tuple[Any, ...]] = []  # unchanged, of contacts whose scores live in segments
        touched: set[str] = set()
        for (contact_id, score), record in latest.items():
            value = None if record.value is None else float(record.value)
            row = (contact_id, model, score, value, record.label, computed, cutoff, version,
                   record.scored)
            before = previous.get((contact_id, score))
            changed = (before is None or not same_number(before[0], value)
                       or before[1] != record.label or before[2] != version)
            # a score that became scored (or unscored) at the same value: its current row
            # changes, its history does not (history keeps values and labels)
            flipped = (before is not None and record.scored is not None
                       and (True if before[3] is None else bool(before[3])) != record.scored)
            if changed or flipped or not only_changed:
                rows.append(row)
                touched.add(contact_id)
            elif previous.segments:
                kept.append(row)
            if changed:
                history.append(row[:-1])
        # a contact the table holds has every score there (the table's rows patch a segment's
        # per contact, not per score): its unchanged scores go with its changed ones
        rows += [row for row in kept if row[0] in touched]
        columns = ("contact_id", "model", "score", "value", "label", "computed_us", "as_of_us",
                   "version")
        kinds = ("text", "text", "text", "float8", "text", "int8", "int8", "int8")
        self.codec.insert_many(self.connection, "scores", (*columns, "scored"), rows,
                               kinds=(*kinds, "bool"),
                               upsert_on=("contact_id", "model", "score"),
                               update=("value", "label", "computed_us", "as_of_us", "version",
                                       "scored"))
        self.codec.insert_many(self.connection, "score_history", columns, history, kinds=kinds)
        return len(history)

    def _stored_scores(self, model: str, ids: list[str], names: list[str]) -> _Stored:
        """The current (value, label) of these contacts' scores: on the embedded store from
        the score segments and the table together (a bulk run's scores live in segments: read
        from the table alone, every score after one looked new, and gained a history row)."""
        previous = _Stored()
        cache = segment_rows_of(self.connection)
        if cache is not None and 0 < len(ids) <= LARGEST_READ:
            kept = self._kept_stored_scores(cache, model, ids, names)
            if kept is not None:
                return kept
        if segments_of(self.connection) is not None and ids:
            from leadscore.storage.scores import current_wide_sql, score_segments
            from leadscore.storage.views import DataView

            with DataView(self.connection) as view:
                if score_segments(view, model):
                    if len(ids) <= CHUNK:  # the table's rows of these contacts, not all
                        view.only_tail_rows("scores", "WHERE model = ? AND contact_id IN ("
                                            + ", ".join("?" * len(ids)) + ")", (model, *ids))
                    targets = view.register_columns([("contact_id", "VARCHAR", ids)])
                    picks = ", ".join(f"{quote_name(n)}, {quote_name(n + ':label')}, "
                                      f"{quote_name(n + ':scored')}" for n in names)
                    found = view.duck.execute(
                        f"SELECT s.contact_id, {picks + ', ' if picks else ''}s.grade, "
                        f"s.version FROM {current_wide_sql(view, model, names)} AS s "
                        f"SEMI JOIN {targets} AS t ON t.contact_id = s.contact_id").fetchall()
                    for row in found:
                        version = None if row[-1] is None else int(row[-1])
                        for i, name in enumerate(names):
                            previous[(row[0], name)] = (row[1 + 3 * i], row[2 + 3 * i],
                                                        version, row[3 + 3 * i])
                        previous[(row[0], "grade")] = (None, row[-2], version, None)
                    previous.segments = True
                    return previous
        mark = self.codec.param()
        for part in chunked(ids):
            for contact_id, score, value, label, version, scored in \
                    self.connection.exec_driver_sql(
                        f"SELECT contact_id, score, value, label, version, scored FROM scores "
                        f"WHERE model = {mark} "
                        f"AND contact_id IN ({', '.join([mark] * len(part))})", (model, *part)):
                previous[(contact_id, score)] = (value, label,
                                                 None if version is None else int(version),
                                                 scored)
        return previous

    def _kept_stored_scores(self, cache: SegmentRowCache, model: str, ids: list[str],
                            names: list[str]) -> _Stored | None:
        """`_stored_scores` with the score segments' part through the process's cache of
        segment rows (the worker beside `serve`): per contact, the segments' newest row
        (`current_wide_sql` over the segments alone, read once per contact and set of
        segments), against the `scores` table's rows read here — the table's wins when
        computed later, as a patch over the segments does in `current_wide_sql`. None: the
        model has no score segments (the table alone, as before)."""
        from leadscore.storage.scores import current_wide_sql, score_segments
        from leadscore.storage.views import DataView

        with DataView(self.connection) as view:
            live = score_segments(view, model)
            if not live:
                return None
            files = tuple(str(s.path) for s in live)

            def read(missing: list[str] | None) -> list[tuple[Any, ...]]:
                view.only_tail_rows("scores", "WHERE 1 = 0", ())  # the segments alone
                picks = ", ".join(f"{quote_name(n)}, {quote_name(n + ':label')}, "
                                  f"{quote_name(n + ':scored')}" for n in names)
                among = ""  # None: every contact's
                if missing is not None:
                    targets = view.register_columns([("contact_id", "VARCHAR", missing)])
                    among = f" SEMI JOIN {targets} AS t ON t.contact_id = s.contact_id"
                return [tuple(row) for row in view.duck.execute(
                    f"SELECT s.contact_id, {picks + ', ' if picks else ''}s.grade, s.version, "
                    f"s.computed_us FROM {current_wide_sql(view, model, names)} AS s"
                    f"{among}").fetchall()]

            stored = cache.rows(("scores", model, tuple(names)), files, sorted(set(ids)), read,
                                sum(s.rows for s in live))
        table: dict[str, dict[str, tuple[Any, Any, Any]]] = {}
        newest: dict[str, tuple[int, int | None]] = {}  # contact -> (computed, version)
        mark = self.codec.param()
        for part in chunked(ids):
            for cid, score, value, label, version, computed, scored in \
                    self.connection.exec_driver_sql(
                        f"SELECT contact_id, score, value, label, version, computed_us, scored "
                        f"FROM scores WHERE model = {mark} "
                        f"AND contact_id IN ({', '.join([mark] * len(part))})", (model, *part)):
                table.setdefault(cid, {})[score] = (value, label, scored)
                at, kept_version = newest.get(cid, (computed, None))
                version = kept_version if version is None else (
                    int(version) if kept_version is None else max(kept_version, int(version)))
                newest[cid] = (max(at, computed), version)
        previous = _Stored()
        previous.segments = True
        for cid, rows in stored.items():
            patch = table.get(cid)
            row = rows[0] if rows else None
            if patch is not None and (row is None or newest[cid][0] > row[-1]):
                version = newest[cid][1]
                for name in names:
                    value, label, scored = patch.get(name, (None, None, None))
                    previous[(cid, name)] = (value, label, version, scored)
                previous[(cid, "grade")] = (None, patch.get("grade", (None, None, None))[1],
                                            version, None)
            elif row is not None:
                version = None if row[-2] is None else int(row[-2])
                for i, name in enumerate(names):
                    previous[(cid, name)] = (row[1 + 3 * i], row[2 + 3 * i], version,
                                             row[3 + 3 * i])
                previous[(cid, "grade")] = (None, row[-3], version, None)
        return previous

    # -- lifecycle stages ----------------------------------------------------------------

    def record_stage_changes(self, changes: Sequence[StageChange]) -> None:
        """Set the lifecycle_stage property and append the stage changes. A change to the stage
        the contact had before (a workflow that clears the stage, then sets it again) sets the
        property back but is no change of stage: it is not recorded as one."""
        ordered = sorted(changes, key=lambda change: to_utc(change.changed_at))
        if not ordered:
            return
        self._require_contacts({change.contact_id for change in ordered}, "stage changes")
        self.codec.insert_many(
            self.connection, "stage_changes",
            ("contact_id", "stage", "previous", "changed_us", "cause"),
            [(c.contact_id, c.stage, c.previous, to_micros(to_utc(c.changed_at)), c.cause)
             for c in ordered if c.stage != c.previous],
            kinds=("text", "text", "text", "int8", "text"),
        )
        self._upsert(
            [ContactInput(c.contact_id, c.changed_at, properties={LIFECYCLE_PROPERTY: c.stage})
             for c in ordered],
            source="lifecycle", repeats_are_news=True,
        )

    # -- shared --------------------------------------------------------------------------

    def _require_contacts(self, ids: set[str], what: str) -> None:
        ids = ids - self._known
        if not ids:
            return
        missing = sorted(ids - self.existing_contact_ids(ids))
        if missing:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            raise LeadscoreError.single(
                "LS293", f"{len(missing)} contact(s) of these {what} are not in the store: {shown}",
                Location(field="contact_id"),
                hint="import or create the contacts first",
            )
