"""docs/import.md lists every date and time form an import accepts, and reads each as it says:
a test keeps the list and `parse_datetime` in step (`01/02/2026` is 2 January, as documented)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadscore.catalog import CoercionError, parse_datetime
from leadscore.catalog.values import TEXT_FORMATS

DOC = Path(__file__).resolve().parents[2] / "docs/import.md"


def documented() -> list[tuple[str, str, str]]:
    section = DOC.read_text().split("## Dates and times", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| ([^|`]+?) \| `([^`]+)` \| `([^`]+)` \|$", section, re.MULTILINE)


ROWS = documented()


def test_the_section_lists_forms():
    assert len(ROWS) >= 10


@pytest.mark.parametrize("form,example,read_as", ROWS, ids=[r[0] for r in ROWS])
def test_each_documented_form_is_read_as_documented(form, example, read_as):
    assert parse_datetime(example) == datetime.fromisoformat(read_as).replace(tzinfo=UTC)


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_every_text_format_the_code_reads_is_documented_with_an_example(fmt):
    examples = []
    for _, example, read_as in ROWS:
        try:
            parsed = datetime.strptime(example, fmt)
        except ValueError:
            continue
        examples.append((parsed, datetime.fromisoformat(read_as)))
    assert examples, f"{fmt} has no example in docs/import.md"
    assert all(parsed == read_as for parsed, read_as in examples)


def test_slashes_are_month_first_and_dots_day_first():
    assert parse_datetime("01/02/2026") == datetime(2026, 1, 2, tzinfo=UTC)
    assert parse_datetime("01.02.2026") == datetime(2026, 2, 1, tzinfo=UTC)
    assert "`01/02/2026` is 2 January 2026" in DOC.read_text()


@pytest.mark.parametrize("text", ["2026/03/01", "1 March 2026", "03-01-2026", "13/01/2026",
                                  "yesterday", "2026-03-01T25:00"])
def test_other_forms_are_refused(text):
    with pytest.raises(CoercionError):
        parse_datetime(text)
