"""Reading contacts: CSV (canonical, HubSpot, mapped) and JSONL, and every kind of bad row."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadscore.catalog import Catalog, PropertyDef, PropertyType
from leadscore.diagnostics import LeadscoreError
from leadscore.ingestion import ContactMapping, read_contacts

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
CATALOG = Catalog()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(call) -> list[tuple[str, int | None, str | None]]:
    with pytest.raises(LeadscoreError) as caught:
        call()
    return [(d.code, d.location.line, d.location.field) for d in caught.value.diagnostics]


def test_canonical_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "contacts.csv",
                 "id,email,created_at,updated_at,job_title,employees,email_opt_out,Lead Score\n"
                 "c1,ann@example.com,2026-01-01,2026-01-05T10:00:00Z,CTO,\"1,200\",yes,12\n"
                 "c2,,2026-01-02,,Engineer,,,\n")
    first, second = read_contacts(path, catalog=CATALOG, now=NOW)
    assert first.contact_id == "c1" and first.email == "ann@example.com"
    assert first.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert first.changed_at == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert first.properties == {"job_title": "CTO", "employees": 1200, "email_opt_out": True,
                                "lead_score": "12"}
    assert second.changed_at == NOW and second.email is None
    assert second.properties == {"job_title": "Engineer", "employees": None,
                                 "email_opt_out": None, "lead_score": None}


def test_hubspot_export() -> None:
    contacts = read_contacts(FIXTURES / "hubspot_contacts.csv", catalog=CATALOG, now=NOW)
    by_id = {c.contact_id: c for c in contacts}
    assert sorted(by_id) == ["101", "102", "103", "104"]
    ann = by_id["101"]
    assert ann.email == "ann.lee@acme.example"
    assert ann.created_at == datetime(2025, 11, 3, 9, 15, tzinfo=UTC)
    assert ann.changed_at == datetime(2026, 1, 12, 16, 40, tzinfo=UTC)
    assert ann.properties["company"] == "Acme Corp"
    assert ann.properties["job_title"] == "VP Marketing"
    assert ann.properties["employees"] == 250
    assert ann.properties["annual_revenue"] == 12_500_000
    assert ann.properties["country"] == "Germany"
    assert ann.properties["owner"] == "Sam Owner"
    assert ann.properties["original_source"] == "ORGANIC_SEARCH"
    assert ann.properties["original_source_detail_1"] == "google"
    assert ann.properties["lead_status"] == "OPEN"
    assert ann.properties["email_opt_out"] is False
    assert [by_id[i].properties["lifecycle_stage"] for i in ("101", "102", "103", "104")] == [
        "mql", "lead", "sql", "subscriber"]
    assert by_id["103"].properties["email_opt_out"] is True
    assert by_id["104"].properties["job_title"] is None


def test_jsonl_contacts(tmp_path: Path) -> None:
    path = write(tmp_path, "contacts.jsonl",
                 '{"contact_id": "c1", "email": "ann@example.com", "created_at": "2026-01-01",'
                 ' "properties": {"employees": "40", "visits": 3, "vip": true, "note": " hi "}}\n'
                 '\n'
                 '{"id": 2, "updated_at": 1767225600, "properties": {"job_title": null}}\n')
    first, second = read_contacts(path, catalog=CATALOG, now=NOW)
    assert first.properties == {"employees": 40, "visits": 3, "vip": True, "note": "hi"}
    assert second.contact_id == "2" and second.properties == {"job_title": None}
    assert second.changed_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_every_bad_row_is_reported_with_its_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "contacts.csv",
                 "contact_id,created_at,employees,email_opt_out,lifecycle_stage,note\n"
                 "c1,2026-01-01,12,no,lead,fine\n"
                 ",2026-01-01,12,no,lead,no id\n"
                 "c3,yesterday,many,perhaps,lead,\"a note\n"
                 "over two lines\"\n"
                 "c4,2026-01-01,5,no,champion,x\n"
                 "c5,2026-01-01,5,no\n")
    found = errors_of(lambda: read_contacts(path, catalog=CATALOG, now=NOW))
    assert found == [
        ("LS211", 3, "contact_id"),
        ("LS212", 4, "employees"),
        ("LS212", 4, "email_opt_out"),
        ("LS213", 4, "created_at"),
        ("LS212", 6, "lifecycle_stage"),
        ("LS207", 7, None),
    ]


def test_diagnostics_explain_themselves(tmp_path: Path) -> None:
    path = write(tmp_path, "contacts.csv", "contact_id,employees\nc1,lots\n")
    with pytest.raises(LeadscoreError) as caught:
        read_contacts(path, catalog=CATALOG)
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.location.file == str(path)
    assert diagnostic.text == "lots"
    assert "'lots' is not a number" in diagnostic.message
    assert "number" in diagnostic.hint


def test_missing_id_column_names_what_was_found(tmp_path: Path) -> None:
    path = write(tmp_path, "contacts.csv", "Prospect ID,Lead Source\np1,Google\n")
    with pytest.raises(LeadscoreError) as caught:
        read_contacts(path, catalog=CATALOG)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "LS205" and diagnostic.location.line == 1
    assert "'Prospect ID'" in diagnostic.hint and "contact_id" in diagnostic.hint
    assert "mapping" in diagnostic.hint


@pytest.mark.parametrize("name, content, code, line", [
    ("contacts.xlsx", "anything", "LS201", None),
    ("contacts.csv", "", "LS204", 1),
    ("contacts.csv", "contact_id,email\n", "LS204", None),
    ("contacts.jsonl", "\n\n", "LS204", None),
    ("contacts.jsonl", '{"contact_id": "c1"}\n{"contact_id": "c2",}\n', "LS208", 2),
    ("contacts.jsonl", '{"contact_id": "c1"}\n["c2"]\n', "LS209", 2),
    ("contacts.jsonl", '{"contact_id": "c1", "propertys": {}}\n', "LS210", 1),
    ("contacts.jsonl", '{"contact_id": "c1", "properties": {"a": {"b": 1}}}\n', "LS212", 1),
    ("contacts.jsonl", '{"contact_id": "c1", "properties": {"Job Title": "x"}}\n', "LS222", 1),
    ("contacts.csv", 'contact_id,note\nc1,"never closed\n', "LS221", 2),
    ("contacts.csv", "contact_id,email,email\nc1,a,b\n", "LS206", 1),
])
def test_file_level_mistakes(tmp_path: Path, name: str, content: str, code: str,
                             line: int | None) -> None:
    path = write(tmp_path, name, content)
    found = errors_of(lambda: read_contacts(path, catalog=CATALOG))
    assert (found[0][0], found[0][1]) == (code, line)


def test_a_missing_file(tmp_path: Path) -> None:
    assert errors_of(lambda: read_contacts(tmp_path / "nope.csv", catalog=CATALOG))[0][0] == \
        "LS202"


def test_encoding_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes("contact_id,city\nc1,Berlin\nc2,K\xf6ln\n".encode("latin-1"))
    with pytest.raises(LeadscoreError) as caught:
        read_contacts(path, catalog=CATALOG)
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.location.line) == ("LS203", 3)
    assert "UTF-8" in diagnostic.hint


def test_a_byte_order_mark_and_crlf_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes("\ufeffcontact_id,city\r\nc1,K\u00f6ln\r\n".encode())
    [contact] = read_contacts(path, catalog=CATALOG)
    assert contact.contact_id == "c1" and contact.properties == {"city": "K\u00f6ln"}


def test_repeated_rows(tmp_path: Path) -> None:
    same = write(tmp_path, "same.csv", "contact_id,city\nc1,Berlin\nc1,Berlin\n")
    assert len(read_contacts(same, catalog=CATALOG)) == 1
    clash = write(tmp_path, "clash.csv", "contact_id,city\nc1,Berlin\nc2,Rome\nc1,Paris\n")
    with pytest.raises(LeadscoreError) as caught:
        read_contacts(clash, catalog=CATALOG)
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.location.line, diagnostic.location.field) == (
        "LS214", 4, "city")
    assert "line 2" in diagnostic.message
    history = write(tmp_path, "history.csv",
                    "contact_id,updated_at,city\nc1,2026-01-01,Berlin\nc1,2026-02-01,Paris\n")
    assert [c.properties["city"] for c in read_contacts(history, catalog=CATALOG)] == [
        "Berlin", "Paris"]


def test_a_mapping_picks_and_types_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv",
                 "Prospect ID,Lead Source,TotalVisits,Specialization,Tags\n"
                 "p1,Google,5,Select,Closed\n"
                 "p2,Select,,Finance Management,Ringing\n")
    mapping = ContactMapping(
        contact_id="Prospect ID",
        columns={"Lead Source": "original_source", "TotalVisits": "total_visits",
                 "Specialization": "specialization"},
        null_values=frozenset({"Select"}), types={"total_visits": PropertyType.NUMBER},
        defaults={"created_at": datetime(2026, 1, 1, tzinfo=UTC)},
    )
    first, second = read_contacts(path, catalog=CATALOG, mapping=mapping, now=NOW)
    assert first.properties == {"original_source": "Google", "total_visits": 5,
                                "specialization": None}
    assert first.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert second.properties == {"original_source": None, "total_visits": None,
                                 "specialization": "Finance Management"}
    everything = ContactMapping(contact_id="Prospect ID", include_unmapped=True,
                                exclude=frozenset({"Tags"}), columns={"TotalVisits": "visits"})
    first, _ = read_contacts(path, catalog=CATALOG, mapping=everything, now=NOW)
    assert first.properties == {"lead_source": "Google", "visits": "5",
                                "specialization": "Select"}


def test_declared_properties_are_typed_by_the_catalog(tmp_path: Path) -> None:
    catalog = Catalog(properties={
        "plan": PropertyDef("plan", PropertyType.ENUM, options=("free", "pro")),
        "visits": PropertyDef("visits", PropertyType.NUMBER)})
    path = write(tmp_path, "contacts.csv", "contact_id,plan,visits\nc1,PRO,7\nc2,gold,7\n")
    found = errors_of(lambda: read_contacts(path, catalog=catalog))
    assert found == [("LS212", 3, "plan")]
    good = write(tmp_path, "good.csv", "contact_id,plan,visits\nc1,PRO,7\n")
    assert read_contacts(good, catalog=catalog)[0].properties == {"plan": "pro", "visits": 7}


def test_progress_is_reported(tmp_path: Path) -> None:
    rows = "".join(f"c{i},Berlin\n" for i in range(5000))
    path = write(tmp_path, "contacts.csv", "contact_id,city\n" + rows)
    calls: list[tuple[int, int]] = []
    read_contacts(path, catalog=CATALOG, progress=lambda done, total: calls.append((done, total)))
    assert len(calls) >= 3
    assert calls[-1][0] == calls[-1][1] == path.stat().st_size  # bytes read
    assert all(done <= total for done, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
