"""`suggest`'s candidate inputs set-wise: every contact seen as of its own cutoff, in DuckDB.

The same inputs as `features.build_inputs` on snapshots (the reference, kept for stores
DuckDB does not read and for the tests that hold the two equal), without a snapshot per
contact:

- **Cutoffs as one moment.** Each case's cutoff differs (14 days after its creation, before
  its opportunity). Its events and property changes are shifted in time by
  `A − cutoff` (A = the latest cutoff, integer microseconds), so every contact's cutoff
  falls on A. A window "in the last 30 days" of the shifted data as of A is exactly the
  30 days before each contact's own cutoff, and "at or before A" is "at or before its
  cutoff" — so the model compiler (`leadscore.sql`) counts events as of one moment, as it
  does for `leadscore score`.
- **Property values**: each property's latest change at or before the cutoff (a clear
  included), read as the snapshot reads it (`storage.snapshots.ValueReader`), one distinct
  stored value at a time; then `features.property_characteristic`, as on snapshots.
- **Event inputs**: the event types, attribute values and site sections, with how many
  contacts have each, counted in DuckDB over the distinct attribute texts
  (`features.attribute_tokens` reads each text once); `features.event_specs` chooses the
  inputs; the counts are the compiled probe model's `count:` columns (`sql.Probes`), the
  same criteria text a suggested file carries.

Memory holds the cases, one column per input (a float or an object per contact) and the
distinct attribute texts; DuckDB spills the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from leadscore.calibration.features import (
    DEFAULT_EXCLUDED,
    Characteristic,
    Inputs,
    attribute_tokens,
    event_characteristics,
    event_specs,
    probe_model_text,
    property_characteristic,
)
from leadscore.calibration.population import Case
from leadscore.catalog import STANDARD_PROPERTIES, Catalog, PropertyType
from leadscore.evaluation.arithmetic import seconds_to_micros
from leadscore.model import parse_model
from leadscore.model.criteria import EventCriterion
from leadscore.storage.bulk import IMPORT_MEMORY
from leadscore.storage.duck import quote_name
from leadscore.storage.snapshots import ValueReader
from leadscore.storage.views import DataView

BATCH = 65_536  # rows per Arrow batch read back from DuckDB
MEMORY = IMPORT_MEMORY  # DuckDB's limit meanwhile (it spills beyond): the process stays < 1 GB


def readable(store: Any) -> bool:
    """Whether the set path reads this store (the embedded store: DuckDB over its data)."""
    return getattr(store, "dialect", None) == "sqlite"


class _Frame:
    """The cases as a DuckDB relation (`i`: the case's index, `cutoff_us`, `shift_us`)."""

    def __init__(self, view: DataView, cases: Sequence[Case]) -> None:
        self.view = view
        self.n = len(cases)
        self.created = [case.created_at for case in cases]
        cutoffs = [seconds_to_micros(case.cutoff) for case in cases]
        self.moment = max(cutoffs, default=0)
        self.table = view.register_columns([
            ("i", "BIGINT", list(range(self.n))),
            ("contact_id", "VARCHAR", [case.contact_id for case in cases]),
            ("cutoff_us", "BIGINT", cutoffs),
        ])

    def events(self, source: str) -> str:
        """`source`'s events of the cases at or before their cutoffs, with `k.i`."""
        return (f"{source} e JOIN {self.table} k ON e.contact_id = k.contact_id "
                f"WHERE e.occurred_us <= k.cutoff_us")

    def batches(self, sql: str) -> Any:
        relation = self.view.duck.sql(sql)
        # DuckDB 2 names it to_arrow_reader; 1.x fetch_record_batch
        return (getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch)(BATCH)


def build_inputs_sql(store: Any, cases: Sequence[Case], catalog: Catalog, *,
                     exclude: Sequence[str] = (), include: Sequence[str] | None = None,
                     events: bool = True) -> Inputs:
    """`features.build_inputs` of the cases' snapshots at their cutoffs, computed set-wise."""
    with store.read() as connection:
        view = DataView(connection)
        limit = view.duck.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        view.duck.execute(f"SET memory_limit = '{MEMORY}'")
        try:
            return _build(view, cases, catalog, exclude, include, events)
        finally:
            view.duck.execute(f"SET memory_limit = '{limit}'")


def _build(view: DataView, cases: Sequence[Case], catalog: Catalog, exclude: Sequence[str],
           include: Sequence[str] | None, events: bool) -> Inputs:
    frame = _Frame(view, cases)
    skipped: dict[str, str] = {}
    declared: dict[str, PropertyType] = {}
    characteristics: list[Characteristic] = []
    raw = _property_values(frame, catalog)
    excluded = set(exclude) | (set() if include else set(DEFAULT_EXCLUDED))
    for name in sorted(raw):
        if include is not None and name not in include:
            continue
        if name in excluded:
            skipped[name] = "excluded"
            continue
        found = property_characteristic(name, raw[name].tolist(), catalog)
        if isinstance(found, str):
            skipped[name] = found
            continue
        characteristics.append(found)
        if name not in STANDARD_PROPERTIES and found.property_type is not None:
            declared[name] = found.property_type
    del raw
    custom: set[str] = set()
    if events and include is None and frame.n:
        characteristics.extend(_event_characteristics(frame, catalog, skipped, custom))
    return Inputs(characteristics, skipped, declared, custom)


def _property_values(frame: _Frame, catalog: Catalog) -> dict[str, np.ndarray]:
    """Each property known for some case: its value per case as of the cutoff (None where
    unknown), as `ContactHistory.snapshot_at` has it (`created_at` falls back to creation).
    Each distinct stored value of a property is read once in Python; DuckDB places them."""
    reader = ValueReader(dict(catalog.properties))
    duck = frame.view.duck
    changes = frame.view.relation("property_changes")
    # the latest change by (changed_us, seq) as one integer key (seq is a BIGINT ≥ 0): a
    # HUGEINT compares faster than a struct (3.0 s against 3.9–6.5 s at 100,000 contacts)
    duck.execute(f"CREATE OR REPLACE TEMP TABLE lsx_latest AS SELECT h.name, k.i, "
                 f"arg_max(h.value, h.changed_us::HUGEINT * {2**63} + h.seq) AS value "
                 f"FROM {changes} h "
                 f"JOIN {frame.table} k ON h.contact_id = k.contact_id "
                 f"WHERE h.changed_us <= k.cutoff_us GROUP BY h.name, k.i")
    duck.execute("CREATE OR REPLACE TEMP TABLE lsx_distinct AS SELECT name, value, "
                 "(row_number() OVER ()) - 1 AS id FROM (SELECT DISTINCT name, value "
                 "FROM lsx_latest WHERE value IS NOT NULL)")
    decoded: list[Any] = []
    for batch in frame.batches("SELECT name, value FROM lsx_distinct ORDER BY id"):
        decoded.extend(reader.read(name, stored, _forms(stored)) for name, stored in zip(
            batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True))
    values = np.empty(len(decoded), dtype=object)
    values[:] = decoded
    names = [row[0] for row in duck.execute(
        "SELECT DISTINCT name FROM lsx_distinct ORDER BY name").fetchall()]
    number = {name: k for k, name in enumerate(names)}
    columns: dict[str, np.ndarray] = {name: np.full(frame.n, None, dtype=object)
                                      for name in names}
    for batch in frame.batches("SELECT l.name, l.i, d.id FROM lsx_latest l JOIN lsx_distinct d "
                               "ON l.name = d.name AND l.value = d.value"):
        which = np.asarray([number[name] for name in
                            batch.column(0).dictionary_encode().dictionary.to_pylist()])[
            batch.column(0).dictionary_encode().indices.to_numpy()]
        rows = batch.column(1).to_numpy()
        ids = batch.column(2).to_numpy()
        for k in np.unique(which).tolist():
            chosen = which == k
            columns[names[k]][rows[chosen]] = values[ids[chosen]]
    columns = {name: column for name, column in columns.items()
               if any(value is not None for value in column)}
    duck.execute("DROP TABLE lsx_latest")
    duck.execute("DROP TABLE lsx_distinct")
    if frame.n:  # a snapshot without a created_at value has the creation time
        created = columns.setdefault("created_at", np.full(frame.n, None, dtype=object))
        for row, value in enumerate(created.tolist()):
            if value is None:
                created[row] = datetime.fromtimestamp(frame.created[row], tz=UTC)
    return columns


def _forms(stored: Any) -> tuple[Any, Any, Any, Any]:
    """The typed forms of a stored JSON text (what the store keeps beside it)."""
    from leadscore.catalog.forms import typed_forms

    forms = typed_forms(ValueReader().json(stored))
    return (forms.text, forms.number, forms.flag, forms.time_us)


def _event_characteristics(frame: _Frame, catalog: Catalog, skipped: dict[str, str],
                           custom: set[str]) -> list[Characteristic]:
    view = frame.view
    source = view.relation("events")
    contacts_with: Counter[str] = Counter(dict(view.duck.sql(
        f"SELECT e.type, count(DISTINCT k.i) FROM {frame.events(source)} "
        f"GROUP BY e.type").fetchall()))
    value_cover: dict[tuple[str, str], Counter[str]] = {}
    distinct: dict[tuple[str, str], set[str]] = {}
    tokens, links = _attribute_tokens(frame, source)
    for kind, attribute, shown in tokens:
        distinct.setdefault((kind, attribute), set()).add(shown)
    if links[0]:
        table = view.register_columns([("token", "BIGINT", links[0]),
                                       ("type", "VARCHAR", links[1]),
                                       ("attributes", "VARCHAR", links[2])])
        for token, contacts in view.duck.sql(
                f"SELECT t.token, count(DISTINCT k.i) FROM {source} e "
                f"JOIN {frame.table} k ON e.contact_id = k.contact_id "
                f"JOIN {table} t ON t.type = e.type AND t.attributes = e.attributes "
                f"WHERE e.occurred_us <= k.cutoff_us GROUP BY t.token").fetchall():
            kind, attribute, shown = tokens[int(token)]
            value_cover.setdefault((kind, attribute), Counter())[shown] += int(contacts)
    specs = event_specs(frame.n, contacts_with, value_cover, distinct, catalog, skipped,
                        custom)
    if not specs:
        return []
    return event_characteristics(specs, _count_events(frame, specs, custom))


def _attribute_tokens(frame: _Frame, source: str) -> tuple[
        list[tuple[str, str, str]], tuple[list[int], list[str], list[str]]]:
    """The (type, attribute, value shown) an input may filter on, each read once from the
    distinct attribute texts of the cases' events; and the links (token, type, text) that
    say which texts hold which token."""
    reader = ValueReader()
    numbers: dict[tuple[str, str, str], int] = {}
    links: tuple[list[int], list[str], list[str]] = ([], [], [])
    for batch in frame.batches(f"SELECT DISTINCT e.type, e.attributes "
                               f"FROM {frame.events(source)} AND e.attributes IS NOT NULL"):
        for kind, text in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(),
                              strict=True):
            for attribute, shown in attribute_tokens(reader.json(text)):
                key = (kind, attribute, shown)
                token = numbers.get(key)
                if token is None:
                    token = numbers[key] = len(numbers)
                links[0].append(token)
                links[1].append(kind)
                links[2].append(text)
    return list(numbers), links


def _count_events(frame: _Frame, specs: list[tuple[str, str, str]],
                  custom: set[str]) -> list[np.ndarray]:
    """Each spec's event count per case as of its cutoff: the probe model compiled to SQL
    (`count:` probes) over the cases' events shifted so that every cutoff is one moment."""
    from leadscore.scoring.sources import bind_embedded
    from leadscore.sql import Probes, compile_model
    from leadscore.sql.relations import CONTACTS, EVENTS, VALUES

    model = parse_model(probe_model_text([when for _, _, when in specs], custom), "<probe>")
    rules = model.scores["probe"].all_rules()
    criteria: dict[str, EventCriterion] = {}
    for j, rule in enumerate(rules):
        assert isinstance(rule.criterion, EventCriterion)  # every probe is an event count
        criteria[f"s{j}"] = rule.criterion
    probes = Probes(counts=criteria)
    shifted = {CONTACTS: "lsx_cases", VALUES: "lsx_cases", EVENTS: "lsx_events"}
    query = compile_model(model, as_of=frame.moment, dialect="duckdb", probes=probes,
                          relations=shifted)
    view, moment = frame.view, int(frame.moment)
    bind_embedded(view, required_properties={}, required_attributes=query.required_attributes,
                  event_types=list(query.event_types), as_of_us=moment)
    duck = view.duck
    duck.execute(f"CREATE OR REPLACE TEMP VIEW lsx_cases AS SELECT contact_id, "
                 f"{moment} AS created_us FROM {frame.table}")
    duck.execute(f"CREATE OR REPLACE TEMP VIEW lsx_events AS SELECT e.* REPLACE "
                 f"(e.occurred_us - k.cutoff_us + {moment} AS occurred_us) "
                 f"FROM ls_events e JOIN {frame.table} k ON e.contact_id = k.contact_id "
                 f"WHERE e.occurred_us <= k.cutoff_us")
    names = [f"count:s{j}" for j in range(len(rules))]
    picks = ", ".join(f"q.{quote_name(n)}" for n in names)
    counts = [np.zeros(frame.n) for _ in names]
    sql = (f"SELECT k.i, {picks} FROM ({query.sql}) q JOIN {frame.table} k "
           f"ON q.contact_id = k.contact_id")
    for batch in frame.batches(sql):
        rows = batch.column(0).to_numpy()
        for j in range(len(names)):
            counts[j][rows] = batch.column(j + 1).to_numpy(zero_copy_only=False)
    return counts
