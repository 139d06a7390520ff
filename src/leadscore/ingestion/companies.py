"""`leadscore import companies FILE`: companies and their properties, with history.

The file is read, checked and staged by the contact import's own machinery
(`contact_staging.stage_contacts`: the same mapping files, CSV dialects, JSON Lines, typed
coercion, row errors and all-or-nothing), with the company catalog, and the company id in the
place of the contact id: a column `company_id` (or `id`, or HubSpot's `Record ID`). The changes
are planned by the rule every contact writer uses (`storage.upsert.plan_upsert`: a value is
recorded where it differs from the company's value at its moment) and written in one
transaction. A file's `email` column is not a company property and is left out.
"""

from __future__ import annotations

import csv
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from leadscore.catalog import Catalog
from leadscore.ingestion.contacts import CsvOptions
from leadscore.ingestion.importer import ImportReport
from leadscore.ingestion.mapping import ContactMapping, default_target
from leadscore.storage.store import Store

ID_COLUMNS = ("company_id", "company id", "companyid")


def import_companies(store: Store, path: str | Path, *, catalog: Catalog,
                     mapping: ContactMapping | None = None, now: datetime | None = None,
                     options: CsvOptions | None = None) -> ImportReport:
    """Read and check the file, then upsert its companies in one transaction (nothing is
    stored when any row is bad)."""
    from leadscore.ingestion.contact_staging import _batches, stage_contacts
    from leadscore.storage.bulk import staging
    from leadscore.storage.companies import load_history, write_plan
    from leadscore.storage.upsert import merge_same_moments, plan_upsert

    started = time.perf_counter()
    path = Path(path)
    mapping = mapping or _company_mapping(path, options)
    with staging(store) as staged:
        found = stage_contacts(staged, path, catalog=catalog, mapping=mapping, now=now,
                               options=options)
        items = [item for batch in _batches(staged, found.source, found.columns)
                 for item in batch]
    items = merge_same_moments([
        replace(item, email=None, properties={k: v for k, v in item.properties.items()
                                              if k != "email"}) for item in items])
    ids = list(dict.fromkeys(item.contact_id for item in items))
    with store.write() as writer:
        rows, history = load_history(writer.connection, ids)
        plan = plan_upsert(items, rows, history, source="import")
        write_plan(writer.connection, plan.new, plan.changed, plan.changes)
    return ImportReport(file=str(path), rows=found.rows, inserted=len(plan.new),
                        updated=len(plan.changed), unchanged=plan.unchanged,
                        duplicates=found.duplicates,
                        elapsed_seconds=time.perf_counter() - started)


def _company_mapping(path: Path, options: CsvOptions | None) -> ContactMapping | None:
    """For a CSV file without a mapping: its `company_id` column is the id, and columns
    that the contact import would name as contact properties (Company name, Number of
    Employees, …) get their company names (`companies.catalog.COMPANY_COLUMNS`)."""
    from leadscore.companies.catalog import COMPANY_COLUMNS
    from leadscore.ingestion.delimiters import sniff_delimiter

    if path.suffix.lower() in (".jsonl", ".ndjson", ".json") or not path.is_file():
        return None
    with path.open(encoding="utf-8-sig", newline="") as handle:
        sample = handle.read(65_536)
    delimiter = (options.delimiter if options is not None and options.delimiter
                 else sniff_delimiter(sample))
    header = next(csv.reader(sample.splitlines()[:1], delimiter=delimiter), [])
    loose = {" ".join(name.lower().split()): name for name in header}
    id_column = next((loose[key] for key in ID_COLUMNS if key in loose), None)
    renamed = {name: COMPANY_COLUMNS[default_target(name)] for name in header
               if default_target(name) in COMPANY_COLUMNS and name != id_column}
    if id_column is None and not renamed:
        return None
    if id_column is None:
        id_column = next((name for name in header if default_target(name) == "contact_id"),
                         None)
        if id_column is None:
            return None
        renamed.pop(id_column, None)
    return ContactMapping(contact_id=id_column, columns=renamed, include_unmapped=True,
                          delimiter=delimiter)
