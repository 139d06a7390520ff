"""Mapping files: the format, and mistakes reported with the mapping file's line."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadscore.catalog import Catalog, PropertyType
from leadscore.diagnostics import LeadscoreError
from leadscore.ingestion import load_mapping, read_contacts


def mapping_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def diagnostics_of(path: Path) -> list[tuple[str, int | None, str | None]]:
    with pytest.raises(LeadscoreError) as caught:
        load_mapping(path)
    return [(d.code, d.location.line, d.location.field) for d in caught.value.diagnostics]


def test_a_complete_mapping(tmp_path: Path) -> None:
    mapping = load_mapping(mapping_file(tmp_path, """
        version: 1
        contact_id: Prospect ID
        email: E-mail
        created_at: Created
        updated_at: Modified
        columns:
          Lead Source: original_source
          Do Not Email: email_opt_out
          TotalVisits: total_visits
        null_values: [Select, "N/A", No]
        include_unmapped: yes
        exclude: [Tags]
        types: {total_visits: number, converted: bool}
        defaults:
          created_at: 2026-01-01
    """))
    assert mapping.contact_id == "Prospect ID" and mapping.email == "E-mail"
    assert (mapping.created_at, mapping.updated_at) == ("Created", "Modified")
    assert mapping.columns == {"Lead Source": "original_source",
                               "Do Not Email": "email_opt_out", "TotalVisits": "total_visits"}
    assert mapping.null_values == {"Select", "N/A", "No"}  # 'No' stays text, not False
    assert mapping.include_unmapped is True and mapping.exclude == {"Tags"}
    assert mapping.types == {"total_visits": PropertyType.NUMBER,
                             "converted": PropertyType.BOOL}
    assert mapping.defaults == {"created_at": datetime(2026, 1, 1, tzinfo=UTC)}
    assert mapping.location("columns.TotalVisits").line == 9


def test_every_mistake_is_reported_with_its_line(tmp_path: Path) -> None:
    path = mapping_file(tmp_path, """
        version: 2
        contact_id: Prospect ID
        colums:
          A: a
        columns:
          Lead Source: Lead Source
          Email: email
        types:
          visits: integer
        defaults:
          created_at: someday
          deleted_at: 2026-01-01
        include_unmapped: maybe
        null_values: {a: b}
    """)
    assert diagnostics_of(path) == [
        ("LS231", 1, "version"),
        ("LS232", 3, "colums"),
        ("LS222", 6, "columns.Lead Source"),
        ("LS222", 7, "columns.Email"),
        ("LS236", 9, "types.visits"),
        ("LS236", 11, "defaults.created_at"),
        ("LS232", 12, "defaults.deleted_at"),
        ("LS233", 13, "include_unmapped"),
        ("LS233", 14, "null_values"),
    ]


def test_hints_suggest_the_fix(tmp_path: Path) -> None:
    path = mapping_file(tmp_path, "version: 1\ncontact_id: id\ncolums: {}\n")
    with pytest.raises(LeadscoreError) as caught:
        load_mapping(path)
    assert caught.value.diagnostics[0].hint == "did you mean 'columns'?"


def test_missing_keys_and_duplicates(tmp_path: Path) -> None:
    path = mapping_file(tmp_path, """
        columns:
          A: a
          A: b
    """)
    assert diagnostics_of(path) == [("LS231", 1, "version"), ("LS233", 1, "contact_id"),
                                    ("LS235", 3, "columns.A")]


@pytest.mark.parametrize("text, line", [
    ("version: 1\ncontact_id: [unclosed\n", 3),
    ("version: 1\n  contact_id: x\n", 2),
])
def test_yaml_syntax_errors(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    [(code, found_line, _)] = diagnostics_of(path)
    assert code == "LS230" and found_line == line


def test_a_missing_mapping_file(tmp_path: Path) -> None:
    assert diagnostics_of(tmp_path / "nope.yaml")[0][0] == "LS230"


def test_columns_missing_from_the_file_point_at_the_mapping(tmp_path: Path) -> None:
    mapping = load_mapping(mapping_file(tmp_path, """
        version: 1
        contact_id: Prospect Id
        columns:
          Lead Sorce: original_source
    """))
    data = tmp_path / "leads.csv"
    data.write_text("Prospect ID,Lead Source\np1,Google\n")
    # column names match loosely (case and spacing), so 'Prospect Id' is found
    with pytest.raises(LeadscoreError) as caught:
        read_contacts(data, catalog=Catalog(), mapping=mapping)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "LS234"
    assert diagnostic.location.file == str(tmp_path / "mapping.yaml")
    assert diagnostic.location.line == 4
    assert diagnostic.hint == "did you mean 'Lead Source'?"


def test_a_mapping_is_for_csv_files(tmp_path: Path) -> None:
    mapping = load_mapping(mapping_file(tmp_path, "version: 1\ncontact_id: id\n"))
    data = tmp_path / "contacts.jsonl"
    data.write_text('{"contact_id": "c1"}\n')
    with pytest.raises(LeadscoreError) as caught:
        read_contacts(data, catalog=Catalog(), mapping=mapping)
    assert caught.value.diagnostics[0].code == "LS237"
