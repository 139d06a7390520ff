"""The web app's users and settings (migration 0011): each user's e-mail (lower case), role,
argon2 hash of the password, when made and when disabled; and `web_settings`, name → value
pairs such as the key that signs the session cookies.

`leadscore.project.web_users` calls these, on a connection of `Store.read` or `Store.write`;
passwords are hashed and checked there, never here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Column, Connection, Table, Text, UniqueConstraint, select

from leadscore.catalog.forms import from_micros, to_micros
from leadscore.storage.schema import ROW_ID, metadata

web_users = Table(
    "web_users",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("email", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("disabled_us", BigInteger),
    UniqueConstraint("email", name="uq_web_users_email"),
)

web_settings = Table(
    "web_settings",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
)


@dataclass(frozen=True)
class WebUser:
    """A stored user, with the hash of the password (checked in `leadscore.project`)."""

    id: int
    email: str
    role: str
    password_hash: str
    created_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


_COLUMNS = (web_users.c.id, web_users.c.email, web_users.c.role, web_users.c.password_hash,
            web_users.c.created_us, web_users.c.disabled_us)


def _user(row: tuple) -> WebUser:
    uid, email, role, digest, created, disabled = row
    return WebUser(int(uid), email, role, digest, from_micros(created),
                   None if disabled is None else from_micros(disabled))


def add_user(connection: Connection, *, email: str, role: str, password_hash: str,
             now: datetime) -> WebUser | None:
    """A new user; None when one with this e-mail exists already."""
    if connection.execute(select(web_users.c.id).where(web_users.c.email == email)).first():
        return None
    result = connection.execute(web_users.insert().values(
        email=email, role=role, password_hash=password_hash,
        created_us=to_micros(now)).returning(*_COLUMNS))
    return _user(tuple(result.one()))


def all_users(connection: Connection) -> list[WebUser]:
    return [_user(tuple(row)) for row in
            connection.execute(select(*_COLUMNS).order_by(web_users.c.email))]


def user_by_email(connection: Connection, email: str) -> WebUser | None:
    row = connection.execute(select(*_COLUMNS).where(web_users.c.email == email)).first()
    return None if row is None else _user(tuple(row))


def user_by_id(connection: Connection, user_id: int) -> WebUser | None:
    row = connection.execute(select(*_COLUMNS).where(web_users.c.id == user_id)).first()
    return None if row is None else _user(tuple(row))


def update_user(connection: Connection, user_id: int, *, role: str | None = None,
                password_hash: str | None = None, disabled: bool | None = None,
                now: datetime) -> WebUser | None:
    """Change a user's role, password or whether it is disabled; None when there is none."""
    values: dict[str, object] = {}
    if role is not None:
        values["role"] = role
    if password_hash is not None:
        values["password_hash"] = password_hash
    if disabled is not None:
        values["disabled_us"] = to_micros(now) if disabled else None
    if values:
        connection.execute(web_users.update().where(web_users.c.id == user_id).values(**values))
    return user_by_id(connection, user_id)


def setting(connection: Connection, name: str) -> str | None:
    row = connection.execute(select(web_settings.c.value)
                             .where(web_settings.c.name == name)).first()
    return None if row is None else str(row[0])


def keep_setting(connection: Connection, name: str, value: str) -> str:
    """Store `value` under `name` unless a value is there already; the stored value."""
    found = setting(connection, name)
    if found is not None:
        return found
    connection.execute(web_settings.insert().values(name=name, value=value))
    return value


__all__ = ["WebUser", "add_user", "all_users", "keep_setting", "setting", "update_user",
           "user_by_email", "user_by_id", "web_settings", "web_users"]
