"""Fuzzing the CSV and JSONL readers, black-box, through `leadscore import contacts/events` in a
temporary project: arbitrary bytes and near-miss files (known columns with odd cells, quotes,
BOMs, CRLF, NUL, huge numbers, NaN, deep JSON, wrong JSON types) — exit 0 or a coded
diagnostic, in bounded time and memory."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz.harness import ENCODINGS, FUZZ, assert_clean, encode, leadscore
from tests.fuzz.strategies import ODD_TEXT, scalars, values

CONTACT_COLUMNS = ["contact_id", "id", "email", "created_at", "updated_at", "employees",
                   "annual_revenue", "email_opt_out", "lifecycle_stage", "job_title", "industry",
                   "sales_feedback", "Record ID", "Create Date", "Lead Source", "", "a b"]
EVENT_COLUMNS = ["event_id", "contact_id", "type", "event_type", "occurred_at", "timestamp",
                 "attributes", "url", "form_id", "minutes", ""]
CONTACT_FIELDS = ["contact_id", "id", "email", "created_at", "updated_at", "properties",
                  "employees", "emial"]
EVENT_FIELDS = ["event_id", "contact_id", "type", "occurred_at", "attributes", "url", "tyep"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project():
    with tempfile.TemporaryDirectory(prefix="leadscore-fuzz-import-") as folder:
        root = Path(folder)
        assert_clean(leadscore("init", ".", cwd=root))
        (root / "seed.csv").write_text("contact_id,email,created_at\n"
                                       "c1,ann@example.com,2026-01-05\n"
                                       "c2,bob@example.com,2026-01-06\n")
        seeded = leadscore("import", "contacts", "seed.csv", cwd=root)
        assert seeded.code == 0, seeded.err
        yield root


def import_file(root: Path, kind: str, name: str, content: bytes, *extra: str) -> None:
    path = root / name
    path.write_bytes(content)
    run = leadscore("import", kind, name, *extra, cwd=root)
    assert_clean(run, f"{kind} {name}: {content[:300]!r}")


def cells() -> st.SearchStrategy[str]:
    return st.one_of(
        scalars().map(lambda v: "" if v is None else str(v)),
        st.sampled_from(ODD_TEXT),
        st.sampled_from(["c1", "c2", "c3", "page_view", "form_submission", "bad type",
                         "2026-03-01T09:30:00Z", "2026-03-01", "1772357400", '{"url": "/x"}',
                         "{", "[1]", "true", "x" * 200_000]),
    )


def csv_text(data, columns: list[str]) -> str:
    header = data.draw(st.lists(st.sampled_from(columns), min_size=1, max_size=6))
    rows = data.draw(st.lists(st.lists(cells(), min_size=0, max_size=len(header) + 1),
                              max_size=5))
    quoting = data.draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONE,
                                         "raw"]))
    raw = "\n".join(",".join(row) for row in [header, *rows]) + "\n"
    if quoting == "raw":  # no quoting at all: stray quotes and commas as they come
        return raw
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=quoting, escapechar="\\")
    try:
        writer.writerow(header)
        writer.writerows(rows)
    except csv.Error:  # QUOTE_NONE cannot write a lone empty cell
        return raw
    return buffer.getvalue()


def jsonl_text(data, fields: list[str]) -> str:
    lines = []
    for _ in range(data.draw(st.integers(1, 4))):
        shape = data.draw(st.sampled_from(["object", "object", "object", "value", "raw"]))
        if shape == "object":
            record = data.draw(st.dictionaries(st.sampled_from(fields), values(fields),
                                               max_size=6))
            text = json.dumps(record, allow_nan=True, ensure_ascii=data.draw(st.booleans()))
        elif shape == "value":
            text = json.dumps(data.draw(values(fields)), allow_nan=True)
        else:
            text = data.draw(st.sampled_from([
                '{"contact_id": "c1", "employees": NaN}', '{"contact_id": "c1", "x": Infinity}',
                '{"contact_id": "c1", "employees": 1e999}', '{"contact_id": "c1"',
                '{"contact_id": "c1", "contact_id": "c2"}', "", "   ", "\x00", "[]", "null",
                '{"contact_id": 12345678901234567890123}', '{"contact_id": "c1"} trailing',
                '{"contact_id": "c1", "properties": "x"}', '{"contact_id": "\\ud800"}']))
        lines.append(text)
    return "\n".join(lines) + data.draw(st.sampled_from(["\n", "", "\n\n"]))


# --- arbitrary bytes --------------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=2000), st.sampled_from(["x.csv", "x.jsonl"]))
@example(b"\xef\xbb\xbfcontact_id\r\nc9\r\n", "x.csv")
@example(b'contact_id,email\n"x,y\n', "x.csv")
def test_contacts_from_arbitrary_bytes(project, content, name):
    import_file(project, "contacts", name, content)


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from(["x.csv", "x.jsonl"]), st.booleans())
def test_events_from_arbitrary_bytes(project, content, name, create):
    import_file(project, "events", name, content, *(["--create-contacts"] if create else []))


# --- near misses ------------------------------------------------------------------------------

@FUZZ
@given(st.data(), st.sampled_from(ENCODINGS))
def test_contacts_csv_near_misses(project, data, encoding):
    import_file(project, "contacts", "near.csv", encode(csv_text(data, CONTACT_COLUMNS),
                                                       encoding))


@FUZZ
@given(st.data(), st.sampled_from(ENCODINGS), st.booleans())
def test_events_csv_near_misses(project, data, encoding, create):
    import_file(project, "events", "near.csv", encode(csv_text(data, EVENT_COLUMNS), encoding),
                *(["--create-contacts"] if create else []))


@FUZZ
@given(st.data(), st.sampled_from(ENCODINGS))
def test_contacts_jsonl_near_misses(project, data, encoding):
    import_file(project, "contacts", "near.jsonl", encode(jsonl_text(data, CONTACT_FIELDS),
                                                         encoding))


@FUZZ
@given(st.data(), st.sampled_from(ENCODINGS), st.booleans())
def test_events_jsonl_near_misses(project, data, encoding, create):
    import_file(project, "events", "near.jsonl", encode(jsonl_text(data, EVENT_FIELDS), encoding),
                *(["--create-contacts"] if create else []))


def test_deep_json_is_a_diagnostic(project):
    import_file(project, "contacts", "deep.jsonl",
                b'{"contact_id": "c1", "properties": {"x": ' + b"[" * 100_000 + b"]" * 100_000
                + b"}}\n")


def test_a_time_too_large_for_a_float_is_a_row_error(project):
    import_file(project, "contacts", "huge.jsonl",
                b'{"contact_id": "c1", "created_at": 1' + b"0" * 400 + b"}\n")
