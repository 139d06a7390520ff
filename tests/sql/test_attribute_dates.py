"""An event attribute read as a date is the same instant, or unknown, in every engine
(`catalog.ATTRIBUTE_TIME`): Python's reader, DuckDB's (the embedded store and files),
PostgreSQL's (whatever the session's time zone) and Spark's — on texts near the ISO 8601 forms,
where the engines' own casts disagree (DuckDB takes `2026-1-3`, Python `20260113`, PostgreSQL
fails a query on 30 February, Spark refuses `10:00+02:00`)."""

from __future__ import annotations

import random
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.catalog import PropertyType, read_attribute
from leadscore.catalog.forms import to_micros
from leadscore.scoring.postgres import date_attribute_sql
from leadscore.scoring.spark import spark_attribute_time
from leadscore.storage.duck import typed_attribute_sql

KNOWN = ["2026-01-13", "2026-01-13T10:00:00Z", "2026-01-13 10:00", "2026-01-13T10:00",
         "2026-01-13T10:00:00.5", "2026-01-13T10:00:00.000001-05:30", "2024-02-29",
         "2026-01-13T10:00+14:00", "2026-01-13T10:00-12:00", "1000-01-01T00:00+14:00",
         "9998-12-31T23:59:59-12:00"]
UNKNOWN = ["2026-02-30", "2025-02-29T10:00", "2026-04-31", "01/02/2026", "1700000000",
           "20260113", "2026-W02", "2026-013", "2026-1-3", "2026-01-13T24:00:00",
           "2026-01-13T10:00:00 UTC", "2026-01-13t10:00:00z", "  2026-01-13", "2026-01-13\n",
           "2026-01-13T10:00:00.1234567Z", "2026-01-13T10:00+15:00", "+12026-01-01",
           "2026-01-13T10", "0999-01-01", "9999-01-01", ""]

PIECES: dict[str, list[str]] = {
    "year": ["2026", "2024", "1000", "0999", "9998", "9999", "202", "20261"],
    "month": ["01", "02", "04", "12", "13", "00", "1"],
    "day": ["01", "28", "29", "30", "31", "32", "00", "9"],
    "sep": ["T", " ", "t", "", "_"],
    "clock": ["10:00", "00:00", "23:59", "24:00", "10:60", "9:00", "10:00:00", "10:00:59",
              "10:00:60", "10:00:00.5", "10:00:00.123456", "10:00:00.1234567", "10"],
    "zone": ["", "Z", "z", "+02:00", "-05:30", "+14:00", "-12:00", "+15:00", "+0200", " UTC",
             "+14:59"],
    "tail": ["", "", "", "\n", " ", "x"],
}


def near_iso(pick: Any) -> str:
    text = f"{pick('year')}-{pick('month')}-{pick('day')}"
    if pick("with_time"):
        text += pick("sep") + pick("clock") + pick("zone")
    return text + pick("tail")


@st.composite
def near_iso_texts(draw: Any) -> str:
    if draw(st.integers(0, 4)) == 0:  # now and then any text of the same characters
        return draw(st.text(alphabet="0123456789-:T Z+.", max_size=30))

    def pick(part: str) -> Any:
        if part == "with_time":
            return draw(st.booleans())
        return draw(st.sampled_from(PIECES[part]))

    return near_iso(pick)


def seeded(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)

    def pick(part: str) -> Any:
        return rng.random() < 0.7 if part == "with_time" else rng.choice(PIECES[part])

    return [near_iso(pick) for _ in range(count)]


def python_us(texts: list[str]) -> list[int | None]:
    found = [read_attribute(text, PropertyType.DATE) for text in texts]
    return [None if moment is None else to_micros(moment) for moment in found]


def duckdb_us(texts: list[str]) -> list[int | None]:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'America/New_York'")  # the rule does not depend on it
    connection.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    connection.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(texts)))
    sql = typed_attribute_sql("'VARCHAR'", "v", "date")
    return [row[0] for row in connection.execute(f"SELECT {sql} FROM t ORDER BY i").fetchall()]


def postgres_us(pg: Any, texts: list[str]) -> list[int | None]:
    pg.execute("SET TIME ZONE 'Asia/Tokyo'")
    pg.execute("CREATE TEMPORARY TABLE IF NOT EXISTS t (i int, v text)")
    pg.execute("TRUNCATE t")
    with pg.cursor() as cursor:
        cursor.executemany("INSERT INTO t VALUES (%s, %s)", list(enumerate(texts)))
        cursor.execute(f"SELECT {date_attribute_sql('v')} FROM t ORDER BY i")
        return [row[0] for row in cursor.fetchall()]


def test_the_forms_are_read_as_documented():
    assert None not in python_us(KNOWN)
    assert python_us(UNKNOWN) == [None] * len(UNKNOWN)
    assert duckdb_us(KNOWN + UNKNOWN) == python_us(KNOWN + UNKNOWN)


@settings(max_examples=40, deadline=None)
@given(st.lists(near_iso_texts(), min_size=1, max_size=60))
def test_duckdb_reads_every_text_as_python_does(texts):
    assert duckdb_us(texts) == python_us(texts)


@pytest.mark.postgres
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(near_iso_texts(), min_size=1, max_size=60))
def test_postgres_reads_every_text_as_python_does(pg, texts):
    texts = [text.replace("\x00", "") for text in texts]  # PostgreSQL text has no NUL
    assert postgres_us(pg, texts) == python_us(texts)


@pytest.mark.postgres
def test_postgres_reads_the_known_forms_and_a_seeded_sample(pg):
    texts = KNOWN + UNKNOWN + seeded(2000)
    assert postgres_us(pg, texts) == python_us(texts)


@pytest.mark.slow
@pytest.mark.spark
def test_spark_reads_the_known_forms_and_a_seeded_sample(spark):
    texts = KNOWN + UNKNOWN + seeded(2000)
    frame = spark.createDataFrame(list(enumerate(texts)), "i int, v string")
    frame.createOrReplaceTempView("attribute_dates")
    rows = spark.sql(f"SELECT {spark_attribute_time('v')} AS us FROM attribute_dates "
                     "ORDER BY i").collect()
    assert [row.us for row in rows] == python_us(texts)
