"""Importing a real CRM export: the X Education leads (9,240 rows), through a mapping file.

The data lives outside the repository (<repo>/../shared/data) and is not redistributed; the
test skips when it is absent.
"""

from __future__ import annotations

import csv
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadscore.catalog import Catalog, PropertyDef, PropertyType
from leadscore.ingestion import import_contacts, load_mapping
from leadscore.storage import Store

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
LEADS = DATA / "x_education_leads.csv"

MAPPING = """
version: 1
contact_id: Prospect ID
columns:
  Lead Number: lead_number
  Lead Origin: lead_origin
  Lead Source: original_source
  Do Not Email: email_opt_out
  Do Not Call: do_not_call
  Converted: converted
  TotalVisits: total_visits
  Total Time Spent on Website: time_on_website
  Page Views Per Visit: page_views_per_visit
  Country: country
  Specialization: specialization
  How did you hear about X Education: heard_from
  What is your current occupation: occupation
  What matters most to you in choosing a course: motivation
  City: city
  A free copy of Mastering The Interview: free_copy
null_values: [Select]
types:
  lead_number: string
  do_not_call: bool
  converted: bool
  total_visits: number
  time_on_website: number
  page_views_per_visit: number
  free_copy: bool
defaults:
  created_at: 2026-01-01
  updated_at: 2026-01-01
"""


@pytest.mark.realdata
@pytest.mark.slow
def test_import_the_x_education_leads(store: Store, tmp_path: Path) -> None:
    if not LEADS.exists():
        pytest.skip(f"real data not found at {DATA} (it is not part of the repository)")
    mapping_path = tmp_path / "x_education.yaml"
    mapping_path.write_text(textwrap.dedent(MAPPING).lstrip())
    mapping = load_mapping(mapping_path)
    with LEADS.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    catalog = Catalog()

    report = import_contacts(store, LEADS, catalog=catalog, mapping=mapping)
    assert (report.rows, report.inserted, report.duplicates) == (9240, 9240, 0)

    types = {name: PropertyDef(name, kind) for name, kind in mapping.types.items()}
    types.update(catalog.properties)
    snapshots = list(store.load_snapshots(datetime(2026, 1, 2, tzinfo=UTC), catalog=types))
    assert len(snapshots) == 9240
    by_id = {s.contact_id: s.properties for s in snapshots}
    assert sum(p.get("converted") is True for p in by_id.values()) == 3561
    assert sum(p.get("converted") is False for p in by_id.values()) == 9240 - 3561
    expected_specialization = sum(r["Specialization"] not in ("", "Select") for r in rows)
    assert sum("specialization" in p for p in by_id.values()) == expected_specialization
    assert all(p.get("specialization") != "Select" for p in by_id.values())
    assert sum("tags" in p for p in by_id.values()) == 0  # not mapped: not imported
    first = by_id[rows[2]["Prospect ID"]]
    assert first["time_on_website"] == 1532 and first["total_visits"] == 2
    assert first["email_opt_out"] is False and first["lead_number"] == "660727"
    assert first["created_at"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert types["total_visits"].type is PropertyType.NUMBER

    again = import_contacts(store, LEADS, catalog=catalog, mapping=mapping)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 9240)
