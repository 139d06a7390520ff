"""Reading the score ledger on a store's connection — a raw reader's too: plain SQL through
`exec_driver_sql`, so that a reading command (`leads`, `explain`, an incremental `score`'s
change detection) never loads SQLAlchemy for it (`storage.ledger` holds the table and the
writes). Importing the ledger with its table cost every reading command 0.3 s."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from leadscore.evaluation.ledger import LedgerEntry

_SQL_COLUMNS = ("id, contact_id, score, op, cents, effective_us, expires_us, reason, note, "
                "author, created_us, voided_us, voided_by, void_note")


def _entry(row: Sequence[Any]) -> LedgerEntry:
    (eid, contact_id, score, op, cents, effective, expires, reason, note, author, created,
     voided, voided_by, void_note) = row
    return LedgerEntry(int(eid), contact_id, score, op, int(cents), int(effective),
                       None if expires is None else int(expires), reason, note, author,
                       int(created), None if voided is None else int(voided), voided_by,
                       void_note)


def entries_of(connection: Any, contact_ids: Iterable[str] | None = None, *,
               voided: bool = False) -> dict[str, list[LedgerEntry]]:
    """Each contact's entries in id order (all contacts when `contact_ids` is None; voided
    ones only with `voided`). Reads through `exec_driver_sql`: works on a raw reader too."""
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    where = "" if voided else " WHERE voided_us IS NULL"
    found: dict[str, list[LedgerEntry]] = {}
    if contact_ids is None:
        rows: Iterable[Any] = connection.exec_driver_sql(
            f"SELECT {_SQL_COLUMNS} FROM score_ledger{where} ORDER BY id")
        for row in rows:
            found.setdefault(row[1], []).append(_entry(tuple(row)))
        return found
    ids = list(dict.fromkeys(contact_ids))
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        clause = (" AND " if where else " WHERE ") + \
            f"contact_id IN ({', '.join([mark] * len(part))})"
        for row in connection.exec_driver_sql(
                f"SELECT {_SQL_COLUMNS} FROM score_ledger{where}{clause} ORDER BY id",
                tuple(part)):
            found.setdefault(row[1], []).append(_entry(tuple(row)))
    return found


def ledger_mark(connection: Any) -> int:
    """The highest `seq` so far (0: none)."""
    return int(connection.exec_driver_sql(
        "SELECT coalesce(max(seq), 0) FROM score_ledger").scalar() or 0)


def changed_since(connection: Any, mark: int) -> set[str]:
    """Contacts with an entry added or voided after `mark`."""
    sign = "?" if connection.dialect.name == "sqlite" else "%s"
    return {row[0] for row in connection.exec_driver_sql(
        f"SELECT DISTINCT contact_id FROM score_ledger WHERE seq > {sign}", (int(mark),))}


LEDGER_SELECT = ("SELECT contact_id, score, op, cents, effective_us, expires_us, "
                 "id AS entry_id FROM score_ledger WHERE voided_us IS NULL")


__all__ = ["LEDGER_SELECT", "changed_since", "entries_of", "ledger_mark"]
