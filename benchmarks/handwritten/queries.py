"""The hand-written example-model queries and the compiled one, ready to run over the natural
Parquet files of `write_parquet.py` (shared by the benchmark and its test)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from write_parquet import PEOPLE, canonical_views

from leadscore.model import Model, load_model
from leadscore.sql import CompiledQuery, compile_model

HERE = Path(__file__).resolve().parent
OUTPUT = ("contact_id", "fit", "fit_label", "engagement", "engagement_label", "feedback",
          "total", "total_label", "grade", "grade_label", "stage")
COMPILED_OUTPUT = ("contact_id", "fit", "fit:label", "engagement", "engagement:label",
                   "feedback", "total", "total:label", "grade", "grade_label", "stage")


def example_model() -> Model:
    return load_model(str(files("leadscore.project") / "templates" / "model.yaml"))


def _fill(name: str, data: Path, as_of_us: int) -> str:
    text = (HERE / name).read_text()
    return (text.replace("{contacts}", str(data / "contacts.parquet"))
            .replace("{events}", str(data / "events.parquet"))
            .replace("{as_of_us}", str(as_of_us)))


def duckdb_handwritten(connection: Any, data: Path, as_of_us: int) -> str:
    """Creates the macros on `connection` and returns the query."""
    statements = [s for s in _fill("example_duckdb.sql", data, as_of_us).split(";")
                  if any(line.strip() and not line.strip().startswith("--")
                         for line in s.splitlines())]
    for statement in statements[:-1]:
        connection.execute(statement)
    return statements[-1]


def spark_handwritten(data: Path, as_of_us: int) -> str:
    return _fill("example_spark.sql", data, as_of_us).rstrip().rstrip(";")


def duckdb_compiled(connection: Any, data: Path, as_of_us: int) -> CompiledQuery:
    """Binds the canonical relations as views over the same files; returns the query."""
    query = compile_model(example_model(), as_of=as_of_us, relations=PEOPLE)
    views = canonical_views(str(data / "contacts.parquet"), str(data / "events.parquet"),
                            as_of_us, query.required_properties, query.required_attributes)
    for name, sql in views.items():
        connection.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
    return query


def spark_compiled(spark: Any, data: Path, as_of_us: int) -> CompiledQuery:
    """Binds the canonical relations as temporary views over the same files."""
    query = compile_model(example_model(), as_of=as_of_us, dialect="spark", relations=PEOPLE)
    spark.read.parquet(str(data / "contacts.parquet")).createOrReplaceTempView("natural_c")
    spark.read.parquet(str(data / "events.parquet")).createOrReplaceTempView("natural_e")
    values = ["contact_id", "unix_micros(created_at) AS created_us"]
    for name in query.required_properties:
        if name in ("sales_feedback", "score_adjustment"):
            values.append(f"CASE WHEN unix_micros(feedback_at) <= {as_of_us} THEN `{name}` END "
                          f"AS `{name}`")
        else:
            values.append(f"`{name}`")
    attributes = ", ".join(f"`{a}` AS `{a}:{k}`" for a, k in sorted(query.required_attributes))
    spark.sql(f"SELECT {', '.join(values)} FROM natural_c").createOrReplaceTempView("ls_people")
    spark.sql("SELECT contact_id, type, unix_micros(occurred_at) AS occurred_us, "
              f"{attributes} FROM natural_e").createOrReplaceTempView("ls_events")
    return query
