"""CSV files separated by `;`, tab or `|` import exactly as the comma file does (detected or
given with --delimiter); a row that cannot be parsed is placed by line and column; files
without dates take created_at from the row order; mappings derive date parts."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.catalog import Catalog, PropertyType
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.ingestion import load_mapping
from leadscore.ingestion.contacts import CsvOptions, read_contact_rows
from leadscore.ingestion.delimiters import parse_delimiter, sniff_delimiter
from leadscore.ingestion.events import read_event_rows
from leadscore.ingestion.mapping import parse_row_order
from leadscore.ingestion.outcomes import read_outcomes

NOW = datetime(2026, 3, 1, tzinfo=UTC)
DELIMITERS = [",", ";", "\t", "|"]


def write(path: Path, rows: list[list[str]], delimiter: str) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return path


def contacts(path: Path, **kw):
    return read_contact_rows(path, catalog=Catalog(), now=NOW, **kw).contacts


cells = st.text(alphabet=st.sampled_from(list("ab ,;|\t\"'xyz01é")), max_size=8)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(cells, cells), min_size=1, max_size=12))
def test_every_delimiter_imports_as_the_comma_file(tmp_path, values):
    rows = [["contact_id", "email", "note", "city"]]
    rows += [[f"c{i}", f"u{i}@example.com", note, city] for i, (note, city) in enumerate(values)]
    expected = contacts(write(tmp_path / "comma.csv", rows, ","))
    for name, delimiter in (("semi", ";"), ("tab", "\t"), ("pipe", "|")):
        path = write(tmp_path / f"{name}.csv", rows, delimiter)
        assert contacts(path) == expected, f"detected {name}"
        given_ = contacts(path, options=CsvOptions(delimiter=delimiter))
        assert given_ == expected, f"given {name}"


def test_events_and_outcomes_read_the_same_with_any_delimiter(tmp_path):
    events = [["contact_id", "type", "occurred_at", "url"],
              ["c1", "page_view", "2026-01-02T10:00:00Z", "https://x.com/pricing;a"],
              ["c2", "visit", "2026-01-03T11:00:00Z", ""]]
    outcomes = [["contact_id", "opportunity_at", "won_at", "lost_at"],
                ["c1", "2026-02-01", "", ""], ["c2", "", "", "2026-02-03"]]
    want_events = read_event_rows(write(tmp_path / "e.csv", events, ","),
                                  catalog=Catalog()).events
    want_outcomes = read_outcomes(write(tmp_path / "o.csv", outcomes, ",")).outcomes
    for i, delimiter in enumerate((";", "\t", "|")):
        got = read_event_rows(write(tmp_path / f"e{i}.csv", events, delimiter),
                              catalog=Catalog()).events
        assert got == want_events
        assert read_outcomes(write(tmp_path / f"o{i}.csv", outcomes, delimiter)).outcomes \
            == want_outcomes


def test_sniffing_prefers_the_delimiter_that_splits_the_rows_like_the_header():
    assert sniff_delimiter("a;b;c\n1;2,5;3\n4;5;6\n") == ";"
    assert sniff_delimiter("a,b\n\"x;y;z\",2\n") == ","
    assert sniff_delimiter("a\tb|c\n1\t2|3\n") in ("\t", "|")
    assert sniff_delimiter("only\none\n") == ","
    assert [parse_delimiter(t) for t in ("tab", "\\t", ";", "pipe", ",")] == \
        ["\t", "\t", ";", "|", ","]
    with pytest.raises(LeadscoreError) as error:
        parse_delimiter(":")
    assert error.value.diagnostics[0].code == "LS238"


def test_an_unbalanced_quote_and_a_ragged_row_are_placed_by_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text('contact_id;email;note\nc1;a@x.com;fine\nc2;b@x.com;one;two\n'
                    'c3;"c@x.com;open\nc4;d@x.com;x\n', encoding="utf-8")
    with pytest.raises(LeadscoreError) as error:
        contacts(path)
    found = {d.code: d for d in error.value.diagnostics}
    ragged, quote = found["LS207"], found["LS221"]
    assert (ragged.location.line, ragged.location.column) == (3, 16)
    assert "semicolon" in ragged.message and "cell 4" in ragged.message
    assert (quote.location.line, quote.location.column) == (4, 4)
    assert "never closes" in quote.message


def test_a_quote_in_the_header_that_never_closes_is_not_called_an_empty_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text('"contact_id;email\nc1;a@x.com\n', encoding="utf-8")
    with pytest.raises(LeadscoreError) as error:
        contacts(path)
    codes = [d.code for d in error.value.diagnostics]
    assert codes == ["LS221"], codes


def test_order_by_row_dates_each_row_and_its_values(tmp_path):
    path = write(tmp_path / "leads.csv", [["contact_id", "city"], ["a", "Oslo"], ["b", "Rome"],
                                          ["c", ""]], ";")
    order = parse_row_order("2024-01-01", "1h", Location(field="--order-by-row"))
    found = contacts(path, options=CsvOptions(order_by_row=order))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert [c.created_at for c in found] == [start + timedelta(hours=i) for i in range(3)]
    assert [c.changed_at for c in found] == [c.created_at for c in found]
    dated = write(tmp_path / "dated.csv", [["contact_id", "created_at"], ["a", "2024-05-01"]],
                  ",")
    with pytest.raises(LeadscoreError) as error:
        contacts(dated, options=CsvOptions(order_by_row=order))
    assert error.value.diagnostics[0].code == "LS239"
    for start_, step in (("yesterday-ish", "1h"), ("2024-01-01", "0h"), ("2024-01-01", "x")):
        with pytest.raises(LeadscoreError) as error:
            parse_row_order(start_, step, Location(field="--order-by-row"))
        assert error.value.diagnostics[0].code == "LS239"


def test_derived_date_parts_and_declared_text_types(tmp_path):
    data = write(tmp_path / "leads.csv", [["Id", "Month", "Signed Up"],
                                          ["a", "01", "2024-03-05T14:20:00Z"],
                                          ["b", "12", ""]], "|")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "version: 1\ncontact_id: Id\ncolumns: {Month: month}\ntypes: {month: string}\n"
        "order_by_row: {start: 2024-01-06, step: 1d}\n"
        "derived:\n  created_weekday: {from: created_at, part: weekday}\n"
        "  created_month: {from: created_at, part: month}\n"
        "  signup_hour: {from: Signed Up, part: hour}\n"
        "  signup_quarter: {from: signed up, part: quarter}\n", encoding="utf-8")
    loaded = load_mapping(mapping)
    assert loaded.declared_types == {"month": PropertyType.STRING,
                                     "created_weekday": PropertyType.STRING,
                                     "created_month": PropertyType.STRING,
                                     "signup_hour": PropertyType.STRING,
                                     "signup_quarter": PropertyType.STRING}
    a, b = read_contact_rows(data, catalog=Catalog(), mapping=loaded, now=NOW).contacts
    assert a.properties == {"month": "01", "created_weekday": "saturday", "created_month": "01",
                            "signup_hour": "14", "signup_quarter": "q1"}
    assert b.properties["month"] == "12" and b.properties["created_weekday"] == "sunday"
    assert b.properties["signup_hour"] is None


@pytest.mark.parametrize("text, code, line", [
    ("derived:\n  m: {from: created_at, part: fortnight}\n", "LS236", 4),
    ("derived:\n  m: {from: Nope, part: month}\n", "LS234", 4),
    ("derived:\n  m: {from: created_at, prat: month}\n", "LS232", 4),
    ("derived:\n  m-x: {from: created_at, part: month}\n", "LS222", 4),
    ("delimiter: ':'\n", "LS238", 3),
    ("order_by_row: {start: 2024-01-01}\n", "LS239", 3),
    ("order_by_row: {start: 2024-01-01, step: soon}\n", "LS239", 3),
])
def test_mapping_mistakes_of_the_new_keys_name_their_line(tmp_path, text, code, line):
    data = write(tmp_path / "leads.csv", [["Id", "Month"], ["a", "01"]], ",")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("version: 1\ncontact_id: Id\n" + text, encoding="utf-8")
    with pytest.raises(LeadscoreError) as error:
        read_contact_rows(data, catalog=Catalog(), mapping=load_mapping(mapping), now=NOW)
    placed = {(d.code, d.location.file, d.location.line) for d in error.value.diagnostics}
    assert (code, str(mapping), line) in placed


def test_an_events_import_through_the_store_is_the_same_with_any_delimiter(tmp_path):
    from leadscore.project import Project

    model = Path(__file__).resolve().parents[2] / "examples" / "x_education" / "model.yaml"
    write(tmp_path / "contacts.csv", [["contact_id"], ["c1"], ["c2"]], ",")
    rows = [["contact_id", "type", "occurred_at", "url"]] + [
        [f"c{i % 2 + 1}", "page_view", f"2026-01-0{i % 9 + 1}T10:00:00Z",
         f"https://x.com/p{i};q,r"] for i in range(30)]
    with Project.at(f"sqlite:///{tmp_path}/store.db", model) as project:
        project.import_contacts(tmp_path / "contacts.csv")
        first = project.import_events(write(tmp_path / "comma.csv", rows, ","))
        assert first.inserted == 30
        for name, delimiter in (("semi", ";"), ("tab", "\t"), ("pipe", "|")):
            again = project.import_events(write(tmp_path / f"{name}.csv", rows, delimiter),
                                          delimiter=None if name == "semi" else delimiter)
            assert (again.inserted, again.unchanged) == (0, 30), name  # the same events
