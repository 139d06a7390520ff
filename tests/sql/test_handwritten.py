"""The hand-written baselines of the benchmark (`benchmarks/handwritten/`) give the Python
evaluator's scores, labels, grades and stages for every contact — so that the speed the
compiled query is measured against is the speed of a correct query."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from leadscore.catalog import to_micros
from leadscore.evaluation import Scorer
from leadscore.synthetic import generate, iter_snapshots

HANDWRITTEN = Path(__file__).resolve().parents[2] / "benchmarks" / "handwritten"
sys.path.insert(0, str(HANDWRITTEN))

import queries  # noqa: E402
from write_parquet import NOW, write  # noqa: E402

AS_OF = NOW - timedelta(days=3)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("natural")
    write(out, 1_500, 30_000, seed=11)
    return out


@pytest.fixture(scope="module")
def expected() -> dict[str, tuple]:
    model = queries.example_model()
    scorer = Scorer(model)
    found = {}
    for snap in iter_snapshots(generate(1_500, 30_000, seed=11, now=NOW), AS_OF):
        result = scorer.score(snap)
        s = result.scores
        found[snap.contact_id] = (s["fit"].value, s["fit"].label, s["engagement"].value,
                                  s["engagement"].label, s["feedback"].value, s["total"].value,
                                  s["total"].label, result.grade, result.grade_label,
                                  result.stage)
    return found


def compare(rows, expected) -> None:
    got = {row[0]: tuple(row[1:]) for row in rows}
    assert set(got) == set(expected) and len(got) > 1000
    wrong = [(cid, got[cid], want) for cid, want in expected.items() if got[cid] != want]
    assert not wrong, f"{len(wrong)} contacts differ, first: {wrong[:3]}"


def test_the_duckdb_query_by_hand_gives_the_evaluators_scores(data, expected):
    connection = duckdb.connect()
    sql = queries.duckdb_handwritten(connection, data, to_micros(AS_OF))
    compare(connection.execute(sql).fetchall(), expected)
    query = queries.duckdb_compiled(connection, data, to_micros(AS_OF))
    columns = ", ".join(f'"{c}"' for c in queries.COMPILED_OUTPUT)
    compare(connection.execute(f"SELECT {columns} FROM ({query.sql})").fetchall(), expected)


@pytest.mark.slow
@pytest.mark.spark
def test_the_spark_query_by_hand_gives_the_evaluators_scores(data, expected, spark):
    compare([tuple(r) for r in spark.sql(queries.spark_handwritten(data, to_micros(AS_OF)))
             .collect()], expected)
    query = queries.spark_compiled(spark, data, to_micros(AS_OF))
    columns = ", ".join(f"`{c}`" for c in queries.COMPILED_OUTPUT)
    compare([tuple(r) for r in spark.sql(f"SELECT {columns} FROM ({query.sql})").collect()],
            expected)
