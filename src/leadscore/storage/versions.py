"""Published model versions (migration 0010): the rows behind `leadscore model publish`.

- `model_versions`: a version is immutable — the model file's text, its digest, the model's
  name, who published it, why, and when.
- `model_publishes`: each publish (or rollback) of a version. It starts `rescoring`; the
  store is rescored under the version while the previous one stays live; in the transaction
  that stores the new scores its state becomes `live` with `live_us`, its moment of going
  live. The live version is the one of the publish that went live last; the version live at
  any moment t is the one of the last publish with `live_us <= t`. A publish that a crash
  interrupted stays `rescoring` (its scores never stored: they are written in one
  transaction) until it is resumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from leadscore.catalog.forms import from_micros

if TYPE_CHECKING:
    from sqlalchemy import Connection

RESCORING = "rescoring"
LIVE = "live"


@dataclass(frozen=True)
class ModelVersion:
    id: int
    model: str  # the model's name
    digest: str
    content: str  # the model file's text
    source: str | None  # the file it was published from
    author: str | None
    message: str
    created_at: datetime


@dataclass(frozen=True)
class Publish:
    id: int
    version: int
    previous: int | None  # the version live when it started
    action: str  # publish | rollback
    state: str  # rescoring | live
    phase: str | None  # what a rescoring publish is doing
    contacts: int | None  # contacts to rescore
    attempts: int  # runs of the rescore (more than one: resumed after an interruption)
    author: str | None
    message: str | None
    started_at: datetime
    updated_at: datetime
    live_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "previous": self.previous,
                "action": self.action, "state": self.state, "phase": self.phase,
                "contacts": self.contacts, "attempts": self.attempts, "author": self.author,
                "message": self.message, "started_at": self.started_at.isoformat(),
                "updated_at": self.updated_at.isoformat(),
                "live_at": self.live_at.isoformat() if self.live_at else None}


_VERSION_COLUMNS = "id, model, digest, content, source, author, message, created_us"
_PUBLISH_COLUMNS = ("id, version, previous, action, state, phase, contacts, attempts, author, "
                    "message, started_us, updated_us, live_us")


def _mark(connection: Connection) -> str:
    return "?" if connection.dialect.name == "sqlite" else "%s"


def _version(row: Any) -> ModelVersion:
    return ModelVersion(int(row[0]), row[1], row[2], row[3], row[4], row[5], row[6],
                        from_micros(int(row[7])))


def _publish(row: Any) -> Publish:
    return Publish(int(row[0]), int(row[1]), None if row[2] is None else int(row[2]), row[3],
                   row[4], row[5], None if row[6] is None else int(row[6]), int(row[7]),
                   row[8], row[9], from_micros(int(row[10])), from_micros(int(row[11])),
                   None if row[12] is None else from_micros(int(row[12])))


def add_version(connection: Connection, *, model: str, digest: str, content: str,
                source: str | None, author: str | None, message: str, now_us: int) -> int:
    """Store a version (in the caller's write transaction); returns its id."""
    m = _mark(connection)
    return int(connection.exec_driver_sql(
        f"INSERT INTO model_versions (model, digest, content, source, author, message, "
        f"created_us) VALUES ({m}, {m}, {m}, {m}, {m}, {m}, {m}) RETURNING id",
        (model, digest, content, source, author, message, now_us)).scalar_one())


def version(connection: Connection, version_id: int) -> ModelVersion | None:
    m = _mark(connection)
    row = connection.exec_driver_sql(
        f"SELECT {_VERSION_COLUMNS} FROM model_versions WHERE id = {m}", (version_id,)).first()
    return None if row is None else _version(row)


def versions(connection: Connection) -> list[ModelVersion]:
    """Every version, oldest first."""
    return [_version(row) for row in connection.exec_driver_sql(
        f"SELECT {_VERSION_COLUMNS} FROM model_versions ORDER BY id")]


def publishes(connection: Connection) -> list[Publish]:
    """Every publish and rollback, oldest first."""
    return [_publish(row) for row in connection.exec_driver_sql(
        f"SELECT {_PUBLISH_COLUMNS} FROM model_publishes ORDER BY id")]


def publish_row(connection: Connection, publish_id: int) -> Publish | None:
    m = _mark(connection)
    row = connection.exec_driver_sql(
        f"SELECT {_PUBLISH_COLUMNS} FROM model_publishes WHERE id = {m}",
        (publish_id,)).first()
    return None if row is None else _publish(row)


def unfinished(connection: Connection) -> Publish | None:
    """The publish still rescoring (at most one), or None."""
    row = connection.exec_driver_sql(
        f"SELECT {_PUBLISH_COLUMNS} FROM model_publishes WHERE state = '{RESCORING}' "
        f"ORDER BY id LIMIT 1").first()
    return None if row is None else _publish(row)


def live(connection: Connection) -> Publish | None:
    """The publish whose version is live now (the last to go live), or None: nothing
    published yet."""
    row = connection.exec_driver_sql(
        f"SELECT {_PUBLISH_COLUMNS} FROM model_publishes WHERE live_us IS NOT NULL "
        f"ORDER BY live_us DESC, id DESC LIMIT 1").first()
    return None if row is None else _publish(row)


def live_at(connection: Connection, moment_us: int) -> Publish | None:
    """The publish whose version was live at `moment_us`, or None (before any publish)."""
    m = _mark(connection)
    row = connection.exec_driver_sql(
        f"SELECT {_PUBLISH_COLUMNS} FROM model_publishes WHERE live_us IS NOT NULL "
        f"AND live_us <= {m} ORDER BY live_us DESC, id DESC LIMIT 1", (moment_us,)).first()
    return None if row is None else _publish(row)


def start_publish(connection: Connection, *, version_id: int, previous: int | None,
                  action: str, author: str | None, message: str | None, contacts: int,
                  now_us: int) -> int:
    m = _mark(connection)
    return int(connection.exec_driver_sql(
        f"INSERT INTO model_publishes (version, previous, action, state, phase, contacts, "
        f"attempts, author, message, started_us, updated_us) VALUES ({m}, {m}, {m}, "
        f"'{RESCORING}', 'waiting', {m}, 0, {m}, {m}, {m}, {m}) RETURNING id",
        (version_id, previous, action, contacts, author, message, now_us, now_us)
    ).scalar_one())


def set_phase(connection: Connection, publish_id: int, phase: str, now_us: int, *,
              attempt: bool = False) -> None:
    """Record what a rescoring publish is doing (`attempt`: a run of the rescore begins)."""
    m = _mark(connection)
    connection.exec_driver_sql(
        f"UPDATE model_publishes SET phase = {m}, updated_us = {m}"
        + (", attempts = attempts + 1" if attempt else "")
        + f" WHERE id = {m} AND state = '{RESCORING}'", (phase, now_us, publish_id))


def go_live(connection: Connection, publish_id: int, *, model: str, version_id: int,
            now_us: int) -> list[str]:
    """Make a publish's version live (in the transaction that stored its scores): the
    publish is marked live at `now_us`, and the current scores of `model` that another
    version computed meanwhile (the worker, scoring under the old version while the rescore
    ran) are dropped — the new version's rescore is the contacts' current score. Returns
    the contacts whose dropped rows those were."""
    m = _mark(connection)
    stale = sorted({row[0] for row in connection.exec_driver_sql(
        f"SELECT DISTINCT contact_id FROM scores WHERE model = {m} "
        f"AND (version IS NULL OR version <> {m})", (model, version_id))})
    if stale:
        connection.exec_driver_sql(
            f"DELETE FROM scores WHERE model = {m} AND (version IS NULL OR version <> {m})",
            (model, version_id))
    connection.exec_driver_sql(
        f"UPDATE model_publishes SET state = '{LIVE}', phase = '{LIVE}', live_us = {m}, "
        f"updated_us = {m} WHERE id = {m}", (now_us, now_us, publish_id))
    return stale


__all__ = ["LIVE", "RESCORING", "ModelVersion", "Publish", "add_version", "go_live", "live",
           "live_at", "publish_row", "publishes", "set_phase", "start_publish", "unfinished",
           "version", "versions"]
