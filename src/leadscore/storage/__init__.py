"""The store: contacts with every property change kept, events, scores and stage changes.

SQLite (one file, the default: its bulk data in Parquet segments beside it) or PostgreSQL;
Alembic migrates the schema when a store is opened. Writes are all-or-nothing; reads see a
contact as of any moment.

Names are imported on first use: a reading command never loads SQLAlchemy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadscore.lazy import lazy_names

_WHERE = {
    "ContactInput": "leadscore.storage.records", "EventInput": "leadscore.storage.records",
    "ScoreRecord": "leadscore.storage.records", "StageChange": "leadscore.storage.records",
    "StoredScore": "leadscore.storage.records", "WriteCounts": "leadscore.storage.records",
    "Store": "leadscore.storage.store", "Writer": "leadscore.storage.writer",
}

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

if TYPE_CHECKING:
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


__getattr__ = lazy_names(__name__, _WHERE)
