"""The score ledger's table (migration 0009): entries are inserted, voided, never changed
otherwise. `seq` comes from one store-wide count kept in the table itself (the largest so far,
plus one, inside the writer's transaction — one writer at a time on either store), taken on
insert and again on void, so "which contacts' ledgers changed since mark M" is one query
(`changed_since`). The meaning of an entry is `evaluation.ledger`'s."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, Column, Connection, Index, Table, Text, func, select

from leadscore.evaluation.ledger import LedgerEntry
from leadscore.storage.ledger_reads import _entry
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


__all__ = ["add_entries", "score_ledger", "void_entry"]
