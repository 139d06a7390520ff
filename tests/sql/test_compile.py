"""The compiler's contract: what it reads (required columns, relation names, targets), what it
cannot express (diagnostics naming the score and rule, all at once), and that loading a model
stays light."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pytest

from leadscore.catalog import PropertyType
from leadscore.diagnostics import LeadscoreError
from leadscore.model import parse_model
from leadscore.sql import compile_model
from leadscore.sql.duckdb_engine import run_duckdb
from leadscore.sql.pivot import pivot_values
from leadscore.sql.reference import History
from tests.factories import model_from
from tests.sql import harness
from tests.sql.generators import AS_OF, AS_OF_US

DAY = 86_400_000_000
MODEL = model_from("""
    s:
      rules:
        - {name: title, when: {property: job_title, contains: vp}, points: 10}
        - {name: moved, when: {property: lifecycle_stage, changed_within: 7d}, points: 1}
        - {name: pricing, when: {event: page_view, where: {url: {matches: "*/pricing*"}}},
           points: 5}
        - {name: big, when: {event: webinar_attended, where: {minutes: {at_least: 30}}},
           points: 3}
        - {name: docs, when: {event: page_view, where: {url: {regex: "\\\\bdocs\\\\b"}}},
           points: 2}
      thresholds: [{label: hot, min: 10}, {label: cold}]
""")


def test_the_query_says_which_columns_it_reads():
    query = compile_model(MODEL, as_of=AS_OF)
    assert query.required_properties == {"job_title": (PropertyType.STRING, False),
                                         "lifecycle_stage": (PropertyType.ENUM, True)}
    assert query.required_attributes == {("url", "string"), ("minutes", "number")}
    assert query.columns[:3] == ("contact_id", "s", "s:label")
    assert (query.score_columns, query.label_columns) == ({"s": "s"}, {"s": "s:label"})
    assert set(query.event_types) == {"page_view", "webinar_attended"}


def test_relations_can_be_named_by_the_caller():
    query = compile_model(MODEL, as_of=AS_OF, relations={"ls_events": "my.events",
                                                         "ls_values": "wide"})
    assert "my.events" in query.sql and "wide" in query.sql and "ls_events" not in query.sql
    with pytest.raises(ValueError, match="unknown canonical relation"):
        compile_model(MODEL, as_of=AS_OF, relations={"events": "x"})
    one = compile_model(MODEL, as_of=AS_OF, relations={"ls_contacts": "people",
                                                       "ls_values": "people"})
    assert one.sql.count("people") == 1  # contacts and values in one relation: read once


def test_only_target_contacts_are_scored():
    history = History(contacts=[("a", AS_OF_US - DAY), ("b", AS_OF_US - DAY),
                                ("late", AS_OF_US + 1)])
    history.events = [("a", "page_view", AS_OF_US - 5, {"url": "/pricing"}),
                      ("b", "page_view", AS_OF_US - 5, {"url": "/pricing"})]
    query = compile_model(MODEL, as_of=AS_OF, targets=True)
    relations = history.arrow(query) | {"ls_targets": pa.table({"contact_id": ["b", "late"]})}
    rows = run_duckdb(query, relations, output="rows")
    assert [(row[0], row[1]) for row in rows] == [("b", 5.0)]  # 'late' was created after


def test_what_a_dialect_cannot_express_is_reported_all_at_once():
    model = model_from("""
        s:
          rules:
            - {name: letters, when: {property: job_title, regex: "\\\\pL+"}, points: 1}
            - {name: many, when: {property: company, regex: "a{300}"}, points: 1}
    """)
    compile_model(model, as_of=AS_OF, dialect="duckdb")  # RE2 runs them as written
    with pytest.raises(LeadscoreError) as raised:
        compile_model(model, as_of=AS_OF, dialect="postgres")
    found = raised.value.diagnostics
    assert [d.code for d in found] == ["LS550", "LS550"]
    assert "score 's', rule 'letters'" in found[0].message and "Unicode class" in found[0].message
    assert "rule 'many'" in found[1].message and "255" in found[1].message
    assert "1 more" in str(raised.value)


def test_an_unknown_dialect_is_a_diagnostic():
    with pytest.raises(LeadscoreError) as raised:
        compile_model(MODEL, as_of=AS_OF, dialect="postgress")
    assert raised.value.diagnostics[0].code == "LS551"
    assert "did you mean 'postgres'" in (raised.value.diagnostics[0].hint or "")


def test_names_postgresql_would_truncate_or_spark_would_merge_are_reported():
    long = "a" * 70
    model = parse_model(f"""
version: 1
name: names
scores:
  {long}:
    rules: [{{name: r, when: {{property: job_title, is_known: true}}, points: 1}}]
  Fit:
    rules: [{{name: r, when: {{property: job_title, is_known: true}}, points: 1}}]
  fit:
    rules: [{{name: r, when: {{property: job_title, is_known: true}}, points: 1}}]
""", "names.yaml")
    compile_model(model, as_of=AS_OF)  # DuckDB keeps them all apart
    with pytest.raises(LeadscoreError) as raised:
        compile_model(model, as_of=AS_OF, dialect="postgres")
    assert {d.code for d in raised.value.diagnostics} == {"LS552"}
    with pytest.raises(LeadscoreError) as raised:
        compile_model(model, as_of=AS_OF, dialect="spark")
    assert any("ignores case" in d.message for d in raised.value.diagnostics)


def test_the_pivot_gives_each_value_as_of_the_moment():
    changes = [("c", "job_title", AS_OF_US - 3 * DAY, 1, "VP Sales"),
               ("c", "job_title", AS_OF_US - DAY, 2, None),  # cleared
               ("c", "job_title", AS_OF_US - DAY, 1, "Engineer"),  # same time, earlier seq
               ("c", "employees", AS_OF_US - DAY, 1, "1,200"),
               ("c", "employees", AS_OF_US + 1, 2, 5),  # after the moment
               ("d", "employees", AS_OF_US, 1, "many")]  # does not fit a number
    history = History(contacts=[("c", 0), ("d", 0)], changes=changes)
    required = {"job_title": (PropertyType.STRING, True), "employees": (PropertyType.NUMBER,
                                                                        False)}
    con = duckdb.connect()
    table = history.arrow(compile_model(MODEL, as_of=AS_OF))["ls_history"]
    con.register("ls_history", table)
    rows = con.execute(pivot_values(required, AS_OF_US).sql(dialect="duckdb")
                       + " ORDER BY contact_id").fetchall()
    assert rows == [("c", None, AS_OF_US - DAY, 1200.0), ("d", None, None, None)]


def test_loading_a_model_imports_no_engine():
    code = ("import sys, leadscore.model, leadscore.evaluation, leadscore.lists; "
            "from leadscore.model import parse_model; "
            "m = parse_model(open(sys.argv[1]).read(), 'm.yaml'); "
            "bad = [n for n in ('sqlglot', 'duckdb', 'pyarrow', 'pyspark') if n in sys.modules]; "
            "print(bad)")
    from importlib.resources import files

    path = str(files("leadscore.project") / "templates" / "model.yaml")
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_as_of_may_be_given_in_microseconds():
    a = compile_model(MODEL, as_of=datetime(2026, 3, 1, tzinfo=UTC))
    b = compile_model(MODEL, as_of=a.as_of_us)
    assert a.sql == b.sql


def test_sums_of_sums_and_a_custom_stage_order():
    model = parse_model("""
version: 1
name: nested
lifecycle:
  order: [new, warm, hot, opportunity]
  qualify:
    hot: {event: visit, count: {at_least: 2}}
scores:
  a:
    rules: [{name: r, when: {event: visit}, points: 2.5, per_event: true}]
  b:
    sum: [a]
    max: 4
  c:
    sum: [a, b]
    thresholds: [{label: warm, min: 5, stage: warm}, {label: cold}]
""", "nested.yaml")
    history = History(contacts=[("x", 0), ("y", 0), ("z", 0)])
    history.events = [("x", "visit", AS_OF_US - DAY, {}), ("y", "visit", AS_OF_US - DAY, {}),
                      ("y", "visit", AS_OF_US - 2 * DAY, {}),
                      ("z", "opportunity_created", AS_OF_US - DAY, {})]
    query, rows = harness.run("duckdb", model, history, AS_OF)
    got = {row["contact_id"]: (row["c"], row["stage_target"], row["stage_reason"])
           for row in rows}
    assert got == {"x": (5.0, None, None), "y": (9.0, "hot", "criteria"),
                   "z": (0.0, "opportunity", "outcome:opportunity_created")}
    assert not harness.differences(query, rows, harness.reference(model, history, AS_OF))
