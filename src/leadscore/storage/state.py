"""The store's own bookkeeping (`store_state`): named counters and small JSON records — what a
model's last score run saw, what the automation has processed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection



def read_state(connection: Connection, name: str) -> tuple[int, Any] | None:
    """(value, detail) of a named record, or None."""
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    row = connection.exec_driver_sql(
        f"SELECT value, detail FROM store_state WHERE name = {mark}", (name,)).first()
    if row is None:
        return None
    detail = row[1]
    return int(row[0]), json.loads(detail) if isinstance(detail, str) else detail


def write_state(connection: Connection, name: str, value: int, detail: Any = None) -> None:
    """Set a named record (inside the caller's write transaction)."""
    sqlite = connection.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    json_mark = mark if sqlite else f"CAST({mark} AS jsonb)"
    connection.exec_driver_sql(
        f"INSERT INTO store_state (name, value, detail) VALUES ({mark}, {mark}, {json_mark}) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value, detail = excluded.detail",
        (name, int(value), None if detail is None else json.dumps(detail)))
