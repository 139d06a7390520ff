"""What practitioners ask for in the model language, on its edges, in every engine: a stage that
needs several scores' labels at once (`label: {at_least: B}`), exactly on the thresholds."""

from __future__ import annotations

import pytest

from leadscore.model import parse_model
from leadscore.sql.reference import History
from tests.sql import harness
from tests.sql.generators import AS_OF, AS_OF_US

DAY = 86_400_000_000
ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres),
           pytest.param("spark", marks=[pytest.mark.slow, pytest.mark.spark])]


def agree(engine: str, model, history: History, request) -> dict[str, dict]:
    """Every engine gives the evaluator's answers; the evaluator's answers."""
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    harness.check(engine, model, history, AS_OF, pg=pg, spark=spark)
    return harness.reference(model, history, AS_OF)


# --- a stage that combines scores --------------------------------------------------------------

COMBINED = """
version: 1
name: combined
properties:
  p_num: {type: number}
scores:
  fit:
    rules:
      - {name: fit points, when: {property: p_num, is_known: true}, points_from: p_num}
    thresholds:
      - {label: C, max: 4.99}
      - {label: B, min: 5, max: 9.99}
      - {label: A, min: 10}
  engagement:
    rules:
      - {name: visits, when: {event: visit}, points: 1, per_event: true}
    thresholds:
      - {label: "3", max: 1.99}
      - {label: "2", min: 2, max: 3.99}
      - {label: "1", min: 4}
lifecycle:
  qualify:
    sql:
      all:
        - {score: fit, label: {at_least: B}}
        - {score: engagement, label: {at_least: "2"}}
    mql: {score: fit, label: {at_most: C}}
"""


def combined_history() -> History:
    """(fit points, visits) per contact, on and beside the B and 2 edges."""
    cases = {"b_on_edge": (5, 2), "b_low_engagement": (5, 1), "c_high_engagement": (4.99, 5),
             "a_and_1": (12, 4), "unknown_fit": (None, 4)}
    history = History()
    for contact_id, (fit, visits) in cases.items():
        history.contacts.append((contact_id, AS_OF_US - 30 * DAY))
        if fit is not None:
            history.changes.append((contact_id, "p_num", AS_OF_US - DAY, 1, fit))
        for i in range(visits):
            history.events.append((contact_id, "visit", AS_OF_US - i * DAY, {}))
    return history


@pytest.mark.parametrize("engine", ENGINES)
def test_a_stage_needs_every_score_condition_at_once(engine, request):
    model = parse_model(COMBINED, "combined.yaml")
    rows = agree(engine, model, combined_history(), request)
    stages = {cid: row["stage_target"] for cid, row in rows.items()}
    assert stages == {"b_on_edge": "sql", "b_low_engagement": None,
                      "c_high_engagement": "mql", "a_and_1": "sql", "unknown_fit": "mql"}
