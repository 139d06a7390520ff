"""Importing contacts and events from CSV and JSON Lines files.

`read_contacts` / `read_events` turn a file into checked records (every bad row becomes a
diagnostic with file, line and column); `import_contacts` / `import_events` also write them to
the store in one transaction. Contacts CSVs may use canonical column names, a HubSpot export's
names, or a mapping file (`load_mapping`, format in docs/import.md).
"""

from leadscore.ingestion.contacts import read_contacts
from leadscore.ingestion.events import derive_event_id, read_events
from leadscore.ingestion.importer import ImportReport, import_contacts, import_events
from leadscore.ingestion.mapping import ContactMapping
from leadscore.ingestion.mapping_file import load_mapping

__all__ = [
    "ContactMapping",
    "ImportReport",
    "derive_event_id",
    "import_contacts",
    "import_events",
    "load_mapping",
    "read_contacts",
    "read_events",
]
