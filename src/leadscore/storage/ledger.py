"""The score ledger's table (migration 0009): entries are inserted, voided, never changed
otherwise. `seq` comes from one store-wide count kept in the table itself (the largest so far,
plus one, inside the writer's transaction — one writer at a time on either store), taken on
insert and again on void, so "which contacts' ledgers changed since mark M" is one query
(`changed_since`). The meaning of an entry is `evaluation.ledger`'s."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Index, Table, Text, func, select

from leadscore.evaluation.ledger import LedgerEntry
from leadscore.storage.schema import ROW_ID, metadata

score_ledger = Table(
    "score_ledger",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("contact_id", Text, nullable=False),
    Column("score", Text, nullable=False),
    Column("op", Text, nullable=False),
    Column("cents", BigInteger, nullable=False),
    Column("effective_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger),
    Column("reason", Text, nullable=False),
    Column("note", Text),
    Column("author", Text),
    Column("created_us", BigInteger, nullable=False),
    Column("voided_us", BigInteger),
    Column("voided_by", Text),
    Column("void_note", Text),
    Column("seq", BigInteger, nullable=False),
    Index("ix_score_ledger_contact", "contact_id", "effective_us"),
    Index("ix_score_ledger_seq", "seq"),
    sqlite_autoincrement=True,
)

_COLUMNS = (score_ledger.c.id, score_ledger.c.contact_id, score_ledger.c.score,
            score_ledger.c.op, score_ledger.c.cents, score_ledger.c.effective_us,
            score_ledger.c.expires_us, score_ledger.c.reason, score_ledger.c.note,
            score_ledger.c.author, score_ledger.c.created_us, score_ledger.c.voided_us,
            score_ledger.c.voided_by, score_ledger.c.void_note)
_SQL_COLUMNS = ("id, contact_id, score, op, cents, effective_us, expires_us, reason, note, "
                "author, created_us, voided_us, voided_by, void_note")


def _entry(row: Sequence[Any]) -> LedgerEntry:
    (eid, contact_id, score, op, cents, effective, expires, reason, note, author, created,
     voided, voided_by, void_note) = row
    return LedgerEntry(int(eid), contact_id, score, op, int(cents), int(effective),
                       None if expires is None else int(expires), reason, note, author,
                       int(created), None if voided is None else int(voided), voided_by,
                       void_note)


def _next_seq(connection: Connection) -> int:
    top = connection.execute(select(func.coalesce(func.max(score_ledger.c.seq), 0))).scalar()
    return int(top or 0) + 1


def add_entries(connection: Connection, entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
    """Insert entries (their ids are given by the table); returns them as stored."""
    seq = _next_seq(connection)
    stored = []
    for entry in entries:
        result = connection.execute(score_ledger.insert().values(
            contact_id=entry.contact_id, score=entry.score, op=entry.op, cents=entry.cents,
            effective_us=entry.effective_us, expires_us=entry.expires_us, reason=entry.reason,
            note=entry.note, author=entry.author, created_us=entry.created_us, seq=seq
        ).returning(*_COLUMNS))
        stored.append(_entry(tuple(result.one())))
        seq += 1
    return stored


def void_entry(connection: Connection, entry_id: int, *, at_us: int, by: str | None,
               note: str | None) -> tuple[LedgerEntry | None, bool]:
    """Void an entry; returns (the entry, whether this call voided it). An entry voided
    before stays as it was."""
    c = score_ledger.c
    found = connection.execute(select(*_COLUMNS).where(c.id == entry_id)).first()
    if found is None:
        return None, False
    entry = _entry(tuple(found))
    if entry.voided_us is not None:
        return entry, False
    connection.execute(score_ledger.update().where(c.id == entry_id).values(
        voided_us=at_us, voided_by=by, void_note=note, seq=_next_seq(connection)))
    row = connection.execute(select(*_COLUMNS).where(c.id == entry_id)).one()
    return _entry(tuple(row)), True


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


def has_entries(connection: Any) -> bool:
    return connection.exec_driver_sql(
        "SELECT 1 FROM score_ledger WHERE voided_us IS NULL LIMIT 1").first() is not None


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


__all__ = ["LEDGER_SELECT", "add_entries", "changed_since", "entries_of", "has_entries",
           "ledger_mark", "score_ledger", "void_entry"]
