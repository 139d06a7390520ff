"""Every engine against the evaluator on generated B2B data: the example model with the example
lists, and `WIDE_MODEL` (the rest of the criteria language), as of two moments — every rule's
and group's points, scores, labels, grades, stages, stage targets, list memberships and next
change times, exactly (Spark: see `harness.POW_NOTE`)."""

from __future__ import annotations

from datetime import timedelta
from importlib.resources import files

import pytest

from leadscore.lists import load_lists
from leadscore.model import load_model, parse_model
from leadscore.sql.reference import History
from leadscore.synthetic import generate
from tests.evaluation.test_differential import NOW, WIDE_MODEL
from tests.sql import harness

TEMPLATES = files("leadscore.project") / "templates"
ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres),
           pytest.param("spark", marks=[pytest.mark.slow, pytest.mark.spark])]


@pytest.fixture(scope="module")
def history() -> History:
    return History.from_synthetic(generate(600, 12_000, seed=17, now=NOW))


def example():
    model = load_model(str(TEMPLATES / "model.yaml"))
    return model, load_lists(str(TEMPLATES / "lists.yaml"), model)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("days_back", [0, 75])
def test_the_example_model_and_lists(engine, days_back, history, request):
    model, lists = example()
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    compared = harness.check(engine, model, history, NOW - timedelta(days=days_back),
                             lists=lists, pg=pg, spark=spark)
    assert compared > 300


@pytest.mark.parametrize("engine", ENGINES)
def test_the_wide_model(engine, history, request):
    model = parse_model(WIDE_MODEL, "wide.yaml")
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    assert harness.check(engine, model, history, NOW - timedelta(days=10), pg=pg,
                         spark=spark) > 300


def test_the_comparison_is_not_vacuous(history):
    """Each rule of both models gives points to some contacts and not to others; lists,
    stage targets and next change times take more than one value."""
    model, lists = example()
    for subject, chosen in ((model, lists), (parse_model(WIDE_MODEL, "wide.yaml"), None)):
        query, rows = harness.run("duckdb", subject, history, NOW, lists=chosen)
        for column in query.rule_columns.values():
            given = sum(1 for row in rows if row[column])
            assert 0 < given < len(rows), (subject.name, column, given)
    for column in ("list:mql", "list:sql", "list:hot-accounts", "stage_target",
                   "next_change_us"):
        query, rows = harness.run("duckdb", model, history, NOW, lists=lists)
        assert len({row[column] for row in rows}) > 1, column


@pytest.mark.postgres
def test_postgresql_runs_on_a_sqlalchemy_connection(postgres_database, history):
    """The store's own kind of connection; LIKE's % must not be taken for a placeholder."""
    import sqlalchemy as sa

    from leadscore.sql import compile_model, run_postgres
    from leadscore.sql.postgres_engine import create_values_view, load_arrow

    model, lists = example()
    query = compile_model(model, as_of=NOW, dialect="postgres", lists=lists, stage_rules=True,
                          relations={"ls_events": "events_x", "ls_values": "values_x",
                                     "ls_history": "history_x", "ls_contacts": "contacts_x"})
    engine = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{postgres_database}")
    try:
        with engine.begin() as connection:
            tables = history.arrow(query)
            for canonical, table in tables.items():
                load_arrow(connection, query.relations[canonical], table)
            create_values_view(connection, query)
            rows = run_postgres(query, connection)
            frame = run_postgres(query, connection, output="pandas")
    finally:
        engine.dispose()
    expected = harness.reference(model, history, NOW, lists)
    assert len(rows) == len(frame) == len(expected) > 300
    assert list(frame.columns) == list(query.columns)
    for row in (dict(zip(query.columns, r, strict=True)) for r in rows):
        want = expected[row["contact_id"]]
        assert (row["total"], row["list:mql"], row["stage_target"]) == (
            want["total"], want["list:mql"], want["stage_target"])


def relations_in_every_form(query, history, tmp_path):
    """ls_contacts as pandas, ls_history as Arrow, ls_events as a Parquet file (and, for
    the example's list that reads company scores, ls_company_scores as Arrow)."""
    import pyarrow.parquet as pq

    tables = history.arrow(query)
    pq.write_table(tables["ls_events"], tmp_path / "events.parquet")
    return {"ls_contacts": tables["ls_contacts"].to_pandas(),
            "ls_history": tables["ls_history"],
            "ls_events": str(tmp_path / "events.parquet"),
            "ls_company_scores": tables["ls_company_scores"]}


def test_duckdb_reads_pandas_arrow_and_parquet(history, tmp_path):
    from leadscore.sql import compile_model, run_duckdb

    model, lists = example()
    query = compile_model(model, as_of=NOW, lists=lists)
    table = run_duckdb(query, relations_in_every_form(query, history, tmp_path))
    expected = harness.reference(model, history, NOW, lists)
    got = dict(zip(table.column("contact_id").to_pylist(), table.column("total").to_pylist(),
                   strict=True))
    assert got == {cid: row["total"] for cid, row in expected.items()}


@pytest.mark.slow
@pytest.mark.spark
def test_spark_reads_dataframes_parquet_and_arrow(history, tmp_path, spark):
    from leadscore.sql import compile_model, run_spark

    model, lists = example()
    query = compile_model(model, as_of=NOW, lists=lists, dialect="spark")
    relations = relations_in_every_form(query, history, tmp_path)
    relations["ls_contacts"] = spark.createDataFrame(history.arrow(query)["ls_contacts"])
    table = run_spark(query, relations, spark=spark, output="arrow")
    expected = harness.reference(model, history, NOW, lists)
    got = dict(zip(table.column("contact_id").to_pylist(), table.column("total").to_pylist(),
                   strict=True))
    assert got == {cid: row["total"] for cid, row in expected.items()}
