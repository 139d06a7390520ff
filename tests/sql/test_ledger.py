"""The score ledger, one line per case: a contact whose model points are 10 (score `base`,
summed into `total` with a cap of 100) and its ledger entries; the value every engine and the
evaluator must give, exactly, with the next change time. Set-to, change-by, effective time
(before, at, after the moment of scoring), expiry (at the moment: no longer applies), several
entries and their order, a set-to hiding what came before it, entries of a sum score's part,
voided entries, and an entry for a score the model does not have."""

from __future__ import annotations

import pytest

from leadscore.evaluation.ledger import LedgerEntry
from leadscore.model import parse_model
from leadscore.sql.compiler import NEXT_CHANGE
from leadscore.sql.reference import History, score_rows
from tests.sql import harness
from tests.sql.generators import AS_OF, AS_OF_US

DAY = 86_400_000_000
ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres),
           pytest.param("spark", marks=[pytest.mark.slow, pytest.mark.spark])]

MODEL = parse_model("""
version: 1
name: ledger
scores:
  base:
    rules:
      - {name: visited, when: {event: visit}, points: 10}
    thresholds:
      - {label: high, min: 50}
      - {label: low}
  total:
    sum: [base]
    max: 100
    thresholds:
      - {label: MQL, min: 35, max: 64.99, stage: mql}
      - {label: SQL, min: 65, stage: sql}
""", "ledger.yaml")

# (entries: (score, op, cents, effective µs relative to the moment, expires or None, voided),
#  base, total, next change µs relative to the moment or None)
NOW, NEVER = 0, None
CASES = [
    ([], 10, 10, None),
    ([("base", "change", 500, -DAY, NEVER, False)], 15, 15, None),
    ([("base", "change", 500, NOW, NEVER, False)], 15, 15, None),  # effective exactly now
    ([("base", "change", 500, 1, NEVER, False)], 10, 10, 1),  # a microsecond after: not yet
    ([("base", "set", 6000, -DAY, NEVER, False)], 60, 60, None),
    ([("base", "set", 6000, -DAY, NOW, False)], 10, 10, None),  # expires now: gone
    ([("base", "set", 6000, -DAY, 1, False)], 60, 60, 1),  # expires just after
    ([("base", "set", 6000, -DAY, NEVER, False), ("base", "change", -250, -1, NEVER, False)],
     57.5, 57.5, None),  # change-by after a set-to adds to it
    ([("base", "change", -250, -DAY, NEVER, False), ("base", "set", 6000, -1, NEVER, False)],
     60, 60, None),  # a set-to hides the change-by before it
    ([("base", "set", 6000, -DAY, NEVER, False), ("base", "set", 2000, -DAY, NEVER, False)],
     20, 20, None),  # same effective time: the later id wins
    ([("base", "change", 1, -DAY, NEVER, False), ("base", "change", 2, -DAY, NEVER, False)],
     10.03, 10.03, None),
    ([("total", "change", 9500, -DAY, NEVER, False)], 10, 105, None),  # not capped by max
    ([("base", "change", 9500, -DAY, NEVER, False)], 105, 100, None),  # the sum's cap holds
    ([("total", "set", 7000, -DAY, 3 * DAY, False), ("base", "change", 100, 2 * DAY, NEVER,
                                                        False)], 10, 70, 2 * DAY),
    ([("base", "change", 500, -DAY, NEVER, True)], 10, 10, None),  # voided
    ([("gone", "set", 500, -DAY, DAY, False)], 10, 10, DAY),  # no such score: wakes only
]


def history_of(cases) -> History:
    history = History()
    entry_id = 0
    for i, (entries, *_) in enumerate(cases):
        cid = f"c{i:02d}"
        history.contacts.append((cid, AS_OF_US - 400 * DAY))
        history.events.append((cid, "visit", AS_OF_US - 10 * DAY, {}))
        for score, op, cents, effective, expires, voided in entries:
            entry_id += 1
            history.ledger.append(LedgerEntry(
                entry_id, cid, score, op, cents, AS_OF_US + effective,
                None if expires is None else AS_OF_US + expires,
                voided_us=AS_OF_US - DAY if voided else None))
    return history


def test_the_evaluator_on_every_case():
    rows = score_rows(MODEL, history_of(CASES).snapshots(MODEL, AS_OF), schedule=True)
    for i, (entries, base, total, moment) in enumerate(CASES):
        row = rows[f"c{i:02d}"]
        assert (row["base"], row["total"]) == (base, total), entries
        assert row[NEXT_CHANGE] == (None if moment is None else AS_OF_US + moment), entries
    assert rows["c04"]["base:label"] == "high" and rows["c13"]["total:label"] == "SQL"
    assert rows["c13"]["stage"] == "sql"


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_on_every_case(engine, request):
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    history = history_of(CASES)
    query, rows = harness.run(engine, MODEL, history, AS_OF, pg=pg, spark=spark)
    by_contact = {row["contact_id"]: row for row in rows}
    for i, (entries, base, total, moment) in enumerate(CASES):
        row = by_contact[f"c{i:02d}"]
        assert (row["base"], row["total"]) == (base, total), entries
        assert row[NEXT_CHANGE] == (None if moment is None else AS_OF_US + moment), entries
    assert not harness.differences(query, rows, harness.reference(MODEL, history, AS_OF))
