"""API keys of the HTTP API: only each key's SHA-256 hash is stored (a key is 32 random bytes,
so a fast hash is the right store form — no password KDF is needed), with a prefix to
recognise it by, its name, scopes, and when it was made and revoked (migration 0006).

`leadscore.project` calls these; the key itself is made there and shown once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Table, Text, UniqueConstraint, select

from leadscore.catalog.forms import from_micros, to_micros
from leadscore.storage.schema import ROW_ID, metadata

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("prefix", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("name", Text),
    Column("scopes", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger),
    UniqueConstraint("hash", name="uq_api_keys_hash"),
)


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without the key."""

    id: int
    prefix: str
    name: str | None
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _key(row: tuple) -> ApiKey:
    kid, prefix, name, scopes, created, revoked = row
    return ApiKey(int(kid), prefix, name, tuple(s for s in scopes.split(",") if s),
                  from_micros(created), None if revoked is None else from_micros(revoked))


_COLUMNS = (api_keys.c.id, api_keys.c.prefix, api_keys.c.name, api_keys.c.scopes,
            api_keys.c.created_us, api_keys.c.revoked_us)


def add_key(connection: Connection, *, prefix: str, digest: str, name: str | None,
            scopes: tuple[str, ...], now: datetime) -> ApiKey:
    result = connection.execute(api_keys.insert().values(
        prefix=prefix, hash=digest, name=name, scopes=",".join(scopes),
        created_us=to_micros(now)).returning(*_COLUMNS))
    return _key(tuple(result.one()))


def all_keys(connection: Connection) -> list[ApiKey]:
    return [_key(tuple(row)) for row in
            connection.execute(select(*_COLUMNS).order_by(api_keys.c.id))]


def key_by_hash(connection: Any, digest: str, mark: str = "?") -> ApiKey | None:
    """The key of this hash, read through the driver (`Store.read_raw`, or any connection
    with `exec_driver_sql`; `mark`: the driver's placeholder): asked on every request."""
    row = connection.exec_driver_sql(
        "SELECT id, prefix, name, scopes, created_us, revoked_us FROM api_keys "
        f"WHERE hash = {mark}", (digest,)).first()
    return None if row is None else _key(tuple(row))


def revoke_key(connection: Connection, key_id: int, now: datetime) -> ApiKey | None:
    """Revoke a key (kept revoked at its first revocation time); None when there is none."""
    c = api_keys.c
    connection.execute(api_keys.update().where(c.id == key_id, c.revoked_us.is_(None))
                       .values(revoked_us=to_micros(now)))
    row = connection.execute(select(*_COLUMNS).where(c.id == key_id)).first()
    return None if row is None else _key(tuple(row))


__all__ = ["ApiKey", "add_key", "all_keys", "api_keys", "key_by_hash", "revoke_key"]
