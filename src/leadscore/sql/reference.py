"""The Python side of the same data: a contact store's raw history as the canonical relations
for the SQL engines, and as `ContactSnapshot`s for the evaluator — and the evaluator's answers
in the shape of the compiled query's output, so that differential tests compare row by row.

`History` holds what a store holds: contacts (id, created µs), every property change (its raw
JSON value, None for a clear, in the order (changed µs, seq)) and every event (raw JSON
attributes). `history_rows` gives the long relation the pivot reads (the value's typed forms),
`event_rows` the events with a column per (attribute, kind) the query compares, and
`ledger` the score ledger's entries, `company_scores` each contact's company's stored
scores, `snapshots` the evaluator's view
(`ContactSnapshot.build`, each value read as its declared type). `score_rows` runs the
evaluator (Scorer, ListSet, StageRules, next_change_at).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadscore.catalog import (
    attribute_forms,
    from_micros,
    read_value,
    to_micros,
    typed_forms,
)
from leadscore.evaluation import ContactSnapshot, EventRecord, PropertyChange, Scorer
from leadscore.evaluation.ledger import LedgerEntry
from leadscore.evaluation.schedule import next_change_us, time_sensitive
from leadscore.lifecycle.rules import StageRules
from leadscore.lists import ListSet
from leadscore.model.model import Model
from leadscore.sql.compiler import (
    GRADE,
    GRADE_LABEL,
    NEXT_CHANGE,
    STAGE,
    STAGE_REASON,
    STAGE_TARGET,
    CompiledQuery,
)

HISTORY_COLUMNS = ("contact_id", "name", "changed_us", "seq", "v_text", "v_num", "v_bool",
                   "v_time")
KIND_INDEX = {"string": 0, "number": 1, "bool": 2, "date": 3}


@dataclass
class History:
    contacts: list[tuple[str, int]] = field(default_factory=list)  # (id, created µs)
    # (id, property, changed µs, seq, raw JSON value or None for a clear)
    changes: list[tuple[str, str, int, int, Any]] = field(default_factory=list)
    # (id, type, occurred µs, raw JSON attributes)
    events: list[tuple[str, str, int, Mapping[str, Any]]] = field(default_factory=list)
    # the score ledger's entries (`evaluation.ledger.LedgerEntry`; voided ones are left out)
    ledger: list[LedgerEntry] = field(default_factory=list)
    # each contact's company's stored scores: (contact id, company score, value or None,
    # label or None) — `ls_company_scores`, and the snapshots' `company_scores`
    company_scores: list[tuple[str, str, float | None, str | None]] = field(
        default_factory=list)

    @classmethod
    def from_synthetic(cls, data: Any) -> History:
        """`leadscore.synthetic` data as a store would hold it (`contact_history`)."""
        from leadscore.synthetic.dataset import contact_history

        history = cls()
        for index, contact_id in enumerate(data.contact_ids):
            created, changes, records = contact_history(data, index)
            history.contacts.append((contact_id, to_micros(created)))
            for seq, change in enumerate(changes):
                history.changes.append((contact_id, change.name, to_micros(change.changed_at),
                                        seq, change.value))
            for event in records:
                history.events.append((contact_id, event.type, to_micros(event.occurred_at),
                                       event.attributes))
        return history

    # the canonical relations ----------------------------------------------------------------
    def contact_rows(self) -> list[tuple[str, int]]:
        return list(self.contacts)

    def history_rows(self) -> list[tuple[Any, ...]]:
        rows = []
        for contact_id, name, changed_us, seq, raw in self.changes:
            forms = typed_forms(raw)
            number = None if forms.number is None else float(forms.number)
            rows.append((contact_id, name, changed_us, seq, forms.text, number, forms.flag,
                         forms.time_us))
        return rows

    def event_rows(self, attributes: Iterable[tuple[str, str]]
                   ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """(column names, rows) of `ls_events` with a column per (attribute, kind)."""
        wanted = sorted(set(attributes))
        names = ["contact_id", "type", "occurred_us"] + [f"{a}:{k}" for a, k in wanted]
        rows = []
        for contact_id, kind, occurred_us, values in self.events:
            row: list[Any] = [contact_id, kind, occurred_us]
            for attribute, attr_kind in wanted:
                row.append(attribute_forms(values.get(attribute))[KIND_INDEX[attr_kind]])
            rows.append(tuple(row))
        return names, rows

    def arrow(self, query: CompiledQuery) -> dict[str, Any]:
        """Arrow tables for the canonical relations the query reads: ls_contacts, ls_history
        (from which the engines pivot ls_values) and ls_events."""
        import pyarrow as pa

        contacts = pa.table({"contact_id": pa.array([c for c, _ in self.contacts], pa.string()),
                             "created_us": pa.array([t for _, t in self.contacts], pa.int64())})
        rows = self.history_rows()
        types = [pa.string(), pa.string(), pa.int64(), pa.int64(), pa.string(), pa.float64(),
                 pa.bool_(), pa.int64()]
        history = pa.table({name: pa.array([r[i] for r in rows], t)
                            for i, (name, t) in enumerate(zip(HISTORY_COLUMNS, types,
                                                              strict=True))})
        names, event_rows = self.event_rows(query.required_attributes)
        kinds = {"string": pa.string(), "number": pa.float64(), "bool": pa.bool_(),
                 "date": pa.int64()}
        event_types = [pa.string(), pa.string(), pa.int64()] + [
            kinds[n.rsplit(":", 1)[1]] for n in names[3:]]
        events = pa.table({name: pa.array([r[i] for r in event_rows], t)
                           for i, (name, t) in enumerate(zip(names, event_types, strict=True))})
        live = [e for e in self.ledger if e.voided_us is None]
        ledger = pa.table({
            "contact_id": pa.array([e.contact_id for e in live], pa.string()),
            "score": pa.array([e.score for e in live], pa.string()),
            "op": pa.array([e.op for e in live], pa.string()),
            "cents": pa.array([e.cents for e in live], pa.int64()),
            "effective_us": pa.array([e.effective_us for e in live], pa.int64()),
            "expires_us": pa.array([e.expires_us for e in live], pa.int64()),
            "entry_id": pa.array([e.id for e in live], pa.int64())})
        rows4 = self.company_scores
        company = pa.table({
            "contact_id": pa.array([r[0] for r in rows4], pa.string()),
            "score": pa.array([r[1] for r in rows4], pa.string()),
            "value": pa.array([r[2] for r in rows4], pa.float64()),
            "label": pa.array([r[3] for r in rows4], pa.string())})
        return {"ls_contacts": contacts, "ls_history": history, "ls_events": events,
                "ls_ledger": ledger, "ls_company_scores": company}

    # the evaluator's view ------------------------------------------------------------------------
    def snapshots(self, model: Model, as_of: datetime) -> Iterator[ContactSnapshot]:
        """Every contact created by `as_of`, as of `as_of`, in contact order."""
        cutoff = to_micros(as_of)
        catalog = model.catalog
        changes: dict[str, list[PropertyChange]] = {}
        for contact_id, name, changed_us, _, raw in sorted(
                self.changes, key=lambda row: (row[2], row[3])):
            definition = catalog.property(name)
            value = (raw if definition is None
                     else read_value(raw, definition.type, definition.options))
            changes.setdefault(contact_id, []).append(
                PropertyChange(name, value, from_micros(changed_us)))
        events: dict[str, list[EventRecord]] = {}
        for contact_id, kind, occurred_us, values in self.events:
            events.setdefault(contact_id, []).append(
                EventRecord(kind, from_micros(occurred_us), values))
        ledger: dict[str, list[LedgerEntry]] = {}
        for entry in self.ledger:
            ledger.setdefault(entry.contact_id, []).append(entry)
        company: dict[str, dict[str, tuple[float | None, str | None]]] = {}
        for contact_id, score, value, label in self.company_scores:
            company.setdefault(contact_id, {})[score] = (value, label)
        for contact_id, created_us in sorted(self.contacts):
            if created_us > cutoff:
                continue
            snap = ContactSnapshot.build(contact_id, as_of, created_at=from_micros(created_us),
                                         property_changes=changes.get(contact_id, ()),
                                         events=events.get(contact_id, ()),
                                         ledger=ledger.get(contact_id, ()))
            snap.company_scores = company.get(contact_id, {})
            yield snap


def score_rows(model: Model, snapshots: Iterable[ContactSnapshot], *,
               lists: ListSet | None = None, stage_rules: bool = False,
               schedule: bool = False, detail: bool = False) -> dict[str, dict[str, Any]]:
    """The evaluator's answers, keyed by contact id, in the compiled query's column names
    (`CompiledQuery.columns`; detail columns keyed "rule:<score>/<group>/<rule>" and
    "group:<score>/<group>")."""
    scorer = Scorer(model)
    rules = StageRules(model)
    matchers = time_sensitive([*scorer.matchers(), *(lists.matchers() if lists else []),
                               *(rules.matchers() if stage_rules else [])])
    out: dict[str, dict[str, Any]] = {}
    for snap in snapshots:
        result = scorer.score(snap, detail=detail)
        row: dict[str, Any] = {"contact_id": snap.contact_id}
        for name, score in result.scores.items():
            row[name] = score.value
            row[f"{name}:label"] = score.label
            row[f"{name}:scored"] = score.scored
        row[GRADE], row[GRADE_LABEL], row[STAGE] = (result.grade, result.grade_label,
                                                    result.stage)
        if stage_rules:
            target = rules.target(snap, result)
            row[STAGE_TARGET] = target.stage if target else None
            row[STAGE_REASON] = target.reason if target else None
        if lists is not None:
            snap.set_scores(result)
            members = lists.evaluate(snap)
            for item in lists:
                row[f"list:{item.name}"] = item.name in members
        if schedule:
            row[NEXT_CHANGE] = next_change_us(snap, matchers, result.decaying)
        if detail:
            for name, score in result.scores.items():
                for rule in score.rules:
                    row[f"rule:{name}//{rule.rule.name}"] = rule.final
                for group in score.groups:
                    row[f"group:{name}/{group.group.name}"] = group.final
                    for rule in group.rules:
                        row[f"rule:{name}/{group.group.name}/{rule.rule.name}"] = rule.final
        out[snap.contact_id] = row
    return out


def detail_names(query: CompiledQuery) -> dict[str, str]:
    """The compiled query's detail column → the key `score_rows` uses for it."""
    names = {column: f"rule:{score}/{group or ''}/{rule}"
             for (score, group, rule), column in query.rule_columns.items()}
    names.update({column: f"group:{score}/{group}"
                  for (score, group), column in query.group_columns.items()})
    return names

