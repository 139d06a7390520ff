"""A company run's results stored set-wise (`storage.company_writes`): only what changed is
written — new and changed scores (with history), scores no longer computed, membership that
moved or went — and a run that changes nothing writes nothing; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import func, select

from leadscore.storage import Store
from leadscore.storage.companies import company_members, company_score_history, company_scores
from leadscore.storage.company_writes import CompanyChanges, store_company_results


def _run(store: Store, results: list[tuple[str, int, float, str | None]],
         members: dict[str, str | None], *, computed_us: int,
         read: tuple[str, ...] = ()) -> CompanyChanges:
    duck = duckdb.connect()
    try:
        duck.register("r", pa.table({
            "company_id": [r[0] for r in results], "contacts": [r[1] for r in results],
            "fit": pa.array([r[2] for r in results], pa.float64()),
            "fit:label": pa.array([r[3] for r in results], pa.string())}))
        duck.execute("CREATE TEMPORARY TABLE ls_results AS SELECT * FROM r")
        duck.register("m", pa.table({"contact_id": pa.array(list(members), pa.string()),
                                     "company_id": pa.array(list(members.values()),
                                                            pa.string())}))
        duck.execute("CREATE TEMPORARY TABLE ls_members AS SELECT * FROM m")
        with store.write() as writer:
            return store_company_results(writer.connection, duck, "b2b", ["fit"], version=3,
                                         as_of_us=computed_us, computed_us=computed_us,
                                         read=read)
    finally:
        duck.close()


def _stored(store: Store) -> tuple[dict[str, Any], dict[str, str], int]:
    with store.read() as connection:
        t = company_scores.c
        scores = {row.company_id: (row.value, row.label, row.contacts, row.model_version,
                                   row.computed_us) for row in connection.execute(
            select(t.company_id, t.value, t.label, t.contacts, t.model_version,
                   t.computed_us).where(t.model == "b2b", t.score == "fit"))}
        m = company_members.c
        members = dict(connection.execute(select(m.contact_id, m.company_id)
                                          .where(m.model == "b2b")).all())
        history = connection.execute(select(func.count()).select_from(
            company_score_history)).scalar_one()
    return scores, members, history


def test_only_changes_are_written(store: Store) -> None:
    first = [("acme", 2, 30.0, "Warm"), ("globex", 1, 80.0, "Hot"), ("initech", 1, 0.0, None)]
    assert _run(store, first, {"c1": "acme", "c2": "acme", "c3": "globex", "c4": None,
                               "c5": "initech"}, computed_us=1) == CompanyChanges(
        3, ["acme", "globex", "initech"])
    scores, members, history = _stored(store)
    assert scores == {"acme": (30.0, "Warm", 2, 3, 1), "globex": (80.0, "Hot", 1, 3, 1),
                      "initech": (0.0, None, 1, 3, 1)}
    assert members == {"c1": "acme", "c2": "acme", "c3": "globex", "c5": "initech"}
    assert history == 3

    # the same results again: nothing is written (the stored rows keep their first run)
    assert _run(store, first, {"c1": "acme", "c2": "acme", "c3": "globex", "c4": None,
                               "c5": "initech"}, computed_us=2) == CompanyChanges()
    assert _stored(store) == (scores, members, history)

    # a label changes, a company goes, one is new; a contact moves, one leaves, one joins
    second = [("acme", 2, 30.0, "Hot"), ("globex", 1, 80.0, "Hot"), ("hooli", 1, 5.0, "Cold")]
    # the contacts due: those of acme (whose read score changed) before and after, those of
    # initech (gone), and every contact that joined, moved or left a company
    assert _run(store, second, {"c1": "acme", "c2": "hooli", "c3": "globex", "c4": "acme"},
                computed_us=3, read=("fit",)) == CompanyChanges(
        2, ["acme", "hooli", "initech"], ["c1", "c2", "c4", "c5"])
    scores, members, history = _stored(store)
    assert scores == {"acme": (30.0, "Hot", 2, 3, 3), "globex": (80.0, "Hot", 1, 3, 1),
                      "hooli": (5.0, "Cold", 1, 3, 3)}
    assert members == {"c1": "acme", "c2": "hooli", "c3": "globex", "c4": "acme"}
    assert history == 5


def test_a_run_with_no_companies_clears_what_was_stored(store: Store) -> None:
    _run(store, [("acme", 1, 10.0, "Cold")], {"c1": "acme"}, computed_us=1)
    assert _run(store, [], {}, computed_us=2) == CompanyChanges(0, ["acme"])
    assert _stored(store)[:2] == ({}, {})
