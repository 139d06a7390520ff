"""The store: contacts with every property change kept, events, scores and stage changes.

SQLite (one file, the default) or PostgreSQL, through SQLAlchemy Core; Alembic migrates the
schema when a store is opened. Writes are all-or-nothing; reads see a contact as of any moment.
"""

from leadscore.storage import automation_schema  # noqa: F401  (registers its tables)
from leadscore.storage.records import (
    ContactInput,
    EventInput,
    ScoreRecord,
    StageChange,
    StoredScore,
    WriteCounts,
)
from leadscore.storage.store import Store
from leadscore.storage.writer import Writer

__all__ = [
    "ContactInput",
    "EventInput",
    "ScoreRecord",
    "StageChange",
    "Store",
    "StoredScore",
    "WriteCounts",
    "Writer",
]
