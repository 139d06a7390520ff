"""Importing outcomes: files, flat exports with a label column, and every bad row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadscore.catalog import Catalog
from leadscore.diagnostics import LeadscoreError
from leadscore.ingestion import load_mapping
from leadscore.ingestion.contacts import read_contacts
from leadscore.ingestion.outcomes import import_outcomes, read_outcomes
from leadscore.storage import ContactInput
from leadscore.storage.outcomes import load_outcomes

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_csv_and_jsonl(tmp_path):
    csv = tmp_path / "o.csv"
    csv.write_text("contact_id,opportunity_at,won_at,lost_at\nc1,2026-02-01,2026-03-01,\n"
                   "c2,,,\n")
    rows = read_outcomes(csv)
    assert rows.outcomes[0].won_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert rows.outcomes[1].opportunity_at is None
    jsonl = tmp_path / "o.jsonl"
    jsonl.write_text('{"contact_id": "c1", "opportunity_at": "2026-02-01", "lost_at": '
                     '"2026-04-01"}\n')
    assert read_outcomes(jsonl).outcomes[0].lost_at == datetime(2026, 4, 1, tzinfo=UTC)


def test_every_bad_row_is_reported_with_its_place(tmp_path):
    csv = tmp_path / "o.csv"
    csv.write_text("contact_id,opportunity_at,won_at,lost_at\n,2026-02-01,,\n"
                   "c2,someday,,\nc3,,2026-02-01,2026-03-01\nc4,,,\nc4,2026-01-01,,\n")
    with pytest.raises(LeadscoreError) as caught:
        read_outcomes(csv)
    found = [(d.code, d.location.line, d.location.field) for d in caught.value.diagnostics]
    assert found == [("LS400", 2, "contact_id"), ("LS401", 3, "opportunity_at"),
                     ("LS402", 4, "lost_at"), ("LS404", 6, "contact_id")]
    jsonl = tmp_path / "o.jsonl"
    jsonl.write_text('{"contact_id": "c1", "won": "2026-02-01"}\n')
    with pytest.raises(LeadscoreError) as caught:
        read_outcomes(jsonl)
    assert caught.value.diagnostics[0].code == "LS405"
    assert "won_at" in caught.value.diagnostics[0].hint


def test_a_label_column_through_the_mapping_with_row_ids(tmp_path):
    data = tmp_path / "flat.csv"
    data.write_text("Visits,Bought\n3,TRUE\n1,FALSE\n5,maybe\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("version: 1\nrow_ids: true\ninclude_unmapped: true\n"
                       "outcome: {column: Bought, positive: [\"TRUE\"], negative: [\"FALSE\"], "
                       "at: 2026-06-30}\n")
    loaded = load_mapping(mapping)
    contacts = read_contacts(data, catalog=Catalog(), mapping=loaded, now=T0)
    assert [c.contact_id for c in contacts] == ["row-1", "row-2", "row-3"]
    assert all("bought" not in c.properties for c in contacts)  # the label is not an input
    with pytest.raises(LeadscoreError) as caught:
        read_outcomes(data, mapping=loaded)
    assert [(d.code, d.location.line) for d in caught.value.diagnostics] == [("LS407", 4)]
    data.write_text("Visits,Bought\n3,TRUE\n1,FALSE\n")
    rows = read_outcomes(data, mapping=loaded).outcomes
    assert rows[0].won_at == datetime(2026, 6, 30, tzinfo=UTC) and rows[1].won_at is None


def test_mapping_outcome_mistakes(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("version: 1\ncontact_id: id\noutcome: {column: Bought, stage: sold, "
                       "whenn: 1}\n")
    with pytest.raises(LeadscoreError) as caught:
        load_mapping(mapping)
    assert {d.code for d in caught.value.diagnostics} == {"LS406"}
    mapping.write_text("version: 1\ncontact_id: id\n")
    data = tmp_path / "d.csv"
    data.write_text("id,x\n1,2\n")
    with pytest.raises(LeadscoreError) as caught:
        read_outcomes(data, mapping=load_mapping(mapping))
    assert caught.value.diagnostics[0].code == "LS406"


def test_import_needs_known_contacts_and_replaces_outcomes(store, tmp_path):
    store.upsert_contacts([ContactInput("c1", T0, created_at=T0)])
    csv = tmp_path / "o.csv"
    csv.write_text("contact_id,opportunity_at,won_at,lost_at\nc1,2026-02-01,,\nc9,,,\n")
    with pytest.raises(LeadscoreError) as caught:
        import_outcomes(store, csv)
    assert [(d.code, d.location.line) for d in caught.value.diagnostics] == [("LS403", 3)]
    csv.write_text("contact_id,opportunity_at,won_at,lost_at\nc1,2026-02-01,,\n")
    assert import_outcomes(store, csv).inserted == 1
    assert import_outcomes(store, csv).unchanged == 1
    csv.write_text("contact_id,opportunity_at,won_at,lost_at\nc1,2026-02-01,2026-03-01,\n")
    assert import_outcomes(store, csv).updated == 1
    assert load_outcomes(store)["c1"].won_at == datetime(2026, 3, 1, tzinfo=UTC)
