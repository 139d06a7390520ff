"""Numbers that are not finite (NaN, inf, -inf, 1e999) are row errors where they are read —
contacts and events, CSV and JSON Lines, declared and undeclared — never stored as unknown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadscore.catalog import Catalog, CoercionError, PropertyType, coerce_value
from leadscore.diagnostics import LeadscoreError
from leadscore.ingestion import import_contacts, import_events
from leadscore.storage import Store

CATALOG = Catalog()


@pytest.mark.parametrize("text", ["NaN", "nan", "inf", "-inf", "Infinity", "1e999", "-1e999",
                                  float("nan"), float("inf")])
def test_coercion_refuses_a_number_that_is_not_finite(text) -> None:
    with pytest.raises(CoercionError, match="not a finite number"):
        coerce_value(text, PropertyType.NUMBER)


def _errors(raised: pytest.ExceptionInfo[LeadscoreError]) -> list[tuple[str, int | None, str]]:
    return [(d.code, d.location.line, d.location.field or "")
            for d in raised.value.diagnostics]


def test_contacts_csv_and_jsonl(store: Store, tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text("contact_id,employees,annual_revenue\nc1,12,5\nc2,NaN,1e999\nc3,-inf,3\n")
    with pytest.raises(LeadscoreError) as raised:
        import_contacts(store, csv, catalog=CATALOG)
    assert _errors(raised) == [("LS212", 3, "employees"), ("LS212", 3, "annual_revenue"),
                               ("LS212", 4, "employees")]
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text('{"contact_id": "j1", "properties": {"employees": 3}}\n'
                     '{"contact_id": "j2", "properties": {"employees": NaN}}\n'
                     '{"contact_id": "j3", "properties": {"custom_score": 1e999}}\n'
                     '{"contact_id": "j4", "properties": {"employees": "Infinity"}}\n')
    with pytest.raises(LeadscoreError) as raised:
        import_contacts(store, jsonl, catalog=CATALOG)
    assert _errors(raised) == [("LS212", 2, "properties.employees"),
                               ("LS224", 3, "properties.custom_score"),
                               ("LS212", 4, "properties.employees")]
    assert store.counts()["contacts"] == 0


def test_events_csv_and_jsonl(store: Store, tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("contact_id\nc1\n")
    import_contacts(store, tmp_path / "c.csv", catalog=CATALOG)
    csv = tmp_path / "e.csv"
    csv.write_text("contact_id,type,occurred_at,minutes\n"
                   "c1,webinar_attended,2026-01-01,30\nc1,webinar_attended,2026-01-02,inf\n")
    with pytest.raises(LeadscoreError) as raised:
        import_events(store, csv, catalog=CATALOG)
    assert _errors(raised) == [("LS220", 3, "minutes")]

    def line(attributes: str, n: int) -> str:
        return (f'{{"event_id": "e{n}", "contact_id": "c1", "type": "webinar_attended", '
                f'"occurred_at": "2026-01-0{n}", "attributes": {attributes}}}\n')

    jsonl = tmp_path / "e.jsonl"
    jsonl.write_text(line('{"minutes": 5}', 1) + line('{"minutes": NaN}', 2)
                     + line('{"seats": -Infinity}', 3) + line('{"x": [1, 1e999]}', 4))
    with pytest.raises(LeadscoreError) as raised:
        import_events(store, jsonl, catalog=CATALOG)
    assert _errors(raised) == [("LS220", 2, "attributes"), ("LS224", 3, "attributes"),
                               ("LS224", 4, "attributes")]
    assert store.counts()["events"] == 0
    jsonl.write_text(line('{"minutes": 5, "seats": 1e300}', 1))
    assert import_events(store, jsonl, catalog=CATALOG).inserted == 1
    stored = store.load_contact("c1", catalog=CATALOG)
    assert stored is not None
    assert json.dumps(stored[3][0].attributes, allow_nan=False)
