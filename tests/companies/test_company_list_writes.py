"""Company lists stored set-wise (`storage.company_lists.store_company_lists`): joins and leaves
against the stored membership, with history; a run limited to some companies (`evaluated`)
touches only theirs; the contacts of companies that joined or left a list contacts read are
due; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from leadscore.ingestion.companies import import_companies
from leadscore.lists.definition import parse_lists
from leadscore.model import parse_model
from leadscore.model.criteria import company_list_key
from leadscore.storage import Store
from leadscore.storage.company_lists import (
    company_list_counts,
    company_list_history,
    company_list_page,
    store_company_lists,
)

MODEL = parse_model((Path(__file__).parent / "model.yaml").read_text(), "model.yaml")
LISTS = parse_lists("""version: 1
lists:
  - name: hot
    of: companies
    groups:
      - [{score: account, label: Hot}]
  - name: big-software
    of: companies
    groups:
      - [{property: industry, any_of: [software]}, {property: employees, at_least: 1000}]
    exclude:
      - {score: firmographic, is_unknown: true}
""", "lists.yaml", MODEL)
T = 1_780_000_000_000_000  # 2026-05-28, after the companies' values
COMPANIES = """company_id,industry,employees,updated_at
acme,Software,"1,200",2026-01-01
globex,software,40,2026-01-01
initech,retail,5000,2026-01-01
"""


def _run(store: Store, rows: list[tuple[str, float | None, str | None]], *,
         evaluated: list[str] | None = None, at_us: int, read: frozenset[str] = frozenset()):
    duck = duckdb.connect()
    try:
        columns = {"company_id": [r[0] for r in rows], "contacts": [1 for _ in rows]}
        for name in MODEL.companies.scores:
            columns[name] = pa.array([r[1] for r in rows], pa.float64())
            columns[name + ":label"] = pa.array([r[2] if name == "account" else None
                                                 for r in rows], pa.string())
        duck.register("r", pa.table(columns))
        duck.execute("CREATE TEMPORARY TABLE ls_results AS SELECT * FROM r")
        with store.write() as writer:
            return store_company_lists(writer.connection, duck, MODEL, LISTS,
                                       evaluated=evaluated, as_of_us=at_us, read=read)
    finally:
        duck.close()


def test_joins_leaves_history_and_the_evaluated_scope(store: Store, tmp_path: Path) -> None:
    csv = tmp_path / "companies.csv"
    csv.write_text(COMPANIES)
    import_companies(store, csv, catalog=MODEL.companies.catalog)
    first = _run(store, [("acme", 90.0, "Hot"), ("globex", 10.0, "Cold"),
                         ("initech", 80.0, "Hot")], at_us=T + 10)
    assert first.joins == [("big-software", "acme"), ("hot", "acme"), ("hot", "initech")]
    assert first.leaves == [] and first.members == {"hot": 2, "big-software": 1}
    again = _run(store, [("acme", 90.0, "Hot"), ("globex", 10.0, "Cold"),
                         ("initech", 80.0, "Hot")], at_us=T + 20)
    assert (again.joins, again.leaves) == ([], [])  # nothing changed, nothing written

    # only globex and initech are evaluated: acme keeps its memberships though absent here
    third = _run(store, [("globex", 95.0, "Hot"), ("initech", 5.0, "Cold")],
                 evaluated=["globex", "initech"], at_us=T + 30)
    assert third.joins == [("hot", "globex")] and third.leaves == [("hot", "initech")]
    with store.read() as connection:
        assert company_list_counts(connection, MODEL.name) == {"hot": 2, "big-software": 1}
        page, total = company_list_page(connection, MODEL.name, "hot", None)
        assert total == 2 and page == [("globex", T + 30), ("acme", T + 10)]
        assert company_list_history(connection, MODEL.name, "initech") == [
            ("hot", "join", T + 10), ("hot", "leave", T + 30)]

    # every company evaluated: acme, absent from the results, leaves both lists
    fourth = _run(store, [("globex", 95.0, "Hot")], at_us=T + 40)
    assert fourth.leaves == [("big-software", "acme"), ("hot", "acme")]
    assert fourth.due == []  # no contact reads a company list


def test_contacts_of_companies_that_moved_in_a_read_list_are_due(store: Store) -> None:
    from leadscore.storage.codec import Codec

    with store.write() as writer:
        Codec(writer.connection.dialect.name).insert_many(
            writer.connection, "company_members", ("model", "contact_id", "company_id"),
            [(MODEL.name, "c1", "acme"), (MODEL.name, "c2", "acme"),
             (MODEL.name, "c3", "globex")], kinds=("text", "text", "text"))
    read = frozenset({company_list_key("hot")})
    first = _run(store, [("acme", 90.0, "Hot"), ("globex", 10.0, "Cold")], at_us=1, read=read)
    assert first.due == ["c1", "c2"]
    unread = _run(store, [("acme", 90.0, "Hot"), ("globex", 99.0, "Hot")], at_us=2,
                  read=frozenset({"account"}))
    assert unread.joins == [("hot", "globex")] and unread.due == []
